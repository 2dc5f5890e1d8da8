/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Tracked short and bcopy RMA (DESIGN §8.4). put_short and put_bcopy report
 * local completion at once, and the user learns of remote completion only
 * from a flush: a put lost with its lane would be lost silently. get_bcopy's
 * completion is its only trace, and would carry the lane's error. So:
 * - a put's data is copied into a buffer of mp's own, registered with every
 *   lane md (the iface's bounce pool), and posted as a put_zcopy through the
 *   striping path (mp_rma.h), which posts it again on another lane when
 *   its lane fails; the buffer lives until the put completes;
 * - a get goes through the same path as lane get_bcopy into such a buffer
 *   (rc's get_zcopy has a minimum length), and is handed to the user's
 *   unpack callback once, when a lane delivered it.
 * Every such operation is on the ep's list in post order, and an mp flush
 * waits until those posted before it have completed.
 */

#ifndef UCT_MP_BOUNCE_H_
#define UCT_MP_BOUNCE_H_

#include <uct/api/uct.h>
#include <ucs/datastruct/list.h>
#include <stdint.h>

struct uct_mp_iface;
struct uct_mp_iface_config;
struct uct_mp_ep;


/* The endpoint's slice owned by mp_bounce.c */
typedef struct uct_mp_bounce_ep {
    ucs_list_link_t          ops;         /* tracked operations in flight,
                                             post order */
    uint64_t                 seq;         /* next one's sequence number */
    uint64_t                 lost;        /* failed on every lane */
} uct_mp_bounce_ep_t;


/* Open the bounce pool when the lanes allow it (zcopy put and get on every
 * lane, registration on the mp md) and the config asks for it; otherwise
 * short and bcopy RMA go straight to the lane */
ucs_status_t uct_mp_bounce_iface_init(struct uct_mp_iface *iface,
                                      const struct uct_mp_iface_config *config);
void uct_mp_bounce_iface_cleanup(struct uct_mp_iface *iface);

void uct_mp_bounce_ep_init(struct uct_mp_ep *ep);

/* Operations still in flight lose their ep (their buffers return to the pool
 * when their lane hands them back) */
void uct_mp_bounce_ep_cleanup(struct uct_mp_ep *ep);

/* Sequence number the next tracked operation of ep will get */
uint64_t uct_mp_bounce_mark(struct uct_mp_ep *ep);

/* Has every tracked operation numbered below mark completed? */
int uct_mp_bounce_done_before(struct uct_mp_ep *ep, uint64_t mark);

ucs_status_t uct_mp_bounce_put_short(struct uct_mp_ep *ep, const void *buffer,
                                     unsigned length, uint64_t remote_addr,
                                     uct_rkey_t rkey);
ssize_t uct_mp_bounce_put_bcopy(struct uct_mp_ep *ep,
                                uct_pack_callback_t pack_cb, void *arg,
                                uint64_t remote_addr, uct_rkey_t rkey);
ucs_status_t uct_mp_bounce_get_bcopy(struct uct_mp_ep *ep,
                                     uct_unpack_callback_t unpack_cb,
                                     void *arg, size_t length,
                                     uint64_t remote_addr, uct_rkey_t rkey,
                                     uct_completion_t *comp);

#endif
