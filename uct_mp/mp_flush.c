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
    ucs_queue_elem_t         queue;       /* in the owner's retry queue while
                                             a lane could not take it */
    uct_completion_t         lanes_comp;  /* counts lanes still flushing,
                                             plus a guard while posting */
    uct_completion_t         *user_comp;
    uct_mp_flush_lane_func_t flush_func;
    unsigned                 flags;
    uint32_t                 retry_mask;  /* lanes whose flush waits to be
                                             posted (each counted above) */
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

/* First pass, without completions: nothing to undo if a lane is busy.
 * Marks the lanes with operations in flight; returns their count, or the
 * error of the first lane that cannot flush. */
static ssize_t uct_mp_flush_lanes_probe(void *const *lane_objs, unsigned count,
                                        uct_mp_flush_lane_func_t flush_func,
                                        unsigned flags, uint32_t *in_progress,
                                        int *busy_lane_p, int *failed_lane_p)
{
    ucs_status_t status;
    ssize_t num = 0;
    unsigned i;

    for (i = 0; i < count; ++i) {
        if (lane_objs[i] == NULL) {
            continue;
        }

        status = flush_func(lane_objs[i], flags, NULL);
        if (status == UCS_INPROGRESS) {
            *in_progress |= UCS_BIT(i);
            ++num;
        } else if (status == UCS_ERR_NO_RESOURCE) {
            if (busy_lane_p != NULL) {
                *busy_lane_p = i;
            }
            return status;
        } else if (status != UCS_OK) {
            if (failed_lane_p != NULL) {
                *failed_lane_p = i;
            }
            return status;
        }
    }
    return num;
}

/* Post the flush of lane object obj (lane index i) with flush's completion */
static void uct_mp_flush_post_lane(uct_mp_flush_t *flush, void *obj,
                                   unsigned i, int *failed_lane_p)
{
    ucs_status_t status;

    if (obj == NULL) {
        /* the lane went: what it held came back through its completions */
        flush->retry_mask &= ~UCS_BIT(i);
        uct_invoke_completion(&flush->lanes_comp, UCS_OK);
        return;
    }

    status = flush->flush_func(obj, flush->flags, &flush->lanes_comp);
    if (status == UCS_ERR_NO_RESOURCE) {
        /* it ran out of resources since the first pass: its operations are
         * still in flight, so the flush is posted again by the owner */
        flush->retry_mask |= UCS_BIT(i);
        return;
    }

    flush->retry_mask &= ~UCS_BIT(i);
    if (status != UCS_INPROGRESS) {
        /* done meanwhile, or failed: this lane will not call back */
        if ((status != UCS_OK) && (failed_lane_p != NULL)) {
            *failed_lane_p = i;
        }
        uct_invoke_completion(&flush->lanes_comp, status);
    }
}

ucs_status_t uct_mp_flush_lanes(void *const *lane_objs, unsigned count,
                                uct_mp_flush_lane_func_t flush_func,
                                unsigned flags, uct_completion_t *comp,
                                ucs_queue_head_t *retry_q, int *busy_lane_p,
                                int *failed_lane_p)
{
    uint32_t in_progress = 0;
    uct_mp_flush_t *flush;
    ucs_status_t status;
    ssize_t num;
    unsigned i;

    num = uct_mp_flush_lanes_probe(lane_objs, count, flush_func, flags,
                                   &in_progress, busy_lane_p, failed_lane_p);
    if (num < 0) {
        return (ucs_status_t)num;
    } else if (num == 0) {
        return UCS_OK;
    } else if (comp == NULL) {
        return UCS_INPROGRESS;
    }

    flush = ucs_malloc(sizeof(*flush), "uct_mp_flush");
    if (flush == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    flush->user_comp         = comp;
    flush->flush_func        = flush_func;
    flush->flags             = flags;
    flush->retry_mask        = 0;
    flush->lanes_comp.func   = uct_mp_flush_completed;
    flush->lanes_comp.count  = num + 1; /* guard until we return */
    flush->lanes_comp.status = UCS_OK;
    ucs_for_each_bit(i, in_progress) {
        uct_mp_flush_post_lane(flush, lane_objs[i], i, failed_lane_p);
    }

    if (flush->retry_mask != 0) {
        ucs_queue_push(retry_q, &flush->queue);
    } else if (flush->lanes_comp.count == 1) {
        /* Every lane finished inside this call: complete synchronously */
        status = flush->lanes_comp.status;
        ucs_free(flush);
        return status;
    }

    uct_invoke_completion(&flush->lanes_comp, UCS_OK); /* drop the guard */
    return UCS_INPROGRESS;
}

int uct_mp_flush_lanes_retry(ucs_queue_head_t *retry_q,
                             void *(*lane_obj)(void *arg, unsigned lane),
                             void *arg)
{
    ucs_queue_head_t waiting;
    uct_mp_flush_t *flush;
    uint32_t mask;
    unsigned i;

    ucs_queue_head_init(&waiting);
    ucs_queue_splice(&waiting, retry_q);
    ucs_queue_for_each_extract(flush, &waiting, queue, 1) {
        ++flush->lanes_comp.count; /* guard: the last post may complete it */
        mask = flush->retry_mask;
        ucs_for_each_bit(i, mask) {
            uct_mp_flush_post_lane(flush, lane_obj(arg, i), i, NULL);
        }
        if (flush->retry_mask != 0) {
            ucs_queue_push(retry_q, &flush->queue);
        }
        uct_invoke_completion(&flush->lanes_comp, UCS_OK);
    }
    return !ucs_queue_is_empty(retry_q);
}

void uct_mp_flush_lanes_cancel(ucs_queue_head_t *retry_q)
{
    uct_mp_flush_t *flush;
    unsigned i, count;

    ucs_queue_for_each_extract(flush, retry_q, queue, 1) {
        count             = ucs_popcount(flush->retry_mask);
        flush->retry_mask = 0;
        for (i = 0; i < count; ++i) {
            uct_invoke_completion(&flush->lanes_comp, UCS_ERR_CANCELED);
        }
    }
}

void uct_mp_flush_ep_init(uct_mp_ep_t *ep)
{
    ucs_queue_head_init(&ep->flush.q);
    ucs_queue_head_init(&ep->flush.retry_q);
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
    uct_mp_flush_lanes_cancel(&ep->flush.retry_q);
}

/* Lane i's ep for a lane flush posted again (NULL: none in flight) */
static void *uct_mp_flush_ep_lane_obj(void *arg, unsigned lane)
{
    uct_mp_ep_t *ep = arg;

    return uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_IN_FLIGHT) ?
           ep->lane.slots[lane].ep : NULL;
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

    if (!ucs_queue_is_empty(&ep->flush.retry_q) &&
        uct_mp_flush_lanes_retry(&ep->flush.retry_q, uct_mp_flush_ep_lane_obj,
                                 ep)) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FLUSH);
    }

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
                                uct_mp_flush_lane_ep, flags, comp,
                                &ep->flush.retry_q, &busy_lane, &failed_lane);
    if (!ucs_queue_is_empty(&ep->flush.retry_q)) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FLUSH);
    }
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
