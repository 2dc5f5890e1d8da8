/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lanes joining an mp endpoint after it connected (MPTCP's MP_JOIN). The
 * addresses UCP exchanges carry only the primary lane, so in connect-to-ep
 * mode an mp endpoint starts with its primary lane connected and its other
 * lane endpoints created but unconnected. One JOIN_REQ over the primary lane
 * lists the initiator's lanes; the responder pairs them with its own free
 * lanes, connects its side and answers JOIN_ACK with its lanes; the initiator
 * connects its side and sends a KEEPALIVE on every joined lane, which tells
 * the responder that lane is connected at both ends.
 *
 * The first side that posts an operation on the endpoint starts the join: by
 * then UCP has made sure the peer's primary lane is connected (wire-up
 * acknowledged), so nothing reaches an unconnected QP. If both sides start at
 * once, the request of the endpoint with the smaller token wins and the other
 * side answers it instead of waiting for its own.
 */

#ifndef UCT_MP_JOIN_H_
#define UCT_MP_JOIN_H_

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>
#include <ucs/time/time_def.h>

struct uct_mp_ep;

/* Where an endpoint is in joining its non-primary lanes */
typedef enum {
    UCT_MP_JOIN_NONE,    /* nothing to join: one lane, or lanes connected at
                            creation (connect-to-iface) */
    UCT_MP_JOIN_WANTED,  /* primary lanes connected; the first operation on
                            the endpoint starts the join */
    UCT_MP_JOIN_SENT,    /* JOIN_REQ queued or sent, waiting for the answer */
    UCT_MP_JOIN_DONE     /* answered (joined lanes, or refused) */
} uct_mp_join_state_t;

void uct_mp_join_init(struct uct_mp_ep *ep);

/* Before the ep is released: drop queued control messages and callbacks */
void uct_mp_join_cleanup(struct uct_mp_ep *ep);

/* The primary lanes of ep are connected in connect-to-ep mode; peer_caps are
 * the UCT_MP_CAP_* of the peer's ep address */
void uct_mp_join_primary_connected(struct uct_mp_ep *ep, uint8_t peer_caps);

/* Start the join (state WANTED): queue JOIN_REQ on the primary lane */
void uct_mp_join_start(struct uct_mp_ep *ep);

/* Send queued control messages on lanes that have resources; they go before
 * any user operation (an answer to a probe that waits behind bulk traffic
 * would fail a healthy lane). Returns how many were sent. */
unsigned uct_mp_ctl_send_queued(struct uct_mp_ep *ep);

/* Queue a control message for lane of ep (tokens filled in); sent from
 * progress, in order */
struct uct_mp_ctl;
ucs_status_t uct_mp_ctl_send(struct uct_mp_ep *ep, unsigned lane,
                             void *msg /* uct_mp_ctl_t */);

/* Fail-back: lane of ep failed; the initiating side schedules its rejoin */
void uct_mp_join_lane_failed(struct uct_mp_ep *ep, unsigned lane);

/* Fail-back: start a due rejoin, or give up one that timed out (keepalive
 * tick) */
void uct_mp_join_failback_tick(struct uct_mp_ep *ep, ucs_time_t now);

/* AM handler of UCT_MP_CTL_AM_ID on every lane iface */
ucs_status_t uct_mp_join_ctl_handler(void *arg, void *data, size_t length,
                                     unsigned flags);

#endif
