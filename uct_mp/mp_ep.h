/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifndef UCT_MP_EP_H_
#define UCT_MP_EP_H_

#include "mp_iface.h"
#include "mp_work.h"
#include "mp_lane.h"
#include "mp_ctrl.h"
#include "mp_am.h"
#include "mp_rma.h"
#include "mp_bounce.h"
#include "mp_flush.h"
#include "mp_fence.h"
#include "mp_pending.h"
#include "mp_keepalive.h"
#include "mp_join.h"
#include "mp_drain.h"
#include "mp_peer.h"

#include <stdio.h>


/* iov entries of one operation, at most */
#define UCT_MP_MAX_IOV  16


/*
 * An mp endpoint. Each module owns one slice, declared in its own header and
 * written only by its own file (contrib/check-structure.py checks it); the
 * fields before them belong to mp_ep.c.
 */
typedef struct uct_mp_ep {
    uct_base_ep_t            super;
    ucs_list_link_t          list;         /* in uct_mp_iface_t::eps */
    uint32_t                 token;        /* names this ep to the peer */
    uint32_t                 remote_token; /* the peer ep's token, 0: none */
    int                      closing;      /* being destroyed: no replays */
    uct_mp_work_t            work;         /* deferred work (mp_work.h) */
    uct_mp_lane_ep_t         lane;         /* mp_lane.c: lanes, states */
    uct_mp_ctrl_ep_t         ctrl;         /* mp_ctrl.c: control messages */
    uct_mp_am_ep_t           am;           /* mp_am.c: the AM channel */
    uct_mp_rma_ep_t          rma;          /* mp_rma.c: RMA, striping */
    uct_mp_bounce_ep_t       bounce;       /* mp_bounce.c: tracked RMA */
    uct_mp_flush_ep_t        flush;        /* mp_flush.c: waiting flushes */
    uct_mp_fence_ep_t        fence;        /* mp_fence.c */
    uct_mp_pending_ep_t      pending;      /* mp_pending.c: user requests */
    uct_mp_ka_ep_t           ka;           /* mp_keepalive.c: probes */
    uct_mp_join_ep_t         join;         /* mp_join.c: join, fail-back */
    uct_mp_drain_ep_t        drain;        /* mp_drain.c: operator drain */
} uct_mp_ep_t;


UCS_CLASS_DECLARE_NEW_FUNC(uct_mp_ep_t, uct_ep_t, const uct_ep_params_t*);
UCS_CLASS_DECLARE_DELETE_FUNC(uct_mp_ep_t, uct_ep_t);

/* Print ep's state (lanes, queues, AM channel) to stream */
void uct_mp_ep_dump(uct_mp_ep_t *ep, FILE *stream);

/* The keepalive tick (every interval / 8): acknowledgements owed, fail-back,
 * probes. Returns 0 when ep may have been released. */
int uct_mp_ep_tick(uct_mp_ep_t *ep, ucs_time_t now);

/* Every control message for ep, to the modules that own it */
void uct_mp_ep_ctl_dispatch(uct_mp_ep_t *ep, unsigned lane,
                            const uct_mp_ctl_t *msg, const void *data,
                            size_t length);

ucs_status_t uct_mp_ep_get_address(uct_ep_h tl_ep, uct_ep_addr_t *addr);
ucs_status_t uct_mp_ep_connect_to_ep(uct_ep_h tl_ep,
                                     const uct_device_addr_t *dev_addr,
                                     const uct_ep_addr_t *ep_addr);

ucs_status_t uct_mp_ep_am_short(uct_ep_h tl_ep, uint8_t id, uint64_t header,
                                const void *payload, unsigned length);
ucs_status_t uct_mp_ep_am_short_iov(uct_ep_h tl_ep, uint8_t id,
                                    const uct_iov_t *iov, size_t iovcnt);
ssize_t uct_mp_ep_am_bcopy(uct_ep_h tl_ep, uint8_t id,
                           uct_pack_callback_t pack_cb, void *arg,
                           unsigned flags);
ucs_status_t uct_mp_ep_am_zcopy(uct_ep_h tl_ep, uint8_t id, const void *header,
                                unsigned header_length, const uct_iov_t *iov,
                                size_t iovcnt, unsigned flags,
                                uct_completion_t *comp);
ucs_status_t uct_mp_ep_put_short(uct_ep_h tl_ep, const void *buffer,
                                 unsigned length, uint64_t remote_addr,
                                 uct_rkey_t rkey);
ssize_t uct_mp_ep_put_bcopy(uct_ep_h tl_ep, uct_pack_callback_t pack_cb,
                            void *arg, uint64_t remote_addr, uct_rkey_t rkey);
ucs_status_t uct_mp_ep_put_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
ucs_status_t uct_mp_ep_get_short(uct_ep_h tl_ep, void *buffer, unsigned length,
                                 uint64_t remote_addr, uct_rkey_t rkey);
ucs_status_t uct_mp_ep_get_bcopy(uct_ep_h tl_ep, uct_unpack_callback_t unpack_cb,
                                 void *arg, size_t length, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
ucs_status_t uct_mp_ep_get_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic_cswap64(uct_ep_h tl_ep, uint64_t compare,
                                      uint64_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint64_t *result,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic_cswap32(uct_ep_h tl_ep, uint32_t compare,
                                      uint32_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint32_t *result,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic32_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint32_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey);
ucs_status_t uct_mp_ep_atomic64_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint64_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey);
ucs_status_t uct_mp_ep_atomic32_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint32_t value, uint32_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic64_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint64_t value, uint64_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_flush(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp);
ucs_status_t uct_mp_ep_check(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp);

#endif
