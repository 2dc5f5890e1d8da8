/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Striped zcopy RMA over the lanes of an mp endpoint (see mp_stripe.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_stripe.h"
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
    ucs_queue_elem_t         replay;      /* in ep->replay_q to re-post */
    struct uct_mp_stripe     *stripe;
    unsigned                 lane;
    unsigned                 attempts;    /* posts that failed on a lane */
    int                      failed_lane; /* lane of the last failure, or -1 */
    size_t                   offset;
    size_t                   length;
} uct_mp_stripe_chunk_t;


/* One striped operation, alive until every chunk completed */
typedef struct uct_mp_stripe {
    ucs_queue_elem_t         queue;       /* in ep->stripe_q while unposted */
    uct_mp_ep_t              *ep;
    uct_mp_stripe_op_t       op;
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

static const char *uct_mp_stripe_op_name(uct_mp_stripe_op_t op)
{
    return (op == UCT_MP_STRIPE_PUT_ZCOPY) ? "put" : "get";
}

/* get_bcopy chunks: the lane hands over the data, into the chunk's place */
static void uct_mp_stripe_unpack(void *dest, const void *data, size_t length)
{
    memcpy(dest, data, length);
}
static unsigned uct_mp_stripe_progress(void *arg);

static UCS_F_ALWAYS_INLINE double uct_mp_stripe_now(void)
{
    return ucs_time_to_sec(ucs_get_time());
}

void uct_mp_stripe_init(uct_mp_ep_t *ep)
{
    ucs_queue_head_init(&ep->stripe_q);
    ucs_queue_head_init(&ep->replay_q);
    ep->stripe_prog_id = UCS_CALLBACKQ_ID_NULL;
    ep->sched          = NULL;
    ep->sched_usable   = 0;
}

void uct_mp_stripe_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    uct_mp_stripe_chunk_t *chunk;
    uct_mp_stripe_t *stripe;

    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &ep->stripe_prog_id);
    ucs_queue_for_each_extract(chunk, &ep->replay_q, replay, 1) {
        if (chunk->stripe->status == UCS_OK) {
            chunk->stripe->status = UCS_ERR_CANCELED;
        }
        uct_mp_stripe_release(chunk->stripe);
    }
    ucs_queue_for_each_extract(stripe, &ep->stripe_q, queue, 1) {
        ucs_warn("mp_rc: ep %p destroyed with a striped %s of %u chunks "
                 "partly posted", ep, uct_mp_stripe_op_name(stripe->op),
                 stripe->num_chunks);
        if (stripe->user_comp != NULL) {
            uct_invoke_completion(stripe->user_comp, UCS_ERR_CANCELED);
        }
        ucs_free(stripe);
    }
    uct_mp_sched_destroy(ep->sched);
    ep->sched = NULL;
}

void uct_mp_stripe_lanes_changed(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    const uct_iface_attr_t *attr;
    unsigned lane;
    int usable;

    if (ep->sched == NULL) {
        return;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        attr   = &iface->lanes[lane].attr;
        usable = (ep->lane_eps[lane].ep != NULL) &&
                 (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_ACTIVE);
        if (usable != !!(ep->sched_usable & UCS_BIT(lane))) {
            /* a lane that failed, or came back: what was measured before
             * says nothing about its path now, and its outstanding chunks
             * are re-posted elsewhere (their error completions are not
             * counted) */
            uct_mp_sched_reset_lane(ep->sched, lane);
            ep->sched_usable ^= UCS_BIT(lane);
        }
        uct_mp_sched_set_lane(ep->sched, lane, usable,
                              (iface->lane_weight[lane] > 0) ?
                              iface->lane_weight[lane] :
                              (attr->bandwidth.dedicated +
                               attr->bandwidth.shared),
                              ucs_min(attr->cap.put.max_zcopy,
                                      attr->cap.get.max_zcopy));
    }
}

/* The part [offset, offset + length) of iov, memhs of lane md md_index */
static size_t uct_mp_stripe_slice(const uct_iov_t *iov, size_t iovcnt,
                                  size_t offset, size_t length,
                                  unsigned md_index, uct_iov_t *out)
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
        out[n].memh   = uct_mp_memh_lane(iov[i].memh, md_index);
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
    uct_mp_iface_t *iface;

    if (ucs_likely(self->status == UCS_OK)) {
        uct_mp_sched_completed(ep->sched, chunk->lane, chunk->length,
                               uct_mp_stripe_now());
        /* the peer acknowledged it over the lane: the path works */
        uct_mp_keepalive_lane_arrival(ep, chunk->lane);
    } else {
        if (uct_mp_stripe_retryable(ep, chunk, self->status)) {
            /* the lane failed under it: post it again on another lane */
            ucs_debug("mp_rc: ep %p: %s chunk of %zu bytes at +%zu failed on "
                      "lane %u (%s), re-posting", ep,
                      uct_mp_stripe_op_name(stripe->op), chunk->length,
                      chunk->offset, chunk->lane,
                      ucs_status_string(self->status));
            ++chunk->attempts;
            ++ep->replayed_chunks;
            chunk->failed_lane = chunk->lane;
            iface = uct_mp_stripe_iface(ep);
            ucs_queue_push(&ep->replay_q, &chunk->replay);
            uct_worker_progress_register_safe(&iface->super.worker->super,
                                              uct_mp_stripe_progress, ep,
                                              UCS_CALLBACKQ_FLAG_ONESHOT,
                                              &ep->stripe_prog_id);
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
    ((ep->lane_eps[_lane].ep != NULL) && ((int)(_lane) != chunk->failed_lane) && \
     (uct_mp_lanes_state(ep->lanes, _lane) == UCT_MP_LANE_ACTIVE))

    if (UCT_MP_STRIPE_LANE_OK(chunk->lane)) {
        return chunk->lane;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (UCT_MP_STRIPE_LANE_OK(lane)) {
            return lane;
        }
    }
#undef UCT_MP_STRIPE_LANE_OK

    return uct_mp_lanes_select(ep->lanes, UCT_MP_OP_RMA, chunk->length);
}

/* Post one chunk. UCS_ERR_NO_RESOURCE: its lane has no resources now. */
static ucs_status_t uct_mp_stripe_post_chunk(uct_mp_stripe_t *stripe,
                                             uct_mp_stripe_chunk_t *chunk)
{
    uct_mp_ep_t *ep       = stripe->ep;
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    const uct_mp_rkey_t *mp_rkey;
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    unsigned md_index;
    size_t n;
    int lane;

    lane = uct_mp_stripe_chunk_lane(ep, chunk);
    if (lane < 0) {
        return ep->peer_failed ? UCS_ERR_ENDPOINT_TIMEOUT : UCS_ERR_NO_RESOURCE;
    }
    chunk->lane = lane;

    md_index = ep->lane_eps[lane].remote_md_index;
    mp_rkey  = (const uct_mp_rkey_t*)stripe->rkey;
    if (ucs_unlikely(md_index >= mp_rkey->num_lane_rkeys)) {
        ucs_error("mp_rc: ep %p lane %d needs remote md %u, the remote key "
                  "has %u", ep, lane, md_index, mp_rkey->num_lane_rkeys);
        return UCS_ERR_INVALID_PARAM;
    }
    lane_rkey = mp_rkey->lane[md_index].rkey;

    n = uct_mp_stripe_slice(stripe->iov, stripe->iovcnt, chunk->offset,
                            chunk->length, iface->lanes[lane].md_index,
                            lane_iov);
    chunk->comp.func   = uct_mp_stripe_chunk_done;
    chunk->comp.count  = 1;
    chunk->comp.status = UCS_OK;
    switch (stripe->op) {
    case UCT_MP_STRIPE_PUT_ZCOPY:
        status = uct_ep_put_zcopy(ep->lane_eps[lane].ep, lane_iov, n,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    case UCT_MP_STRIPE_GET_ZCOPY:
        status = uct_ep_get_zcopy(ep->lane_eps[lane].ep, lane_iov, n,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    default: /* one contiguous buffer, checked when the stripe was made */
        status = uct_ep_get_bcopy(ep->lane_eps[lane].ep, uct_mp_stripe_unpack,
                                  lane_iov[0].buffer, chunk->length,
                                  stripe->remote_addr + chunk->offset,
                                  lane_rkey, &chunk->comp);
        break;
    }

    if (status == UCS_ERR_NO_RESOURCE) {
        ep->busy_lane = lane;
        return status;
    }

    uct_mp_lanes_account(ep->lanes, lane, chunk->length);
    uct_mp_sched_posted(ep->sched, lane, chunk->length, uct_mp_stripe_now());
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
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    uct_mp_stripe_chunk_t *chunk;
    uct_mp_stripe_t *stripe;
    ucs_status_t status;
    unsigned count = 0;

    uct_mp_ep_send_ctl_first(ep);

    while (!ucs_queue_is_empty(&ep->replay_q)) {
        chunk  = ucs_queue_head_elem_non_empty(&ep->replay_q,
                                               uct_mp_stripe_chunk_t, replay);
        stripe = chunk->stripe;
        status = uct_mp_stripe_post_chunk(stripe, chunk);
        if (status == UCS_ERR_NO_RESOURCE) {
            uct_worker_progress_register_safe(&iface->super.worker->super,
                                              uct_mp_stripe_progress, ep,
                                              UCS_CALLBACKQ_FLAG_ONESHOT,
                                              &ep->stripe_prog_id);
            return count;
        }

        ucs_queue_pull_non_empty(&ep->replay_q);
        if (status != UCS_OK) {
            /* no lane can take it: the operation fails */
            if (stripe->status == UCS_OK) {
                stripe->status = status;
            }
            uct_mp_stripe_release(stripe);
        }
        ++count;
    }

    while (!ucs_queue_is_empty(&ep->stripe_q)) {
        stripe = ucs_queue_head_elem_non_empty(&ep->stripe_q, uct_mp_stripe_t,
                                               queue);
        if (uct_mp_stripe_post(stripe) == UCS_ERR_NO_RESOURCE) {
            if (stripe->status == UCS_OK) {
                uct_worker_progress_register_safe(&iface->super.worker->super,
                                                  uct_mp_stripe_progress, ep,
                                                  UCS_CALLBACKQ_FLAG_ONESHOT,
                                                  &ep->stripe_prog_id);
                break;
            }
            /* no lane left: the rest of the stripe fails */
        }

        ucs_queue_pull_non_empty(&ep->stripe_q);
        uct_mp_stripe_release(stripe); /* the posting reference */
        ++count;
    }
    return count;
}

static unsigned uct_mp_stripe_progress(void *arg)
{
    uct_mp_ep_t *ep = arg;

    ep->stripe_prog_id = UCS_CALLBACKQ_ID_NULL;
    return uct_mp_stripe_post_waiting(ep);
}

int uct_mp_stripe_blocked(uct_mp_ep_t *ep)
{
    if (ucs_likely(ucs_queue_is_empty(&ep->stripe_q) &&
                   ucs_queue_is_empty(&ep->replay_q))) {
        return 0;
    }

    /* The caller may run where the waiting chunk's lane has resources again
     * (a lane's pending dispatch): post now; if a chunk still waits,
     * busy_lane names its lane */
    uct_mp_stripe_post_waiting(ep);
    return !ucs_queue_is_empty(&ep->stripe_q) ||
           !ucs_queue_is_empty(&ep->replay_q);
}

ucs_status_t uct_mp_stripe_rma_zcopy(uct_mp_ep_t *ep, uct_mp_stripe_op_t op,
                                     const uct_iov_t *iov, size_t iovcnt,
                                     uint64_t remote_addr, uct_rkey_t rkey,
                                     uct_completion_t *comp)
{
    uct_mp_iface_t *iface = uct_mp_stripe_iface(ep);
    uct_mp_chunk_t chunks[UCT_MP_STRIPE_MAX_CHUNKS];
    uct_mp_stripe_t *stripe;
    ucs_status_t status;
    size_t i, length = 0;
    unsigned n;

    if (ucs_unlikely(iovcnt > UCT_MP_MAX_IOV)) {
        ucs_error("mp_rc: iovcnt %zu exceeds %d", iovcnt, UCT_MP_MAX_IOV);
        return UCS_ERR_INVALID_PARAM;
    }

    for (i = 0; i < iovcnt; ++i) {
        if (ucs_unlikely(iov[i].count != 1)) {
            return UCS_ERR_UNSUPPORTED; /* strided: the caller goes whole */
        }
        length += iov[i].length;
    }

    if (ucs_unlikely((op == UCT_MP_STRIPE_GET_BCOPY) && (iovcnt != 1))) {
        ucs_error("mp_rc: ep %p: striped get_bcopy needs one buffer, got %zu",
                  ep, iovcnt);
        return UCS_ERR_INVALID_PARAM;
    }

    n = uct_mp_sched_split(ep->sched, length, uct_mp_stripe_now(), chunks,
                           UCT_MP_STRIPE_MAX_CHUNKS);
    if (n == 0) {
        return UCS_ERR_UNSUPPORTED;
    }

    stripe = ucs_malloc(sizeof(*stripe), "mp stripe");
    if (stripe == NULL) {
        ucs_error("mp_rc: ep %p: failed to allocate a striped operation", ep);
        return UCS_ERR_NO_MEMORY;
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
        stripe->chunks[i].offset = chunks[i].offset;
        stripe->chunks[i].length = chunks[i].length;
    }

    status = uct_mp_stripe_post(stripe);
    if ((status == UCS_ERR_NO_RESOURCE) && (stripe->status == UCS_OK)) {
        if (stripe->next == 0) {
            ucs_free(stripe); /* nothing posted: the caller retries */
            return UCS_ERR_NO_RESOURCE;
        }

        /* the rest is posted from progress; the ep takes nothing new */
        ucs_queue_push(&ep->stripe_q, &stripe->queue);
        uct_worker_progress_register_safe(&iface->super.worker->super,
                                          uct_mp_stripe_progress, ep,
                                          UCS_CALLBACKQ_FLAG_ONESHOT,
                                          &ep->stripe_prog_id);
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
