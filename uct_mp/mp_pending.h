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

struct uct_mp_ep;

/* Internal element queued on one lane ep */
typedef struct uct_mp_lane_wakeup {
    uct_pending_req_t        super;
    struct uct_mp_ep         *ep;
    uint8_t                  lane;
    uint8_t                  armed;   /* queued on the lane ep now */
} uct_mp_lane_wakeup_t;

void uct_mp_pending_init(struct uct_mp_ep *ep);

/* Before the ep is released: drop a scheduled progress callback */
void uct_mp_pending_cleanup(struct uct_mp_ep *ep);

/* Lane ep of lane is about to be destroyed or has failed: take the wake-up
 * off it and, if requests wait, move it to a lane that still works. */
void uct_mp_pending_lane_gone(struct uct_mp_ep *ep, unsigned lane);

/* Something the queued requests waited for is over (a fence): run them
 * from progress */
void uct_mp_pending_resume(struct uct_mp_ep *ep);

ucs_status_t uct_mp_ep_pending_add(uct_ep_h tl_ep, uct_pending_req_t *req,
                                   unsigned flags);
void uct_mp_ep_pending_purge(uct_ep_h tl_ep, uct_pending_purge_callback_t cb,
                             void *arg);

#endif
