/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_pending.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/datastruct/queue.h>
#include <ucs/debug/log.h>


/* Bound on arm/dispatch rounds in one call when lanes keep freeing up */
#define UCT_MP_PENDING_MAX_ROUNDS  16


static ucs_status_t uct_mp_pending_wakeup(uct_pending_req_t *self);

void uct_mp_pending_init(uct_mp_ep_t *ep)
{
    unsigned lane;

    ucs_queue_head_init(&ep->pending.q);
    ep->pending.in_pending = 0;
    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        ep->pending.wakeups[lane].super.func = uct_mp_pending_wakeup;
        ep->pending.wakeups[lane].ep         = ep;
        ep->pending.wakeups[lane].lane       = lane;
        ep->pending.wakeups[lane].armed      = 0;
    }
}

/* Lane for the wake-up: the one that ran out of resources, else tx_lane.
 * That may be a suspect lane (a flush waits for it): waiting on another
 * lane that has resources would make UCP retry at once, forever. */
static int uct_mp_pending_wait_lane(uct_mp_ep_t *ep)
{
    int lane = ep->lane.busy_lane;

    if ((lane < 0) ||
        !uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_IN_FLIGHT)) {
        lane = ep->lane.tx_lane;
    }
    return lane;
}

/* Put the wake-up on the busy lane. UCS_ERR_BUSY: that lane has resources. */
static ucs_status_t uct_mp_pending_arm(uct_mp_ep_t *ep)
{
    uct_mp_lane_wakeup_t *wakeup;
    ucs_status_t status;
    int lane;

    lane = uct_mp_pending_wait_lane(ep);
    if (lane < 0) {
        return ep->lane.peer_failed ? UCS_ERR_ENDPOINT_TIMEOUT : UCS_ERR_NO_RESOURCE;
    }

    wakeup = &ep->pending.wakeups[lane];
    if (wakeup->armed) {
        return UCS_OK;
    }

    status = uct_ep_pending_add(ep->lane.slots[lane].ep, &wakeup->super, 0);
    if (status == UCS_OK) {
        wakeup->armed = 1;
    }
    return status;
}

static void uct_mp_pending_schedule_progress(uct_mp_ep_t *ep)
{
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_PENDING);
}

/*
 * Run queued requests in order until one runs out of resources again, then
 * wait on the lane that is busy. When that is self_lane, whose wake-up is
 * being dispatched right now, return UCS_ERR_NO_RESOURCE so the lane keeps
 * the element queued: re-adding an element from inside its own callback is
 * lost on lanes whose pending queue is an arbiter (rc), which removes the
 * element after a UCS_OK return.
 * That answer is given only when self_lane itself refused an operation in
 * this round. A request can also stay queued for a reason of mp's own (a
 * fence, a full replay ring, a lane that failed under it) while self_lane
 * has resources, and tcp aborts when a pending callback returns
 * UCS_ERR_NO_RESOURCE with its send buffer empty (UCX 1.13 tcp_ep.c:959,
 * "Assertion 'ucs_queue_is_empty(&ep->pending.q)' failed"). Then the wake-up
 * leaves the lane and mp's progress runs the queue again.
 */
static ucs_status_t uct_mp_pending_dispatch(uct_mp_ep_t *ep, int self_lane)
{
    uct_pending_req_priv_queue_t *priv;
    unsigned round;
    ucs_status_t status;

    if (ucs_unlikely(ep->lane.peer_failed)) {
        /* the user was told the ep failed: its requests stay queued for
         * uct_ep_pending_purge(), none runs against a dead peer */
        return UCS_OK;
    }

    if ((ep->hello.state == UCT_MP_HELLO_SENT) || uct_mp_fence_waiting(ep)) {
        /* HELLO_ACK (mp_hello.c) or the fence's end runs the queue */
        return UCS_OK;
    }

    for (round = 0; round < UCT_MP_PENDING_MAX_ROUNDS; ++round) {
        uct_mp_lane_set_busy(ep, -1); /* set again by a lane that refuses */
        uct_mp_ctrl_first(ep); /* resources freed up */
        ++ep->pending.in_pending;
        uct_pending_queue_dispatch(priv, &ep->pending.q, 1);
        --ep->pending.in_pending;
        if (ucs_queue_is_empty(&ep->pending.q)) {
            return UCS_OK;
        } else if (uct_mp_am_ring_full(ep)) {
            /* no lane to wait on: the peer's acknowledgements resume the
             * queue (mp_am.c) */
            return UCS_OK;
        }

        if ((self_lane >= 0) && (uct_mp_pending_wait_lane(ep) == self_lane)) {
            if (ep->lane.busy_lane == self_lane) {
                return UCS_ERR_NO_RESOURCE;
            }
            uct_mp_pending_schedule_progress(ep);
            return UCS_OK;
        }

        status = uct_mp_pending_arm(ep);
        if (status != UCS_ERR_BUSY) {
            if (status != UCS_OK) {
                ucs_debug("mp_rc: ep %p: no lane to wait on (%s), %zu "
                          "requests wait", ep, ucs_status_string(status),
                          ucs_queue_length(&ep->pending.q));
                uct_mp_pending_schedule_progress(ep);
            }
            return UCS_OK;
        }
        /* The busy lane has resources again: dispatch once more */
    }

    uct_mp_pending_schedule_progress(ep);
    return UCS_OK;
}

void uct_mp_pending_progress(uct_mp_ep_t *ep)
{
    uct_mp_pending_dispatch(ep, -1);
}

/* A lane ep dispatches our wake-up: it has resources now */
static ucs_status_t uct_mp_pending_wakeup(uct_pending_req_t *self)
{
    uct_mp_lane_wakeup_t *wakeup = ucs_derived_of(self, uct_mp_lane_wakeup_t);
    ucs_status_t status;

    wakeup->armed = 0;
    status        = uct_mp_pending_dispatch(wakeup->ep, wakeup->lane);
    if (status == UCS_ERR_NO_RESOURCE) {
        wakeup->armed = 1; /* stays queued on this lane */
    }
    return status;
}

static void uct_mp_pending_wakeup_purge(uct_pending_req_t *self, void *arg)
{
    ucs_derived_of(self, uct_mp_lane_wakeup_t)->armed = 0;
}

/* Listener: take the wake-up off the lane ep */
static void uct_mp_pending_lane_gone(uct_mp_ep_t *ep, unsigned lane)
{
    if (!ep->pending.wakeups[lane].armed) {
        return;
    }

    uct_ep_pending_purge(ep->lane.slots[lane].ep, uct_mp_pending_wakeup_purge,
                         NULL);
    ep->pending.wakeups[lane].armed = 0;
    if (!ucs_queue_is_empty(&ep->pending.q)) {
        uct_mp_pending_schedule_progress(ep);
    }
}

/* Listener: a wake-up leaves a lane that became suspect, and the requests
 * run again: those that now go to another lane need not wait for it (one
 * that still needs it, a flush, refuses again and waits there) */
static void uct_mp_pending_lane_changed(uct_mp_ep_t *ep, unsigned lane,
                                        uct_mp_lane_state_t prev)
{
    if ((prev != UCT_MP_LANE_SUSPECT) &&
        (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_SUSPECT)) {
        uct_mp_pending_lane_gone(ep, lane);
    }
}

ucs_status_t uct_mp_ep_pending_add(uct_ep_h tl_ep, uct_pending_req_t *req,
                                   unsigned flags)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;

    if (uct_mp_fence_waiting(ep) || uct_mp_am_ring_full(ep) ||
        (ep->hello.state == UCT_MP_HELLO_SENT)) {
        /* the fence's end, the peer's acknowledgements, or the HELLO_ACK
         * run the queue */
        ucs_queue_push(&ep->pending.q, uct_pending_req_priv_queue_elem(req));
        return UCS_OK;
    }

    if (ucs_queue_is_empty(&ep->pending.q)) {
        status = uct_mp_pending_arm(ep);
        if (status != UCS_OK) {
            /* UCS_ERR_BUSY: a lane has resources, or no lane is left to wait
             * on and the retried operation reports the error itself. UCT
             * allows only UCS_OK and UCS_ERR_BUSY here. */
            return UCS_ERR_BUSY;
        }
    }

    ucs_queue_push(&ep->pending.q, uct_pending_req_priv_queue_elem(req));
    return UCS_OK;
}

void uct_mp_ep_pending_purge(uct_ep_h tl_ep, uct_pending_purge_callback_t cb,
                             void *arg)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_pending_req_priv_queue_t *priv;
    unsigned lane;

    uct_pending_queue_purge(priv, &ep->pending.q, 1, cb, arg);

    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        if (ep->pending.wakeups[lane].armed) {
            uct_ep_pending_purge(ep->lane.slots[lane].ep,
                                 uct_mp_pending_wakeup_purge, NULL);
        }
    }
}

const uct_mp_lane_listener_t uct_mp_pending_lane_listener = {
    .lane_changed = uct_mp_pending_lane_changed,
    .lane_ep_gone = uct_mp_pending_lane_gone,
    .peer_failed  = NULL
};
