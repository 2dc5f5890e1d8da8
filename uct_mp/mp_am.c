/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Exactly-once, in-order active messages across lanes (see mp_am.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_am.h"
#include "mp_ep.h"
#include "mp_ctl.h"

#include <uct/base/uct_iface.h>
#include <uct/base/uct_iov.inl>
#include <ucs/datastruct/queue.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <string.h>


/* One sent message, kept until the peer acknowledges it */
typedef struct uct_mp_am_msg {
    ucs_queue_elem_t         queue;       /* in ep->am.ring, DSN order */
    struct uct_mp_ep         *ep;
    uint32_t                 dsn;
    uint8_t                  id;
    uint8_t                  is_zcopy;
    uint8_t                  lane_done;   /* zcopy: the lane completed it */
    uint8_t                  acked;       /* zcopy: the peer acknowledged it */
    uct_completion_t         lane_comp;   /* zcopy: lane completion */
    uct_completion_t         *user_comp;  /* zcopy: held back until both */
    ucs_status_t             lane_status;
    size_t                   iovcnt;      /* zcopy payload */
    uct_iov_t                iov[UCT_MP_MAX_IOV];
    unsigned                 flags;
    size_t                   length;      /* bytes in data[] */
    uint8_t                  data[];      /* short/bcopy: header + payload;
                                             zcopy: the user's AM header */
} uct_mp_am_msg_t;


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_am_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

void uct_mp_am_ep_init(uct_mp_ep_t *ep)
{
    ep->am.seq          = 0;
    ep->am.tx_dsn       = 0;
    ep->am.rx_expected  = 0;
    ep->am.rx_acked     = 0;
    ep->am.ring_len     = 0;
    ep->am.lane         = -1;
    ep->am.replay       = 0;
    ep->am.dups         = 0;
    ep->am.replayed     = 0;
    ep->am.refused      = 0;
    ep->am.bad_logged   = 0;
    ucs_queue_head_init(&ep->am.ring);
    ep->am.replay_dsn   = 0;
    ep->am.probe_dsn    = UINT32_MAX;
}

/* What a peer may send wrong; the first of each kind is logged at error
 * level, the others at debug level (a peer may repeat them at any rate) */
enum {
    UCT_MP_AM_BAD_ACK = UCS_BIT(0), /* ack beyond the DSNs sent */
    UCT_MP_AM_BAD_DSN = UCS_BIT(1), /* DSN out of the receive window */
    UCT_MP_AM_NO_MEMORY = UCS_BIT(2) /* (not the peer's) no copy for replay */
};

#define uct_mp_am_log_bad(_ep, _kind, _fmt, ...) \
    do { \
        ++(_ep)->am.refused; \
        if (!((_ep)->am.bad_logged & (_kind))) { \
            (_ep)->am.bad_logged |= (_kind); \
            ucs_error("mp_rc: ep %p: " _fmt " (later ones at debug level)", \
                      (_ep), ## __VA_ARGS__); \
        } else { \
            ucs_debug("mp_rc: ep %p: " _fmt, (_ep), ## __VA_ARGS__); \
        } \
    } while (0)

void uct_mp_am_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_am_msg_t *msg;

    ucs_queue_for_each_extract(msg, &ep->am.ring, queue, 1) {
        if (msg->is_zcopy && (msg->user_comp != NULL)) {
            uct_invoke_completion(msg->user_comp, UCS_ERR_CANCELED);
        }
        ucs_free(msg); /* lane eps are gone: no completion */
    }
    if ((ep->am.dups > 0) || (ep->am.replayed > 0)) {
        ucs_info("mp_rc: ep %p AM channel: %u messages sent again after a "
                 "lane failure, %u duplicates dropped", ep, ep->am.replayed,
                 ep->am.dups);
    }
}

void uct_mp_am_ep_connected(uct_mp_ep_t *ep, uint8_t peer_caps)
{
    uct_mp_iface_t *iface = uct_mp_am_iface(ep);

    ep->am.seq = !!(peer_caps & iface->caps & UCT_MP_CAP_SEQ);
}

static UCS_F_ALWAYS_INLINE void uct_mp_am_fill_hdr(uct_mp_ep_t *ep,
                                                   uct_mp_am_hdr_t *hdr,
                                                   uint32_t dsn, int ack_now)
{
    if (!ep->am.seq) {
        hdr->conn = 0;
        hdr->dsn  = 0;
        hdr->ack  = 0;
        return;
    }

    hdr->conn       = ep->remote_token;
    hdr->dsn        = (dsn & UCT_MP_AM_DSN_MASK) |
                      (ack_now ? UCT_MP_AM_ACK_NOW : 0);
    hdr->ack        = ep->am.rx_expected;
    ep->am.rx_acked = ep->am.rx_expected;
}

/* A zcopy message is done for the user when both the lane and the peer are */
static void uct_mp_am_zcopy_maybe_done(uct_mp_am_msg_t *msg)
{
    if (!msg->lane_done || !msg->acked) {
        return;
    }

    if (msg->user_comp != NULL) {
        uct_invoke_completion(msg->user_comp, UCS_OK);
    }
    ucs_free(msg);
}

/* Ask the peer for its acknowledgement: a KEEPALIVE, answered with DATA_ACK */
void uct_mp_am_request_ack(uct_mp_ep_t *ep)
{
    uct_mp_ctl_t probe;

    if ((ep->lane.tx_lane < 0) || (ep->am.probe_dsn == ep->am.tx_dsn)) {
        return; /* asked already for everything sent */
    }

    memset(&probe, 0, sizeof(probe));
    probe.type       = UCT_MP_CTL_KEEPALIVE;
    probe.lane       = ep->lane.tx_lane;
    ep->am.probe_dsn = ep->am.tx_dsn;
    uct_mp_ctrl_send(ep, ep->lane.tx_lane, &probe);
}

uint32_t uct_mp_am_next_dsn(uct_mp_ep_t *ep)
{
    return ep->am.tx_dsn;
}

int uct_mp_am_acked_before(uct_mp_ep_t *ep, uint32_t dsn)
{
    uct_mp_am_msg_t *head;

    if (ucs_queue_is_empty(&ep->am.ring)) {
        return 1;
    }

    head = ucs_queue_head_elem_non_empty(&ep->am.ring, uct_mp_am_msg_t, queue);
    return !UCT_MP_AM_DSN_BEFORE(head->dsn, dsn);
}

void uct_mp_am_handle_ack(uct_mp_ep_t *ep, uint32_t ack)
{
    int was_full = uct_mp_am_ring_full(ep);
    uct_mp_am_msg_t *msg;

    ack &= UCT_MP_AM_DSN_MASK;
    if (ucs_unlikely(UCT_MP_AM_DSN_BEFORE(ep->am.tx_dsn, ack))) {
        /* would free messages not yet delivered, or not yet sent */
        uct_mp_am_log_bad(ep, UCT_MP_AM_BAD_ACK, "peer acknowledges DSN %u, "
                          "only %u sent: ignored", ack, ep->am.tx_dsn);
        return;
    }

    while (!ucs_queue_is_empty(&ep->am.ring)) {
        msg = ucs_queue_head_elem_non_empty(&ep->am.ring, uct_mp_am_msg_t,
                                            queue);
        if (!UCT_MP_AM_DSN_BEFORE(msg->dsn, ack)) {
            break;
        }

        ucs_queue_pull_non_empty(&ep->am.ring);
        --ep->am.ring_len;
        if (msg->is_zcopy) {
            msg->acked = 1;
            uct_mp_am_zcopy_maybe_done(msg);
        } else {
            ucs_free(msg);
        }
    }

    if (!ucs_queue_is_empty(&ep->flush.q)) {
        /* flushes may have nothing left to wait for */
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FLUSH);
    }
    if (was_full && !uct_mp_am_ring_full(ep) &&
        !ucs_queue_is_empty(&ep->pending.q)) {
        /* requests queued while the ring was full can go now */
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_PENDING);
    }
}

void uct_mp_am_send_ack(uct_mp_ep_t *ep, int force)
{
    uct_mp_ctl_t ack;
    int lane;

    if (!ep->am.seq || (!force && (ep->am.rx_acked == ep->am.rx_expected))) {
        return;
    }

    lane = (ep->lane.tx_lane >= 0) ? ep->lane.tx_lane : -1;
    if (lane < 0) {
        return;
    }

    memset(&ack, 0, sizeof(ack));
    ack.type        = UCT_MP_CTL_DATA_ACK;
    ack.lane        = lane;
    ack.probe_seq   = ep->am.rx_expected;
    ep->am.rx_acked = ep->am.rx_expected;
    uct_mp_ctrl_send(ep, lane, &ack);
}

/* Is hdr the next message from the peer? Its ack is applied only then, or
 * for a message sent again after a lane failure (one of the sender's
 * unacknowledged ones, at most RING_MAX before), which is dropped */
static int uct_mp_am_rx_in_order(uct_mp_ep_t *ep, uint8_t id,
                                 const uct_mp_am_hdr_t *hdr)
{
    uint32_t dsn = hdr->dsn & UCT_MP_AM_DSN_MASK;

    if (ucs_likely(dsn == ep->am.rx_expected)) {
        uct_mp_am_handle_ack(ep, hdr->ack);
        return 1;
    }

    if (UCT_MP_AM_DSN_BEFORE(dsn, ep->am.rx_expected) &&
        !UCT_MP_AM_DSN_BEFORE(dsn, ep->am.rx_expected - UCT_MP_AM_RING_MAX)) {
        ++ep->am.dups;
        uct_mp_am_handle_ack(ep, hdr->ack);
        if (hdr->dsn & UCT_MP_AM_ACK_NOW) {
            uct_mp_am_send_ack(ep, 1);
        }
        return 0;
    }

    uct_mp_am_log_bad(ep, UCT_MP_AM_BAD_DSN, "AM %u with DSN %u, expected %u: "
                      "dropped", id, dsn, ep->am.rx_expected);
    return 0;
}

ucs_status_t uct_mp_am_rx(uct_mp_iface_t *iface, unsigned lane, uint8_t id,
                          void *data, size_t length, unsigned flags)
{
    uct_am_handler_t *handler = &iface->super.am[id];
    void *aligned;
    uct_mp_am_hdr_t hdr;
    uct_mp_ep_t *ep;

    if (ucs_unlikely(length < UCT_MP_AM_HDR_LEN)) {
        if (!iface->bad_ctl_logged) {
            iface->bad_ctl_logged = 1;
            ucs_error("mp_rc: dropping a %zu-byte AM %u without the mp data "
                      "header", length, id);
        }
        return UCS_OK;
    }

    memcpy(&hdr, data, sizeof(hdr));
    if (hdr.conn != 0) {
        ep = uct_mp_peer_ep_by_token(iface, hdr.conn);
        if (ucs_unlikely(ep == NULL)) {
            ucs_debug("mp_rc: AM %u for unknown ep 0x%x dropped", id, hdr.conn);
            return UCS_OK;
        }

        if (ucs_unlikely(ep->lane.peer_failed)) {
            /* UCP was told the ep failed: a late message would make it
             * answer on a dead ep */
            ucs_debug("mp_rc: ep %p failed: AM %u dropped", ep, id);
            return UCS_OK;
        }

        uct_mp_lane_arrival(ep, lane);
        uct_mp_lane_count_rx(ep, lane, length);
        if (ucs_unlikely(!uct_mp_am_rx_in_order(ep, id, &hdr))) {
            return UCS_OK;
        }

        ep->am.rx_expected = (ep->am.rx_expected + 1) & UCT_MP_AM_DSN_MASK;
        if ((hdr.dsn & UCT_MP_AM_ACK_NOW) ||
            (((ep->am.rx_expected - ep->am.rx_acked) & UCT_MP_AM_DSN_MASK) >=
             UCT_MP_AM_ACK_EVERY)) {
            uct_mp_am_send_ack(ep, 0);
        }
    }

    data    = UCS_PTR_BYTE_OFFSET(data, UCT_MP_AM_HDR_LEN);
    length -= UCT_MP_AM_HDR_LEN;
    if (ucs_unlikely((iface->am_align > 1) && !(flags & UCT_CB_PARAM_FLAG_DESC) &&
                     (((uintptr_t)data + iface->am_align_offset) %
                      iface->am_align))) {
        /* the lane ignored the alignment and UCP may not keep the data:
         * deliver an aligned copy (am_align_buf is aligned to am_align) */
        aligned = UCS_PTR_BYTE_OFFSET(iface->am_align_buf,
                                      (iface->am_align -
                                       (iface->am_align_offset %
                                        iface->am_align)) % iface->am_align);
        memcpy(aligned, data, length);
        data = aligned;
    }

    return handler->cb(handler->arg, data, length, flags);
}

/* Keep a copy of a short/bcopy message until acknowledged */
static uct_mp_am_msg_t *uct_mp_am_msg_alloc(uct_mp_ep_t *ep, uint8_t id,
                                            size_t length)
{
    uct_mp_am_msg_t *msg = ucs_malloc(sizeof(*msg) + length, "mp am msg");

    if (msg == NULL) {
        if (!(ep->am.bad_logged & UCT_MP_AM_NO_MEMORY)) { /* may repeat */
            ep->am.bad_logged |= UCT_MP_AM_NO_MEMORY;
            ucs_error("mp_rc: ep %p: no memory for a %zu-byte AM copy: not "
                      "sent, the caller retries", ep, length);
        }
        return NULL;
    }

    msg->ep        = ep;
    msg->id        = id;
    msg->is_zcopy  = 0;
    msg->lane_done = 1;
    msg->acked     = 0;
    msg->user_comp = NULL;
    msg->length    = length;
    return msg;
}

static void uct_mp_am_ring_push(uct_mp_ep_t *ep, uct_mp_am_msg_t *msg)
{
    msg->dsn      = ep->am.tx_dsn;
    ep->am.tx_dsn = (ep->am.tx_dsn + 1) & UCT_MP_AM_DSN_MASK;
    ucs_queue_push(&ep->am.ring, &msg->queue);
    ++ep->am.ring_len;
}

static UCS_F_ALWAYS_INLINE ucs_status_t uct_mp_am_check_room(uct_mp_ep_t *ep)
{
    if (ucs_unlikely(uct_mp_am_ring_full(ep))) {
        uct_mp_am_send_ack(ep, 1); /* may as well tell ours */
        uct_mp_am_request_ack(ep); /* and ask for the peer's */
        return UCS_ERR_NO_RESOURCE;
    }
    return UCS_OK;
}

ucs_status_t uct_mp_am_short(uct_mp_ep_t *ep, int lane, uint8_t id,
                             uint64_t header, const void *payload,
                             unsigned length)
{
    uct_mp_am_msg_t *msg = NULL;
    uct_mp_am_hdr_t hdr;
    uct_iov_t iov[3];
    ucs_status_t status;

    status = uct_mp_am_check_room(ep);
    if (status != UCS_OK) {
        return status;
    }

    if (ep->am.seq) {
        /* the copy first: a message sent without one uses up a DSN with
         * nothing to send again; without it nothing is sent */
        msg = uct_mp_am_msg_alloc(ep, id, sizeof(header) + length);
        if (msg == NULL) {
            return UCS_ERR_NO_RESOURCE;
        }
        memcpy(msg->data, &header, sizeof(header));
        if (length > 0) { /* payload may be NULL then */
            memcpy(msg->data + sizeof(header), payload, length);
        }
    }

    uct_mp_am_fill_hdr(ep, &hdr, ep->am.tx_dsn, 0);
    iov[0].buffer = &hdr;
    iov[0].length = sizeof(hdr);
    iov[1].buffer = &header;
    iov[1].length = sizeof(header);
    iov[2].buffer = (void*)payload;
    iov[2].length = length;
    iov[0].memh   = iov[1].memh = iov[2].memh = UCT_MEM_HANDLE_NULL;
    iov[0].stride = iov[1].stride = iov[2].stride = 0;
    iov[0].count  = iov[1].count = iov[2].count = 1;

    status = uct_ep_am_short_iov(ep->lane.slots[lane].ep, id, iov,
                                 (length > 0) ? 3 : 2);
    if (status != UCS_OK) {
        ucs_free(msg);
        return status;
    }

    if (msg != NULL) {
        uct_mp_am_ring_push(ep, msg);
    }
    return UCS_OK;
}

ucs_status_t uct_mp_am_short_iov(uct_mp_ep_t *ep, int lane, uint8_t id,
                                 const uct_iov_t *iov, size_t iovcnt)
{
    uct_iov_t lane_iov[UCT_MP_MAX_IOV + 1];
    uct_mp_am_msg_t *msg = NULL;
    uct_mp_am_hdr_t hdr;
    ucs_status_t status;
    size_t i, offset;

    if (ucs_unlikely(iovcnt > UCT_MP_MAX_IOV)) {
        return UCS_ERR_INVALID_PARAM;
    }

    status = uct_mp_am_check_room(ep);
    if (status != UCS_OK) {
        return status;
    }

    if (ep->am.seq) {
        msg = uct_mp_am_msg_alloc(ep, id, uct_iov_total_length(iov, iovcnt));
        if (msg == NULL) {
            return UCS_ERR_NO_RESOURCE; /* nothing sent, no DSN used */
        }
        for (i = 0, offset = 0; i < iovcnt; ++i) {
            memcpy(msg->data + offset, iov[i].buffer, iov[i].length);
            offset += iov[i].length;
        }
    }

    uct_mp_am_fill_hdr(ep, &hdr, ep->am.tx_dsn, 0);
    lane_iov[0].buffer = &hdr;
    lane_iov[0].length = sizeof(hdr);
    lane_iov[0].memh   = UCT_MEM_HANDLE_NULL;
    lane_iov[0].stride = 0;
    lane_iov[0].count  = 1;
    memcpy(&lane_iov[1], iov, iovcnt * sizeof(*iov));

    status = uct_ep_am_short_iov(ep->lane.slots[lane].ep, id, lane_iov,
                                 iovcnt + 1);
    if (status != UCS_OK) {
        ucs_free(msg);
        return status;
    }

    if (msg != NULL) {
        uct_mp_am_ring_push(ep, msg);
    }
    return UCS_OK;
}

/* bcopy: write the data header, let the user pack after it, keep a copy */
typedef struct {
    uct_mp_ep_t              *ep;
    uct_mp_am_hdr_t          hdr;
    uct_pack_callback_t      pack_cb;
    void                     *arg;
    uint8_t                  id;
    uct_mp_am_msg_t          *msg;      /* replay: send this copy */
    uct_mp_am_msg_t          *kept;     /* new message: the copy made */
} uct_mp_am_pack_ctx_t;

static size_t uct_mp_am_pack(void *dest, void *arg)
{
    uct_mp_am_pack_ctx_t *ctx = arg;
    void *payload             = UCS_PTR_BYTE_OFFSET(dest, UCT_MP_AM_HDR_LEN);
    size_t length;

    memcpy(dest, &ctx->hdr, sizeof(ctx->hdr));
    if (ctx->msg != NULL) {
        memcpy(payload, ctx->msg->data, ctx->msg->length);
        return UCT_MP_AM_HDR_LEN + ctx->msg->length;
    }

    length = ctx->pack_cb(payload, ctx->arg);
    if (ctx->kept != NULL) {
        /* allocated for the largest message before the send */
        ctx->kept->length = length;
        memcpy(ctx->kept->data, payload, length);
    }
    return UCT_MP_AM_HDR_LEN + length;
}

ssize_t uct_mp_am_bcopy(uct_mp_ep_t *ep, int lane, uint8_t id,
                        uct_pack_callback_t pack_cb, void *arg, unsigned flags)
{
    uct_mp_am_msg_t *trimmed;
    uct_mp_am_pack_ctx_t ctx;
    ucs_status_t status;
    ssize_t packed;

    status = uct_mp_am_check_room(ep);
    if (status != UCS_OK) {
        return status;
    }

    ctx.ep      = ep;
    ctx.pack_cb = pack_cb;
    ctx.arg     = arg;
    ctx.id      = id;
    ctx.msg     = NULL;
    ctx.kept    = NULL;
    if (ep->am.seq) {
        /* the copy must exist before the user packs: room for the most the
         * lane carries, trimmed after the send; without it nothing is sent
         * and no DSN is used */
        ctx.kept = uct_mp_am_msg_alloc(ep, id,
                                       uct_mp_am_iface(ep)->lanes[lane].attr.
                                       cap.am.max_bcopy);
        if (ctx.kept == NULL) {
            return UCS_ERR_NO_RESOURCE;
        }
    }
    uct_mp_am_fill_hdr(ep, &ctx.hdr, ep->am.tx_dsn, 0);

    packed = uct_ep_am_bcopy(ep->lane.slots[lane].ep, id, uct_mp_am_pack, &ctx,
                             flags);
    if (packed < 0) {
        ucs_free(ctx.kept); /* not sent */
        return packed;
    }

    if (ctx.kept != NULL) {
        trimmed = ucs_realloc(ctx.kept, sizeof(*ctx.kept) + ctx.kept->length,
                              "mp am msg");
        uct_mp_am_ring_push(ep, (trimmed != NULL) ? trimmed : ctx.kept);
    }
    return packed - UCT_MP_AM_HDR_LEN;
}

static void uct_mp_am_zcopy_lane_done(uct_completion_t *self)
{
    uct_mp_am_msg_t *msg = ucs_container_of(self, uct_mp_am_msg_t, lane_comp);

    msg->lane_done   = 1;
    msg->lane_status = self->status;
    if (msg->ep == NULL) {
        return; /* its ep is gone */
    }

    if (!msg->ep->am.seq) {
        /* no sequencing: done when the lane is */
        if (msg->user_comp != NULL) {
            uct_invoke_completion(msg->user_comp, self->status);
        }
        ucs_free(msg);
        return;
    }

    if ((self->status != UCS_OK) && !msg->acked) {
        /* its lane failed before the peer had it: replay sends it again */
        return;
    }
    uct_mp_am_zcopy_maybe_done(msg);
}

/* Post the zcopy message msg on lane, with the data header hdr */
static ucs_status_t uct_mp_am_zcopy_post(uct_mp_ep_t *ep, int lane,
                                         uct_mp_am_msg_t *msg,
                                         const uct_mp_am_hdr_t *hdr)
{
    uint8_t lane_hdr[UCT_MP_AM_HDR_LEN + UINT8_MAX * 4];
    uct_iov_t lane_iov[UCT_MP_MAX_IOV];
    ucs_status_t status;

    memcpy(lane_hdr, hdr, sizeof(*hdr));
    memcpy(lane_hdr + UCT_MP_AM_HDR_LEN, msg->data, msg->length);
    status = uct_mp_lane_iov(ep, lane, msg->iov, msg->iovcnt, lane_iov);
    if (status != UCS_OK) {
        return status;
    }

    msg->lane_done        = 0;
    msg->lane_comp.func   = uct_mp_am_zcopy_lane_done;
    msg->lane_comp.count  = 1;
    msg->lane_comp.status = UCS_OK;
    status = uct_ep_am_zcopy(ep->lane.slots[lane].ep, msg->id, lane_hdr,
                             UCT_MP_AM_HDR_LEN + msg->length, lane_iov,
                             msg->iovcnt, msg->flags, &msg->lane_comp);
    if (UCS_STATUS_IS_ERR(status)) {
        /* not posted (UCS_ERR_NO_RESOURCE included): no lane holds it, and
         * a replay that waits for a lane to hand it back would wait
         * forever */
        msg->lane_done = 1;
    }
    return status;
}

ucs_status_t uct_mp_am_zcopy(uct_mp_ep_t *ep, int lane, uint8_t id,
                             const void *header, unsigned header_length,
                             const uct_iov_t *iov, size_t iovcnt,
                             unsigned flags, uct_completion_t *comp)
{
    uct_mp_am_msg_t *msg;
    uct_mp_am_hdr_t hdr;
    ucs_status_t status;

    if (ucs_unlikely((iovcnt > UCT_MP_MAX_IOV) ||
                     (header_length > UINT8_MAX * 4))) {
        return UCS_ERR_INVALID_PARAM;
    }

    status = uct_mp_am_check_room(ep);
    if (status != UCS_OK) {
        return status;
    }

    msg = uct_mp_am_msg_alloc(ep, id, header_length);
    if (msg == NULL) {
        return UCS_ERR_NO_RESOURCE; /* nothing sent: the caller retries */
    }

    memcpy(msg->data, header, header_length);
    memcpy(msg->iov, iov, iovcnt * sizeof(*iov));
    msg->iovcnt    = iovcnt;
    msg->flags     = flags;
    msg->is_zcopy  = 1;
    msg->user_comp = comp;

    /* the user's completion waits for the peer's acknowledgement */
    uct_mp_am_fill_hdr(ep, &hdr, ep->am.tx_dsn, 1);
    status = uct_mp_am_zcopy_post(ep, lane, msg, &hdr);
    if (UCS_STATUS_IS_ERR(status)) {
        ucs_free(msg);
        return status;
    }

    if (status == UCS_OK) {
        msg->lane_done = 1;
        if (!ep->am.seq) {
            ucs_free(msg);
            return UCS_OK;
        }
    } else if (!ep->am.seq) {
        return UCS_INPROGRESS; /* freed by the lane completion */
    }

    uct_mp_am_ring_push(ep, msg);
    return UCS_INPROGRESS;
}

/* Send unacknowledged messages again, in order, on the AM lane. Returns 1
 * when everything went (or nothing is left), 0 when it must wait. */
static int uct_mp_am_replay(uct_mp_ep_t *ep)
{
    uct_mp_am_pack_ctx_t ctx;
    ucs_queue_iter_t iter;
    uct_mp_am_msg_t *msg;
    uct_mp_am_hdr_t hdr;
    ucs_status_t status;
    ssize_t packed;
    int lane = ep->lane.tx_lane;

    if (lane < 0) {
        return 0;
    }

    for (iter = ucs_queue_iter_begin(&ep->am.ring);
         !ucs_queue_iter_end(&ep->am.ring, iter);
         iter = ucs_queue_iter_next(iter)) {
        msg = ucs_container_of(*iter, uct_mp_am_msg_t, queue);
        if (UCT_MP_AM_DSN_BEFORE(msg->dsn, ep->am.replay_dsn)) {
            continue; /* sent again already */
        }

        /* every replayed message asks for an acknowledgement */
        uct_mp_am_fill_hdr(ep, &hdr, msg->dsn, 1);
        if (msg->is_zcopy) {
            if (!msg->lane_done) {
                /* wait for the failed lane to hand it back */
                return 0;
            }
            status = uct_mp_am_zcopy_post(ep, lane, msg, &hdr);
            if (status == UCS_OK) {
                msg->lane_done = 1;
            }
        } else {
            ctx.ep   = ep;
            ctx.hdr  = hdr;
            ctx.msg  = msg;
            ctx.kept = NULL;
            packed   = uct_ep_am_bcopy(ep->lane.slots[lane].ep, msg->id,
                                       uct_mp_am_pack, &ctx, 0);
            status   = (packed < 0) ? (ucs_status_t)packed : UCS_OK;
        }

        if (status == UCS_ERR_NO_RESOURCE) {
            uct_mp_lane_set_busy(ep, lane);
            return 0;
        } else if (UCS_STATUS_IS_ERR(status)) {
            /* this lane is failing too: the next lane change replays */
            return 0;
        }

        ++ep->am.replayed;
        ep->am.replay_dsn = (msg->dsn + 1) & UCT_MP_AM_DSN_MASK;
    }

    ep->am.replay      = 0;
    ep->am.lane        = lane;
    return 1;
}

void uct_mp_am_progress(uct_mp_ep_t *ep)
{
    if (ep->am.replay && !uct_mp_am_replay(ep) && (ep->lane.tx_lane >= 0)) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_AM_REPLAY);
    }
}

/* Listener: the AM lane may have changed */
static void uct_mp_am_lane_changed(uct_mp_ep_t *ep, unsigned lane,
                                   uct_mp_lane_state_t prev)
{
    if (!ep->am.seq || (ep->lane.tx_lane == ep->am.lane) ||
        (ep->am.lane < 0) || (ep->lane.tx_lane < 0)) {
        /* no lane left: uct_mp_am_peer_failed() ends what waits */
        ep->am.lane = ep->lane.tx_lane;
        return;
    }

    ucs_diag("mp_rc: ep %p: AM lane %d -> %d, sending %u unacknowledged "
             "messages again", ep, ep->am.lane, ep->lane.tx_lane,
             ep->am.ring_len);
    ep->am.replay     = 1;
    ep->am.replay_dsn = ucs_queue_is_empty(&ep->am.ring) ? ep->am.tx_dsn :
                        ucs_queue_head_elem_non_empty(&ep->am.ring,
                                                      uct_mp_am_msg_t,
                                                      queue)->dsn;
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_AM_REPLAY);
}

int uct_mp_am_blocked(uct_mp_ep_t *ep)
{
    if (ucs_likely(!ep->am.replay)) {
        return 0;
    }
    return !uct_mp_am_replay(ep);
}

/* Listener: nothing will be acknowledged any more */
static void uct_mp_am_peer_failed(uct_mp_ep_t *ep, ucs_status_t status)
{
    uct_mp_am_msg_t *msg;

    ucs_queue_for_each_extract(msg, &ep->am.ring, queue, 1) {
        --ep->am.ring_len;
        if (!msg->is_zcopy) {
            ucs_free(msg);
            continue;
        }
        if (msg->user_comp != NULL) {
            uct_invoke_completion(msg->user_comp, status);
            msg->user_comp = NULL;
        }
        msg->acked = 1;
        uct_mp_am_zcopy_maybe_done(msg); /* or when its lane hands it back */
    }
    ep->am.replay = 0;
}

int uct_mp_am_ring_full(uct_mp_ep_t *ep)
{
    return ep->am.seq && (ep->am.ring_len >= UCT_MP_AM_RING_MAX);
}

int uct_mp_am_unacked(uct_mp_ep_t *ep)
{
    return ep->am.seq && !ucs_queue_is_empty(&ep->am.ring);
}

const uct_mp_lane_listener_t uct_mp_am_lane_listener = {
    .lane_changed = uct_mp_am_lane_changed,
    .lane_ep_gone = NULL,
    .peer_failed  = uct_mp_am_peer_failed
};
