/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The mp_rc endpoint: one lane endpoint per connected lane pair. Every UCT
 * operation is forwarded to the lane the policy chooses; AMs and atomics use
 * one lane at a time (tx_lane) so UCT ordering is kept.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_ep.h"
#include "mp_flush.h"

#include <uct/base/uct_iov.inl>
#include <ucs/debug/log.h>
#include <ucs/time/time.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/sys/string.h>
#include <string.h>




static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_ep_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

static const char *uct_mp_ep_lane_name(uct_mp_ep_t *ep, unsigned lane)
{
    return uct_mp_ep_iface(ep)->lanes[lane].dev_name;
}

void uct_mp_ep_lane_event(uct_mp_ep_t *ep, unsigned lane,
                          uct_mp_lane_event_t event)
{
    uct_mp_lane_state_t prev = uct_mp_lanes_state(ep->lanes, lane);

    if (event == UCT_MP_LANE_EV_CONNECTED) {
        uct_mp_keepalive_lane_alive(ep, lane); /* a grace period to start */
    }

    if (uct_mp_lanes_event(ep->lanes, lane, event) != 0) {
        ucs_debug("mp_rc: ep %p lane %u (%s): event %s ignored in state %s", ep,
                  lane, uct_mp_ep_lane_name(ep, lane),
                  uct_mp_lane_event_str(event), uct_mp_lane_state_str(prev));
    }

    ep->tx_lane = uct_mp_lanes_select(ep->lanes, UCT_MP_OP_AM, 0);
    uct_mp_stripe_lanes_changed(ep);
    uct_mp_am_lane_changed(ep);
}

/* The lane of an RMA of length bytes */
static UCS_F_ALWAYS_INLINE int uct_mp_ep_rma_lane(uct_mp_ep_t *ep,
                                                  size_t length)
{
    if (uct_mp_ep_iface(ep)->policy == UCT_MP_POLICY_LOAD_BALANCE) {
        return uct_mp_lanes_select(ep->lanes, UCT_MP_OP_RMA, length);
    }
    return ep->tx_lane;
}

static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_no_lane(uct_mp_ep_t *ep)
{
    return ep->peer_failed ? UCS_ERR_ENDPOINT_TIMEOUT : UCS_ERR_NO_RESOURCE;
}

static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_lane_rkey(uct_mp_ep_t *ep, int lane, uct_rkey_t rkey,
                    uct_rkey_t *lane_rkey_p)
{
    const uct_mp_rkey_t *mp_rkey = (const uct_mp_rkey_t*)rkey;
    unsigned md_index            = ep->lane_eps[lane].remote_md_index;

    if (ucs_unlikely(md_index >= mp_rkey->num_lane_rkeys)) {
        ucs_error("mp_rc: ep %p lane %d needs remote md %u, the remote key has "
                  "%u", ep, lane, md_index, mp_rkey->num_lane_rkeys);
        return UCS_ERR_INVALID_PARAM;
    }

    *lane_rkey_p = mp_rkey->lane[md_index].rkey;
    return UCS_OK;
}

/* Copy iov with every mp memh replaced by the lane md's memh */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_lane_iov(uct_mp_ep_t *ep, int lane, const uct_iov_t *iov,
                   size_t iovcnt, uct_iov_t *lane_iov)
{
    unsigned md_index = uct_mp_ep_iface(ep)->lanes[lane].md_index;
    size_t i;

    if (ucs_unlikely(iovcnt > UCT_MP_MAX_IOV)) {
        ucs_error("mp_rc: iovcnt %zu exceeds %d", iovcnt, UCT_MP_MAX_IOV);
        return UCS_ERR_INVALID_PARAM;
    }

    for (i = 0; i < iovcnt; ++i) {
        lane_iov[i]      = iov[i];
        lane_iov[i].memh = uct_mp_memh_lane(iov[i].memh, md_index);
    }
    return UCS_OK;
}

/*
 * A lane refused an operation because the lane is broken (its transport may
 * know before its error callback runs): the lane fails now, and the caller is
 * told to retry, which goes to another lane. With no lane left the error
 * stands.
 */
static ucs_status_t uct_mp_ep_lane_refused(uct_mp_ep_t *ep, int lane,
                                           ucs_status_t status)
{
    if (!uct_mp_ep_lane_broken(status)) {
        return status;
    }

    if (uct_mp_lanes_state(ep->lanes, lane) != UCT_MP_LANE_FAILED) {
        uct_mp_ep_lane_failed(ep, lane, status);
    }

    if (ep->tx_lane < 0) {
        return status;
    }

    /* no lane is out of resources: a wake-up waits on tx_lane (mp_pending) */
    ep->busy_lane = -1;
    return UCS_ERR_NO_RESOURCE;
}

/* Book-keeping after a lane operation returned status for length bytes */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_posted(uct_mp_ep_t *ep, int lane, ucs_status_t status, size_t length)
{
    if (ucs_likely(!UCS_STATUS_IS_ERR(status))) {
        uct_mp_lanes_account(ep->lanes, lane, length);
        if (uct_mp_sched_outstanding(ep->sched, lane) > 0) {
            /* striped chunks wait behind these bytes: the lane's measured
             * throughput must count them */
            uct_mp_sched_carried(ep->sched, lane, length,
                                 ucs_time_to_sec(ucs_get_time()));
        }
    } else if (status == UCS_ERR_NO_RESOURCE) {
        ep->busy_lane = lane;
    } else {
        return uct_mp_ep_lane_refused(ep, lane, status);
    }
    return status;
}

/*
 * Before any operation: start the JOIN the ep still owes, and keep UCT's
 * ordering rule. UCS_ERR_NO_RESOURCE while something must go first: a
 * request UCP queued on the ep (unless it is the one being run now), or
 * chunks of a striped operation waiting for a lane.
 */
static UCS_F_ALWAYS_INLINE ucs_status_t uct_mp_ep_start_op(uct_mp_ep_t *ep)
{
    if (ucs_unlikely(ep->join_state == UCT_MP_JOIN_WANTED)) {
        /* UCP posts on the ep only once the peer's side is connected */
        uct_mp_join_start(ep);
    }

    uct_mp_ep_send_ctl_first(ep);

    if (ucs_unlikely((!ucs_queue_is_empty(&ep->pending_q) &&
                      !ep->in_pending) ||
                     uct_mp_fence_waiting(ep) || uct_mp_stripe_blocked(ep))) {
        return UCS_ERR_NO_RESOURCE;
    }
    return UCS_OK;
}

/*
 * Choose the lane for an operation of class op and translate what refers to
 * local or remote memory: rkey (if lane_rkey_p != NULL) and iov memhs (if
 * lane_iov != NULL).
 */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_prepare(uct_mp_ep_t *ep, uct_mp_op_class_t op, size_t length,
                  uct_rkey_t rkey, uct_rkey_t *lane_rkey_p,
                  const uct_iov_t *iov, size_t iovcnt, uct_iov_t *lane_iov,
                  int *lane_p)
{
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_start_op(ep);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    if (ucs_unlikely((op == UCT_MP_OP_AM) && uct_mp_am_blocked(ep))) {
        /* AMs sent again after a lane failure go first */
        return UCS_ERR_NO_RESOURCE;
    }

    lane = (op == UCT_MP_OP_RMA) ? uct_mp_ep_rma_lane(ep, length) :
                                   ep->tx_lane;
    if (ucs_unlikely(lane < 0)) {
        return uct_mp_ep_no_lane(ep);
    }

    if (lane_rkey_p != NULL) {
        status = uct_mp_ep_lane_rkey(ep, lane, rkey, lane_rkey_p);
        if (ucs_unlikely(status != UCS_OK)) {
            return status;
        }
    }

    if (lane_iov != NULL) {
        status = uct_mp_ep_lane_iov(ep, lane, iov, iovcnt, lane_iov);
        if (ucs_unlikely(status != UCS_OK)) {
            return status;
        }
    }

    *lane_p = lane;
    return UCS_OK;
}

/*
 * Zcopy RMA under load_balance and efficiency goes through the striping
 * scheduler; UCS_ERR_UNSUPPORTED means "not striped, post it whole".
 */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_rma_zcopy_striped(uct_mp_ep_t *ep, uct_mp_stripe_op_t op,
                            const uct_iov_t *iov,
                            size_t iovcnt, uint64_t remote_addr,
                            uct_rkey_t rkey, uct_completion_t *comp)
{
    ucs_status_t status;

    if ((ep->sched == NULL) || (ep->tx_lane < 0)) {
        return UCS_ERR_UNSUPPORTED;
    }

    status = uct_mp_ep_start_op(ep);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    return uct_mp_stripe_rma_zcopy(ep, op, iov, iovcnt, remote_addr, rkey,
                                   comp);
}

/* Book-keeping for bcopy operations, which return a length or an error */
static UCS_F_ALWAYS_INLINE ssize_t
uct_mp_ep_posted_bcopy(uct_mp_ep_t *ep, int lane, ssize_t packed)
{
    if (ucs_likely(packed >= 0)) {
        uct_mp_lanes_account(ep->lanes, lane, packed);
    } else if (packed == UCS_ERR_NO_RESOURCE) {
        ep->busy_lane = lane;
    } else {
        return uct_mp_ep_lane_refused(ep, lane, (ucs_status_t)packed);
    }
    return packed;
}

ucs_status_t uct_mp_ep_am_short(uct_ep_h tl_ep, uint8_t id, uint64_t header,
                                const void *payload, unsigned length)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_AM, length, UCT_INVALID_RKEY,
                               NULL, NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_short(ep, lane, id, header, payload, length);
    return uct_mp_ep_posted(ep, lane, status, sizeof(header) + length);
}

ucs_status_t uct_mp_ep_am_short_iov(uct_ep_h tl_ep, uint8_t id,
                                    const uct_iov_t *iov, size_t iovcnt)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    size_t length   = uct_iov_total_length(iov, iovcnt);
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_AM, length, UCT_INVALID_RKEY,
                               NULL, NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_short_iov(ep, lane, id, iov, iovcnt);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ssize_t uct_mp_ep_am_bcopy(uct_ep_h tl_ep, uint8_t id,
                           uct_pack_callback_t pack_cb, void *arg,
                           unsigned flags)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_AM, 0, UCT_INVALID_RKEY, NULL,
                               NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    return uct_mp_ep_posted_bcopy(ep, lane,
                                  uct_mp_am_bcopy(ep, lane, id, pack_cb, arg,
                                                  flags));
}

ucs_status_t uct_mp_ep_am_zcopy(uct_ep_h tl_ep, uint8_t id, const void *header,
                                unsigned header_length, const uct_iov_t *iov,
                                size_t iovcnt, unsigned flags,
                                uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    size_t length   = header_length + uct_iov_total_length(iov, iovcnt);
    uct_iface_attr_t attr;
    ucs_status_t status;
    int lane;

    /* the lane would see 12 more header bytes and one more iov, and name
     * those: check what the user passed against what mp advertises */
    uct_iface_query(tl_ep->iface, &attr);
    if (ucs_unlikely((header_length > attr.cap.am.max_hdr) ||
                     (iovcnt > attr.cap.am.max_iov))) {
        ucs_error("mp_rc: am_zcopy header length %u (max %zu), iovcnt %zu "
                  "(max %zu)", header_length, attr.cap.am.max_hdr, iovcnt,
                  attr.cap.am.max_iov);
        return UCS_ERR_INVALID_PARAM;
    }

    /* the AM channel translates memhs itself: it may send again elsewhere */
    status = uct_mp_ep_prepare(ep, UCT_MP_OP_AM, length, UCT_INVALID_RKEY,
                               NULL, NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_zcopy(ep, lane, id, header, header_length, iov, iovcnt,
                             flags, comp);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_ep_put_short(uct_ep_h tl_ep, const void *buffer,
                                 unsigned length, uint64_t remote_addr,
                                 uct_rkey_t rkey)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    if (ucs_likely(uct_mp_ep_iface(ep)->bounce_size > 0)) {
        return uct_mp_bounce_put_short(ep, buffer, length, remote_addr, rkey);
    }

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, length, rkey, &lane_rkey,
                               NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_put_short(ep->lane_eps[lane].ep, buffer, length,
                              remote_addr, lane_rkey);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ssize_t uct_mp_ep_put_bcopy(uct_ep_h tl_ep, uct_pack_callback_t pack_cb,
                            void *arg, uint64_t remote_addr, uct_rkey_t rkey)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    if (ucs_likely(uct_mp_ep_iface(ep)->bounce_size > 0)) {
        return uct_mp_bounce_put_bcopy(ep, pack_cb, arg, remote_addr, rkey);
    }

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, 0, rkey, &lane_rkey, NULL,
                               0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    return uct_mp_ep_posted_bcopy(ep, lane,
                                  uct_ep_put_bcopy(ep->lane_eps[lane].ep,
                                                   pack_cb, arg, remote_addr,
                                                   lane_rkey));
}

ucs_status_t uct_mp_ep_put_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    size_t length   = uct_iov_total_length(iov, iovcnt);
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_rma_zcopy_striped(ep, UCT_MP_STRIPE_PUT_ZCOPY, iov,
                                         iovcnt, remote_addr, rkey, comp);
    if (status != UCS_ERR_UNSUPPORTED) {
        return status;
    }

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, length, rkey, &lane_rkey,
                               iov, iovcnt, lane_iov, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_put_zcopy(ep->lane_eps[lane].ep, lane_iov, iovcnt,
                              remote_addr, lane_rkey, comp);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_ep_get_short(uct_ep_h tl_ep, void *buffer, unsigned length,
                                 uint64_t remote_addr, uct_rkey_t rkey)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, length, rkey, &lane_rkey,
                               NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_get_short(ep->lane_eps[lane].ep, buffer, length,
                              remote_addr, lane_rkey);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_ep_get_bcopy(uct_ep_h tl_ep, uct_unpack_callback_t unpack_cb,
                                 void *arg, size_t length, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    if (ucs_likely(uct_mp_ep_iface(ep)->bounce_size > 0)) {
        return uct_mp_bounce_get_bcopy(ep, unpack_cb, arg, length, remote_addr,
                                       rkey, comp);
    }

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, length, rkey, &lane_rkey,
                               NULL, 0, NULL, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_get_bcopy(ep->lane_eps[lane].ep, unpack_cb, arg, length,
                              remote_addr, lane_rkey, comp);
    return uct_mp_ep_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_ep_get_bcopy_tracked(uct_mp_ep_t *ep, void *buffer,
                                         size_t length, uint64_t remote_addr,
                                         uct_rkey_t rkey,
                                         uct_completion_t *comp)
{
    uct_iov_t iov = {
        .buffer = buffer,
        .length = length,
        .memh   = UCT_MEM_HANDLE_NULL,
        .stride = 0,
        .count  = 1
    };
    ucs_status_t status;

    status = uct_mp_ep_rma_zcopy_striped(ep, UCT_MP_STRIPE_GET_BCOPY, &iov, 1,
                                         remote_addr, rkey, comp);
    return (status == UCS_ERR_UNSUPPORTED) ? uct_mp_ep_no_lane(ep) : status;
}

ucs_status_t uct_mp_ep_get_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    size_t length   = uct_iov_total_length(iov, iovcnt);
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_rma_zcopy_striped(ep, UCT_MP_STRIPE_GET_ZCOPY, iov,
                                         iovcnt, remote_addr, rkey, comp);
    if (status != UCS_ERR_UNSUPPORTED) {
        return status;
    }

    status = uct_mp_ep_prepare(ep, UCT_MP_OP_RMA, length, rkey, &lane_rkey,
                               iov, iovcnt, lane_iov, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_get_zcopy(ep->lane_eps[lane].ep, lane_iov, iovcnt,
                              remote_addr, lane_rkey, comp);
    return uct_mp_ep_posted(ep, lane, status, length);
}

/*
 * Atomics: never split, always on tx_lane. _call uses "lane" and "lane_rkey".
 */
#define UCT_MP_EP_ATOMIC(_tl_ep, _size, _call) \
    { \
        uct_mp_ep_t *ep = ucs_derived_of(_tl_ep, uct_mp_ep_t); \
        uct_rkey_t lane_rkey; \
        ucs_status_t status; \
        int lane; \
        \
        if (ucs_unlikely(!uct_mp_ep_iface(ep)->device_atomics)) { \
            return UCS_ERR_UNSUPPORTED; /* UCP uses software atomics */ \
        } \
        \
        status = uct_mp_ep_prepare(ep, UCT_MP_OP_ATOMIC, _size, rkey, \
                                   &lane_rkey, NULL, 0, NULL, &lane); \
        if (ucs_unlikely(status != UCS_OK)) { \
            return status; \
        } \
        \
        return uct_mp_ep_posted(ep, lane, _call, _size); \
    }

ucs_status_t uct_mp_ep_atomic_cswap64(uct_ep_h tl_ep, uint64_t compare,
                                      uint64_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint64_t *result,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic_cswap64(ep->lane_eps[lane].ep, compare, swap,
                                       remote_addr, lane_rkey, result, comp))

ucs_status_t uct_mp_ep_atomic_cswap32(uct_ep_h tl_ep, uint32_t compare,
                                      uint32_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint32_t *result,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic_cswap32(ep->lane_eps[lane].ep, compare, swap,
                                       remote_addr, lane_rkey, result, comp))

ucs_status_t uct_mp_ep_atomic32_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint32_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic32_post(ep->lane_eps[lane].ep, opcode, value,
                                      remote_addr, lane_rkey))

ucs_status_t uct_mp_ep_atomic64_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint64_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic64_post(ep->lane_eps[lane].ep, opcode, value,
                                      remote_addr, lane_rkey))

ucs_status_t uct_mp_ep_atomic32_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint32_t value, uint32_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic32_fetch(ep->lane_eps[lane].ep, opcode, value,
                                       result, remote_addr, lane_rkey, comp))

ucs_status_t uct_mp_ep_atomic64_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint64_t value, uint64_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic64_fetch(ep->lane_eps[lane].ep, opcode, value,
                                       result, remote_addr, lane_rkey, comp))

static ucs_status_t uct_mp_ep_flush_lane(void *lane_ep, unsigned flags,
                                         uct_completion_t *comp)
{
    return uct_ep_flush(lane_ep, flags, comp);
}

/* Lane eps that may have operations in flight */
static unsigned uct_mp_ep_live_lanes(uct_mp_ep_t *ep, void **lane_eps)
{
    unsigned lane, count = uct_mp_ep_iface(ep)->num_lanes;
    uct_mp_lane_state_t state;

    for (lane = 0; lane < count; ++lane) {
        state          = uct_mp_lanes_state(ep->lanes, lane);
        lane_eps[lane] = ((state == UCT_MP_LANE_ACTIVE) ||
                          (state == UCT_MP_LANE_STANDBY) ||
                          (state == UCT_MP_LANE_DRAINING)) ?
                         ep->lane_eps[lane].ep : NULL;
    }
    return count;
}

static ucs_status_t uct_mp_ep_flush_all_lanes(uct_mp_ep_t *ep, unsigned flags,
                                              uct_completion_t *comp)
{
    void *lane_eps[UCT_MP_MAX_LANES];
    int failed_lane = -1;
    ucs_status_t status;
    unsigned count;

    count  = uct_mp_ep_live_lanes(ep, lane_eps);
    status = uct_mp_flush_lanes(lane_eps, count, uct_mp_ep_flush_lane, flags,
                                comp, &ep->busy_lane, &failed_lane);
    if (ucs_unlikely(UCS_STATUS_IS_ERR(status) && (failed_lane >= 0))) {
        /* a lane broke under the flush before its error callback ran (tcp:
         * the flush's PUT request met a reset): that lane fails now, and the
         * flush is retried on the others; what was in flight on it is
         * tracked and posted again */
        return uct_mp_ep_lane_refused(ep, failed_lane, status);
    }
    return status;
}

ucs_status_t uct_mp_ep_flush(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);

    if (ucs_unlikely(ep->tx_lane < 0)) {
        /* after the peer failed nothing is left in flight to wait for */
        return ep->peer_failed ? UCS_OK : UCS_ERR_NO_RESOURCE;
    }

    if (ucs_unlikely(uct_mp_stripe_blocked(ep) || uct_mp_am_blocked(ep))) {
        return UCS_ERR_NO_RESOURCE; /* chunks or AMs still to post */
    }

    return uct_mp_am_flush(ep, flags, comp, uct_mp_ep_flush_all_lanes);
}

ucs_status_t uct_mp_ep_check(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    void *lane_eps[UCT_MP_MAX_LANES];
    unsigned lane, count;

    /* A failing lane reports through the lane error handler */
    count = uct_mp_ep_live_lanes(ep, lane_eps);
    for (lane = 0; lane < count; ++lane) {
        if (lane_eps[lane] != NULL) {
            uct_ep_check(lane_eps[lane], flags, NULL);
        }
    }
    return UCS_OK;
}

uct_mp_ep_t *uct_mp_ep_find_lane(uct_mp_iface_t *iface, uct_ep_h lane_ep,
                                 unsigned *lane_p)
{
    uct_mp_ep_t *ep;
    unsigned lane;

    ucs_list_for_each(ep, &iface->eps, list) {
        for (lane = 0; lane < iface->num_lanes; ++lane) {
            if (ep->lane_eps[lane].ep == lane_ep) {
                *lane_p = lane;
                return ep;
            }
        }
    }
    return NULL;
}

ucs_status_t uct_mp_ep_lane_failed(uct_mp_ep_t *ep, unsigned lane,
                                   ucs_status_t status)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);

    uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_ERROR);
    uct_mp_pending_lane_gone(ep, lane);
    /* its outstanding operations come back when its ep is destroyed */
    uct_mp_keepalive_schedule_lane_destroy(ep, lane);
    uct_mp_join_lane_failed(ep, lane);
    if (ep->tx_lane >= 0) {
        /* diag, not warn: a peer that closes its endpoint looks the same to
         * the lane transport until mp closes lanes with a control message */
        ucs_diag("mp_rc: ep %p lane %u (%s) failed: %s; traffic moves to lane "
                 "%d (%s), %u lanes usable", ep, lane,
                 uct_mp_ep_lane_name(ep, lane), ucs_status_string(status),
                 ep->tx_lane, uct_mp_ep_lane_name(ep, ep->tx_lane),
                 uct_mp_lanes_usable(ep->lanes));
        return UCS_OK;
    }

    if (ep->peer_failed) {
        return UCS_OK;
    }

    ep->peer_failed = 1;
    ucs_debug("mp_rc: ep %p lane %u (%s) failed: %s; no lane left", ep, lane,
              uct_mp_ep_lane_name(ep, lane), ucs_status_string(status));
    uct_mp_am_peer_failed(ep, status);
    return uct_iface_handle_ep_err(&iface->super.super, &ep->super.super,
                                   status);
}

unsigned uct_mp_ep_pair_lanes(uct_mp_iface_t *iface, const uct_mp_wire_t *devs,
                              const uct_mp_wire_t *ifc,
                              const uct_mp_wire_t *eps, uint32_t local_mask,
                              unsigned first_remote, int *remote_of_local)
{
    int remote_paired[UCT_MP_MAX_LANES] = {0};
    unsigned local, remote, num_pairs = 0;

#define UCT_MP_LANES_PAIRABLE(_local, _remote) \
    (((_remote) >= first_remote) && !remote_paired[_remote] && \
     ((eps == NULL) || \
      (eps->lanes[_remote].len == iface->lanes[_local].attr.ep_addr_len)) && \
     uct_iface_is_reachable(iface->lanes[_local].iface, \
                            devs->lanes[_remote].data, \
                            (ifc == NULL) ? NULL : ifc->lanes[_remote].data))

    for (local = 0; local < iface->num_lanes; ++local) {
        remote_of_local[local] = -1;
        if (!(local_mask & UCS_BIT(local))) {
            continue;
        }

        if ((local < devs->lane_count) && UCT_MP_LANES_PAIRABLE(local, local)) {
            remote_of_local[local] = local;
        } else {
            for (remote = 0; remote < devs->lane_count; ++remote) {
                if (UCT_MP_LANES_PAIRABLE(local, remote)) {
                    remote_of_local[local] = remote;
                    break;
                }
            }
        }

        if (remote_of_local[local] >= 0) {
            remote_paired[remote_of_local[local]] = 1;
            ++num_pairs;
        }
    }
#undef UCT_MP_LANES_PAIRABLE

    return num_pairs;
}

void uct_mp_ep_destroy_lane(uct_mp_ep_t *ep, unsigned lane)
{
    if (ep->lane_eps[lane].ep != NULL) {
        uct_mp_pending_lane_gone(ep, lane);
        uct_ep_destroy(ep->lane_eps[lane].ep);
        ep->lane_eps[lane].ep = NULL;
    }
    uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CLOSE);
}

/* Connect to the peer's iface: one lane ep per lane pair */
static ucs_status_t uct_mp_ep_connect_to_iface(uct_mp_ep_t *ep,
                                               const uct_ep_params_t *params)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    int remote_of_local[UCT_MP_MAX_LANES];
    uct_ep_params_t lane_params;
    uct_mp_wire_t peer_dev, dev, ifc;
    ucs_status_t status;
    unsigned lane;
    int remote;

    if (!(iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        ucs_error("mp_rc: ep %p: lanes connect ep to ep, not to an iface", ep);
        return UCS_ERR_UNSUPPORTED;
    }

    status = uct_mp_iface_unpack_device(iface, params->dev_addr, &peer_dev);
    if (status != UCS_OK) {
        return status;
    }

    status = uct_mp_iface_unpack_lanes(iface, params->iface_addr,
                                       UCT_MP_WIRE_IFACE_ADDR, &dev, &ifc);
    if (status != UCS_OK) {
        return status;
    }

    if (uct_mp_ep_pair_lanes(iface, &dev, &ifc, NULL, UCS_MASK(UCT_MP_MAX_LANES),
                             0, remote_of_local) == 0) {
        ucs_error("mp_rc: none of %u local and %u peer lanes is reachable",
                  iface->num_lanes, dev.lane_count);
        return UCS_ERR_UNREACHABLE;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        remote = remote_of_local[lane];
        if (remote < 0) {
            continue;
        }

        lane_params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                                 UCT_EP_PARAM_FIELD_DEV_ADDR |
                                 UCT_EP_PARAM_FIELD_IFACE_ADDR;
        lane_params.iface      = iface->lanes[lane].iface;
        lane_params.dev_addr   = dev.lanes[remote].data;
        lane_params.iface_addr = ifc.lanes[remote].data;

        status = uct_ep_create(&lane_params, &ep->lane_eps[lane].ep);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: ep %p lane %u (%s) to peer lane %d failed: %s",
                     ep, lane, uct_mp_ep_lane_name(ep, lane), remote,
                     ucs_status_string(status));
            continue;
        }

        ep->lane_eps[lane].remote_lane     = remote;
        ep->lane_eps[lane].remote_md_index = dev.lanes[remote].md_index;
        uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CREATE);
        uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
    }

    return (ep->tx_lane < 0) ? UCS_ERR_UNREACHABLE : UCS_OK;
}

ucs_status_t uct_mp_ep_create_lane_ep(uct_mp_ep_t *ep, unsigned lane,
                                      uct_mp_lane_event_t event)
{
    uct_ep_params_t lane_params;
    ucs_status_t status;

    lane_params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
    lane_params.iface      = uct_mp_ep_iface(ep)->lanes[lane].iface;
    status = uct_ep_create(&lane_params, &ep->lane_eps[lane].ep);
    if (status != UCS_OK) {
        ep->lane_eps[lane].ep = NULL;
        return status;
    }

    uct_mp_ep_lane_event(ep, lane, event);
    return UCS_OK;
}

void uct_mp_ep_drop_lane_ep(uct_mp_ep_t *ep, unsigned lane)
{
    uct_ep_h lane_ep = ep->lane_eps[lane].ep;

    ep->lane_eps[lane].destroy_pending = 0;
    if (lane_ep == NULL) {
        return;
    }

    uct_mp_pending_lane_gone(ep, lane);
    ep->lane_eps[lane].ep = NULL; /* completions see the lane gone */
    uct_ep_destroy(lane_ep);      /* hands back what it held */
}

/* Create an unconnected lane ep on every lane; connect_to_ep pairs them */
static ucs_status_t uct_mp_ep_create_for_ep(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    ucs_status_t status;
    unsigned lane;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        status = uct_mp_ep_create_lane_ep(ep, lane, UCT_MP_LANE_EV_CREATE);
        if (status != UCS_OK) {
            ucs_error("mp_rc: ep %p lane %u (%s) create failed: %s", ep, lane,
                      uct_mp_ep_lane_name(ep, lane), ucs_status_string(status));
            return status;
        }
    }
    return UCS_OK;
}

/*
 * ep address (v2) = caps, lane transport, token and the primary lane's ep
 * address, whatever the lane count: it must fit RDMA-CM private data in UCP's
 * client-server flow. The other lanes join over the primary lane.
 */
ucs_status_t uct_mp_ep_get_address(uct_ep_h tl_ep, uct_ep_addr_t *addr)
{
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    uct_mp_md_t *md       = ucs_derived_of(iface->super.md, uct_mp_md_t);
    uint8_t primary_addr[UINT8_MAX];
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t msg = {0};
    ucs_status_t status;

    if (ep->lane_eps[0].ep == NULL) {
        ucs_error("mp_rc: ep %p has no primary lane ep to address", ep);
        return UCS_ERR_INVALID_PARAM;
    }

    status = uct_ep_get_address(ep->lane_eps[0].ep,
                                (uct_ep_addr_t*)primary_addr);
    if (status != UCS_OK) {
        return status;
    }

    msg.kind          = UCT_MP_WIRE_EP_ADDR;
    msg.caps          = iface->caps;
    msg.lane_tl       = md->lane_tl;
    msg.token         = ep->token;
    msg.lane_count    = 1;
    msg.lanes[0].len  = iface->lanes[0].attr.ep_addr_len;
    msg.lanes[0].data = primary_addr;
    if (uct_mp_wire_pack(&msg, addr, iface->ep_addr_len, errmsg,
                         sizeof(errmsg)) == 0) {
        ucs_error("mp_rc: %s", errmsg);
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

/*
 * dev_addr is our v2 device address (worker-address flow) or, in UCP's
 * client-server flow, the connection manager's address of the peer's primary
 * lane device in the lane transport's own format.
 */
ucs_status_t uct_mp_ep_connect_to_ep(uct_ep_h tl_ep,
                                     const uct_device_addr_t *dev_addr,
                                     const uct_ep_addr_t *ep_addr)
{
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    const void *primary_dev;
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t dev, epa;
    ucs_status_t status;

    if (uct_mp_wire_unpack(ep_addr, UCT_MP_WIRE_MAX_LEN, UCT_MP_WIRE_EP_ADDR,
                           &epa, errmsg, sizeof(errmsg)) != 0) {
        uct_mp_iface_log_bad_addr(iface, "ep address", errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    status = uct_mp_iface_check_lanes(iface, &epa, "ep address");
    if (status != UCS_OK) {
        return status;
    }

    if (epa.lanes[0].len != iface->lanes[0].attr.ep_addr_len) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg), "primary lane ep address of "
                          "%u bytes, %s lanes use %zu", epa.lanes[0].len,
                          ucs_derived_of(iface->super.md, uct_mp_md_t)->lane_tl_name,
                          iface->lanes[0].attr.ep_addr_len);
        uct_mp_iface_log_bad_addr(iface, "ep address", errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    if (uct_mp_wire_is_kind(dev_addr, UCT_MP_WIRE_DEVICE_ADDR)) {
        status = uct_mp_iface_unpack_device(iface, dev_addr, &dev);
        if (status != UCS_OK) {
            return status;
        }
        primary_dev = dev.lanes[0].data;
    } else {
        primary_dev = dev_addr; /* the connection manager's */
    }

    /* The primary lanes pair: each side published its lane 0 ep address */
    status = uct_ep_connect_to_ep(ep->lane_eps[0].ep, primary_dev,
                                  epa.lanes[0].data);
    if (status != UCS_OK) {
        ucs_error("mp_rc: ep %p primary lane (%s) connect failed: %s", ep,
                  uct_mp_ep_lane_name(ep, 0), ucs_status_string(status));
        return status;
    }

    ep->remote_token                = epa.token;
    ep->lane_eps[0].remote_lane     = 0;
    ep->lane_eps[0].remote_md_index = 0; /* the peer's primary md, by rule */
    uct_mp_am_ep_connected(ep, epa.caps);
    uct_mp_ep_lane_event(ep, 0, UCT_MP_LANE_EV_CONNECTED);
    uct_mp_join_primary_connected(ep, epa.caps);

    ucs_debug("mp_rc: ep %p token 0x%x connected to ep 0x%x, join %s", ep,
              ep->token, ep->remote_token,
              (ep->join_state == UCT_MP_JOIN_WANTED) ? "wanted" : "not needed");
    return UCS_OK;
}

void uct_mp_ep_dump(uct_mp_ep_t *ep, FILE *stream)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    uct_mp_lane_ep_t *lane_ep;
    unsigned lane;

    fprintf(stream, "mp_rc: ep %p token 0x%x peer 0x%x join %d tx_lane %d "
            "busy_lane %d peer_failed %d closing %d\n", ep, ep->token,
            ep->remote_token, ep->join_state, ep->tx_lane, ep->busy_lane,
            ep->peer_failed, ep->closing);
    fprintf(stream, "  queues: pending %zu (in_pending %d) ctl %zu stripe %zu "
            "replay %zu; rejoin lane %d\n", ucs_queue_length(&ep->pending_q),
            ep->in_pending, ucs_queue_length(&ep->ctl_q),
            ucs_queue_length(&ep->stripe_q), ucs_queue_length(&ep->replay_q),
            ep->rejoin_lane);
    fprintf(stream, "  am: seq %d tx_dsn %u rx_expected %u rx_acked %u "
            "probe_dsn %u ring %u flushes %zu lane %d replay %d\n", ep->am_seq,
            ep->am_tx_dsn, ep->am_rx_expected, ep->am_rx_acked,
            ep->am_probe_dsn, ep->am_ring_len,
            ucs_queue_length(&ep->am_flush_q), ep->am_lane, ep->am_replay);
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        lane_ep = &ep->lane_eps[lane];
        fprintf(stream, "  lane %u (%s): %s ep %p remote %u wakeup %s, "
                "outstanding %zu B, weight %.1f MB/s, probe %u\n", lane,
                iface->lanes[lane].dev_name,
                uct_mp_lane_state_str(uct_mp_lanes_state(ep->lanes, lane)),
                lane_ep->ep, lane_ep->remote_lane,
                ep->wakeups[lane].armed ? "armed" : "-",
                uct_mp_sched_outstanding(ep->sched, lane),
                uct_mp_sched_weight(ep->sched, lane) / 1e6, lane_ep->probe_seq);
    }
}

static void uct_mp_ep_destroy_lanes(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    const uct_mp_lane_counters_t *counters;
    unsigned lane;

    /* Report every lane as it was, before closing re-elects the others */
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        counters = uct_mp_lanes_counters(ep->lanes, lane);
        if ((counters != NULL) &&
            ((ep->lane_eps[lane].ep != NULL) ||
             (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_FAILED))) {
            ucs_info("mp_rc: ep %p lane %u (%s) state %s: %" PRIu64 " ops, %"
                     PRIu64 " bytes, %" PRIu64 " errors; striping weight "
                     "%.1f MB/s, %zu bytes outstanding", ep, lane,
                     uct_mp_ep_lane_name(ep, lane),
                     uct_mp_lane_state_str(uct_mp_lanes_state(ep->lanes, lane)),
                     counters->tx_ops, counters->tx_bytes, counters->errors,
                     uct_mp_sched_weight(ep->sched, lane) / 1e6,
                     uct_mp_sched_outstanding(ep->sched, lane));
        }
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        uct_mp_ep_destroy_lane(ep, lane);
    }
}

static UCS_CLASS_INIT_FUNC(uct_mp_ep_t, const uct_ep_params_t *params)
{
    uct_mp_iface_t *iface;
    ucs_status_t status;

    UCT_CHECK_PARAM(params->field_mask & UCT_EP_PARAM_FIELD_IFACE,
                    "UCT_EP_PARAM_FIELD_IFACE is not defined");
    UCT_CHECK_PARAM(!(params->field_mask & UCT_EP_PARAM_FIELD_IFACE_ADDR) ||
                    (params->field_mask & UCT_EP_PARAM_FIELD_DEV_ADDR),
                    "UCT_EP_PARAM_FIELD_IFACE_ADDR needs "
                    "UCT_EP_PARAM_FIELD_DEV_ADDR");
    iface = ucs_derived_of(params->iface, uct_mp_iface_t);

    UCS_CLASS_CALL_SUPER_INIT(uct_base_ep_t, &iface->super);

    memset(self->lane_eps, 0, sizeof(self->lane_eps));
    self->closing         = 0;
    self->replayed_chunks = 0;
    self->lane_gc_prog_id = UCS_CALLBACKQ_ID_NULL;
    uct_mp_pending_init(self);
    uct_mp_am_ep_init(self);
    uct_mp_join_init(self);
    uct_mp_stripe_init(self);
    uct_mp_bounce_ep_init(self);
    uct_mp_fence_ep_init(self);
    self->tx_lane     = -1;
    self->busy_lane   = -1;
    self->peer_failed = 0;
    self->lanes       = uct_mp_lanes_create(iface->num_lanes, iface->policy);
    if (self->lanes == NULL) {
        ucs_error("mp_rc: failed to allocate lane state of %u lanes",
                  iface->num_lanes);
        return UCS_ERR_NO_MEMORY;
    }

    /* every policy: zcopy RMA goes through the scheduler, which places it
     * (active_backup: whole, on the primary) and re-posts it on failover */
    self->sched = uct_mp_sched_create(iface->num_lanes, iface->policy,
                                      &iface->stripe_table,
                                      iface->stripe_min_chunk);
    if (self->sched == NULL) {
        ucs_error("mp_rc: failed to create the striping scheduler of %u lanes",
                  iface->num_lanes);
        uct_mp_lanes_destroy(self->lanes);
        return UCS_ERR_NO_MEMORY;
    }

    status = uct_mp_iface_add_ep(iface, self);
    if (status != UCS_OK) {
        goto err_destroy_lane_state;
    }

    if (params->field_mask & UCT_EP_PARAM_FIELD_IFACE_ADDR) {
        status = uct_mp_ep_connect_to_iface(self, params);
    } else {
        status = uct_mp_ep_create_for_ep(self);
    }
    if (status != UCS_OK) {
        goto err_destroy_lanes;
    }

    ucs_debug("mp_rc: ep %p token 0x%x created, tx lane %d", self, self->token,
              self->tx_lane);
    return UCS_OK;

err_destroy_lanes:
    self->closing = 1;
    uct_mp_fence_ep_cleanup(self);
    uct_mp_ep_destroy_lanes(self);
    uct_mp_iface_remove_ep(iface, self);
err_destroy_lane_state:
    uct_mp_am_ep_cleanup(self);
    uct_mp_keepalive_ep_cleanup(self);
    uct_mp_stripe_cleanup(self);
    uct_mp_bounce_ep_cleanup(self);
    uct_mp_join_cleanup(self);
    uct_mp_pending_cleanup(self);
    uct_mp_lanes_destroy(self->lanes);
    return status;
}

static UCS_CLASS_CLEANUP_FUNC(uct_mp_ep_t)
{
    self->closing = 1;
    if (self->replayed_chunks > 0) {
        ucs_info("mp_rc: ep %p re-posted %" PRIu64 " RMA chunks after lane "
                 "failures", self, self->replayed_chunks);
    }
    uct_mp_iface_remove_ep(uct_mp_ep_iface(self), self);
    uct_mp_fence_ep_cleanup(self);
    uct_mp_ep_destroy_lanes(self);
    uct_mp_am_ep_cleanup(self);
    uct_mp_keepalive_ep_cleanup(self);
    uct_mp_stripe_cleanup(self);
    uct_mp_bounce_ep_cleanup(self);
    uct_mp_join_cleanup(self);
    uct_mp_pending_cleanup(self);
    uct_mp_lanes_destroy(self->lanes);
}

UCS_CLASS_DEFINE(uct_mp_ep_t, uct_base_ep_t);
UCS_CLASS_DEFINE_NEW_FUNC(uct_mp_ep_t, uct_ep_t, const uct_ep_params_t*);
UCS_CLASS_DEFINE_DELETE_FUNC(uct_mp_ep_t, uct_ep_t);
