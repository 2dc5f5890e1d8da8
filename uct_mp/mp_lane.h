/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The lanes of an mp endpoint: the bottom layer of the glue. It owns the lane
 * endpoints (the only caller of uct_ep_create, uct_ep_connect_to_ep and
 * uct_ep_destroy), the lane state machine (src/mp_lanes.h), the AM lane, and
 * answers "is this lane usable". Every state change goes through
 * uct_mp_lane_event(), which logs it and tells the modules above through
 * their listener callbacks (docs/DESIGN.md section 1).
 */

#ifndef UCT_MP_LANE_H_
#define UCT_MP_LANE_H_

#include "mp_iface.h"
#include "mp_lanes.h"
#include "mp_ctl.h"

#include <uct/api/uct.h>
#include <ucs/time/time.h>


struct uct_mp_ep;

/* One lane slot of an mp endpoint; slot i uses lane iface i */
typedef struct uct_mp_lane_slot {
    uct_ep_h                 ep;              /* NULL when the slot has no peer */
    uint8_t                  remote_lane;     /* peer's lane index, or
                                                 UCT_MP_CTL_NO_PAIR */
    uint8_t                  remote_md_index; /* peer's lane md, in its rkeys */
    uint8_t                  destroy_pending; /* failed: destroy from progress */
    uint8_t                  parked;          /* drained by the operator:
                                                 fail-back leaves it alone */
    uint8_t                  retrying;        /* RETRY applied, not yet
                                                 CONNECTED */
    uint8_t                  drain_flush;     /* uct_mp_lane_flushed(): 0 no
                                                 flush posted, 1 in flight,
                                                 2 complete */
    uct_completion_t         drain_comp;      /* of that flush */
    ucs_time_t               last_arrival;    /* when anything last arrived
                                                 on this lane */
    ucs_time_t               suspect_at;      /* keepalive verdict not yet
                                                 cleared by evidence; 0: none
                                                 (the lane is SUSPECT, or was
                                                 taken back as the last) */
    uint64_t                 rx_msgs;         /* AMs received on the lane */
    uint64_t                 rx_bytes;
    uint32_t                 failovers;       /* failures that moved traffic
                                                 to other lanes */
    uint32_t                 rejoins;         /* came back after a failure
                                                 or an undrain */
} uct_mp_lane_slot_t;


/* What uct_mp_lane_stats() reports of one lane */
typedef struct uct_mp_lane_stats {
    uct_mp_lane_state_t      state;
    int                      has_ep;
    int                      parked;
    uint64_t                 tx_ops;
    uint64_t                 tx_bytes;
    uint64_t                 rx_msgs;
    uint64_t                 rx_bytes;
    uint64_t                 errors;
    uint32_t                 failovers;
    uint32_t                 rejoins;
    ucs_time_t               last_arrival; /* 0: nothing arrived yet */
} uct_mp_lane_stats_t;


/* What a caller wants a lane for (uct_mp_lane_usable) */
typedef enum {
    UCT_MP_LANE_USE_TRAFFIC,   /* new operations: ACTIVE */
    UCT_MP_LANE_USE_CONNECTED, /* probes: ACTIVE, STANDBY or SUSPECT */
    UCT_MP_LANE_USE_IN_FLIGHT  /* may hold operations: ACTIVE, STANDBY,
                                  SUSPECT or DRAINING (flush, check, pending
                                  wake-ups) */
} uct_mp_lane_use_t;


/* What a module above wants to hear of the lanes; any slot may be NULL */
typedef struct uct_mp_lane_listener {
    /* an event was applied to lane, which was in state prev */
    void (*lane_changed)(struct uct_mp_ep *ep, unsigned lane,
                         uct_mp_lane_state_t prev);
    /* the lane ep of lane fails or is about to be destroyed */
    void (*lane_ep_gone)(struct uct_mp_ep *ep, unsigned lane);
    /* no lane to the peer is left */
    void (*peer_failed)(struct uct_mp_ep *ep, ucs_status_t status);
} uct_mp_lane_listener_t;


/* The endpoint's slice owned by mp_lane.c */
typedef struct uct_mp_lane_ep {
    uct_mp_lanes_t           *sm;         /* state machine and policy */
    const uct_mp_lane_listener_t *const *listeners; /* NULL-terminated */
    int                      tx_lane;     /* lane for AMs and atomics, -1 */
    int                      busy_lane;   /* last lane out of resources */
    int                      peer_failed; /* error reported to the user */
    uct_mp_lane_slot_t       slots[UCT_MP_MAX_LANES];
} uct_mp_lane_ep_t;


/* Does status from a lane operation mean the lane itself is broken? */
static UCS_F_ALWAYS_INLINE int uct_mp_lane_broken(ucs_status_t status)
{
    return (status == UCS_ERR_ENDPOINT_TIMEOUT) ||
           (status == UCS_ERR_CONNECTION_RESET) ||
           (status == UCS_ERR_NOT_CONNECTED) || (status == UCS_ERR_IO_ERROR) ||
           (status == UCS_ERR_UNREACHABLE) || (status == UCS_ERR_CANCELED);
}

ucs_status_t uct_mp_lane_ep_init(struct uct_mp_ep *ep,
                                 const uct_mp_lane_listener_t *const *listeners);

/* Destroy every lane ep and the lane state */
void uct_mp_lane_ep_cleanup(struct uct_mp_ep *ep);

uct_mp_lane_state_t uct_mp_lane_state(struct uct_mp_ep *ep, unsigned lane);

/* The one test of whether lane can be used for use */
int uct_mp_lane_usable(struct uct_mp_ep *ep, unsigned lane,
                       uct_mp_lane_use_t use);

/* Apply event to lane (logged), re-elect the AM lane, tell the listeners */
void uct_mp_lane_event(struct uct_mp_ep *ep, unsigned lane,
                       uct_mp_lane_event_t event);

/* Create an unconnected lane ep on lane and apply event (CREATE, or RETRY
 * for fail-back); on failure the lane has no ep */
ucs_status_t uct_mp_lane_create(struct uct_mp_ep *ep, unsigned lane,
                                uct_mp_lane_event_t event);

/* Create lane's ep connected to the peer's lane iface remote (entries dev
 * and ifc, checked as in uct_mp_lane_connect) */
ucs_status_t uct_mp_lane_create_to_iface(struct uct_mp_ep *ep, unsigned lane,
                                         const uct_mp_wire_lane_t *dev,
                                         const uct_mp_wire_lane_t *ifc,
                                         unsigned remote, unsigned md_index);

/* Connect lane's ep to the peer's lane remote (ep address entry epa on the
 * device entry dev) and record the pair; the state does not change. Entries
 * that do not fit the lane (uct_mp_lane_entries_fit) are refused with
 * UCS_ERR_UNREACHABLE, logged. */
ucs_status_t uct_mp_lane_connect(struct uct_mp_ep *ep, unsigned lane,
                                 const uct_mp_wire_lane_t *dev,
                                 const uct_mp_wire_lane_t *epa,
                                 unsigned remote, unsigned md_index);

/* Do the peer's lane entries (NULL: not given) have the lengths that local
 * lane uses (same lane transport), with bytes where it uses some? Every
 * entry handed to a lane transport passes this test. */
int uct_mp_lane_entries_fit(uct_mp_iface_t *iface, unsigned lane,
                            const uct_mp_wire_lane_t *dev,
                            const uct_mp_wire_lane_t *ifc,
                            const uct_mp_wire_lane_t *epa);

/* The lane no longer pairs with a peer lane (a join or rejoin starts) */
void uct_mp_lane_unpair(struct uct_mp_ep *ep, unsigned lane);

/* Destroy the lane ep (if any); the lane becomes CLOSED */
void uct_mp_lane_destroy(struct uct_mp_ep *ep, unsigned lane);

/* Destroy what is left of a failed lane's ep (its operations come back
 * canceled); the lane state does not change */
void uct_mp_lane_drop_ep(struct uct_mp_ep *ep, unsigned lane);

/* Lane ep of lane failed with status: traffic moves to the other lanes, the
 * lane ep is destroyed from progress; with no lane left the endpoint reports
 * the error to the user (the return value of uct_iface_handle_ep_err) */
ucs_status_t uct_mp_lane_fail(struct uct_mp_ep *ep, unsigned lane,
                              ucs_status_t status);

/* A lane refused an operation with status: a broken lane fails now and the
 * caller is told to retry (UCS_ERR_NO_RESOURCE) while another lane is left */
ucs_status_t uct_mp_lane_refused(struct uct_mp_ep *ep, int lane,
                                 ucs_status_t status);

/* Work step: destroy the lane eps of failed lanes; returns how many */
unsigned uct_mp_lane_gc(struct uct_mp_ep *ep);

/* Something from the peer arrived on lane: evidence that clears a suspect
 * lane (uct_mp_lane_evidence) */
void uct_mp_lane_arrival(struct uct_mp_ep *ep, unsigned lane);

/* The keepalive found lane silent at now: it takes no new traffic (unless
 * no other lane is left) but keeps its lane ep and its probes */
void uct_mp_lane_suspect(struct uct_mp_ep *ep, unsigned lane, ucs_time_t now,
                         const char *why);

/* Evidence on a suspect lane: it is back (what brought it: for the log) */
void uct_mp_lane_evidence(struct uct_mp_ep *ep, unsigned lane,
                          const char *what);
/* An AM of length bytes arrived on lane (the rx counters) */
void uct_mp_lane_count_rx(struct uct_mp_ep *ep, unsigned lane, size_t length);

/* Counters and state of lane, for uct_mp_ctl status */
void uct_mp_lane_stats(struct uct_mp_ep *ep, unsigned lane,
                       uct_mp_lane_stats_t *stats);

/* Operator drain: lane takes no new operations (DRAINING) and fail-back
 * leaves it alone until an undrain. UCS_ERR_BUSY when it is the last usable
 * lane, UCS_ERR_NOT_CONNECTED when it is not connected. */
ucs_status_t uct_mp_lane_drain(struct uct_mp_ep *ep, unsigned lane);

/* Has everything posted on lane's ep completed (uct_ep_flush says so)? */
int uct_mp_lane_flushed(struct uct_mp_ep *ep, unsigned lane);

/* Drained by the operator (uct_mp_lane_drain), not reopened since */
int uct_mp_lane_parked(struct uct_mp_ep *ep, unsigned lane);

/* The lane that last returned UCS_ERR_NO_RESOURCE (-1: reset) */
void uct_mp_lane_set_busy(struct uct_mp_ep *ep, int lane);

/* Count length bytes posted on lane */
void uct_mp_lane_account(struct uct_mp_ep *ep, unsigned lane, size_t length);

/* The lane for an RMA of length bytes, -1 if none */
int uct_mp_lane_select_rma(struct uct_mp_ep *ep, size_t length);

/* The lane rkey of lane inside an mp remote key */
ucs_status_t uct_mp_lane_rkey(struct uct_mp_ep *ep, int lane, uct_rkey_t rkey,
                              uct_rkey_t *lane_rkey_p);

/* Copy iov with every mp memh replaced by lane's md memh (in place allowed) */
ucs_status_t uct_mp_lane_iov(struct uct_mp_ep *ep, int lane,
                             const uct_iov_t *iov, size_t iovcnt,
                             uct_iov_t *lane_iov);

/* No lane to post on: the status an operation returns */
ucs_status_t uct_mp_lane_none(struct uct_mp_ep *ep);

/*
 * Pair local lanes in local_mask with peer lanes >= first_remote of devs:
 * same index first, then the first free one that is reachable (with the
 * peer's iface address ifc, or an ep address of the right length in eps,
 * when given). Fills remote_of_local (-1: unpaired); returns the pair count.
 */
unsigned uct_mp_lane_pair(uct_mp_iface_t *iface, const uct_mp_wire_t *devs,
                          const uct_mp_wire_t *ifc, const uct_mp_wire_t *eps,
                          uint32_t local_mask, unsigned first_remote,
                          int *remote_of_local);

/* Find the mp ep and lane that own a lane ep; NULL if none */
struct uct_mp_ep *uct_mp_lane_find(uct_mp_iface_t *iface, uct_ep_h lane_ep,
                                   unsigned *lane_p);

/* Name of lane's device, for logs */
const char *uct_mp_lane_name(struct uct_mp_ep *ep, unsigned lane);

#endif
