/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Fence (docs/DESIGN.md 8.6, 8.8). A lane fence orders operations on one
 * lane only, and mp spreads an endpoint's operations over several: striped
 * RMA, short/bcopy RMA through the striping path, AMs on the AM lane. So
 * unless every operation of the endpoint goes to one lane (active_backup),
 * an mp fence is an internal flush of the endpoint: operations issued after
 * the fence get UCS_ERR_NO_RESOURCE (pending_add takes them) until every
 * operation issued before it has completed, on whatever lane. Since an RMA
 * completion means remote placement (8.6) and AMs are acknowledged by the
 * peer, nothing after the fence can overtake anything before it.
 */

#ifndef UCT_MP_FENCE_H_
#define UCT_MP_FENCE_H_

#include <uct/api/uct.h>

struct uct_mp_ep;
struct uct_mp_fence;


/* The endpoint's slice owned by mp_fence.c */
typedef struct uct_mp_fence_ep {
    struct uct_mp_fence      *active;     /* fence in force: new operations
                                             wait */
} uct_mp_fence_ep_t;


void uct_mp_fence_ep_init(struct uct_mp_ep *ep);
void uct_mp_fence_ep_cleanup(struct uct_mp_ep *ep);

/* Does ep hold back new operations for a fence? */
int uct_mp_fence_waiting(struct uct_mp_ep *ep);

/* Work step: start the fence's flush */
void uct_mp_fence_progress(struct uct_mp_ep *ep);

ucs_status_t uct_mp_ep_fence(uct_ep_h tl_ep, unsigned flags);

#endif
