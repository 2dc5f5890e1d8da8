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
#include <sys/socket.h>


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
static void uct_mp_lane_quirk_tcp_rx_parse(uct_tcp_ep_t *tcp_ep)
{
    uct_ep_h lane_ep = &tcp_ep->super.super;
    size_t unparsed;

    if ((tcp_ep->rx.buf == NULL) || (tcp_ep->rx.offset >= tcp_ep->rx.length)) {
        return;
    }

    unparsed           = tcp_ep->rx.length - tcp_ep->rx.offset;
    tcp_ep->rx.offset  = tcp_ep->rx.length;
    ucs_debug("mp_rc: tcp lane ep %p failed with %zu received bytes not "
              "parsed yet: dropped", lane_ep, unparsed);
}

/*
 * tcp (UCX 1.13, src/uct/tcp/tcp_ep.c): a zcopy send (am_zcopy, put_zcopy)
 * that fails in uct_tcp_ep_sendv() goes to uct_tcp_ep_handle_send_err() and
 * uct_tcp_ep_handle_disconnected(), which purges the ep: the outstanding
 * zcopy completes with the error and UCT_TCP_EP_FLAG_ZCOPY_TX is cleared.
 * That calls this error handler. Back in uct_tcp_ep_sendv(), tcp completes
 * the same zcopy again (uct_tcp_ep_zcopy_completed(ep, ctx->comp, status))
 * and the process aborts in uct_invoke_completion() ("Assertion
 * 'comp->count > 0' failed"). The p2p failover tests met it when a tcp
 * reset hit the AM lane under UCP's zcopy AMs.
 *
 * With the zcopy completed (the flag clear), the completion in the tx
 * context is cleared, so the second call completes nothing. An outstanding
 * zcopy (the flag set) is left alone: its ep has not been purged, and its
 * completion comes when it is. The tx buffer of a failed ep is not sent
 * any more: a bcopy message there loses nothing it still needed.
 */
static void uct_mp_lane_quirk_tcp_zcopy_done(uct_tcp_ep_t *tcp_ep)
{
    if ((tcp_ep->tx.buf != NULL) &&
        !(tcp_ep->flags & UCT_TCP_EP_FLAG_ZCOPY_TX)) {
        ((uct_tcp_ep_zcopy_tx_t*)tcp_ep->tx.buf)->comp = NULL;
    }
}

static void uct_mp_lane_quirk_tcp_ep_failed(uct_ep_h lane_ep)
{
    uct_tcp_ep_t *tcp_ep = ucs_derived_of(lane_ep, uct_tcp_ep_t);

    uct_mp_lane_quirk_tcp_rx_parse(tcp_ep);
    uct_mp_lane_quirk_tcp_zcopy_done(tcp_ep);
}

void uct_mp_lane_quirk_ep_failed(const char *lane_tl, uct_ep_h lane_ep)
{
    if (!strcmp(lane_tl, "tcp")) {
        uct_mp_lane_quirk_tcp_ep_failed(lane_ep);
    }
}

/*
 * tcp (UCX 1.13): a failed lane's socket must not deliver anything after
 * mp gave the lane up. mp sends what the lane held again on another lane,
 * and the receiver may reuse the memory a PUT targeted once the operation
 * completed there. Two things of tcp let old bytes arrive later: close()
 * keeps sending what the kernel still queues (a path that comes back gets
 * it retransmitted, seconds later), and uct_tcp_ep_destroy() of an ep that
 * also receives (a connect-to-iface connection tcp matched with the peer's
 * one in the other direction) keeps the socket open to receive. The MPI
 * failover runs met it: a PUT of a rendezvous message re-posted on the
 * other lane, then the old one applied when the path came back, after the
 * buffer had been reused (one bad message in 36 s of cuts).
 *
 * So the ep loses its receive side (uct_tcp_ep_destroy() then destroys it
 * and closes the socket) and the socket lingers 0 s: close() drops what is
 * queued and resets the connection. What the peer still had to say on it
 * belonged to the same failed lane pair, which mp gave up too, or to the
 * peer's pair over the same path, whose lane then fails and is re-issued.
 */
static void uct_mp_lane_quirk_tcp_ep_drop(uct_ep_h lane_ep)
{
    uct_tcp_ep_t *tcp_ep = ucs_derived_of(lane_ep, uct_tcp_ep_t);
    struct linger abort_close = {.l_onoff = 1, .l_linger = 0};

    if ((tcp_ep->fd >= 0) &&
        (setsockopt(tcp_ep->fd, SOL_SOCKET, SO_LINGER, &abort_close,
                    sizeof(abort_close)) != 0)) {
        ucs_diag("mp_rc: tcp lane ep %p: SO_LINGER on fd %d failed: %m",
                 lane_ep, tcp_ep->fd);
    }

    if ((tcp_ep->flags & UCT_TCP_EP_FLAG_CTX_TYPE_TX) &&
        (tcp_ep->flags & UCT_TCP_EP_FLAG_CTX_TYPE_RX)) {
        tcp_ep->flags &= ~UCT_TCP_EP_FLAG_CTX_TYPE_RX;
    }
}

void uct_mp_lane_quirk_ep_drop(const char *lane_tl, uct_ep_h lane_ep)
{
    if (!strcmp(lane_tl, "tcp")) {
        uct_mp_lane_quirk_tcp_ep_drop(lane_ep);
    }
}
