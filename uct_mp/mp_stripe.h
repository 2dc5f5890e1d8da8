/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Striped RMA: one put/get zcopy split into chunks over several lanes, as
 * the scheduler (src/mp_sched.h) decides, with one aggregated completion.
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

#ifndef UCT_MP_STRIPE_H_
#define UCT_MP_STRIPE_H_

#include <uct/api/uct.h>

struct uct_mp_ep;

/* Chunks of one striped operation, at most */
#define UCT_MP_STRIPE_MAX_CHUNKS    32

/* Posts of one chunk that may fail (its lane failing) before the operation
 * completes with the error */
#define UCT_MP_STRIPE_MAX_ATTEMPTS  8

void uct_mp_stripe_init(struct uct_mp_ep *ep);
void uct_mp_stripe_cleanup(struct uct_mp_ep *ep);

/* Tell the scheduler which lanes are ACTIVE (after any lane event) */
void uct_mp_stripe_lanes_changed(struct uct_mp_ep *ep);

/* Does ep have chunks waiting to be posted? Tries to post them first; when
 * one still waits, ep->busy_lane is its lane. */
int uct_mp_stripe_blocked(struct uct_mp_ep *ep);

/* What the chunks of a striped operation post on their lanes */
typedef enum {
    UCT_MP_STRIPE_GET_ZCOPY,
    UCT_MP_STRIPE_PUT_ZCOPY,
    UCT_MP_STRIPE_GET_BCOPY   /* get_bcopy, copied into the iov's buffers (no
                                 memh needed; reads below the lanes' zcopy
                                 minimum) */
} uct_mp_stripe_op_t;

/* An RMA of op over the scheduler's lanes */
ucs_status_t uct_mp_stripe_rma_zcopy(struct uct_mp_ep *ep,
                                     uct_mp_stripe_op_t op,
                                     const uct_iov_t *iov, size_t iovcnt,
                                     uint64_t remote_addr, uct_rkey_t rkey,
                                     uct_completion_t *comp);

#endif
