/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Endpoint fence (see mp_fence.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_fence.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>


/* The flush behind a fence; outlives its ep if the ep goes first (a lane may
 * still complete the flush after the ep was destroyed) */
typedef struct uct_mp_fence {
    uct_completion_t         comp;
    uct_mp_ep_t              *ep;         /* NULL once the ep is gone */
} uct_mp_fence_t;


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_fence_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

void uct_mp_fence_ep_init(uct_mp_ep_t *ep)
{
    ep->fence.active = NULL;
}

void uct_mp_fence_ep_cleanup(uct_mp_ep_t *ep)
{
    if (ep->fence.active != NULL) {
        if (ep->fence.active->comp.count > 0) {
            ep->fence.active->ep = NULL; /* its flush still runs: it frees it */
        } else {
            ucs_free(ep->fence.active);
        }
        ep->fence.active = NULL;
    }
}

int uct_mp_fence_waiting(uct_mp_ep_t *ep)
{
    return ep->fence.active != NULL;
}

/* Everything issued before the fence completed: let the rest go */
static void uct_mp_fence_done(uct_mp_ep_t *ep)
{
    ucs_free(ep->fence.active);
    ep->fence.active = NULL;
    if (!ucs_queue_is_empty(&ep->pending.q)) {
        /* the requests that waited for it run from progress */
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_PENDING);
    }
}

static void uct_mp_fence_flushed(uct_completion_t *self)
{
    uct_mp_fence_t *fence = ucs_container_of(self, uct_mp_fence_t, comp);

    if (fence->ep == NULL) {
        ucs_free(fence); /* the ep went first */
        return;
    }

    if (self->status != UCS_OK) {
        ucs_debug("mp_rc: ep %p: fence flush ended with %s", fence->ep,
                  ucs_status_string(self->status));
    }
    uct_mp_fence_done(fence->ep);
}

/* Start the fence's flush. UCS_ERR_NO_RESOURCE: retry from progress. */
static ucs_status_t uct_mp_fence_flush(uct_mp_ep_t *ep)
{
    ucs_status_t status;

    ep->fence.active->comp.func   = uct_mp_fence_flushed;
    ep->fence.active->comp.count  = 1;
    ep->fence.active->comp.status = UCS_OK;
    status = uct_mp_flush_ep(ep, 0, &ep->fence.active->comp);
    if (status == UCS_ERR_NO_RESOURCE) {
        ep->fence.active->comp.count = 0; /* not in flight */
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FENCE);
    } else if (status != UCS_INPROGRESS) {
        /* done at once (or the ep failed: nothing is left to order) */
        ep->fence.active->comp.count = 0;
        uct_mp_fence_done(ep);
    }
    return status;
}

void uct_mp_fence_progress(uct_mp_ep_t *ep)
{
    if (ep->fence.active != NULL) {
        uct_mp_fence_flush(ep);
    }
}

ucs_status_t uct_mp_ep_fence(uct_ep_h tl_ep, unsigned flags)
{
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_fence_iface(ep);
    ucs_status_t status;

    if (ep->fence.active != NULL) {
        return UCS_OK; /* what follows waits already */
    }

    if (ep->lane.tx_lane < 0) {
        return UCS_OK; /* no lane: nothing was issued that could be passed */
    }

    if (iface->policy == UCT_MP_POLICY_ACTIVE_BACKUP) {
        /* every operation goes to the active lane, in order */
        return uct_ep_fence(ep->lane.slots[ep->lane.tx_lane].ep, flags);
    }

    ep->fence.active = ucs_malloc(sizeof(*ep->fence.active), "mp fence");
    if (ep->fence.active == NULL) {
        ucs_error("mp_rc: ep %p: failed to allocate a fence", ep);
        return UCS_ERR_NO_MEMORY;
    }
    ep->fence.active->ep = ep;

    status = uct_mp_fence_flush(ep);
    if ((status == UCS_OK) || (status == UCS_INPROGRESS) ||
        (status == UCS_ERR_NO_RESOURCE)) {
        return UCS_OK;
    }
    return status;
}
