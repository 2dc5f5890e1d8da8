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
 * KEEPALIVE_MISSES intervals fails (UCS_ERR_ENDPOINT_TIMEOUT): its traffic
 * moves to the other lanes, and its lane ep is destroyed from progress, which
 * hands back its outstanding operations for re-posting. With every lane
 * failed the ep reports the error to UCP, so a dead peer is reported within
 * about KEEPALIVE_INTERVAL x (KEEPALIVE_MISSES + 1).
 */

#ifndef UCT_MP_KEEPALIVE_H_
#define UCT_MP_KEEPALIVE_H_

#include <ucs/time/time_def.h>
#include <stdint.h>

struct uct_mp_iface;
struct uct_mp_ep;

/* Start / stop the iface's periodic check (interval 0: keepalive off) */
void uct_mp_keepalive_iface_init(struct uct_mp_iface *iface);
void uct_mp_keepalive_iface_cleanup(struct uct_mp_iface *iface);

/* A lane of ep connected: the keepalive deadline starts now */
void uct_mp_keepalive_lane_alive(struct uct_mp_ep *ep, unsigned lane);

/* Send a KEEPALIVE probe on lane of ep at now / the peer answered one */
void uct_mp_keepalive_send_probe(struct uct_mp_ep *ep, unsigned lane,
                                 ucs_time_t now);
void uct_mp_keepalive_probe_answered(struct uct_mp_ep *ep, unsigned lane,
                                     uint32_t probe_seq);

/* Something from the peer arrived on lane of ep: while a lane keeps
 * delivering, a late probe answer (queued behind bulk data) does not fail it */
void uct_mp_keepalive_lane_arrival(struct uct_mp_ep *ep, unsigned lane);

/* A lane ep failed: destroy it from progress (not from its own callback) */
void uct_mp_keepalive_schedule_lane_destroy(struct uct_mp_ep *ep,
                                            unsigned lane);

/* Before the ep is released */
void uct_mp_keepalive_ep_cleanup(struct uct_mp_ep *ep);

#endif
