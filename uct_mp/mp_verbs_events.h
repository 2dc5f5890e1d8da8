/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Verbs async events (docs/DESIGN.md section 9): for rc lanes the iface opens
 * its own verbs context on each lane HCA, only to read its async events, and
 * turns IBV_EVENT_PORT_ERR / IBV_EVENT_PORT_ACTIVE on a lane's port into the
 * same lane link state as a netlink event (mp_link.h). This is the link event
 * of InfiniBand ports, which have no netdev; on RoCE ports both arrive. UCX's
 * own ib device reads its async events too, but only logs them.
 */

#ifndef UCT_MP_VERBS_EVENTS_H_
#define UCT_MP_VERBS_EVENTS_H_

#include <ucs/type/status.h>

#include <stddef.h>

struct uct_mp_iface;

/* A lane's port went up or down; what says which, for the log */
typedef void (*uct_mp_verbs_port_seen_func_t)(struct uct_mp_iface *iface,
                                              unsigned lane, int up,
                                              const char *what);

/* HCA name and port of an rc lane device "mlx5_0:1" (0 if it is not of
 * that form, or the name does not fit max) */
int uct_mp_verbs_lane_port(const char *dev_name, char *hca, size_t max,
                           unsigned *port);

/* Open a context per HCA under the rc lanes (LINK_EVENTS=y); returns how
 * many lanes are watched */
unsigned uct_mp_verbs_events_init(struct uct_mp_iface *iface);
void uct_mp_verbs_events_cleanup(struct uct_mp_iface *iface);

/* The async event fd of context i < num_ib_ctx (mp_link.c watches it) */
int uct_mp_verbs_events_fd(struct uct_mp_iface *iface, unsigned i);

/* Read pending async events (where mp_link.c reads its events), telling
 * seen of every port change of a lane */
void uct_mp_verbs_events_poll(struct uct_mp_iface *iface,
                              uct_mp_verbs_port_seen_func_t seen);

#endif
