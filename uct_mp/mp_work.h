/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Deferred work of an mp endpoint: one progress callback per endpoint and a
 * mask of what it must do. A module asks for its bit; the endpoint's progress
 * callback (mp_ep.c) takes the mask and runs each module's step.
 */

#ifndef UCT_MP_WORK_H_
#define UCT_MP_WORK_H_

#include <uct/base/uct_worker.h>
#include <ucs/datastruct/callbackq.h>


/* What the endpoint's progress callback runs, in this order */
typedef enum {
    UCT_MP_WORK_LANE_GC   = UCS_BIT(0), /* destroy failed lane eps (mp_lane) */
    UCT_MP_WORK_CTRL      = UCS_BIT(1), /* send queued control messages */
    UCT_MP_WORK_REJOIN    = UCS_BIT(2), /* answer a peer's rejoin (mp_join) */
    UCT_MP_WORK_AM_REPLAY = UCS_BIT(3), /* send unacknowledged AMs again */
    UCT_MP_WORK_STRIPE    = UCS_BIT(4), /* post waiting RMA chunks */
    UCT_MP_WORK_FLUSH     = UCS_BIT(5), /* complete flushes with nothing left */
    UCT_MP_WORK_PENDING   = UCS_BIT(6), /* run the user's pending requests */
    UCT_MP_WORK_FENCE     = UCS_BIT(7), /* start a fence's flush */
    UCT_MP_WORK_DRAIN     = UCS_BIT(8)  /* draining lanes flushed? (mp_drain) */
} uct_mp_work_bit_t;


typedef struct uct_mp_work {
    uct_worker_h             worker;
    ucs_callback_t           func;     /* the endpoint's progress callback */
    void                     *arg;
    uct_worker_cb_id_t       id;       /* registered while mask != 0 */
    unsigned                 mask;     /* uct_mp_work_bit_t */
} uct_mp_work_t;


static UCS_F_ALWAYS_INLINE void
uct_mp_work_init(uct_mp_work_t *work, uct_worker_h worker, ucs_callback_t func,
                 void *arg)
{
    work->worker = worker;
    work->func   = func;
    work->arg    = arg;
    work->id     = UCS_CALLBACKQ_ID_NULL;
    work->mask   = 0;
}

/* Ask for the steps in bits to run from the next worker progress */
static UCS_F_ALWAYS_INLINE void uct_mp_work_schedule(uct_mp_work_t *work,
                                                     unsigned bits)
{
    work->mask |= bits;
    uct_worker_progress_register_safe(work->worker, work->func, work->arg,
                                      UCS_CALLBACKQ_FLAG_ONESHOT, &work->id);
}

/* The progress callback runs: what was asked for (a step may ask again) */
static UCS_F_ALWAYS_INLINE unsigned uct_mp_work_take(uct_mp_work_t *work)
{
    unsigned bits = work->mask;

    work->mask = 0;
    work->id   = UCS_CALLBACKQ_ID_NULL;
    return bits;
}

static UCS_F_ALWAYS_INLINE void uct_mp_work_cleanup(uct_mp_work_t *work)
{
    uct_worker_progress_unregister_safe(work->worker, &work->id);
    work->mask = 0;
}

#endif
