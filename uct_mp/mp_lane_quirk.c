/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_lane_quirk.h"

#include <uct/tcp/tcp.h>
#include <ucs/debug/log.h>
#include <string.h>


/*
 * tcp (UCX 1.13, src/uct/tcp/tcp_ep.c): uct_tcp_ep_progress_am_rx() parses
 * every message already in the ep's rx buffer in one loop. When a send made
 * during that loop fails (the PUT ACK tcp sends for a received PUT, or a
 * reply sent from an AM callback) because the peer reset the connection,
 * uct_tcp_ep_handle_disconnected() purges the ep and clears
 * UCT_TCP_EP_FLAG_PUT_TX_WAITING_ACK, then calls this error handler; the
 * loop goes on, and a PUT ACK further in the buffer aborts the process in
 * uct_tcp_ep_handle_put_ack() ("Assertion 'ep->flags &
 * UCT_TCP_EP_FLAG_PUT_TX_WAITING_ACK' failed"). Debian builds UCX with
 * assertions, and mp's failover tests met it in about 3 of 100 tcp resets.
 *
 * Marking the rx buffer consumed ends the loop after the message being
 * handled; the loop then releases the buffer as usual. The buffer itself
 * stays valid until then, as the AM callback that sent may still read it.
 * What is dropped is what a reset drops anyway: data on a failed lane. The
 * peer counts a message delivered only on evidence this side sends after
 * parsing it (a PUT ACK, a DATA_ACK: docs/DESIGN.md 8.3), never for dropped
 * bytes, so it re-issues them on the surviving lanes and the receiver drops
 * duplicates (8.2); tcp has already completed this side's outstanding PUTs
 * with an error, and mp re-posts them.
 */
static void uct_mp_lane_quirk_tcp_ep_failed(uct_ep_h lane_ep)
{
    uct_tcp_ep_t *tcp_ep = ucs_derived_of(lane_ep, uct_tcp_ep_t);
    size_t unparsed;

    if ((tcp_ep->rx.buf == NULL) || (tcp_ep->rx.offset >= tcp_ep->rx.length)) {
        return;
    }

    unparsed           = tcp_ep->rx.length - tcp_ep->rx.offset;
    tcp_ep->rx.offset  = tcp_ep->rx.length;
    ucs_debug("mp_rc: tcp lane ep %p failed with %zu received bytes not "
              "parsed yet: dropped", lane_ep, unparsed);
}

void uct_mp_lane_quirk_ep_failed(const char *lane_tl, uct_ep_h lane_ep)
{
    if (!strcmp(lane_tl, "tcp")) {
        uct_mp_lane_quirk_tcp_ep_failed(lane_ep);
    }
}
