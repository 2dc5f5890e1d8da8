/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Pending requests of an mp endpoint. A request the user queues may be retried
 * on any lane (flush touches all of them), so it waits in the mp endpoint's own
 * queue, and one internal "wake-up" element waits on the lane that ran out of
 * resources. When that lane has resources again the mp queue is dispatched in
 * order; a request that fails again re-arms the wake-up on whichever lane is
 * busy then. Lane pending queues never hold user requests.
 */

#ifndef UCT_MP_PENDING_H_
#define UCT_MP_PENDING_H_

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>
#include "mp_wire.h"

struct uct_mp_ep;
struct uct_mp_lane_listener;

/* Internal element queued on one lane ep */
typedef struct uct_mp_lane_wakeup {
    uct_pending_req_t        super;
    struct uct_mp_ep         *ep;
    uint8_t                  lane;
    uint8_t                  armed;   /* queued on the lane ep now */
} uct_mp_lane_wakeup_t;

/* The endpoint's slice owned by mp_pending.c */
typedef struct uct_mp_pending_ep {
    ucs_queue_head_t         q;           /* user requests, in order */
    int                      in_pending;  /* q is being run: its requests
                                             may post */
    uct_mp_lane_wakeup_t     wakeups[UCT_MP_MAX_LANES];
} uct_mp_pending_ep_t;


/* A lane ep about to be destroyed or failed: its wake-up moves to a lane
 * that still works, if requests wait */
extern const struct uct_mp_lane_listener uct_mp_pending_lane_listener;

void uct_mp_pending_init(struct uct_mp_ep *ep);

/* Work step: run the queued requests */
void uct_mp_pending_progress(struct uct_mp_ep *ep);

ucs_status_t uct_mp_ep_pending_add(uct_ep_h tl_ep, uct_pending_req_t *req,
                                   unsigned flags);
void uct_mp_ep_pending_purge(uct_ep_h tl_ep, uct_pending_purge_callback_t cb,
                             void *arg);

#endif
