/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The data path of an mp_rc endpoint: every UCT operation checks the
 * endpoint's gate, then goes to the module that carries it: the AM channel
 * (mp_am.c), the RMA path (mp_rma.c, through mp_bounce.c for tracked short
 * and bcopy RMA), or straight to the lane for untracked short/bcopy RMA and
 * device atomics. AMs and atomics use one lane at a time (the AM lane), so
 * UCT ordering is kept.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_ep.h"

#include <uct/base/uct_iov.inl>
#include <ucs/debug/log.h>


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_ep_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

/*
 * The gate, before any operation: start the JOIN the ep still owes, and keep
 * UCT's ordering rule. UCS_ERR_NO_RESOURCE while something must go first: a
 * HELLO not answered yet (nothing is sequenced before the partner is known),
 * a request UCP queued on the ep (unless it is the one being run now), a
 * fence, or chunks of a striped operation waiting for a lane.
 */
static UCS_F_ALWAYS_INLINE ucs_status_t uct_mp_ep_gate(uct_mp_ep_t *ep)
{
    if (ucs_unlikely(ep->join.state == UCT_MP_JOIN_WANTED)) {
        /* UCP posts on the ep only once the peer's side is connected */
        uct_mp_join_start(ep);
    }

    uct_mp_ctrl_first(ep);

    if (ucs_unlikely((ep->hello.state == UCT_MP_HELLO_SENT) ||
                     (!ucs_queue_is_empty(&ep->pending.q) &&
                      !ep->pending.in_pending) ||
                     uct_mp_fence_waiting(ep) || uct_mp_rma_blocked(ep))) {
        return UCS_ERR_NO_RESOURCE;
    }
    return UCS_OK;
}

/*
 * Before HELLO_ACK nothing is posted: UCS_ERR_NO_RESOURCE. An AM that no lane
 * would take is refused now, as the lane would refuse it later (UCT checks
 * parameters before resources).
 */
static ucs_status_t uct_mp_ep_hello_wait(uct_mp_ep_t *ep, uint8_t id,
                                         size_t length, size_t max)
{
    if (id >= UCT_AM_ID_MAX) {
        ucs_error("mp_rc: ep %p: invalid AM id %u (maximum %d)", ep, id,
                  (int)UCT_AM_ID_MAX - 1);
        return UCS_ERR_INVALID_PARAM;
    }

    if (length > max) {
        ucs_error("mp_rc: ep %p: AM length %zu exceeds the maximum %zu", ep,
                  length, max);
        return UCS_ERR_INVALID_PARAM;
    }

    uct_mp_ctrl_first(ep); /* the HELLO */
    return UCS_ERR_NO_RESOURCE;
}

/* The gate, then the AM lane: AMs sent again after a lane failure go first */
static UCS_F_ALWAYS_INLINE ucs_status_t uct_mp_ep_am_gate(uct_mp_ep_t *ep,
                                                          int *lane_p)
{
    ucs_status_t status = uct_mp_ep_gate(ep);

    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    if (ucs_unlikely(uct_mp_am_blocked(ep))) {
        return UCS_ERR_NO_RESOURCE;
    }

    *lane_p = ep->lane.tx_lane;
    return ucs_likely(*lane_p >= 0) ? UCS_OK : uct_mp_lane_none(ep);
}

/* The gate, then lane (the RMA lane, or the AM lane for atomics) and the
 * lane's part of rkey */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_rma_gate(uct_mp_ep_t *ep, int atomic, size_t length, uct_rkey_t rkey,
                   uct_rkey_t *lane_rkey_p, int *lane_p)
{
    ucs_status_t status = uct_mp_ep_gate(ep);

    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    *lane_p = atomic ? ep->lane.tx_lane : uct_mp_lane_select_rma(ep, length);
    if (ucs_unlikely(*lane_p < 0)) {
        return uct_mp_lane_none(ep);
    }
    return uct_mp_lane_rkey(ep, *lane_p, rkey, lane_rkey_p);
}

/* Book-keeping for bcopy operations, which return a length or an error */
static UCS_F_ALWAYS_INLINE ssize_t
uct_mp_ep_posted_bcopy(uct_mp_ep_t *ep, int lane, ssize_t packed)
{
    if (ucs_likely(packed >= 0)) {
        uct_mp_lane_account(ep, lane, packed);
    } else if (packed == UCS_ERR_NO_RESOURCE) {
        uct_mp_lane_set_busy(ep, lane);
    } else {
        return uct_mp_lane_refused(ep, lane, (ucs_status_t)packed);
    }
    return packed;
}

ucs_status_t uct_mp_ep_am_short(uct_ep_h tl_ep, uint8_t id, uint64_t header,
                                const void *payload, unsigned length)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;
    int lane;

    if (ucs_unlikely(ep->hello.state == UCT_MP_HELLO_SENT)) {
        return uct_mp_ep_hello_wait(ep, id, sizeof(header) + length,
                                    uct_mp_ep_iface(ep)->am_max_short);
    }

    status = uct_mp_ep_am_gate(ep, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_short(ep, lane, id, header, payload, length);
    return uct_mp_rma_posted(ep, lane, status, sizeof(header) + length);
}

ucs_status_t uct_mp_ep_am_short_iov(uct_ep_h tl_ep, uint8_t id,
                                    const uct_iov_t *iov, size_t iovcnt)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;
    int lane;

    if (ucs_unlikely(ep->hello.state == UCT_MP_HELLO_SENT)) {
        return uct_mp_ep_hello_wait(ep, id, uct_iov_total_length(iov, iovcnt),
                                    uct_mp_ep_iface(ep)->am_max_short);
    }

    status = uct_mp_ep_am_gate(ep, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_short_iov(ep, lane, id, iov, iovcnt);
    return uct_mp_rma_posted(ep, lane, status,
                             uct_iov_total_length(iov, iovcnt));
}

ssize_t uct_mp_ep_am_bcopy(uct_ep_h tl_ep, uint8_t id,
                           uct_pack_callback_t pack_cb, void *arg,
                           unsigned flags)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status;
    int lane;

    if (ucs_unlikely(ep->hello.state == UCT_MP_HELLO_SENT)) {
        return uct_mp_ep_hello_wait(ep, id, 0, 0);
    }

    status = uct_mp_ep_am_gate(ep, &lane);
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
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    size_t length         = header_length + uct_iov_total_length(iov, iovcnt);
    ucs_status_t status;
    int lane;

    /* the lane would see 12 more header bytes and one more iov, and name
     * those: check what the user passed against what mp advertises */
    if (ucs_unlikely((header_length > iface->am_max_hdr) ||
                     (iovcnt > iface->am_max_iov))) {
        ucs_error("mp_rc: am_zcopy header length %u (max %zu), iovcnt %zu "
                  "(max %zu)", header_length, iface->am_max_hdr, iovcnt,
                  iface->am_max_iov);
        return UCS_ERR_INVALID_PARAM;
    }

    if (ucs_unlikely(ep->hello.state == UCT_MP_HELLO_SENT)) {
        return uct_mp_ep_hello_wait(ep, id, length - header_length,
                                    iface->am_max_zcopy);
    }

    /* the AM channel translates memhs itself: it may send again elsewhere */
    status = uct_mp_ep_am_gate(ep, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_mp_am_zcopy(ep, lane, id, header, header_length, iov, iovcnt,
                             flags, comp);
    return uct_mp_rma_posted(ep, lane, status, length);
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
        status = uct_mp_ep_gate(ep);
        return ucs_likely(status == UCS_OK) ?
               uct_mp_bounce_put_short(ep, buffer, length, remote_addr, rkey) :
               status;
    }

    status = uct_mp_ep_rma_gate(ep, 0, length, rkey, &lane_rkey, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_put_short(ep->lane.slots[lane].ep, buffer, length,
                              remote_addr, lane_rkey);
    return uct_mp_rma_posted(ep, lane, status, length);
}

ssize_t uct_mp_ep_put_bcopy(uct_ep_h tl_ep, uct_pack_callback_t pack_cb,
                            void *arg, uint64_t remote_addr, uct_rkey_t rkey)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    if (ucs_likely(uct_mp_ep_iface(ep)->bounce_size > 0)) {
        status = uct_mp_ep_gate(ep);
        return ucs_likely(status == UCS_OK) ?
               uct_mp_bounce_put_bcopy(ep, pack_cb, arg, remote_addr, rkey) :
               status;
    }

    status = uct_mp_ep_rma_gate(ep, 0, 0, rkey, &lane_rkey, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    return uct_mp_ep_posted_bcopy(ep, lane,
                                  uct_ep_put_bcopy(ep->lane.slots[lane].ep,
                                                   pack_cb, arg, remote_addr,
                                                   lane_rkey));
}

/* The gate, then the RMA path for a zcopy put or get */
static UCS_F_ALWAYS_INLINE ucs_status_t
uct_mp_ep_rma_zcopy(uct_ep_h tl_ep, uct_mp_rma_op_t op, const uct_iov_t *iov,
                    size_t iovcnt, uint64_t remote_addr, uct_rkey_t rkey,
                    uct_completion_t *comp)
{
    uct_mp_ep_t *ep     = ucs_derived_of(tl_ep, uct_mp_ep_t);
    ucs_status_t status = uct_mp_ep_gate(ep);

    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    return uct_mp_rma_zcopy(ep, op, iov, iovcnt, remote_addr, rkey, comp);
}

ucs_status_t uct_mp_ep_put_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp)
{
    return uct_mp_ep_rma_zcopy(tl_ep, UCT_MP_RMA_PUT_ZCOPY, iov, iovcnt,
                               remote_addr, rkey, comp);
}

ucs_status_t uct_mp_ep_get_short(uct_ep_h tl_ep, void *buffer, unsigned length,
                                 uint64_t remote_addr, uct_rkey_t rkey)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_rkey_t lane_rkey;
    ucs_status_t status;
    int lane;

    status = uct_mp_ep_rma_gate(ep, 0, length, rkey, &lane_rkey, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_get_short(ep->lane.slots[lane].ep, buffer, length,
                              remote_addr, lane_rkey);
    return uct_mp_rma_posted(ep, lane, status, length);
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
        status = uct_mp_ep_gate(ep);
        return ucs_likely(status == UCS_OK) ?
               uct_mp_bounce_get_bcopy(ep, unpack_cb, arg, length,
                                       remote_addr, rkey, comp) :
               status;
    }

    status = uct_mp_ep_rma_gate(ep, 0, length, rkey, &lane_rkey, &lane);
    if (ucs_unlikely(status != UCS_OK)) {
        return status;
    }

    status = uct_ep_get_bcopy(ep->lane.slots[lane].ep, unpack_cb, arg, length,
                              remote_addr, lane_rkey, comp);
    return uct_mp_rma_posted(ep, lane, status, length);
}

ucs_status_t uct_mp_ep_get_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp)
{
    return uct_mp_ep_rma_zcopy(tl_ep, UCT_MP_RMA_GET_ZCOPY, iov, iovcnt,
                               remote_addr, rkey, comp);
}

/*
 * Device atomics: never split, always on the AM lane. _call uses "lane" and
 * "lane_rkey".
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
        status = uct_mp_ep_rma_gate(ep, 1, _size, rkey, &lane_rkey, &lane); \
        if (ucs_unlikely(status != UCS_OK)) { \
            return status; \
        } \
        \
        return uct_mp_rma_posted(ep, lane, _call, _size); \
    }

ucs_status_t uct_mp_ep_atomic_cswap64(uct_ep_h tl_ep, uint64_t compare,
                                      uint64_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint64_t *result,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic_cswap64(ep->lane.slots[lane].ep, compare, swap,
                                       remote_addr, lane_rkey, result, comp))

ucs_status_t uct_mp_ep_atomic_cswap32(uct_ep_h tl_ep, uint32_t compare,
                                      uint32_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint32_t *result,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic_cswap32(ep->lane.slots[lane].ep, compare, swap,
                                       remote_addr, lane_rkey, result, comp))

ucs_status_t uct_mp_ep_atomic32_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint32_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic32_post(ep->lane.slots[lane].ep, opcode, value,
                                      remote_addr, lane_rkey))

ucs_status_t uct_mp_ep_atomic64_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint64_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic64_post(ep->lane.slots[lane].ep, opcode, value,
                                      remote_addr, lane_rkey))

ucs_status_t uct_mp_ep_atomic32_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint32_t value, uint32_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint32_t),
                 uct_ep_atomic32_fetch(ep->lane.slots[lane].ep, opcode, value,
                                       result, remote_addr, lane_rkey, comp))

ucs_status_t uct_mp_ep_atomic64_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint64_t value, uint64_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp)
UCT_MP_EP_ATOMIC(tl_ep, sizeof(uint64_t),
                 uct_ep_atomic64_fetch(ep->lane.slots[lane].ep, opcode, value,
                                       result, remote_addr, lane_rkey, comp))

ucs_status_t uct_mp_ep_flush(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp)
{
    return uct_mp_flush_ep(ucs_derived_of(tl_ep, uct_mp_ep_t), flags, comp);
}

ucs_status_t uct_mp_ep_check(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp)
{
    uct_mp_ep_t *ep = ucs_derived_of(tl_ep, uct_mp_ep_t);
    unsigned lane;

    /* A failing lane reports through the lane error handler */
    for (lane = 0; lane < uct_mp_ep_iface(ep)->num_lanes; ++lane) {
        if (uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_IN_FLIGHT)) {
            uct_ep_check(ep->lane.slots[lane].ep, flags, NULL);
        }
    }
    return UCS_OK;
}
