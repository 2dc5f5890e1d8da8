/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Flush of an mp endpoint or iface over several lanes. An endpoint flush
 * completes once every lane that had work in flight has completed its own
 * flush, the peer has acknowledged every AM sent before it (mp_am.h), and
 * every tracked short/bcopy RMA posted before it has completed
 * (mp_bounce.h). A lane that fails under the flush is no error while another
 * lane carries on: what was in flight on it is posted again.
 */

#ifndef UCT_MP_FLUSH_H_
#define UCT_MP_FLUSH_H_

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>

struct uct_mp_ep;
struct uct_mp_lane_listener;


/* The endpoint's slice owned by mp_flush.c */
typedef struct uct_mp_flush_ep {
    ucs_queue_head_t         q;           /* flushes waiting for the peer's
                                             acknowledgements or tracked RMA */
    ucs_queue_head_t         retry_q;     /* lane flushes to post again */
} uct_mp_flush_ep_t;


/* Flush one lane object (ep or iface) with the given completion. */
typedef ucs_status_t (*uct_mp_flush_lane_func_t)(void *lane_obj, unsigned flags,
                                                 uct_completion_t *comp);

/* Completes what waits when the peer fails */
extern const struct uct_mp_lane_listener uct_mp_flush_lane_listener;

void uct_mp_flush_ep_init(struct uct_mp_ep *ep);

/* Waiting flushes complete with UCS_ERR_CANCELED */
void uct_mp_flush_ep_cleanup(struct uct_mp_ep *ep);

/* uct_ep_flush of an mp endpoint */
ucs_status_t uct_mp_flush_ep(struct uct_mp_ep *ep, unsigned flags,
                             uct_completion_t *comp);

/* Work step: complete the flushes that have nothing left to wait for */
void uct_mp_flush_progress(struct uct_mp_ep *ep);

/* Flush lane_objs[0..count) (NULL entries are skipped) and aggregate:
 * UCS_OK if all were flushed, UCS_ERR_NO_RESOURCE if any lane cannot start a
 * flush now (its index is stored in *busy_lane_p if not NULL; nothing is left
 * in flight for the caller to undo), otherwise UCS_INPROGRESS and comp (if not
 * NULL) completes once all lanes completed. A lane that runs out of
 * resources after the others took their flush is queued on retry_q: the
 * owner posts it again with uct_mp_flush_lanes_retry(). A lane whose flush
 * failed at once (a broken lane) makes it return that error, with the
 * lane's index in *failed_lane_p if not NULL. */
ucs_status_t uct_mp_flush_lanes(void *const *lane_objs, unsigned count,
                                uct_mp_flush_lane_func_t flush_func,
                                unsigned flags, uct_completion_t *comp,
                                ucs_queue_head_t *retry_q, int *busy_lane_p,
                                int *failed_lane_p);

/* Post the lane flushes waiting on retry_q again; lane_obj(arg, i) is lane
 * i's object now (NULL: the lane went, its flush is complete). Returns 1 if
 * some still wait. */
int uct_mp_flush_lanes_retry(ucs_queue_head_t *retry_q,
                             void *(*lane_obj)(void *arg, unsigned lane),
                             void *arg);

/* The owner goes: lane flushes still waiting complete with
 * UCS_ERR_CANCELED */
void uct_mp_flush_lanes_cancel(ucs_queue_head_t *retry_q);

#endif
