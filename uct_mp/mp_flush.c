/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_flush.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>


/* A flush of several lane objects */
typedef struct uct_mp_flush {
    uct_completion_t lanes_comp;  /* counts lanes still flushing, plus a guard */
    uct_completion_t *user_comp;
} uct_mp_flush_t;


/* An endpoint flush that waits for the lanes and for the peer */
typedef struct uct_mp_flush_req {
    ucs_queue_elem_t         queue;       /* in ep->flush.q until acked */
    uct_completion_t         lanes_comp;
    uct_completion_t         *user_comp;
    uct_mp_ep_t              *ep;
    uint32_t                 upto_dsn;    /* acknowledged below this: done */
    uint64_t                 upto_bounce; /* tracked RMA below this done */
    ucs_status_t             status;
    uint8_t                  lanes_done;
    uint8_t                  acks_done;
    uint8_t                  orphan;      /* its ep is gone */
} uct_mp_flush_req_t;


static void uct_mp_flush_completed(uct_completion_t *self)
{
    uct_mp_flush_t *flush = ucs_container_of(self, uct_mp_flush_t, lanes_comp);

    uct_invoke_completion(flush->user_comp, self->status);
    ucs_free(flush);
}

ucs_status_t uct_mp_flush_lanes(void *const *lane_objs, unsigned count,
                                uct_mp_flush_lane_func_t flush_func,
                                unsigned flags, uct_completion_t *comp,
                                int *busy_lane_p, int *failed_lane_p)
{
    int in_progress[UCT_MP_MAX_LANES] = {0};
    unsigned i, num_in_progress = 0;
    uct_mp_flush_t *flush;
    ucs_status_t status;

    /* First pass without completions: nothing to undo if a lane is busy */
    for (i = 0; i < count; ++i) {
        if (lane_objs[i] == NULL) {
            continue;
        }

        status = flush_func(lane_objs[i], flags, NULL);
        if (status == UCS_INPROGRESS) {
            in_progress[i] = 1;
            ++num_in_progress;
        } else if (status != UCS_OK) {
            if (status == UCS_ERR_NO_RESOURCE) {
                if (busy_lane_p != NULL) {
                    *busy_lane_p = i;
                }
            } else if (failed_lane_p != NULL) {
                *failed_lane_p = i;
            }
            return status;
        }
    }

    if (num_in_progress == 0) {
        return UCS_OK;
    } else if (comp == NULL) {
        return UCS_INPROGRESS;
    }

    flush = ucs_malloc(sizeof(*flush), "uct_mp_flush");
    if (flush == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    flush->user_comp         = comp;
    flush->lanes_comp.func   = uct_mp_flush_completed;
    flush->lanes_comp.count  = num_in_progress + 1; /* guard until we return */
    flush->lanes_comp.status = UCS_OK;

    for (i = 0; i < count; ++i) {
        if (!in_progress[i]) {
            continue;
        }

        status = flush_func(lane_objs[i], flags, &flush->lanes_comp);
        if (status == UCS_ERR_NO_RESOURCE) {
            /* The lane ran out of resources between the two passes. Its
             * operations are still in flight and complete on their own; the
             * flush completion does not wait for them (known limitation until
             * mp keeps its own per-lane flush queue). */
            ucs_diag("mp: lane %u cannot post a flush completion now", i);
            uct_invoke_completion(&flush->lanes_comp, UCS_OK);
        } else if (status != UCS_INPROGRESS) {
            /* Done meanwhile, or failed: this lane will not call back */
            if ((status != UCS_OK) && (failed_lane_p != NULL)) {
                *failed_lane_p = i;
            }
            uct_invoke_completion(&flush->lanes_comp, status);
        }
    }

    if (flush->lanes_comp.count == 1) {
        /* Every lane finished inside this call: complete synchronously */
        status = flush->lanes_comp.status;
        ucs_free(flush);
        return status;
    }

    uct_invoke_completion(&flush->lanes_comp, UCS_OK); /* drop the guard */
    return UCS_INPROGRESS;
}

void uct_mp_flush_ep_init(uct_mp_ep_t *ep)
{
    ucs_queue_head_init(&ep->flush.q);
}

void uct_mp_flush_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_flush_req_t *req;

    ucs_queue_for_each_extract(req, &ep->flush.q, queue, 1) {
        if (req->user_comp != NULL) {
            uct_invoke_completion(req->user_comp, UCS_ERR_CANCELED);
        }
        if (req->lanes_done) {
            ucs_free(req);
        } else {
            req->orphan = 1; /* its lanes' completion frees it */
        }
    }
}

static void uct_mp_flush_req_maybe_done(uct_mp_flush_req_t *req)
{
    if (!req->lanes_done || !req->acks_done) {
        return;
    }

    if (!req->orphan && (req->user_comp != NULL)) {
        uct_invoke_completion(req->user_comp, req->status);
    }
    ucs_free(req);
}

/* Flushes whose messages are all acknowledged, and whose tracked RMA
 * (mp_bounce.h) completed, are done with the peer */
void uct_mp_flush_progress(uct_mp_ep_t *ep)
{
    uct_mp_flush_req_t *req;

    while (!ucs_queue_is_empty(&ep->flush.q)) {
        req = ucs_queue_head_elem_non_empty(&ep->flush.q, uct_mp_flush_req_t,
                                            queue);
        if (!uct_mp_bounce_done_before(ep, req->upto_bounce) ||
            !uct_mp_am_acked_before(ep, req->upto_dsn)) {
            break;
        }

        ucs_queue_pull_non_empty(&ep->flush.q);
        req->acks_done = 1;
        uct_mp_flush_req_maybe_done(req);
    }
}

static void uct_mp_flush_req_lanes_done(uct_completion_t *self)
{
    uct_mp_flush_req_t *req = ucs_container_of(self, uct_mp_flush_req_t,
                                               lanes_comp);

    req->lanes_done = 1;
    if (req->orphan) {
        ucs_free(req);
        return;
    }
    if ((self->status != UCS_OK) &&
        !(uct_mp_lane_broken(self->status) && (req->ep->lane.tx_lane >= 0))) {
        /* a lane that failed during the flush is no error while another
         * lane carries on: what was in flight on it is tracked (AMs until
         * acknowledged, RMA until completed) and posted again */
        req->status = self->status;
    }
    uct_mp_flush_req_maybe_done(req);
}

static ucs_status_t uct_mp_flush_lane_ep(void *lane_ep, unsigned flags,
                                         uct_completion_t *comp)
{
    return uct_ep_flush(lane_ep, flags, comp);
}

/* Flush the lane eps that may have operations in flight */
static ucs_status_t uct_mp_flush_ep_lanes(uct_mp_ep_t *ep, unsigned flags,
                                          uct_completion_t *comp)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    void *lane_eps[UCT_MP_MAX_LANES];
    int busy_lane = -1, failed_lane = -1;
    ucs_status_t status;
    unsigned lane;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        lane_eps[lane] = uct_mp_lane_usable(ep, lane,
                                            UCT_MP_LANE_USE_IN_FLIGHT) ?
                         ep->lane.slots[lane].ep : NULL;
    }

    status = uct_mp_flush_lanes(lane_eps, iface->num_lanes,
                                uct_mp_flush_lane_ep, flags, comp, &busy_lane,
                                &failed_lane);
    if (busy_lane >= 0) {
        uct_mp_lane_set_busy(ep, busy_lane);
    }
    if (ucs_unlikely(UCS_STATUS_IS_ERR(status) && (failed_lane >= 0))) {
        /* a lane broke under the flush before its error callback ran (tcp:
         * the flush's PUT request met a reset): that lane fails now, and the
         * flush is retried on the others; what was in flight on it is
         * tracked and posted again */
        return uct_mp_lane_refused(ep, failed_lane, status);
    }
    return status;
}

/* A flush that also waits for the peer's acknowledgement of everything sent
 * so far and for tracked RMA in flight (waiting: there is such a thing) */
static ucs_status_t uct_mp_flush_ep_wait(uct_mp_ep_t *ep, unsigned flags,
                                         uct_completion_t *comp, int waiting)
{
    uct_mp_flush_req_t *req;
    ucs_status_t status;

    req = ucs_malloc(sizeof(*req), "mp ep flush");
    if (req == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    req->lanes_comp.func   = uct_mp_flush_req_lanes_done;
    req->lanes_comp.count  = 1;
    req->lanes_comp.status = UCS_OK;
    req->user_comp         = comp;
    req->ep                = ep;
    req->upto_dsn          = uct_mp_am_next_dsn(ep);
    req->upto_bounce       = uct_mp_bounce_mark(ep);
    req->status            = UCS_OK;
    req->lanes_done        = 0;
    req->acks_done         = 0;
    req->orphan            = 0;

    status = uct_mp_flush_ep_lanes(ep, flags, &req->lanes_comp);
    if ((status == UCS_ERR_NO_RESOURCE) ||
        ((status != UCS_INPROGRESS) && !waiting)) {
        ucs_free(req);
        return status;
    } else if (status != UCS_INPROGRESS) {
        req->lanes_done = 1;
        req->status     = status;
    }

    ucs_queue_push(&ep->flush.q, &req->queue);
    if (!waiting) {
        /* only the lanes to wait for (their completion calls the user's) */
        uct_mp_flush_progress(ep);
    }
    return UCS_INPROGRESS;
}

ucs_status_t uct_mp_flush_ep(uct_mp_ep_t *ep, unsigned flags,
                             uct_completion_t *comp)
{
    ucs_status_t status;
    int unacked, waiting;

    if (ucs_unlikely(ep->lane.tx_lane < 0)) {
        /* after the peer failed nothing is left in flight to wait for */
        return ep->lane.peer_failed ? UCS_OK : UCS_ERR_NO_RESOURCE;
    }

    if (ucs_unlikely(uct_mp_rma_blocked(ep) || uct_mp_am_blocked(ep))) {
        return UCS_ERR_NO_RESOURCE; /* chunks or AMs still to post */
    }

    if (flags & UCT_FLUSH_FLAG_CANCEL) {
        return uct_mp_flush_ep_lanes(ep, flags, comp);
    }

    /* AMs the peer has not acknowledged, or tracked RMA in flight */
    unacked = uct_mp_am_unacked(ep);
    waiting = unacked ||
              !uct_mp_bounce_done_before(ep, uct_mp_bounce_mark(ep));
    if (unacked) {
        uct_mp_am_request_ack(ep);
    }

    if ((comp == NULL) || !waiting) {
        status = uct_mp_flush_ep_lanes(ep, flags, NULL);
        if (status == UCS_ERR_NO_RESOURCE) {
            return status;
        } else if (waiting) {
            return UCS_INPROGRESS; /* no completion to call: the user polls */
        } else if ((status != UCS_INPROGRESS) || (comp == NULL)) {
            return status;
        }
    }

    return uct_mp_flush_ep_wait(ep, flags, comp, waiting);
}

/* Listener: nothing will be acknowledged any more */
static void uct_mp_flush_peer_failed(uct_mp_ep_t *ep, ucs_status_t status)
{
    uct_mp_flush_req_t *req;

    ucs_queue_for_each_extract(req, &ep->flush.q, queue, 1) {
        req->status    = status;
        req->acks_done = 1;
        uct_mp_flush_req_maybe_done(req);
    }
}

const uct_mp_lane_listener_t uct_mp_flush_lane_listener = {
    .lane_changed = NULL,
    .lane_ep_gone = NULL,
    .peer_failed  = uct_mp_flush_peer_failed
};
