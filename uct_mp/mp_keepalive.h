/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Per-lane keepalive of connect-to-ep mp endpoints. A passive RC or tcp
 * receiver never notices a dead path by itself, and a tcp sender whose path
 * silently drops keeps retransmitting for minutes. Every KEEPALIVE_INTERVAL
 * each connected lane of an ep that knows its peer (connect-to-ep mode) sends
 * a KEEPALIVE control message on that lane; the peer answers KEEPALIVE_ACK on
 * the same lane. A lane that heard nothing from the peer for
 * KEEPALIVE_MISSES intervals becomes suspect: its traffic moves to the other
 * lanes (AMs are sent again on the new AM lane), but it keeps its lane ep and
 * its probes, and anything arriving on it brings it back; with no other lane
 * left it keeps carrying. A suspect lane still silent
 * UCT_MP_LIVENESS_SUSPECT_TIMEOUTS x KEEPALIVE_MISSES intervals later fails
 * (UCS_ERR_ENDPOINT_TIMEOUT): its lane ep is destroyed from progress, which
 * hands back its outstanding operations for re-posting. With every lane
 * failed the ep reports the error to UCP (docs/DESIGN.md 9).
 */

#ifndef UCT_MP_KEEPALIVE_H_
#define UCT_MP_KEEPALIVE_H_

#include "mp_wire.h"

#include <ucs/time/time_def.h>
#include <stdint.h>

struct uct_mp_ep;
struct uct_mp_lane_listener;


/* Probes of one lane */
typedef struct uct_mp_ka_lane {
    uint32_t                 probe_seq;     /* last KEEPALIVE sent */
    ucs_time_t               last_probe;    /* when it was sent */
    ucs_time_t               last_rx;       /* evidence: when the path last
                                               worked (an answered probe's
                                               send time) */
    ucs_time_t               probe_sent[4]; /* send times of the last 4
                                               probes, by probe_seq & 3 */
} uct_mp_ka_lane_t;


/* The endpoint's slice owned by mp_keepalive.c */
typedef struct uct_mp_ka_ep {
    uct_mp_ka_lane_t         lanes[UCT_MP_MAX_LANES];
} uct_mp_ka_ep_t;


/* A lane that connects gets a grace period of one timeout */
extern const struct uct_mp_lane_listener uct_mp_keepalive_lane_listener;

void uct_mp_keepalive_ep_init(struct uct_mp_ep *ep);

/* The peer ep became known now: every lane gets a grace period */
void uct_mp_keepalive_restart(struct uct_mp_ep *ep, ucs_time_t now);

/* Send a KEEPALIVE probe on lane of ep at now / the peer answered one */
void uct_mp_keepalive_send_probe(struct uct_mp_ep *ep, unsigned lane,
                                 ucs_time_t now);
void uct_mp_keepalive_probe_answered(struct uct_mp_ep *ep, unsigned lane,
                                     uint32_t probe_seq);

/* The peer probed lane: answer with KEEPALIVE_ACK on the same lane */
void uct_mp_keepalive_answer(struct uct_mp_ep *ep, unsigned lane,
                             uint32_t probe_seq);

/* Probe the lanes of ep that are due; fail those that stayed silent too
 * long. Returns 0 when ep may have been released (its last lane failed). */
int uct_mp_keepalive_check(struct uct_mp_ep *ep, ucs_time_t now);

#endif
