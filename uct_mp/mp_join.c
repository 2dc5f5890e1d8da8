/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * JOIN of the non-primary lanes over the primary lane, and the control
 * message channel it uses (see mp_join.h and docs/DESIGN.md section 10).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_join.h"
#include "mp_ep.h"
#include "mp_ctl.h"
#include "mp_keepalive.h"
#include "mp_link.h"

#include <uct/base/uct_iface.h>
#include <ucs/datastruct/queue.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/sys/math.h>
#include <ucs/time/time.h>
#include <string.h>


/* A control message waiting for its lane to have resources */
typedef struct uct_mp_ctl_out {
    ucs_queue_elem_t         queue;
    uint8_t                  lane;
    uint8_t                  type;
    size_t                   length;
    uint8_t                  data[UCT_MP_CTL_MAX_LEN];
} uct_mp_ctl_out_t;


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_join_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

/* Join messages travel on the AM lane (the primary unless it failed) */
static UCS_F_ALWAYS_INLINE unsigned uct_mp_join_ctl_lane(uct_mp_ep_t *ep)
{
    return (ep->tx_lane >= 0) ? ep->tx_lane : 0;
}

static unsigned uct_mp_join_rejoin_progress(void *arg);

void uct_mp_join_init(uct_mp_ep_t *ep)
{
    ep->rejoin_lane    = -1;
    ep->rejoin_req     = NULL;
    ep->rejoin_req_len = 0;
    ep->rejoin_prog_id = UCS_CALLBACKQ_ID_NULL;
    ep->remote_token = 0;
    ep->join_state   = UCT_MP_JOIN_NONE;
    ep->join_id      = 0;
    ep->ctl_prog_id  = UCS_CALLBACKQ_ID_NULL;
    ucs_queue_head_init(&ep->ctl_q);
}

void uct_mp_join_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uct_mp_ctl_out_t *out;

    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &ep->ctl_prog_id);
    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &ep->rejoin_prog_id);
    ucs_free(ep->rejoin_req);
    ep->rejoin_req = NULL;
    ucs_queue_for_each_extract(out, &ep->ctl_q, queue, 1) {
        ucs_free(out);
    }
}

static size_t uct_mp_join_pack_cb(void *dest, void *arg)
{
    uct_mp_ctl_out_t *out = arg;

    memcpy(dest, out->data, out->length);
    return out->length;
}

/*
 * Send queued control messages, in order per lane. A lane without resources
 * (a tcp lane still connecting, a full send queue) holds back only its own
 * messages: the keepalive of the other lanes must not wait behind it.
 */
static unsigned uct_mp_join_progress(void *arg)
{
    uct_mp_ep_t *ep = arg;

    ep->ctl_prog_id = UCS_CALLBACKQ_ID_NULL;
    return uct_mp_ctl_send_queued(ep);
}

unsigned uct_mp_ctl_send_queued(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint32_t blocked      = 0; /* lanes that returned NO_RESOURCE */
    ucs_queue_iter_t iter;
    uct_mp_ctl_out_t *out;
    unsigned count = 0;
    ssize_t packed;

    ucs_queue_for_each_safe(out, iter, &ep->ctl_q, queue) {
        if (blocked & UCS_BIT(out->lane)) {
            continue;
        }

        if (ep->lane_eps[out->lane].ep == NULL) {
            packed = UCS_ERR_NOT_CONNECTED;
        } else {
            packed = uct_ep_am_bcopy(ep->lane_eps[out->lane].ep,
                                     UCT_MP_CTL_AM_ID, uct_mp_join_pack_cb,
                                     out, 0);
        }

        if (packed == UCS_ERR_NO_RESOURCE) {
            blocked |= UCS_BIT(out->lane);
            continue;
        }

        if ((packed < 0) &&
            (uct_mp_lanes_state(ep->lanes, out->lane) != UCT_MP_LANE_FAILED)) {
            ucs_diag("mp_rc: ep %p lane %u: sending %s failed: %s", ep,
                     out->lane, uct_mp_ctl_type_str(out->type),
                     ucs_status_string((ucs_status_t)packed));
        } else if (packed < 0) {
            ucs_debug("mp_rc: ep %p lane %u failed: %s dropped", ep, out->lane,
                      uct_mp_ctl_type_str(out->type));
        } else {
            ucs_trace("mp_rc: ep %p lane %u: sent %s (%zd bytes)", ep,
                      out->lane, uct_mp_ctl_type_str(out->type), packed);
        }

        ucs_queue_del_iter(&ep->ctl_q, iter);
        ucs_free(out);
        ++count;
    }

    if (!ucs_queue_is_empty(&ep->ctl_q)) {
        uct_worker_progress_register_safe(&iface->super.worker->super,
                                          uct_mp_join_progress, ep,
                                          UCS_CALLBACKQ_FLAG_ONESHOT,
                                          &ep->ctl_prog_id);
    }
    return count;
}

ucs_status_t uct_mp_ctl_send(uct_mp_ep_t *ep, unsigned lane, void *arg)
{
    uct_mp_ctl_t *msg     = arg;
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_out_t *out;

    out = ucs_malloc(sizeof(*out), "mp control message");
    if (out == NULL) {
        ucs_error("mp_rc: ep %p: failed to allocate a control message", ep);
        return UCS_ERR_NO_MEMORY;
    }

    msg->dst_token = ep->remote_token;
    msg->src_token = ep->token;
    out->lane      = lane;
    out->type      = msg->type;
    out->length    = uct_mp_ctl_pack(msg, out->data, sizeof(out->data),
                                     errmsg, sizeof(errmsg));
    if (out->length == 0) {
        ucs_error("mp_rc: ep %p: %s", ep, errmsg);
        ucs_free(out);
        return UCS_ERR_INVALID_PARAM;
    }

    ucs_queue_push(&ep->ctl_q, &out->queue);
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_join_progress, ep,
                                      UCS_CALLBACKQ_FLAG_ONESHOT,
                                      &ep->ctl_prog_id);
    return UCS_OK;
}

/*
 * Fill msg->devs and msg->addrs with every local lane: device (prepacked by
 * the iface) and lane ep address (empty for a lane without an ep).
 */
static ucs_status_t uct_mp_join_fill_lanes(uct_mp_ep_t *ep, uct_mp_ctl_t *msg,
                                           uint8_t (*ep_addrs)[UINT8_MAX])
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uct_mp_md_t *md       = ucs_derived_of(iface->super.md, uct_mp_md_t);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    ucs_status_t status;
    unsigned lane;

    if (uct_mp_wire_unpack(iface->lanes_addr, iface->lanes_addr_len,
                           UCT_MP_WIRE_LANE_DEVS, &msg->devs, errmsg,
                           sizeof(errmsg)) != 0) {
        ucs_error("mp_rc: own lane devices: %s", errmsg);
        return UCS_ERR_INVALID_PARAM;
    }

    memset(&msg->addrs, 0, sizeof(msg->addrs));
    msg->addrs.kind       = UCT_MP_WIRE_EP_ADDR;
    msg->addrs.caps       = iface->caps;
    msg->addrs.lane_tl    = md->lane_tl;
    msg->addrs.token      = ep->token;
    msg->addrs.lane_count = iface->num_lanes;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (ep->lane_eps[lane].ep == NULL) {
            continue; /* len 0: not offered */
        }

        status = uct_ep_get_address(ep->lane_eps[lane].ep,
                                    (uct_ep_addr_t*)ep_addrs[lane]);
        if (status != UCS_OK) {
            ucs_error("mp_rc: ep %p lane %u: get address failed: %s", ep,
                      lane, ucs_status_string(status));
            return status;
        }
        msg->addrs.lanes[lane].len  = iface->lanes[lane].attr.ep_addr_len;
        msg->addrs.lanes[lane].data = ep_addrs[lane];
    }
    return UCS_OK;
}

/* Lanes that did not join are of no use: close them */
static void uct_mp_join_close_unjoined(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        if ((ep->lane_eps[lane].ep != NULL) &&
            (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_CONNECTING) &&
            (ep->lane_eps[lane].remote_lane == UCT_MP_CTL_NO_PAIR)) {
            uct_mp_ep_destroy_lane(ep, lane);
        }
    }
}

void uct_mp_join_primary_connected(uct_mp_ep_t *ep, uint8_t peer_caps)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        ep->lane_eps[lane].remote_lane = UCT_MP_CTL_NO_PAIR;
    }

    if ((iface->num_lanes > 1) && (peer_caps & iface->caps & UCT_MP_CAP_JOIN)) {
        ep->join_state = UCT_MP_JOIN_WANTED;
    } else {
        ep->join_state = UCT_MP_JOIN_NONE;
        uct_mp_join_close_unjoined(ep);
    }
}

void uct_mp_join_start(uct_mp_ep_t *ep)
{
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    uct_mp_ctl_t msg;

    memset(&msg, 0, sizeof(msg));
    msg.type    = UCT_MP_CTL_JOIN_REQ;
    msg.lane    = 0;
    msg.join_id = ++ep->join_id;

    ep->join_state = UCT_MP_JOIN_SENT;
    if ((uct_mp_join_fill_lanes(ep, &msg, ep_addrs) != UCS_OK) ||
        (uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &msg) != UCS_OK)) {
        ep->join_state = UCT_MP_JOIN_DONE;
        uct_mp_join_close_unjoined(ep);
        return;
    }

    ucs_debug("mp_rc: ep %p token 0x%x: JOIN_REQ %u to ep 0x%x offers %u lanes",
              ep, ep->token, ep->join_id, ep->remote_token,
              uct_mp_join_iface(ep)->num_lanes);
}

/* Responder: pair the initiator's lanes with free local lanes and connect */
static void uct_mp_join_handle_req(uct_mp_ep_t *ep, const uct_mp_ctl_t *req)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    int remote_of_local[UCT_MP_MAX_LANES];
    uct_mp_ctl_t ack, nak;
    uint32_t eligible = 0;
    unsigned lane, joined = 0;
    ucs_status_t status;
    int remote;

    if ((ep->join_state == UCT_MP_JOIN_SENT) &&
        (ep->token < req->src_token)) {
        /* crossing requests: ours wins, the peer answers it */
        ucs_debug("mp_rc: ep %p: JOIN_REQ of ep 0x%x crosses ours, ours wins",
                  ep, req->src_token);
        return;
    }

    if ((ep->join_state != UCT_MP_JOIN_WANTED) &&
        (ep->join_state != UCT_MP_JOIN_SENT)) {
        memset(&nak, 0, sizeof(nak));
        nak.type    = UCT_MP_CTL_JOIN_NAK;
        nak.join_id = req->join_id;
        nak.reason  = UCT_MP_CTL_NAK_BUSY;
        uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &nak);
        return;
    }

    if (uct_mp_iface_check_lanes(iface, &req->devs, "JOIN_REQ") != UCS_OK) {
        memset(&nak, 0, sizeof(nak));
        nak.type    = UCT_MP_CTL_JOIN_NAK;
        nak.join_id = req->join_id;
        nak.reason  = UCT_MP_CTL_NAK_UNREACHABLE;
        uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &nak);
        return;
    }

    /* the primary lanes are paired already */
    for (lane = 1; lane < iface->num_lanes; ++lane) {
        if ((ep->lane_eps[lane].ep != NULL) &&
            (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_CONNECTING)) {
            eligible |= UCS_BIT(lane);
        }
    }

    uct_mp_ep_pair_lanes(iface, &req->devs, NULL, &req->addrs, eligible, 1,
                         remote_of_local);

    memset(&ack, 0, sizeof(ack));
    ack.type       = UCT_MP_CTL_JOIN_ACK;
    ack.join_id    = req->join_id;
    ack.pair_count = req->devs.lane_count;
    memset(ack.pairs, UCT_MP_CTL_NO_PAIR, sizeof(ack.pairs));

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        remote = remote_of_local[lane];
        if (remote < 0) {
            continue;
        }

        status = uct_ep_connect_to_ep(ep->lane_eps[lane].ep,
                                      req->devs.lanes[remote].data,
                                      req->addrs.lanes[remote].data);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: ep %p lane %u (%s): joining peer lane %d failed: "
                     "%s", ep, lane, iface->lanes[lane].dev_name, remote,
                     ucs_status_string(status));
            continue;
        }

        /* CONNECTED when the initiator's first message arrives on it */
        ep->lane_eps[lane].remote_lane     = remote;
        ep->lane_eps[lane].remote_md_index = req->devs.lanes[remote].md_index;
        ack.pairs[remote]                  = lane;
        ++joined;
    }

    ep->join_state = UCT_MP_JOIN_DONE;
    if ((uct_mp_join_fill_lanes(ep, &ack, ep_addrs) != UCS_OK) ||
        (uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &ack) != UCS_OK)) {
        return;
    }

    uct_mp_join_close_unjoined(ep);
    ucs_debug("mp_rc: ep %p: JOIN_REQ %u of ep 0x%x (%u lanes): %u joined", ep,
              req->join_id, req->src_token, req->devs.lane_count, joined);
}

/* Initiator: connect to the lanes the responder paired with ours */
static void uct_mp_join_handle_ack(uct_mp_ep_t *ep, const uct_mp_ctl_t *ack)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane, joined = 0;
    uct_mp_ctl_t ka;
    ucs_status_t status;
    unsigned remote;

    for (lane = 1; (lane < iface->num_lanes) && (lane < ack->pair_count);
         ++lane) {
        remote = ack->pairs[lane];
        if ((remote == UCT_MP_CTL_NO_PAIR) || (remote == 0) ||
            (ep->lane_eps[lane].ep == NULL) ||
            (uct_mp_lanes_state(ep->lanes, lane) != UCT_MP_LANE_CONNECTING) ||
            (ack->addrs.lanes[remote].len !=
             iface->lanes[lane].attr.ep_addr_len)) {
            continue;
        }

        status = uct_ep_connect_to_ep(ep->lane_eps[lane].ep,
                                      ack->devs.lanes[remote].data,
                                      ack->addrs.lanes[remote].data);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: ep %p lane %u (%s): connecting to joined peer "
                     "lane %u failed: %s", ep, lane, iface->lanes[lane].dev_name,
                     remote, ucs_status_string(status));
            continue;
        }

        ep->lane_eps[lane].remote_lane     = remote;
        ep->lane_eps[lane].remote_md_index = ack->devs.lanes[remote].md_index;
        uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);

        /* tells the responder its side of the lane carries traffic now */
        memset(&ka, 0, sizeof(ka));
        ka.type = UCT_MP_CTL_KEEPALIVE;
        ka.lane = lane;
        uct_mp_ctl_send(ep, lane, &ka);
        ++joined;
    }

    ep->join_state = UCT_MP_JOIN_DONE;
    uct_mp_join_close_unjoined(ep);
    ucs_debug("mp_rc: ep %p: JOIN_ACK %u of ep 0x%x: %u lanes joined, %u usable",
              ep, ack->join_id, ack->src_token, joined,
              uct_mp_lanes_usable(ep->lanes));
}

/* Responder: the initiator's first message on a joined lane */
static void uct_mp_join_handle_keepalive(uct_mp_ep_t *ep, unsigned lane,
                                         const uct_mp_ctl_t *msg)
{
    if ((lane < UCT_MP_MAX_LANES) && (ep->lane_eps[lane].ep != NULL) &&
        (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_CONNECTING) &&
        (ep->lane_eps[lane].remote_lane == msg->lane)) {
        uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
        ucs_debug("mp_rc: ep %p lane %u joined, %u usable", ep, lane,
                  uct_mp_lanes_usable(ep->lanes));
    }
}

/*
 * Fail-back (docs/DESIGN.md 10). The side of the pair with the smaller
 * token re-establishes failed lanes, one at a time: a new lane ep, then a
 * JOIN_REQ over the AM lane offering only that lane; the peer replaces its
 * side of the pair (destroying what is left of it) and answers JOIN_ACK; the
 * first KEEPALIVE on the new lane tells the peer it carries traffic. A
 * rejoin unanswered within 3 keepalive intervals (at least 1 s) is given up
 * and retried after twice the delay, up to 8 x FAILBACK_INTERVAL.
 */
static int uct_mp_join_is_failback_initiator(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);

    return (iface->failback_interval > 0) && (ep->remote_token != 0) &&
           (ep->token < ep->remote_token) && (ep->join_state == UCT_MP_JOIN_DONE);
}

void uct_mp_join_lane_failed(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uct_mp_lane_ep_t *lane_ep = &ep->lane_eps[lane];

    if (ep->rejoin_lane == (int)lane) {
        ep->rejoin_lane = -1; /* the attempt failed */
    }

    if (!uct_mp_join_is_failback_initiator(ep) || ep->closing) {
        return;
    }

    lane_ep->retry_backoff = (lane_ep->retry_backoff == 0) ?
                             iface->failback_interval :
                             ucs_min(lane_ep->retry_backoff * 2,
                                     iface->failback_interval * 8);
    lane_ep->retry_at      = ucs_get_time() + lane_ep->retry_backoff;
}

static void uct_mp_join_start_rejoin(uct_mp_ep_t *ep, unsigned lane,
                                     ucs_time_t now)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    uct_mp_ctl_t msg;
    unsigned other;

    if (uct_mp_ep_create_lane_ep(ep, lane, UCT_MP_LANE_EV_RETRY) != UCS_OK) {
        uct_mp_join_lane_failed(ep, lane); /* later, with a longer delay */
        return;
    }

    memset(&msg, 0, sizeof(msg));
    msg.type    = UCT_MP_CTL_JOIN_REQ;
    msg.lane    = lane;
    msg.join_id = ++ep->join_id;
    if (uct_mp_join_fill_lanes(ep, &msg, ep_addrs) != UCS_OK) {
        uct_mp_ep_lane_failed(ep, lane, UCS_ERR_IO_ERROR);
        return;
    }
    for (other = 0; other < msg.addrs.lane_count; ++other) {
        if (other != lane) {
            msg.addrs.lanes[other].len = 0; /* only this lane is offered */
        }
    }

    ep->rejoin_lane               = lane;
    ep->rejoin_deadline           = now + ucs_max(3 * iface->ka_interval,
                                                  ucs_time_from_sec(1.0));
    ep->lane_eps[lane].retry_at   = 0;
    ep->lane_eps[lane].remote_lane = UCT_MP_CTL_NO_PAIR;
    ucs_diag("mp_rc: ep %p lane %u (%s): trying to rejoin (JOIN %u)", ep, lane,
             iface->lanes[lane].dev_name, ep->join_id);
    uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &msg);
}

void uct_mp_join_failback_tick(uct_mp_ep_t *ep, ucs_time_t now)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uct_mp_lane_ep_t *lane_ep;
    unsigned lane;

    if (ep->rejoin_lane >= 0) {
        if ((int64_t)(now - ep->rejoin_deadline) > 0) {
            lane = ep->rejoin_lane;
            ucs_diag("mp_rc: ep %p lane %u (%s): no answer to the rejoin, "
                     "trying later", ep, lane, iface->lanes[lane].dev_name);
            uct_mp_ep_lane_failed(ep, lane, UCS_ERR_ENDPOINT_TIMEOUT);
        }
        return;
    }

    if (!uct_mp_join_is_failback_initiator(ep) || (ep->tx_lane < 0)) {
        return;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        lane_ep = &ep->lane_eps[lane];
        if ((lane_ep->retry_at != 0) && (lane_ep->ep == NULL) &&
            !lane_ep->destroy_pending &&
            (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_FAILED) &&
            !uct_mp_link_is_down(iface, lane) &&
            ((int64_t)(now - lane_ep->retry_at) >= 0)) {
            uct_mp_join_start_rejoin(ep, lane, now);
            return;
        }
    }
}

/* Initiator: the peer replaced its side; connect ours and probe it. The
 * lane carries traffic once the peer answers the probe on it (the path works
 * both ways), not before: the path may still be down. */
static void uct_mp_join_handle_rejoin_ack(uct_mp_ep_t *ep,
                                          const uct_mp_ctl_t *ack)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane         = ep->rejoin_lane;
    uct_mp_lane_ep_t *lane_ep = &ep->lane_eps[lane];
    ucs_status_t status;
    unsigned remote;

    remote = (lane < ack->pair_count) ? ack->pairs[lane] : UCT_MP_CTL_NO_PAIR;
    if ((remote == UCT_MP_CTL_NO_PAIR) || (lane_ep->ep == NULL) ||
        (lane_ep->remote_lane != UCT_MP_CTL_NO_PAIR) ||
        (uct_mp_lanes_state(ep->lanes, lane) != UCT_MP_LANE_CONNECTING) ||
        (ack->addrs.lanes[remote].len != iface->lanes[lane].attr.ep_addr_len)) {
        ucs_diag("mp_rc: ep %p lane %u (%s): the peer did not pair the "
                 "rejoining lane", ep, lane, iface->lanes[lane].dev_name);
        uct_mp_ep_lane_failed(ep, lane, UCS_ERR_UNREACHABLE);
        return;
    }

    status = uct_ep_connect_to_ep(lane_ep->ep, ack->devs.lanes[remote].data,
                                  ack->addrs.lanes[remote].data);
    if (status != UCS_OK) {
        uct_mp_ep_lane_failed(ep, lane, status);
        return;
    }

    lane_ep->remote_lane     = remote;
    lane_ep->remote_md_index = ack->devs.lanes[remote].md_index;
    uct_mp_keepalive_send_probe(ep, lane, ucs_get_time());
}

/* Initiator: the peer answered the probe on the rejoining lane */
static void uct_mp_join_rejoin_confirmed(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_iface_t *iface     = uct_mp_join_iface(ep);
    uct_mp_lane_ep_t *lane_ep = &ep->lane_eps[lane];

    if ((ep->rejoin_lane != (int)lane) ||
        (lane_ep->remote_lane == UCT_MP_CTL_NO_PAIR) ||
        (uct_mp_lanes_state(ep->lanes, lane) != UCT_MP_LANE_CONNECTING)) {
        return;
    }

    ep->rejoin_lane        = -1;
    lane_ep->retry_backoff = 0;
    uct_mp_ep_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
    ucs_diag("mp_rc: ep %p lane %u (%s) rejoined peer lane %u, %u lanes usable",
             ep, lane, iface->lanes[lane].dev_name, lane_ep->remote_lane,
             uct_mp_lanes_usable(ep->lanes));
}

/* Responder: replace our side of the lanes the peer offers again */
static unsigned uct_mp_join_rejoin_progress(void *arg)
{
    uct_mp_ep_t *ep       = arg;
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_t req, ack;
    ucs_status_t status;
    unsigned i, j;

    ep->rejoin_prog_id = UCS_CALLBACKQ_ID_NULL;
    if (uct_mp_ctl_unpack(ep->rejoin_req, ep->rejoin_req_len, &req, errmsg,
                          sizeof(errmsg)) != 0) {
        goto out;
    }

    memset(&ack, 0, sizeof(ack));
    ack.type       = UCT_MP_CTL_JOIN_ACK;
    ack.join_id    = req.join_id;
    ack.pair_count = req.devs.lane_count;
    memset(ack.pairs, UCT_MP_CTL_NO_PAIR, sizeof(ack.pairs));

    for (i = 0; i < req.addrs.lane_count; ++i) {
        if (req.addrs.lanes[i].len == 0) {
            continue;
        }

        /* our side of that pair: the lane paired with it before, else the
         * same index */
        for (j = 0; j < iface->num_lanes; ++j) {
            if (ep->lane_eps[j].remote_lane == i) {
                break;
            }
        }
        if (j == iface->num_lanes) {
            j = i;
        }
        if ((j >= iface->num_lanes) || ((int)j == ep->tx_lane) ||
            (req.addrs.lanes[i].len != iface->lanes[j].attr.ep_addr_len)) {
            continue;
        }

        if (uct_mp_link_is_down(iface, j)) {
            /* not over a link known to be down: connecting an rc lane there
             * blocks the worker in the QP's address resolution (about 1 s
             * on rxe), long enough for the peer's keepalive to give up on
             * the lanes that still work */
            ucs_diag("mp_rc: ep %p lane %u (%s): peer lane %u wants to rejoin, "
                     "but link %s is down", ep, j, iface->lanes[j].dev_name, i,
                     iface->link_netdev[j]);
            continue;
        }

        if (uct_mp_lanes_state(ep->lanes, j) != UCT_MP_LANE_FAILED) {
            /* the peer says the path is gone: so is our side */
            uct_mp_ep_lane_failed(ep, j, UCS_ERR_CONNECTION_RESET);
        }
        uct_mp_ep_drop_lane_ep(ep, j);
        if (uct_mp_ep_create_lane_ep(ep, j, UCT_MP_LANE_EV_RETRY) != UCS_OK) {
            continue;
        }

        status = uct_ep_connect_to_ep(ep->lane_eps[j].ep, req.devs.lanes[i].data,
                                      req.addrs.lanes[i].data);
        if (status != UCS_OK) {
            uct_mp_ep_lane_failed(ep, j, status);
            continue;
        }

        /* CONNECTED when the initiator's KEEPALIVE arrives on it */
        ep->lane_eps[j].remote_lane     = i;
        ep->lane_eps[j].remote_md_index = req.devs.lanes[i].md_index;
        ack.pairs[i]                    = j;
        ucs_diag("mp_rc: ep %p lane %u (%s): peer lane %u rejoins", ep, j,
                 iface->lanes[j].dev_name, i);
    }

    if (uct_mp_join_fill_lanes(ep, &ack, ep_addrs) == UCS_OK) {
        uct_mp_ctl_send(ep, uct_mp_join_ctl_lane(ep), &ack);
    }

out:
    ucs_free(ep->rejoin_req);
    ep->rejoin_req = NULL;
    return 1;
}

ucs_status_t uct_mp_join_ctl_handler(void *arg, void *data, size_t length,
                                     unsigned flags)
{
    uct_mp_ctl_trampoline_t *trampoline = arg;
    uct_mp_iface_t *iface               = trampoline->iface;
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_t msg, ack;
    uct_mp_ep_t *ep;

    memset(&ack, 0, sizeof(ack));
    if (uct_mp_ctl_unpack(data, length, &msg, errmsg, sizeof(errmsg)) != 0) {
        if (!iface->bad_ctl_logged) {
            iface->bad_ctl_logged = 1;
            ucs_error("mp_rc: dropping control message on lane %u: %s",
                      trampoline->lane, errmsg);
        }
        return UCS_OK;
    }

    ep = uct_mp_iface_ep_by_token(iface, msg.dst_token);
    if ((ep == NULL) ||
        ((ep->remote_token != 0) && (ep->remote_token != msg.src_token))) {
        ucs_debug("mp_rc: %s from ep 0x%x to unknown ep 0x%x dropped",
                  uct_mp_ctl_type_str(msg.type), msg.src_token, msg.dst_token);
        return UCS_OK;
    }

    ucs_trace("mp_rc: ep %p lane %u: got %s from ep 0x%x", ep,
              trampoline->lane, uct_mp_ctl_type_str(msg.type), msg.src_token);
    uct_mp_keepalive_lane_arrival(ep, trampoline->lane);

    switch (msg.type) {
    case UCT_MP_CTL_JOIN_REQ:
        if ((ep->join_state == UCT_MP_JOIN_DONE) && (ep->rejoin_req == NULL)) {
            /* a lane rejoins after a failure: answered from progress, where
             * lane eps may be destroyed and created */
            ep->rejoin_req = ucs_malloc(length, "mp rejoin request");
            if (ep->rejoin_req != NULL) {
                memcpy(ep->rejoin_req, data, length);
                ep->rejoin_req_len = length;
                uct_worker_progress_register_safe(&iface->super.worker->super,
                                                  uct_mp_join_rejoin_progress,
                                                  ep, UCS_CALLBACKQ_FLAG_ONESHOT,
                                                  &ep->rejoin_prog_id);
            }
        } else {
            uct_mp_join_handle_req(ep, &msg);
        }
        break;
    case UCT_MP_CTL_JOIN_ACK:
        if ((ep->join_state == UCT_MP_JOIN_SENT) &&
            (msg.join_id == ep->join_id)) {
            uct_mp_join_handle_ack(ep, &msg);
        } else if ((ep->rejoin_lane >= 0) && (msg.join_id == ep->join_id)) {
            uct_mp_join_handle_rejoin_ack(ep, &msg);
        }
        break;
    case UCT_MP_CTL_JOIN_NAK:
        if ((ep->rejoin_lane >= 0) && (msg.join_id == ep->join_id)) {
            ucs_diag("mp_rc: ep %p: peer refused the rejoin of lane %d "
                     "(reason %u)", ep, ep->rejoin_lane, msg.reason);
            ep->rejoin_deadline = 0; /* the next tick gives it up */
        } else if ((ep->join_state == UCT_MP_JOIN_SENT) &&
            (msg.join_id == ep->join_id)) {
            ucs_diag("mp_rc: ep %p: peer ep 0x%x refused JOIN %u (reason %u): "
                     "one lane", ep, msg.src_token, msg.join_id, msg.reason);
            ep->join_state = UCT_MP_JOIN_DONE;
            uct_mp_join_close_unjoined(ep);
        }
        break;
    case UCT_MP_CTL_KEEPALIVE:
        uct_mp_join_handle_keepalive(ep, trampoline->lane, &msg);
        uct_mp_am_send_ack(ep, 1); /* a probe also asks for it */
        if (ep->lane_eps[trampoline->lane].ep != NULL) {
            ack.type      = UCT_MP_CTL_KEEPALIVE_ACK;
            ack.lane      = trampoline->lane;
            ack.probe_seq = msg.probe_seq;
            uct_mp_ctl_send(ep, trampoline->lane, &ack);
        }
        break;
    case UCT_MP_CTL_KEEPALIVE_ACK:
        /* the lane's evidence of life (mp_keepalive.c); on a rejoining lane
         * also the confirmation */
        uct_mp_keepalive_probe_answered(ep, trampoline->lane, msg.probe_seq);
        uct_mp_join_rejoin_confirmed(ep, trampoline->lane);
        break;
    case UCT_MP_CTL_DATA_ACK:
        uct_mp_am_handle_ack(ep, msg.probe_seq);
        break;
    }

    return UCS_OK;
}
