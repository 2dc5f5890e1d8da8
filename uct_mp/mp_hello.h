/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * HELLO and the passive partner (docs/DESIGN.md section 5). An endpoint
 * whose lanes connect to the peer's iface (UCP's worker-address flow over
 * tcp lanes) has no peer endpoint, so nothing would sequence, acknowledge,
 * replay or probe its traffic. It sends HELLO on its primary lane first: its
 * token, caps, lane pairs and its iface's lane devices and lane iface
 * addresses. The peer iface creates a hidden passive partner, an mp
 * endpoint UCP never sees, with lanes connected back to the sender's lane
 * ifaces (lane j of the partner to the sender's lane i when the sender's
 * lane i connected to lane iface j), and answers HELLO_ACK with its token.
 * From then on the pair is an ordinary endpoint pair: the sender's AMs carry
 * the partner's token and sequence numbers, the partner delivers them in
 * order once, acknowledges them and answers keepalive probes, and the
 * sender's failover, replay, fail-back and flush work unchanged. Operations
 * of the sender wait (UCS_ERR_NO_RESOURCE, then UCP's pending queue) until
 * HELLO_ACK arrives, about one round trip once per endpoint. A HELLO sent
 * again finds the partner it made.
 *
 * A partner goes when its sender says BYE (ep destroy, best effort), when
 * every lane to the sender failed, and when the iface closes.
 */

#ifndef UCT_MP_HELLO_H_
#define UCT_MP_HELLO_H_

#include "mp_ctl.h"

#include <uct/api/uct.h>
#include <ucs/time/time_def.h>

struct uct_mp_ep;
struct uct_mp_iface;
struct uct_mp_lane_listener;

/* Partners one iface keeps at most; HELLOs beyond are dropped, logged once */
#define UCT_MP_HELLO_MAX_PARTNERS  4096
/* A HELLO unanswered this long is sent again (on the current AM lane) */
#define UCT_MP_HELLO_RETRY_MS      200
/* A sender with no HELLO_ACK after this many HELLOs fails its lanes */
#define UCT_MP_HELLO_MAX_SENT      50


typedef enum {
    UCT_MP_HELLO_NONE,     /* no HELLO: ep to ep, or a peer without HELLO */
    UCT_MP_HELLO_SENT,     /* HELLO out: operations wait for HELLO_ACK */
    UCT_MP_HELLO_DONE,     /* HELLO_ACK arrived: the partner is the peer ep */
    UCT_MP_HELLO_PARTNER   /* this ep is a passive partner (hidden) */
} uct_mp_hello_state_t;


/* The endpoint's slice owned by mp_hello.c */
typedef struct uct_mp_hello_ep {
    uct_mp_hello_state_t     state;
    int                      doomed;      /* partner: released from progress */
    unsigned                 sent;        /* HELLOs sent */
    ucs_time_t               retry_at;    /* SENT: when to send it again */
    void                     *peer_addr;  /* partner: the sender's [lane
                                             devices][lane iface addresses] */
    size_t                   peer_addr_len;
} uct_mp_hello_ep_t;


/* A passive partner that loses every lane is released */
extern const struct uct_mp_lane_listener uct_mp_hello_lane_listener;

void uct_mp_hello_init(struct uct_mp_ep *ep);
void uct_mp_hello_cleanup(struct uct_mp_ep *ep);

/* A connect-to-iface ep whose peer offers peer_caps: say HELLO if both sides
 * can, else leave its AMs unsequenced */
void uct_mp_hello_start(struct uct_mp_ep *ep, uint8_t peer_caps);

/* HELLO_ACK from the partner (its token is in remote_token by now): the
 * operations that waited run */
void uct_mp_hello_acked(struct uct_mp_ep *ep);

/* BYE from the sender: release the partner */
void uct_mp_hello_handle_bye(struct uct_mp_ep *ep);

/* The ep is destroyed: tell the partner (best effort, sent at once) */
void uct_mp_hello_bye(struct uct_mp_ep *ep);

/* Keepalive tick: send an unanswered HELLO again. Returns 0 when the ep may
 * have been released (no answer at all: its lanes failed). */
int uct_mp_hello_tick(struct uct_mp_ep *ep, ucs_time_t now);

/* A HELLO msg (packed: data, length) arrived on lane of iface: find or make
 * the partner, answer HELLO_ACK */
void uct_mp_hello_handle(struct uct_mp_iface *iface, unsigned lane,
                         const uct_mp_ctl_t *msg, const void *data,
                         size_t length);

/* The iface closes: release every partner */
void uct_mp_hello_iface_cleanup(struct uct_mp_iface *iface);

#endif
