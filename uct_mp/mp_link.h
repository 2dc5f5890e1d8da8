/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Link events (docs/DESIGN.md section 9): the iface watches the network
 * device under each lane (the tcp lane's device, or the netdev of a RoCE
 * port) through an rtnetlink socket, and the ports of rc lanes through verbs
 * async events (mp_verbs_events.h). UCS's async thread reads both as they
 * arrive, so an application that is busy between progress calls does not
 * delay noticing them. When a lane's link goes down, every endpoint's lane on
 * it fails in the next progress call instead of after the keepalive timeout;
 * when it comes back, fail-back retries the lane within 100 ms instead of
 * waiting for its backoff timer.
 */

#ifndef UCT_MP_LINK_H_
#define UCT_MP_LINK_H_

#include <ucs/type/status.h>
#include <ucs/time/time_def.h>
#include <stddef.h>

/* After a link comes back, fail-back waits this long before a rejoin */
#define UCT_MP_LINK_SETTLE_MS 100

struct uct_mp_iface;
struct uct_mp_ep;

/* Start watching the lanes' links (LINK_EVENTS=y and a lane with a netdev) */
ucs_status_t uct_mp_link_iface_init(struct uct_mp_iface *iface);
void uct_mp_link_iface_cleanup(struct uct_mp_iface *iface);

/* The event reader saw a lane's link (netdev, or verbs port) go up or down;
 * what says which, for the log. Called where the events are read: UCS's
 * async thread (holding the worker's async lock) or the link progress; the
 * endpoints take it over in the next progress call. */
void uct_mp_link_lane_seen(struct uct_mp_iface *iface, unsigned lane,
                           int up, const char *what);

/* When the lane's link last came up (0: not since the iface opened) */
ucs_time_t uct_mp_link_up_time(struct uct_mp_iface *iface, unsigned lane);

/* 1 if the lane's link is known to be down (fail-back waits for it) */
int uct_mp_link_is_down(struct uct_mp_iface *iface, unsigned lane);

#endif
