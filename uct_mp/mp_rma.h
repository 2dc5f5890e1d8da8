/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The RMA path of an mp endpoint. Zcopy put/get go whole to the RMA lane, or,
 * split into chunks over several lanes as the scheduler (src/mp_sched.h)
 * decides, with one aggregated completion (striping).
 *
 * Under load_balance and efficiency every zcopy RMA goes through here, so the
 * scheduler sees every completion and learns each lane's real throughput. A
 * chunk that finds its lane without resources after others were posted stays
 * on the ep's stripe queue and is posted from progress; until the queue is
 * empty the ep takes no new operation (UCS_ERR_NO_RESOURCE) and flush waits,
 * so no later operation or flush overtakes it.
 *
 * A chunk whose lane fails under it (its completion reports an error, or the
 * lane ep is destroyed) is posted again on another ACTIVE lane: put and get
 * are idempotent until the operation completes, so the user sees neither the
 * failure nor a duplicate effect.
 */

#ifndef UCT_MP_RMA_H_
#define UCT_MP_RMA_H_

#include "mp_sched.h"

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>

struct uct_mp_ep;
struct uct_mp_lane_listener;

/* Chunks of one striped operation, at most */
#define UCT_MP_STRIPE_MAX_CHUNKS    32

/* Posts of one chunk that may fail (its lane failing) before the operation
 * completes with the error */
#define UCT_MP_STRIPE_MAX_ATTEMPTS  8


/* The endpoint's slice owned by mp_rma.c */
typedef struct uct_mp_rma_ep {
    uct_mp_sched_t           *sched;      /* splits zcopy RMA over lanes */
    uint32_t                 sched_usable; /* lanes the scheduler was told
                                             are usable (bit per lane) */
    ucs_queue_head_t         stripe_q;    /* stripes with unposted chunks */
    ucs_queue_head_t         replay_q;    /* chunks to post again */
    uint64_t                 replayed;    /* chunks moved off a failed lane */
} uct_mp_rma_ep_t;


/* What an RMA posts on its lanes */
typedef enum {
    UCT_MP_RMA_GET_ZCOPY,
    UCT_MP_RMA_PUT_ZCOPY,
    UCT_MP_RMA_GET_BCOPY   /* get_bcopy, copied into the iov's buffers (no
                              memh needed; reads below the lanes' zcopy
                              minimum); striped only */
} uct_mp_rma_op_t;

/* Tells the scheduler which lanes are ACTIVE (after any lane event) */
extern const struct uct_mp_lane_listener uct_mp_rma_lane_listener;

ucs_status_t uct_mp_rma_ep_init(struct uct_mp_ep *ep);
void uct_mp_rma_ep_cleanup(struct uct_mp_ep *ep);

/* Does ep have chunks waiting to be posted? Tries to post them first; when
 * one still waits, the lane module's busy lane is its lane. */
int uct_mp_rma_blocked(struct uct_mp_ep *ep);

/* Work step: post waiting chunks */
unsigned uct_mp_rma_progress(struct uct_mp_ep *ep);

/* A zcopy RMA of op, striped or whole on the RMA lane (the endpoint's gate
 * was checked by the caller) */
ucs_status_t uct_mp_rma_zcopy(struct uct_mp_ep *ep, uct_mp_rma_op_t op,
                              const uct_iov_t *iov, size_t iovcnt,
                              uint64_t remote_addr, uct_rkey_t rkey,
                              uct_completion_t *comp);

/* Book-keeping after an operation of length bytes on lane returned status:
 * counters, the scheduler's view of the lane, a busy or broken lane */
ucs_status_t uct_mp_rma_posted(struct uct_mp_ep *ep, int lane,
                               ucs_status_t status, size_t length);

#endif
