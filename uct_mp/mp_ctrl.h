/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The control channel of an mp endpoint: control messages (src/mp_ctl.h:
 * KEEPALIVE, KEEPALIVE_ACK, DATA_ACK, JOIN_*) are queued per endpoint and
 * sent, in order per lane, before any user operation; received ones are
 * decoded, matched to their endpoint by token and handed to the iface's
 * dispatcher (mp_ep.c), which passes them to the modules that own them.
 */

#ifndef UCT_MP_CTRL_H_
#define UCT_MP_CTRL_H_

#include "mp_ctl.h"

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>

struct uct_mp_ep;


/* The endpoint's slice owned by mp_ctrl.c */
typedef struct uct_mp_ctrl_ep {
    ucs_queue_head_t         q;           /* control messages to send */
    unsigned                 count;       /* in q */
    int                      full_logged; /* q reached its bound */
} uct_mp_ctrl_ep_t;


/* Control messages queued per endpoint at most: acknowledgements are
 * coalesced, so only a stalled lane's probes and JOINs add up */
#define UCT_MP_CTRL_QUEUE_MAX   64


/* Called for every control message addressed to an existing endpoint */
typedef void (*uct_mp_ctrl_dispatch_func_t)(struct uct_mp_ep *ep,
                                            unsigned lane,
                                            const uct_mp_ctl_t *msg,
                                            const void *data, size_t length);

void uct_mp_ctrl_ep_init(struct uct_mp_ep *ep);
void uct_mp_ctrl_ep_cleanup(struct uct_mp_ep *ep);

/* Queue msg (type and body filled, tokens are added) for lane; it is sent
 * from progress, or before the next operation. A DATA_ACK replaces one
 * queued already, a KEEPALIVE_ACK one queued for the same lane; beyond
 * UCT_MP_CTRL_QUEUE_MAX messages UCS_ERR_NO_RESOURCE (logged once). */
ucs_status_t uct_mp_ctrl_send(struct uct_mp_ep *ep, unsigned lane,
                              uct_mp_ctl_t *msg);

/* Send what is queued now (work step); returns how many left the queue */
unsigned uct_mp_ctrl_progress(struct uct_mp_ep *ep);

/* Before an operation: queued control messages take the lanes' resources
 * first */
void uct_mp_ctrl_first(struct uct_mp_ep *ep);

/* The AM handler of UCT_MP_CTL_AM_ID on every lane iface (arg: the lane's
 * uct_mp_ctl_trampoline_t) */
ucs_status_t uct_mp_ctrl_am_handler(void *arg, void *data, size_t length,
                                    unsigned flags);

#endif
