/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Operator drain of a lane (see mp_drain.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_drain.h"
#include "mp_ep.h"

#include <ucs/debug/log.h>
#include <ucs/time/time.h>
#include <string.h>


void uct_mp_drain_init(uct_mp_ep_t *ep)
{
    ep->drain.peer_drains = 0;
    memset(ep->drain.lanes, 0, sizeof(ep->drain.lanes));
}

void uct_mp_drain_ep_connected(uct_mp_ep_t *ep, uint8_t peer_caps)
{
    ep->drain.peer_drains = !!(peer_caps & UCT_MP_CAP_DRAIN);
}

int uct_mp_drain_supported(uct_mp_ep_t *ep)
{
    /* connect-to-iface: no peer ep, only this side drains */
    return (ep->remote_token == 0) || ep->drain.peer_drains;
}

/* Tell the peer about lane (DRAIN or DRAIN_DONE) on the AM lane */
static void uct_mp_drain_send(uct_mp_ep_t *ep, unsigned lane,
                              uct_mp_ctl_type_t type)
{
    uct_mp_ctl_t msg;

    if ((ep->remote_token == 0) || (ep->lane.tx_lane < 0)) {
        return; /* connect-to-iface: no peer ep; no lane: the ep fails */
    }

    memset(&msg, 0, sizeof(msg));
    msg.type = type;
    msg.lane = lane;
    uct_mp_ctrl_send(ep, ep->lane.tx_lane, &msg);
}

/* lane is DRAINING now: start waiting for it */
static void uct_mp_drain_begin(uct_mp_ep_t *ep, unsigned lane, int peer_done)
{
    uct_mp_drain_lane_t *dl = &ep->drain.lanes[lane];

    memset(dl, 0, sizeof(*dl));
    dl->phase     = UCT_MP_DRAIN_RUNNING;
    dl->peer_done = peer_done;
    dl->started   = ucs_get_time();
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_DRAIN);
}

ucs_status_t uct_mp_drain_start(uct_mp_ep_t *ep, unsigned lane)
{
    ucs_status_t status;

    if (ep->drain.lanes[lane].phase == UCT_MP_DRAIN_RUNNING) {
        return UCS_OK;
    }

    if (!uct_mp_drain_supported(ep)) {
        return UCS_ERR_UNSUPPORTED;
    }

    status = uct_mp_lane_drain(ep, lane);
    if (status != UCS_OK) {
        return status;
    }

    ucs_diag("mp_rc: ep %p lane %u (%s): draining, traffic moves to lane %d "
             "(%s)", ep, lane, uct_mp_lane_name(ep, lane), ep->lane.tx_lane,
             uct_mp_lane_name(ep, ep->lane.tx_lane));
    /* without a peer ep (connect-to-iface) only this side drains */
    uct_mp_drain_begin(ep, lane, ep->remote_token == 0);
    uct_mp_drain_send(ep, lane, UCT_MP_CTL_DRAIN);
    return UCS_OK;
}

ucs_status_t uct_mp_drain_undrain(uct_mp_ep_t *ep, unsigned lane)
{
    ucs_status_t status;

    if ((ep->drain.lanes[lane].phase != UCT_MP_DRAIN_CLOSED) ||
        (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_CLOSED)) {
        return UCS_ERR_INVALID_PARAM;
    }

    status = uct_mp_join_rejoin_now(ep, lane);
    if (status == UCS_OK) {
        ucs_diag("mp_rc: ep %p lane %u (%s): undrained, rejoining", ep, lane,
                 uct_mp_lane_name(ep, lane));
    }
    return status;
}

uct_mp_drain_phase_t uct_mp_drain_phase(uct_mp_ep_t *ep, unsigned lane,
                                        int *flushed_p, int *fell_back_p)
{
    *flushed_p   = ep->drain.lanes[lane].local_done;
    *fell_back_p = ep->drain.lanes[lane].fell_back;
    return (uct_mp_drain_phase_t)ep->drain.lanes[lane].phase;
}

/* Our lane paired with the peer's lane remote, -1 if none */
static int uct_mp_drain_local_lane(uct_mp_ep_t *ep, unsigned remote)
{
    unsigned lane;

    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        if ((ep->lane.slots[lane].ep != NULL) &&
            (ep->lane.slots[lane].remote_lane == remote)) {
            return lane;
        }
    }
    return -1;
}

void uct_mp_drain_handle_ctl(uct_mp_ep_t *ep, const uct_mp_ctl_t *msg)
{
    int lane = uct_mp_drain_local_lane(ep, msg->lane);
    ucs_status_t status;

    if (lane < 0) {
        ucs_diag("mp_rc: ep %p: %s for peer lane %u, which no lane pairs with",
                 ep, uct_mp_ctl_type_str(msg->type), msg->lane);
        return;
    }

    if (msg->type == UCT_MP_CTL_DRAIN_DONE) {
        ep->drain.lanes[lane].peer_done = 1;
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_DRAIN);
        return;
    }

    if (ep->drain.lanes[lane].phase == UCT_MP_DRAIN_RUNNING) {
        return; /* both sides drain it */
    }

    status = uct_mp_lane_drain(ep, lane);
    if (status != UCS_OK) {
        ucs_error("mp_rc: ep %p lane %d (%s): cannot drain it for the peer "
                  "(state %s, %u lanes usable): %s", ep, lane,
                  uct_mp_lane_name(ep, lane),
                  uct_mp_lane_state_str(uct_mp_lane_state(ep, lane)),
                  uct_mp_lanes_usable(ep->lane.sm), ucs_status_string(status));
        return;
    }

    ucs_diag("mp_rc: ep %p lane %d (%s): the peer drains it", ep, lane,
             uct_mp_lane_name(ep, lane));
    uct_mp_drain_begin(ep, lane, 0);
}

/* One draining lane: 1 while it is still draining */
static int uct_mp_drain_lane_progress(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_drain_lane_t *dl   = &ep->drain.lanes[lane];
    uct_mp_lane_state_t state = uct_mp_lane_state(ep, lane);

    if (state == UCT_MP_LANE_FAILED) {
        if (ep->lane.slots[lane].ep != NULL) {
            return 1; /* its operations come back when the ep goes */
        }
        /* after our DRAIN_DONE, the peer closing its side looks like this
         * (its DRAIN_DONE may come later, on another lane): nothing of ours
         * was left; before it, the drain failed over */
        dl->fell_back = !dl->local_done;
        dl->peer_done = 1; /* the path is gone: nothing to wait for */
    } else if (state != UCT_MP_LANE_DRAINING) {
        dl->phase = UCT_MP_DRAIN_NONE; /* closed or reopened meanwhile */
        return 0;
    }

    if (!dl->local_done && uct_mp_lane_flushed(ep, lane)) {
        dl->local_done = 1;
        dl->flushed    = ucs_get_time();
        uct_mp_drain_send(ep, lane, UCT_MP_CTL_DRAIN_DONE);
    }

    if (!dl->local_done || !dl->peer_done) {
        return 1;
    }

    uct_mp_lane_destroy(ep, lane);
    dl->phase    = UCT_MP_DRAIN_CLOSED;
    dl->finished = ucs_get_time();
    ucs_diag("mp_rc: ep %p lane %u (%s): drained%s in %.3f s (its own work "
             "flushed after %.3f s), closed", ep, lane,
             uct_mp_lane_name(ep, lane),
             dl->fell_back ? " (failed meanwhile, failed over)" : "",
             ucs_time_to_sec(dl->finished - dl->started),
             ucs_time_to_sec(dl->flushed - dl->started));
    return 0;
}

void uct_mp_drain_progress(uct_mp_ep_t *ep)
{
    int running = 0;
    unsigned lane;

    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        if (ep->drain.lanes[lane].phase == UCT_MP_DRAIN_RUNNING) {
            running |= uct_mp_drain_lane_progress(ep, lane);
        }
    }

    if (running) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_DRAIN);
    }
}

/* Listener: a drained lane that reopens (undrain) is no more drained; a
 * draining one that fails is finished from progress */
static void uct_mp_drain_lane_changed(uct_mp_ep_t *ep, unsigned lane,
                                      uct_mp_lane_state_t prev)
{
    uct_mp_lane_state_t state = uct_mp_lane_state(ep, lane);

    if ((prev == UCT_MP_LANE_CLOSED) && (state == UCT_MP_LANE_CONNECTING)) {
        memset(&ep->drain.lanes[lane], 0, sizeof(ep->drain.lanes[lane]));
    } else if ((ep->drain.lanes[lane].phase == UCT_MP_DRAIN_RUNNING) &&
               (state == UCT_MP_LANE_FAILED)) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_DRAIN);
    }
}

const uct_mp_lane_listener_t uct_mp_drain_lane_listener = {
    .lane_changed = uct_mp_drain_lane_changed,
    .lane_ep_gone = NULL,
    .peer_failed  = NULL
};
