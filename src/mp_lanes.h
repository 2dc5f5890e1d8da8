/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lane bookkeeping of one mp endpoint: the lane state machine, per-lane
 * counters and the policy that chooses the lane for an operation.
 * Narrow C facade over the C++ implementation in mp_lanes.cc.
 */

#ifndef UCT_MP_LANES_H_
#define UCT_MP_LANES_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * State of one lane of an mp endpoint.
 *
 *   IDLE --create--> CONNECTING --connected--> ACTIVE <--> STANDBY
 *                        |                       |  \        |
 *                        |                     drain  error  error
 *                        |                       v     \     |
 *                        |                   DRAINING   v    v
 *                        +-------error---------------> FAILED --retry--> CONNECTING
 *                                                       ^   |
 *   ACTIVE, STANDBY --suspect--> SUSPECT -----error-----+   |
 *                                 |    \                    |
 *                               drain   evidence --> STANDBY (then the
 *                                 v       election; with no ACTIVE or
 *                             DRAINING    STANDBY lane left it takes the
 *                                         SUSPECT lanes back)
 *                                                           |
 *   any state --close--> CLOSED <-----------close-----------+
 *                          |
 *                          +--retry (undrain: a drained lane rejoins)--> CONNECTING
 */
typedef enum {
    UCT_MP_LANE_IDLE,       /* slot exists, no lane endpoint yet */
    UCT_MP_LANE_CONNECTING, /* lane ep created, peer side not known connected;
                               carries no MP traffic yet */
    UCT_MP_LANE_ACTIVE,     /* connected and chosen by the policy for traffic */
    UCT_MP_LANE_STANDBY,    /* connected, healthy, idle (active_backup backup) */
    UCT_MP_LANE_SUSPECT,    /* the keepalive found it silent: takes no new
                               operations, keeps its lane ep and is still
                               probed; evidence brings it back, and the
                               election takes it back when no ACTIVE or
                               STANDBY lane is left */
    UCT_MP_LANE_DRAINING,   /* takes no new operations; outstanding ones
                               complete (migration away from a device) */
    UCT_MP_LANE_FAILED,     /* error seen; its outstanding operations are being
                               recovered on other lanes; never carries traffic */
    UCT_MP_LANE_CLOSED,     /* lane ep destroyed; final unless an undrain
                               reopens a drained lane */
    UCT_MP_LANE_STATE_LAST
} uct_mp_lane_state_t;

typedef enum {
    UCT_MP_LANE_EV_CREATE,    /* lane ep created */
    UCT_MP_LANE_EV_CONNECTED, /* lane ep connected to its peer lane */
    UCT_MP_LANE_EV_PROMOTE,   /* policy: carry traffic */
    UCT_MP_LANE_EV_DEMOTE,    /* policy: stop carrying traffic, stay connected */
    UCT_MP_LANE_EV_DRAIN,     /* migration: no new operations */
    UCT_MP_LANE_EV_SUSPECT,   /* keepalive verdict: the lane went silent */
    UCT_MP_LANE_EV_EVIDENCE,  /* something arrived on a suspect lane */
    UCT_MP_LANE_EV_ERROR,     /* transport error, keepalive miss, link down */
    UCT_MP_LANE_EV_RETRY,     /* fail-back or undrain: reconnect starts */
    UCT_MP_LANE_EV_CLOSE,     /* lane ep destroyed */
    UCT_MP_LANE_EV_LAST
} uct_mp_lane_event_t;

typedef enum {
    UCT_MP_POLICY_ACTIVE_BACKUP, /* all traffic on the primary, others idle */
    UCT_MP_POLICY_LOAD_BALANCE,  /* stripe large transfers by lane weight */
    UCT_MP_POLICY_EFFICIENCY,    /* one lane unless a transfer gains from more */
    UCT_MP_POLICY_LAST
} uct_mp_policy_t;

/* Operation classes the policy distinguishes. */
typedef enum {
    UCT_MP_OP_AM,      /* active messages: ordered, one lane at a time */
    UCT_MP_OP_RMA,     /* put/get */
    UCT_MP_OP_ATOMIC,  /* atomics: never split, never replayed */
    UCT_MP_OP_LAST
} uct_mp_op_class_t;

typedef struct uct_mp_lanes uct_mp_lanes_t; /* opaque */

typedef struct {
    uint64_t tx_ops;
    uint64_t tx_bytes;
    uint64_t errors;
} uct_mp_lane_counters_t;

const char *uct_mp_lane_state_str(uct_mp_lane_state_t state);
const char *uct_mp_lane_event_str(uct_mp_lane_event_t event);
const char *uct_mp_policy_str(uct_mp_policy_t policy);

/* Next state for event in state, or -1 when the transition is not allowed. */
int uct_mp_lane_transition(uct_mp_lane_state_t state, uct_mp_lane_event_t event);

/* lane_count in 1..UCT_MP_MAX_LANES; NULL on bad arguments or no memory. */
uct_mp_lanes_t *uct_mp_lanes_create(unsigned lane_count, uct_mp_policy_t policy);
void uct_mp_lanes_destroy(uct_mp_lanes_t *lanes);

unsigned uct_mp_lanes_count(const uct_mp_lanes_t *lanes);
uct_mp_lane_state_t uct_mp_lanes_state(const uct_mp_lanes_t *lanes, unsigned lane);

/* Apply event to lane. Returns 0, or -1 if not allowed (state unchanged).
 * After every accepted event the policy re-elects: under active_backup the
 * first connected lane in preference order becomes ACTIVE, the others
 * STANDBY. When no lane is ACTIVE or STANDBY, the SUSPECT lanes are elected
 * as if they were STANDBY (a silent lane is better than none). */
int uct_mp_lanes_event(uct_mp_lanes_t *lanes, unsigned lane,
                       uct_mp_lane_event_t event);

/* Lane for an operation of length bytes, or -1 when no lane can carry it. */
int uct_mp_lanes_select(const uct_mp_lanes_t *lanes, uct_mp_op_class_t op,
                        size_t length);

/* Count an operation posted on lane. */
void uct_mp_lanes_account(uct_mp_lanes_t *lanes, unsigned lane, size_t length);
const uct_mp_lane_counters_t *
uct_mp_lanes_counters(const uct_mp_lanes_t *lanes, unsigned lane);

/* Number of lanes in ACTIVE or STANDBY (SUSPECT lanes are not counted). */
unsigned uct_mp_lanes_usable(const uct_mp_lanes_t *lanes);

#ifdef __cplusplus
}
#endif

#endif
