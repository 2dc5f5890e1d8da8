/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Operator drain of a lane (docs/DESIGN.md section 13): the lane takes no
 * new operations on either side (DRAINING; the AM lane moves and replays
 * what is unacknowledged, as on a failover), what is outstanding on it
 * completes, then both sides close it. The side that drains sends DRAIN;
 * each side sends DRAIN_DONE when its lane ep has nothing outstanding
 * (uct_ep_flush), and closes its side when it has sent DRAIN_DONE and got
 * the peer's. A lane that fails meanwhile falls back to the failover path
 * (its operations are re-posted elsewhere) and is closed, not retried. An
 * undrain rejoins the closed lane (mp_join.c).
 */

#ifndef UCT_MP_DRAIN_H_
#define UCT_MP_DRAIN_H_

#include "mp_ctl.h"

#include <uct/api/uct.h>
#include <ucs/time/time_def.h>

struct uct_mp_ep;
struct uct_mp_lane_listener;

typedef enum {
    UCT_MP_DRAIN_NONE,     /* not drained */
    UCT_MP_DRAIN_RUNNING,  /* DRAINING: waiting for the flush and the peer */
    UCT_MP_DRAIN_CLOSED    /* drained and closed on this side */
} uct_mp_drain_phase_t;


typedef struct uct_mp_drain_lane {
    uint8_t                  phase;       /* uct_mp_drain_phase_t */
    uint8_t                  local_done;  /* DRAIN_DONE sent */
    uint8_t                  peer_done;   /* DRAIN_DONE received */
    uint8_t                  fell_back;   /* the lane failed during the drain */
    ucs_time_t               started;
    ucs_time_t               flushed;     /* when local_done was set */
    ucs_time_t               finished;
} uct_mp_drain_lane_t;


/* The endpoint's slice owned by mp_drain.c */
typedef struct uct_mp_drain_ep {
    int                      peer_drains; /* the peer ep answers DRAIN */
    uct_mp_drain_lane_t      lanes[UCT_MP_MAX_LANES];
} uct_mp_drain_ep_t;


/* A drained lane that fails is closed; one that reopens is no more drained */
extern const struct uct_mp_lane_listener uct_mp_drain_lane_listener;

void uct_mp_drain_init(struct uct_mp_ep *ep);

/* ep connected to its peer ep, whose address offers peer_caps */
void uct_mp_drain_ep_connected(struct uct_mp_ep *ep, uint8_t peer_caps);

/* May ep drain its lanes? Not when its peer ep would not answer DRAIN */
int uct_mp_drain_supported(struct uct_mp_ep *ep);

/* Drain lane (operator request on this side): UCS_ERR_BUSY when it is the
 * last usable lane, UCS_ERR_NOT_CONNECTED when it is not connected,
 * UCS_ERR_UNSUPPORTED when the peer ep does not answer DRAIN */
ucs_status_t uct_mp_drain_start(struct uct_mp_ep *ep, unsigned lane);

/* Undrain a drained, closed lane: it rejoins; UCS_ERR_INVALID_PARAM when it
 * is not drained, UCS_ERR_BUSY while another rejoin is in flight */
ucs_status_t uct_mp_drain_undrain(struct uct_mp_ep *ep, unsigned lane);

/* Where lane is in a drain; *flushed_p: nothing of ours is left on it,
 * *fell_back_p: it failed during the drain */
uct_mp_drain_phase_t uct_mp_drain_phase(struct uct_mp_ep *ep, unsigned lane,
                                        int *flushed_p, int *fell_back_p);

/* DRAIN or DRAIN_DONE from the peer */
void uct_mp_drain_handle_ctl(struct uct_mp_ep *ep, const uct_mp_ctl_t *msg);

/* Work step: flushed lanes say so, lanes done on both sides close */
void uct_mp_drain_progress(struct uct_mp_ep *ep);

#endif
