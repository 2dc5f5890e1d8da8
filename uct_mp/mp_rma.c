/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The RMA path of an mp endpoint (see mp_rma.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_rma.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <uct/base/uct_iov.inl>
#include <ucs/datastruct/queue.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/time/time.h>


/* One chunk: its own lane completion */
typedef struct uct_mp_stripe_chunk {
    uct_completion_t         comp;
    ucs_queue_elem_t         replay;      /* in ep->rma.replay_q to re-post */
    struct uct_mp_stripe     *stripe;
    unsigned                 lane;
    unsigned                 attempts;    /* posts that failed on a lane */
    int                      failed_lane; /* lane of the last failure, or -1 */
    size_t                   offset;
    size_t                   length;
} uct_mp_stripe_chunk_t;


/* One striped operation, alive until every chunk completed */
typedef struct uct_mp_stripe {
    ucs_queue_elem_t         queue;       /* in ep->rma.stripe_q while unposted */
    uct_mp_ep_t              *ep;
    uct_mp_rma_op_t       op;
    uct_completion_t         *user_comp;
    ucs_status_t             status;      /* first error of a chunk */
    unsigned                 remaining;   /* chunks to complete, +1 while
                                             chunks wait to be posted */
    unsigned                 num_chunks;
    unsigned                 next;        /* next chunk to post */
    uint64_t                 remote_addr;
    uct_rkey_t               rkey;
    size_t                   iovcnt;
    uct_iov_t                iov[UCT_MP_MAX_IOV];
    uct_mp_stripe_chunk_t    chunks[UCT_MP_STRIPE_MAX_CHUNKS];
} uct_mp_stripe_t;


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_stripe_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

static void uct_mp_stripe_release(struct uct_mp_stripe *stripe);

static const char *uct_mp_stripe_op_name(uct_mp_rma_op_t op)
{
    return (op == UCT_MP_RMA_PUT_ZCOPY) ? "put" : "get";
}

/* get_bcopy chunks: the lane hands over the data, into the chunk's place */
static void uct_mp_stripe_unpack(void *dest, const void *data, size_t length)
{
    memcpy(dest, data, length);
}

static UCS_F_ALWAYS_INLINE double uct_mp_stripe_now(void)
{
    return ucs_time_to_sec(ucs_get_time());
}

ucs_status_t uct_mp_rma_ep_init(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);

    ucs_queue_head_init(&ep->rma.stripe_q);
    ucs_queue_head_init(&ep->rma.replay_q);
    ep->rma.sched_usable = 0;
    ep->rma.replayed     = 0;
    /* every policy: zcopy RMA goes through the scheduler, which places it
     * (active_backup: whole, on the primary) and re-posts it on failover */
    ep->rma.sched        = uct_mp_sched_create(iface->num_lanes, iface->policy,
                                               &iface->stripe_table,
                                               iface->stripe_min_chunk);
    if (ep->rma.sched == NULL) {
        ucs_error("mp_rc: failed to create the striping scheduler of %u lanes",
                  iface->num_lanes);
        return UCS_ERR_NO_MEMORY;
    }
    return UCS_OK;
}

void uct_mp_rma_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_stripe_chunk_t *chunk;
    uct_mp_stripe_t *stripe;

    if (ep->rma.replayed > 0) {
        ucs_info("mp_rc: ep %p re-posted %" PRIu64 " RMA chunks after lane "
                 "failures", ep, ep->rma.replayed);
    }
    ucs_queue_for_each_extract(chunk, &ep->rma.replay_q, replay, 1) {
        if (chunk->stripe->status == UCS_OK) {
            chunk->stripe->status = UCS_ERR_CANCELED;
        }
        uct_mp_stripe_release(chunk->stripe);
    }
    ucs_queue_for_each_extract(stripe, &ep->rma.stripe_q, queue, 1) {
        ucs_warn("mp_rc: ep %p destroyed with a striped %s of %u chunks "
                 "partly posted", ep, uct_mp_stripe_op_name(stripe->op),
                 stripe->num_chunks);
        if (stripe->user_comp != NULL) {
            uct_invoke_completion(stripe->user_comp, UCS_ERR_CANCELED);
        }
        ucs_free(stripe);
    }
    uct_mp_sched_destroy(ep->rma.sched); /* NULL allowed */
    ep->rma.sched = NULL;
}

/* Listener: tell the scheduler which lanes are ACTIVE */
static void uct_mp_rma_lanes_changed(uct_mp_ep_t *ep, unsigned changed,
                                     uct_mp_lane_state_t prev)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    const uct_iface_attr_t *attr;
    unsigned lane;
    int usable;

    if (ep->rma.sched == NULL) {
        return;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        attr   = &iface->lanes[lane].attr;
        usable = uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_TRAFFIC);
        if (usable != !!(ep->rma.sched_usable & UCS_BIT(lane))) {
            /* a lane that failed, or came back: what was measured before
             * says nothing about its path now, and its outstanding chunks
             * are re-posted elsewhere (their error completions are not
             * counted) */
            uct_mp_sched_reset_lane(ep->rma.sched, lane);
            ep->rma.sched_usable ^= UCS_BIT(lane);
        }
        uct_mp_sched_set_lane(ep->rma.sched, lane, usable,
                              (iface->lane_weight[lane] > 0) ?
                              iface->lane_weight[lane] :
                              (attr->bandwidth.dedicated +
                               attr->bandwidth.shared),
                              ucs_min(attr->cap.put.max_zcopy,
                                      attr->cap.get.max_zcopy));
    }
}

/* The part [offset, offset + length) of iov */
static size_t uct_mp_stripe_slice(const uct_iov_t *iov, size_t iovcnt,
                                  size_t offset, size_t length, uct_iov_t *out)
{
    size_t i, n = 0, skip, take;

    for (i = 0; (i < iovcnt) && (length > 0); ++i) {
        if (offset >= iov[i].length) {
            offset -= iov[i].length;
            continue;
        }

        skip          = offset;
        take          = ucs_min(iov[i].length - skip, length);
        out[n]        = iov[i];
        out[n].buffer = UCS_PTR_BYTE_OFFSET(iov[i].buffer, skip);
        out[n].length = take;
        ++n;
        offset  = 0;
        length -= take;
    }
    return n;
}

static void uct_mp_stripe_release(uct_mp_stripe_t *stripe)
{
    ucs_assert(stripe->remaining > 0);
    if (--stripe->remaining > 0) {
        return;
    }

    if (stripe->user_comp != NULL) {
        uct_invoke_completion(stripe->user_comp, stripe->status);
    }
    ucs_free(stripe);
}

/* May a chunk that failed with status be posted again on another lane? Put
 * and get are idempotent while the operation is not completed: the source
 * stays untouched and the destination receives the same bytes again. */
static int uct_mp_stripe_retryable(uct_mp_ep_t *ep,
                                   const uct_mp_stripe_chunk_t *chunk,
                                   ucs_status_t status)
{
    return !ep->closing && (chunk->attempts < UCT_MP_STRIPE_MAX_ATTEMPTS) &&
           (status != UCS_ERR_INVALID_PARAM) && (status != UCS_ERR_UNSUPPORTED);
}

static void uct_mp_stripe_chunk_done(uct_completion_t *self)
{
    uct_mp_stripe_chunk_t *chunk = ucs_container_of(self, uct_mp_stripe_chunk_t,
                                                    comp);
    uct_mp_stripe_t *stripe      = chunk->stripe;
    uct_mp_ep_t *ep              = stripe->ep;

    if (ucs_likely(self->status == UCS_OK)) {
        uct_mp_sched_completed(ep->rma.sched, chunk->lane, chunk->length,
                               uct_mp_stripe_now());
        /* the peer acknowledged it over the lane: the path works */
        uct_mp_lane_arrival(ep, chunk->lane);
    } else {
        if (uct_mp_stripe_retryable(ep, chunk, self->status)) {
            /* the lane failed under it: post it again on another lane */
            ucs_debug("mp_rc: ep %p: %s chunk of %zu bytes at +%zu failed on "
                      "lane %u (%s), re-posting", ep,
                      uct_mp_stripe_op_name(stripe->op), chunk->length,
                      chunk->offset, chunk->lane,
                      ucs_status_string(self->status));
            ++chunk->attempts;
            ++ep->rma.replayed;
            chunk->failed_lane = chunk->lane;
            ucs_queue_push(&ep->rma.replay_q, &chunk->replay);
            uct_mp_work_schedule(&ep->work, UCT_MP_WORK_STRIPE);
            return;
        }

        if (stripe->status == UCS_OK) {
            stripe->status = self->status;
        }
    }
    uct_mp_stripe_release(stripe);
}

/* The lane for chunk: its own while ACTIVE and not the one it just failed
 * on, else another ACTIVE lane, else whatever carries RMA now */
static int uct_mp_stripe_chunk_lane(uct_mp_ep_t *ep,
                                    const uct_mp_stripe_chunk_t *chunk)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    unsigned lane;

#define UCT_MP_STRIPE_LANE_OK(_lane) \
    (((int)(_lane) != chunk->failed_lane) && \
     uct_mp_lane_usable(ep, _lane, UCT_MP_LANE_USE_TRAFFIC))

    if (UCT_MP_STRIPE_LANE_OK(chunk->lane)) {
        return chunk->lane;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (UCT_MP_STRIPE_LANE_OK(lane)) {
            return lane;
        }
    }
#undef UCT_MP_STRIPE_LANE_OK

    return uct_mp_lanes_select(ep->lane.sm, UCT_MP_OP_RMA, chunk->length);
}

/* Post one chunk. UCS_ERR_NO_RESOURCE: its lane has no resources now. */
static ucs_status_t uct_mp_stripe_post_chunk(uct_mp_stripe_t *stripe,
                                             uct_mp_stripe_chunk_t *chunk)
{
    uct_mp_ep_t *ep = stripe->ep;
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    size_t n;
    int lane;

    lane = uct_mp_stripe_chunk_lane(ep, chunk);
    if (lane < 0) {
        return uct_mp_lane_none(ep);
    }
    chunk->lane = lane;

    status = uct_mp_lane_rkey(ep, lane, stripe->rkey, &lane_rkey);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    n = uct_mp_stripe_slice(stripe->iov, stripe->iovcnt, chunk->offset,
                            chunk->length, lane_iov);
    uct_mp_lane_iov(ep, lane, lane_iov, n, lane_iov);
    chunk->comp.func   = uct_mp_stripe_chunk_done;
    chunk->comp.count  = 1;
    chunk->comp.status = UCS_OK;
    switch (stripe->op) {
    case UCT_MP_RMA_PUT_ZCOPY:
        status = uct_ep_put_zcopy(ep->lane.slots[lane].ep, lane_iov, n,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    case UCT_MP_RMA_GET_ZCOPY:
        status = uct_ep_get_zcopy(ep->lane.slots[lane].ep, lane_iov, n,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    default: /* one contiguous buffer, checked when the stripe was made */
        status = uct_ep_get_bcopy(ep->lane.slots[lane].ep, uct_mp_stripe_unpack,
                                  lane_iov[0].buffer, chunk->length,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    }

    if (status == UCS_ERR_NO_RESOURCE) {
        uct_mp_lane_set_busy(ep, lane);
        return status;
    }

    uct_mp_lane_account(ep, lane, chunk->length);
    uct_mp_sched_posted(ep->rma.sched, lane, chunk->length, uct_mp_stripe_now());
    if (status != UCS_INPROGRESS) {
        /* done at once (or failed at once): no completion will come */
        chunk->comp.status = status;
        uct_mp_stripe_chunk_done(&chunk->comp);
    }
    return UCS_OK;
}

/* Post chunks from stripe->next on. UCS_ERR_NO_RESOURCE: a chunk waits. */
static ucs_status_t uct_mp_stripe_post(uct_mp_stripe_t *stripe)
{
    ucs_status_t status;

    for (; stripe->next < stripe->num_chunks; ++stripe->next) {
        ++stripe->remaining; /* released by the chunk's completion */
        status = uct_mp_stripe_post_chunk(stripe,
                                          &stripe->chunks[stripe->next]);
        if (status != UCS_OK) {
            --stripe->remaining;
            if ((status != UCS_ERR_NO_RESOURCE) && (stripe->status == UCS_OK)) {
                stripe->status = status;
            }
            return status;
        }
    }
    return UCS_OK;
}

/* Post waiting chunks in order, re-posted ones first; on a lane without
 * resources, retry from progress. Returns how many got posted. */
static unsigned uct_mp_stripe_post_waiting(uct_mp_ep_t *ep)
{
    uct_mp_stripe_chunk_t *chunk;
    uct_mp_stripe_t *stripe;
    ucs_status_t status;
    unsigned count = 0;

    uct_mp_ctrl_first(ep);

    while (!ucs_queue_is_empty(&ep->rma.replay_q)) {
        chunk  = ucs_queue_head_elem_non_empty(&ep->rma.replay_q,
                                               uct_mp_stripe_chunk_t, replay);
        stripe = chunk->stripe;
        status = uct_mp_stripe_post_chunk(stripe, chunk);
        if (status == UCS_ERR_NO_RESOURCE) {
            uct_mp_work_schedule(&ep->work, UCT_MP_WORK_STRIPE);
            return count;
        }

        ucs_queue_pull_non_empty(&ep->rma.replay_q);
        if (status != UCS_OK) {
            /* no lane can take it: the operation fails */
            if (stripe->status == UCS_OK) {
                stripe->status = status;
            }
            uct_mp_stripe_release(stripe);
        }
        ++count;
    }

    while (!ucs_queue_is_empty(&ep->rma.stripe_q)) {
        stripe = ucs_queue_head_elem_non_empty(&ep->rma.stripe_q, uct_mp_stripe_t,
                                               queue);
        if (uct_mp_stripe_post(stripe) == UCS_ERR_NO_RESOURCE) {
            if (stripe->status == UCS_OK) {
                uct_mp_work_schedule(&ep->work, UCT_MP_WORK_STRIPE);
                break;
            }
            /* no lane left: the rest of the stripe fails */
        }

        ucs_queue_pull_non_empty(&ep->rma.stripe_q);
        uct_mp_stripe_release(stripe); /* the posting reference */
        ++count;
    }
    return count;
}

unsigned uct_mp_rma_progress(uct_mp_ep_t *ep)
{
    return uct_mp_stripe_post_waiting(ep);
}

int uct_mp_rma_blocked(uct_mp_ep_t *ep)
{
    if (ucs_likely(ucs_queue_is_empty(&ep->rma.stripe_q) &&
                   ucs_queue_is_empty(&ep->rma.replay_q))) {
        return 0;
    }

    /* The caller may run where the waiting chunk's lane has resources again
     * (a lane's pending dispatch): post now; if a chunk still waits,
     * busy_lane names its lane */
    uct_mp_stripe_post_waiting(ep);
    return !ucs_queue_is_empty(&ep->rma.stripe_q) ||
           !ucs_queue_is_empty(&ep->rma.replay_q);
}

/* A new striped operation of op, chunks as the scheduler split it */
static uct_mp_stripe_t *
uct_mp_stripe_new(uct_mp_ep_t *ep, uct_mp_rma_op_t op, const uct_iov_t *iov,
                  size_t iovcnt, uint64_t remote_addr, uct_rkey_t rkey,
                  uct_completion_t *comp, const uct_mp_chunk_t *chunks,
                  unsigned n)
{
    uct_mp_stripe_t *stripe;
    unsigned i;

    stripe = ucs_malloc(sizeof(*stripe), "mp stripe");
    if (stripe == NULL) {
        ucs_error("mp_rc: ep %p: failed to allocate a striped operation", ep);
        return NULL;
    }

    stripe->ep          = ep;
    stripe->op          = op;
    stripe->user_comp   = comp;
    stripe->status      = UCS_OK;
    stripe->remaining   = 1; /* posting reference */
    stripe->num_chunks  = n;
    stripe->next        = 0;
    stripe->remote_addr = remote_addr;
    stripe->rkey        = rkey;
    stripe->iovcnt      = iovcnt;
    memcpy(stripe->iov, iov, iovcnt * sizeof(*iov));
    for (i = 0; i < n; ++i) {
        stripe->chunks[i].stripe      = stripe;
        stripe->chunks[i].attempts    = 0;
        stripe->chunks[i].failed_lane = -1;
        stripe->chunks[i].lane        = chunks[i].lane;
        stripe->chunks[i].offset      = chunks[i].offset;
        stripe->chunks[i].length      = chunks[i].length;
    }
    return stripe;
}

/* An RMA of op over the scheduler's lanes; UCS_ERR_UNSUPPORTED: not
 * striped, post it whole */
static ucs_status_t uct_mp_stripe_rma(uct_mp_ep_t *ep, uct_mp_rma_op_t op,
                                      const uct_iov_t *iov, size_t iovcnt,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp)
{
    uct_mp_chunk_t chunks[UCT_MP_STRIPE_MAX_CHUNKS];
    uct_mp_stripe_t *stripe;
    ucs_status_t status;
    size_t i, length = 0;
    unsigned n;

    UCT_CHECK_IOV_SIZE(iovcnt, (size_t)UCT_MP_MAX_IOV, "mp_rc rma");
    for (i = 0; i < iovcnt; ++i) {
        if (ucs_unlikely(iov[i].count != 1)) {
            return UCS_ERR_UNSUPPORTED; /* strided: the caller goes whole */
        }
        length += iov[i].length;
    }

    if (ucs_unlikely((op == UCT_MP_RMA_GET_BCOPY) && (iovcnt != 1))) {
        ucs_error("mp_rc: ep %p: striped get_bcopy needs one buffer, got %zu",
                  ep, iovcnt);
        return UCS_ERR_INVALID_PARAM;
    }

    n = uct_mp_sched_split(ep->rma.sched, length, uct_mp_stripe_now(), chunks,
                           UCT_MP_STRIPE_MAX_CHUNKS);
    if (n == 0) {
        return UCS_ERR_UNSUPPORTED;
    }

    stripe = uct_mp_stripe_new(ep, op, iov, iovcnt, remote_addr, rkey, comp,
                               chunks, n);
    if (stripe == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    status = uct_mp_stripe_post(stripe);
    if ((status == UCS_ERR_NO_RESOURCE) && (stripe->status == UCS_OK)) {
        if (stripe->next == 0) {
            ucs_free(stripe); /* nothing posted: the caller retries */
            return UCS_ERR_NO_RESOURCE;
        }

        /* the rest is posted from progress; the ep takes nothing new */
        ucs_queue_push(&ep->rma.stripe_q, &stripe->queue);
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_STRIPE);
        return UCS_INPROGRESS;
    }

    if (stripe->remaining == 1) {
        /* every chunk done at once (or failed before posting) */
        status = stripe->status;
        ucs_free(stripe);
        return status;
    }

    stripe->user_comp = comp;
    uct_mp_stripe_release(stripe);
    return UCS_INPROGRESS;
}

ucs_status_t uct_mp_rma_posted(uct_mp_ep_t *ep, int lane, ucs_status_t status,
                               size_t length)
{
    if (ucs_likely(!UCS_STATUS_IS_ERR(status))) {
        uct_mp_lane_account(ep, lane, length);
        if (uct_mp_sched_outstanding(ep->rma.sched, lane) > 0) {
            /* striped chunks wait behind these bytes: the lane's measured
             * throughput must count them */
            uct_mp_sched_carried(ep->rma.sched, lane, length,
                                 uct_mp_stripe_now());
        }
    } else if (status == UCS_ERR_NO_RESOURCE) {
        uct_mp_lane_set_busy(ep, lane);
    } else {
        return uct_mp_lane_refused(ep, lane, status);
    }
    return status;
}

/* A zcopy put or get whole on the RMA lane */
static ucs_status_t uct_mp_rma_whole(uct_mp_ep_t *ep, uct_mp_rma_op_t op,
                                     const uct_iov_t *iov, size_t iovcnt,
                                     uint64_t remote_addr, uct_rkey_t rkey,
                                     uct_completion_t *comp)
{
    size_t length = uct_iov_total_length(iov, iovcnt);
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    lane = uct_mp_lane_select_rma(ep, length);
    if (ucs_unlikely(lane < 0)) {
        return uct_mp_lane_none(ep);
    }

    status = uct_mp_lane_rkey(ep, lane, rkey, &lane_rkey);
    if (ucs_likely(status == UCS_OK)) {
        status = uct_mp_lane_iov(ep, lane, iov, iovcnt, lane_iov);
    }
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = (op == UCT_MP_RMA_PUT_ZCOPY) ?
             uct_ep_put_zcopy(ep->lane.slots[lane].ep, lane_iov, iovcnt,
                              remote_addr, lane_rkey, comp) :
             uct_ep_get_zcopy(ep->lane.slots[lane].ep, lane_iov, iovcnt,
                              remote_addr, lane_rkey, comp);
    return uct_mp_rma_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_rma_zcopy(uct_mp_ep_t *ep, uct_mp_rma_op_t op,
                              const uct_iov_t *iov, size_t iovcnt,
                              uint64_t remote_addr, uct_rkey_t rkey,
                              uct_completion_t *comp)
{
    ucs_status_t status;

    if ((ep->rma.sched != NULL) && (ep->lane.tx_lane >= 0)) {
        status = uct_mp_stripe_rma(ep, op, iov, iovcnt, remote_addr, rkey,
                                   comp);
        if (status != UCS_ERR_UNSUPPORTED) {
            return status;
        }
    }

    if (op == UCT_MP_RMA_GET_BCOPY) {
        return uct_mp_lane_none(ep); /* tracked reads are striped only */
    }
    return uct_mp_rma_whole(ep, op, iov, iovcnt, remote_addr, rkey, comp);
}

const uct_mp_lane_listener_t uct_mp_rma_lane_listener = {
    .lane_changed = uct_mp_rma_lanes_changed,
    .lane_ep_gone = NULL,
    .peer_failed  = NULL
};
