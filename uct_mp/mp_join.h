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

#include "mp_ctl.h"

#include <uct/api/uct.h>
#include <ucs/time/time_def.h>

struct uct_mp_ep;
struct uct_mp_lane_listener;

/* Where an endpoint is in joining its non-primary lanes */
typedef enum {
    UCT_MP_JOIN_NONE,    /* nothing to join: one lane, or lanes connected at
                            creation (connect-to-iface) */
    UCT_MP_JOIN_WANTED,  /* primary lanes connected; the first operation on
                            the endpoint starts the join */
    UCT_MP_JOIN_SENT,    /* JOIN_REQ queued or sent, waiting for the answer */
    UCT_MP_JOIN_DONE     /* answered (joined lanes, or refused) */
} uct_mp_join_state_t;


/* Fail-back of one lane */
typedef struct uct_mp_join_lane {
    ucs_time_t               retry_at;      /* next rejoin, 0: none */
    ucs_time_t               retry_backoff; /* current delay */
    ucs_time_t               failed_at;     /* when the retry was scheduled */
    ucs_time_t               link_up_seen;  /* the link's last up time that
                                               moved retry_at */
} uct_mp_join_lane_t;


/* The endpoint's slice owned by mp_join.c */
typedef struct uct_mp_join_ep {
    uct_mp_join_state_t      state;         /* joining non-primary lanes */
    uint32_t                 id;            /* last JOIN_REQ sent */
    ucs_time_t               deadline;      /* JOIN_SENT: answer due */
    unsigned                 tries;         /* JOIN_REQs sent */
    uint32_t                 peer_id;       /* last peer JOIN_REQ taken */
    int                      peer_id_valid; /* one was taken */
    int                      rejoin_lane;   /* fail-back JOIN in flight */
    ucs_time_t               rejoin_deadline;
    void                     *rejoin_req;   /* peer's REPLACE JOIN_REQ, copied */
    size_t                   rejoin_req_len;
    uct_mp_join_lane_t       lanes[UCT_MP_MAX_LANES];
} uct_mp_join_ep_t;


/* A lane that fails is scheduled for fail-back (initiating side) */
extern const struct uct_mp_lane_listener uct_mp_join_lane_listener;

void uct_mp_join_init(struct uct_mp_ep *ep);

/* Before the ep is released */
void uct_mp_join_cleanup(struct uct_mp_ep *ep);

/* The primary lanes of ep are connected in connect-to-ep mode; peer_caps are
 * the UCT_MP_CAP_* of the peer's ep address */
void uct_mp_join_primary_connected(struct uct_mp_ep *ep, uint8_t peer_caps);

/* Start the join if the ep owes one (state WANTED): JOIN_REQ on the primary */
void uct_mp_join_start(struct uct_mp_ep *ep);

/* JOIN_REQ, JOIN_ACK or JOIN_NAK msg (packed: data, length) from the peer */
void uct_mp_join_handle_ctl(struct uct_mp_ep *ep, const uct_mp_ctl_t *msg,
                            const void *data, size_t length);

/* KEEPALIVE on lane: on a joined lane, the initiator's first message */
void uct_mp_join_handle_keepalive(struct uct_mp_ep *ep, unsigned lane,
                                  const uct_mp_ctl_t *msg);

/* KEEPALIVE_ACK on lane: on a rejoining lane, the confirmation */
void uct_mp_join_rejoin_confirmed(struct uct_mp_ep *ep, unsigned lane);

/* Keepalive tick: send the JOIN_REQ again when unanswered (a bounded number
 * of times); fail-back: start a due rejoin, or give up one that timed out */
void uct_mp_join_failback_tick(struct uct_mp_ep *ep, ucs_time_t now);

/* Undrain: rejoin the closed, drained lane now (this side initiates);
 * UCS_ERR_BUSY while another rejoin is in flight */
ucs_status_t uct_mp_join_rejoin_now(struct uct_mp_ep *ep, unsigned lane);

/* Work step: answer the peer's rejoin request */
void uct_mp_join_progress(struct uct_mp_ep *ep);

#endif
