/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * JOIN of the non-primary lanes over the primary lane, and fail-back (see
 * mp_join.h and docs/DESIGN.md section 10).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_join.h"
#include "mp_ep.h"
#include "mp_link.h"

#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/sys/math.h>
#include <string.h>


#define UCT_MP_JOIN_MAX_TRIES  3   /* JOIN_REQs of the first join */


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_join_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

/* Join messages travel on the AM lane (the primary unless it failed) */
static UCS_F_ALWAYS_INLINE unsigned uct_mp_join_ctl_lane(uct_mp_ep_t *ep)
{
    return (ep->lane.tx_lane >= 0) ? ep->lane.tx_lane : 0;
}

void uct_mp_join_init(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    memset(&ep->join, 0, sizeof(ep->join));
    ep->join.state       = UCT_MP_JOIN_NONE;
    ep->join.rejoin_lane = -1;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        /* only links that come up from now on move a rejoin forward */
        ep->join.lanes[lane].link_up_seen = uct_mp_link_up_time(iface, lane);
    }
}

void uct_mp_join_cleanup(uct_mp_ep_t *ep)
{
    ucs_free(ep->join.rejoin_req);
    ep->join.rejoin_req = NULL;
}

/*
 * Fill msg->devs and msg->addrs with every local lane: device (prepacked by
 * the iface) and lane ep address for the lanes in offer (empty for the
 * others and for a lane without an ep). Only lanes created for an ep address
 * are offered: a lane connected to the peer's iface has no ep address.
 */
static ucs_status_t uct_mp_join_fill_lanes(uct_mp_ep_t *ep, uct_mp_ctl_t *msg,
                                           uint8_t (*ep_addrs)[UINT8_MAX],
                                           uint32_t offer)
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
        if ((ep->lane.slots[lane].ep == NULL) || !(offer & UCS_BIT(lane))) {
            continue; /* len 0: not offered */
        }

        status = uct_ep_get_address(ep->lane.slots[lane].ep,
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

/* Lanes that did not join (not paired, connect failed, link down) lose their
 * lane ep. One the peer has too (< peer_lanes) becomes FAILED, so fail-back
 * retries it (hot-add); the others, or all without fail-back, are closed. */
static void uct_mp_join_close_unjoined(uct_mp_ep_t *ep, unsigned peer_lanes)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        if ((ep->lane.slots[lane].ep == NULL) ||
            (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_CONNECTING) ||
            (ep->lane.slots[lane].remote_lane != UCT_MP_CTL_NO_PAIR)) {
            continue;
        }

        if ((lane >= peer_lanes) || (iface->failback_interval == 0) ||
            (ep->join.state != UCT_MP_JOIN_DONE)) {
            uct_mp_lane_destroy(ep, lane);
            continue;
        }

        ucs_diag("mp_rc: ep %p lane %u (%s) did not join%s; fail-back "
                 "retries it", ep, lane, iface->lanes[lane].dev_name,
                 uct_mp_link_is_down(iface, lane) ? " (link down)" : "");
        uct_mp_lane_drop_ep(ep, lane);
        uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_ERROR);
    }
}

void uct_mp_join_primary_connected(uct_mp_ep_t *ep, uint8_t peer_caps)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        uct_mp_lane_unpair(ep, lane);
    }

    if ((iface->num_lanes > 1) && (peer_caps & iface->caps & UCT_MP_CAP_JOIN)) {
        ep->join.state = UCT_MP_JOIN_WANTED;
    } else {
        ep->join.state = UCT_MP_JOIN_NONE;
        uct_mp_join_close_unjoined(ep, 0);
    }
}

/* Offer no lane whose link is down: fail-back brings it in when it is up */
static void uct_mp_join_skip_down_links(uct_mp_ep_t *ep, uct_mp_ctl_t *msg)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned lane;

    for (lane = 1; lane < msg->addrs.lane_count; ++lane) {
        if (uct_mp_link_is_down(iface, lane)) {
            msg->addrs.lanes[lane].len = 0;
        }
    }
}

void uct_mp_join_iface_connected(uct_mp_ep_t *ep)
{
    ep->join.state = UCT_MP_JOIN_DONE;
}

/* A JOIN or rejoin unanswered for 3 keepalive intervals (at least 1 s) is
 * taken as lost */
static ucs_time_t uct_mp_join_timeout(uct_mp_ep_t *ep)
{
    return ucs_max(3 * uct_mp_join_iface(ep)->ka_interval,
                   ucs_time_from_sec(1.0));
}

void uct_mp_join_start(uct_mp_ep_t *ep)
{
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    ucs_status_t status;
    uct_mp_ctl_t msg;

    memset(&msg, 0, sizeof(msg));
    msg.type    = UCT_MP_CTL_JOIN_REQ;
    msg.lane    = 0;
    msg.join_id = ++ep->join.id;

    ep->join.state    = UCT_MP_JOIN_SENT;
    ep->join.deadline = ucs_get_time() + uct_mp_join_timeout(ep);
    ++ep->join.tries;
    status            = uct_mp_join_fill_lanes(ep, &msg, ep_addrs, UINT32_MAX);
    if (status == UCS_OK) {
        uct_mp_join_skip_down_links(ep, &msg);
        status = uct_mp_ctrl_send(ep, uct_mp_join_ctl_lane(ep), &msg);
    }
    if (status != UCS_OK) {
        ep->join.state = UCT_MP_JOIN_DONE;
        uct_mp_join_close_unjoined(ep, UCT_MP_MAX_LANES);
        return;
    }

    ucs_debug("mp_rc: ep %p token 0x%x: JOIN_REQ %u to ep 0x%x offers %u lanes",
              ep, ep->token, ep->join.id, ep->remote_token,
              uct_mp_join_iface(ep)->num_lanes);
}

/* A JOIN_ACK answering req, no lane paired yet */
static void uct_mp_join_ack_init(uct_mp_ctl_t *ack, const uct_mp_ctl_t *req)
{
    memset(ack, 0, sizeof(*ack));
    ack->type       = UCT_MP_CTL_JOIN_ACK;
    ack->join_id    = req->join_id;
    ack->pair_count = req->devs.lane_count;
    memset(ack->pairs, UCT_MP_CTL_NO_PAIR, sizeof(ack->pairs));
}

static void uct_mp_join_send_nak(uct_mp_ep_t *ep, uint32_t join_id,
                                 uct_mp_ctl_nak_reason_t reason)
{
    uct_mp_ctl_t nak;

    memset(&nak, 0, sizeof(nak));
    nak.type    = UCT_MP_CTL_JOIN_NAK;
    nak.join_id = join_id;
    nak.reason  = reason;
    uct_mp_ctrl_send(ep, uct_mp_join_ctl_lane(ep), &nak);
}

/* Responder: pair the initiator's lanes with free local lanes and connect */
static void uct_mp_join_handle_req(uct_mp_ep_t *ep, const uct_mp_ctl_t *req)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    int remote_of_local[UCT_MP_MAX_LANES];
    uct_mp_ctl_t ack;
    uint32_t eligible = 0;
    unsigned lane, joined = 0;
    ucs_status_t status;
    int remote;

    if ((ep->join.state == UCT_MP_JOIN_SENT) &&
        (ep->token < req->src_token)) {
        /* crossing requests: ours wins, the peer answers it */
        ucs_debug("mp_rc: ep %p: JOIN_REQ of ep 0x%x crosses ours, ours wins",
                  ep, req->src_token);
        return;
    }

    if ((ep->join.state != UCT_MP_JOIN_WANTED) &&
        (ep->join.state != UCT_MP_JOIN_SENT)) {
        uct_mp_join_send_nak(ep, req->join_id, UCT_MP_CTL_NAK_BUSY);
        return;
    }

    if (uct_mp_peer_check_lanes(iface, &req->devs, "JOIN_REQ") != UCS_OK) {
        uct_mp_join_send_nak(ep, req->join_id, UCT_MP_CTL_NAK_UNREACHABLE);
        return;
    }

    /* the primary lanes are paired already; not over a link known to be
     * down (see uct_mp_join_rejoin_lane): fail-back brings such a lane in */
    for (lane = 1; lane < iface->num_lanes; ++lane) {
        if ((ep->lane.slots[lane].ep != NULL) &&
            (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_CONNECTING) &&
            !uct_mp_link_is_down(iface, lane)) {
            eligible |= UCS_BIT(lane);
        }
    }

    uct_mp_lane_pair(iface, &req->devs, NULL, &req->addrs, eligible, 1,
                         remote_of_local);

    uct_mp_join_ack_init(&ack, req);

    for (lane = 1; lane < iface->num_lanes; ++lane) {
        remote = remote_of_local[lane];
        if (remote < 0) {
            continue;
        }

        status = uct_mp_lane_connect(ep, lane, &req->devs.lanes[remote],
                                     &req->addrs.lanes[remote], remote,
                                     req->devs.lanes[remote].md_index);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: ep %p lane %u (%s): joining peer lane %d failed: "
                     "%s", ep, lane, iface->lanes[lane].dev_name, remote,
                     ucs_status_string(status));
            continue;
        }

        /* CONNECTED when the initiator's first message arrives on it */
        ack.pairs[remote] = lane;
        ++joined;
    }

    ep->join.state = UCT_MP_JOIN_DONE;
    if ((uct_mp_join_fill_lanes(ep, &ack, ep_addrs, UINT32_MAX) != UCS_OK) ||
        (uct_mp_ctrl_send(ep, uct_mp_join_ctl_lane(ep), &ack) != UCS_OK)) {
        return;
    }

    uct_mp_join_close_unjoined(ep, req->devs.lane_count);
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
            (ep->lane.slots[lane].ep == NULL) ||
            (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_CONNECTING) ||
            (ack->addrs.lanes[remote].len !=
             iface->lanes[lane].attr.ep_addr_len)) {
            continue;
        }

        status = uct_mp_lane_connect(ep, lane, &ack->devs.lanes[remote],
                                     &ack->addrs.lanes[remote], remote,
                                     ack->devs.lanes[remote].md_index);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: ep %p lane %u (%s): connecting to joined peer "
                     "lane %u failed: %s", ep, lane, iface->lanes[lane].dev_name,
                     remote, ucs_status_string(status));
            continue;
        }

        uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);

        /* tells the responder its side of the lane carries traffic now */
        memset(&ka, 0, sizeof(ka));
        ka.type = UCT_MP_CTL_KEEPALIVE;
        ka.lane = lane;
        uct_mp_ctrl_send(ep, lane, &ka);
        ++joined;
    }

    ep->join.state = UCT_MP_JOIN_DONE;
    uct_mp_join_close_unjoined(ep, ack->devs.lane_count);
    ucs_debug("mp_rc: ep %p: JOIN_ACK %u of ep 0x%x: %u lanes joined, %u usable",
              ep, ack->join_id, ack->src_token, joined,
              uct_mp_lanes_usable(ep->lane.sm));
}

/* Responder: the initiator's first message on a joined lane */
void uct_mp_join_handle_keepalive(uct_mp_ep_t *ep, unsigned lane,
                                         const uct_mp_ctl_t *msg)
{
    if ((lane < UCT_MP_MAX_LANES) && (ep->lane.slots[lane].ep != NULL) &&
        (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_CONNECTING) &&
        (ep->lane.slots[lane].remote_lane == msg->lane)) {
        uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
        ucs_debug("mp_rc: ep %p lane %u joined, %u usable", ep, lane,
                  uct_mp_lanes_usable(ep->lane.sm));
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
    return (uct_mp_join_iface(ep)->failback_interval > 0) &&
           (ep->remote_token != 0) && (ep->token < ep->remote_token) &&
           (ep->join.state == UCT_MP_JOIN_DONE);
}

/* Schedule the next rejoin of lane after a longer delay */
static void uct_mp_join_retry_later(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_iface_t *iface   = uct_mp_join_iface(ep);
    uct_mp_join_lane_t *jl  = &ep->join.lanes[lane];

    if (!uct_mp_join_is_failback_initiator(ep) || ep->closing) {
        return;
    }

    jl->retry_backoff = (jl->retry_backoff == 0) ?
                        iface->failback_interval :
                        ucs_min(jl->retry_backoff * 2,
                                iface->failback_interval * 8);
    jl->failed_at     = ucs_get_time();
    jl->retry_at      = jl->failed_at + jl->retry_backoff;
}

/* Listener: a lane that failed is retried later; a rejoin that failed ends */
static void uct_mp_join_lane_changed(uct_mp_ep_t *ep, unsigned lane,
                                     uct_mp_lane_state_t prev)
{
    if ((prev == UCT_MP_LANE_FAILED) ||
        (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_FAILED)) {
        return;
    }

    if (ep->join.rejoin_lane == (int)lane) {
        ep->join.rejoin_lane = -1; /* the attempt failed */
    }
    uct_mp_join_retry_later(ep, lane);
}

static void uct_mp_join_start_rejoin(uct_mp_ep_t *ep, unsigned lane,
                                     ucs_time_t now)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    uct_mp_ctl_t msg;

    if (uct_mp_lane_create(ep, lane, UCT_MP_LANE_EV_RETRY) != UCS_OK) {
        uct_mp_join_retry_later(ep, lane); /* with a longer delay */
        return;
    }

    memset(&msg, 0, sizeof(msg));
    msg.type    = UCT_MP_CTL_JOIN_REQ;
    msg.lane    = lane;
    msg.join_id = ++ep->join.id;
    /* only this lane is offered */
    if (uct_mp_join_fill_lanes(ep, &msg, ep_addrs, UCS_BIT(lane)) != UCS_OK) {
        uct_mp_lane_fail(ep, lane, UCS_ERR_IO_ERROR);
        return;
    }

    ep->join.rejoin_lane           = lane;
    ep->join.rejoin_deadline       = now + uct_mp_join_timeout(ep);
    ep->join.lanes[lane].retry_at = 0;
    uct_mp_lane_unpair(ep, lane);
    ucs_diag("mp_rc: ep %p lane %u (%s): trying to rejoin (JOIN %u)", ep, lane,
             iface->lanes[lane].dev_name, ep->join.id);
    uct_mp_ctrl_send(ep, uct_mp_join_ctl_lane(ep), &msg);
}

ucs_status_t uct_mp_join_rejoin_now(uct_mp_ep_t *ep, unsigned lane)
{
    if ((ep->remote_token == 0) || (ep->join.state != UCT_MP_JOIN_DONE) ||
        (ep->lane.tx_lane < 0)) {
        return UCS_ERR_NOT_CONNECTED;
    }

    if ((ep->join.rejoin_lane >= 0) || (ep->join.rejoin_req != NULL)) {
        return UCS_ERR_BUSY;
    }

    uct_mp_join_start_rejoin(ep, lane, ucs_get_time());
    return UCS_OK;
}

/* A link that came back makes fail-back retry soon, with the backoff
 * started over */
static void uct_mp_join_link_came_up(uct_mp_ep_t *ep, unsigned lane)
{
    ucs_time_t up_time     = uct_mp_link_up_time(uct_mp_join_iface(ep), lane);
    uct_mp_join_lane_t *jl = &ep->join.lanes[lane];

    if ((up_time == 0) || (up_time == jl->link_up_seen)) {
        return;
    }

    jl->link_up_seen = up_time;
    if ((jl->retry_at != 0) && ((int64_t)(up_time - jl->failed_at) >= 0)) {
        jl->retry_backoff = 0;
        jl->retry_at      = up_time +
                            ucs_time_from_msec(UCT_MP_LINK_SETTLE_MS);
    }
}

/* JOIN_SENT too long: the request or its answer was lost (a control message
 * on a lane that fails is dropped); ask again with a new id, a bounded
 * number of times, then go on with the lanes there are */
static void uct_mp_join_check_sent(uct_mp_ep_t *ep, ucs_time_t now)
{
    if ((ep->join.state != UCT_MP_JOIN_SENT) ||
        ((int64_t)(now - ep->join.deadline) <= 0)) {
        return;
    }

    if (ep->join.tries < UCT_MP_JOIN_MAX_TRIES) {
        ucs_diag("mp_rc: ep %p: no answer to JOIN %u from ep 0x%x, asking "
                 "again", ep, ep->join.id, ep->remote_token);
        ep->join.state = UCT_MP_JOIN_WANTED;
        uct_mp_join_start(ep);
        return;
    }

    ucs_warn("mp_rc: ep %p: no answer to JOIN %u from ep 0x%x after %u "
             "tries: %u lanes not joined", ep, ep->join.id, ep->remote_token,
             ep->join.tries, uct_mp_join_iface(ep)->num_lanes - 1);
    ep->join.state = UCT_MP_JOIN_DONE;
    uct_mp_join_close_unjoined(ep, UCT_MP_MAX_LANES);
}

void uct_mp_join_failback_tick(uct_mp_ep_t *ep, ucs_time_t now)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uct_mp_join_lane_t *jl;
    unsigned lane;

    uct_mp_join_check_sent(ep, now);

    if (ep->join.rejoin_lane >= 0) {
        if ((int64_t)(now - ep->join.rejoin_deadline) > 0) {
            lane = ep->join.rejoin_lane;
            ucs_diag("mp_rc: ep %p lane %u (%s): no answer to the rejoin, "
                     "trying later", ep, lane, iface->lanes[lane].dev_name);
            uct_mp_lane_fail(ep, lane, UCS_ERR_ENDPOINT_TIMEOUT);
        }
        return;
    }

    if (!uct_mp_join_is_failback_initiator(ep) || (ep->lane.tx_lane < 0)) {
        return;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        jl = &ep->join.lanes[lane];
        uct_mp_join_link_came_up(ep, lane);
        if ((jl->retry_at != 0) && (ep->lane.slots[lane].ep == NULL) &&
            !ep->lane.slots[lane].destroy_pending &&
            (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_FAILED) &&
            !uct_mp_lane_parked(ep, lane) && !uct_mp_link_is_down(iface, lane) &&
            ((int64_t)(now - jl->retry_at) >= 0)) {
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
    unsigned lane         = ep->join.rejoin_lane;
    ucs_status_t status;
    unsigned remote;

    remote = (lane < ack->pair_count) ? ack->pairs[lane] : UCT_MP_CTL_NO_PAIR;
    if ((remote == UCT_MP_CTL_NO_PAIR) || (ep->lane.slots[lane].ep == NULL) ||
        (ep->lane.slots[lane].remote_lane != UCT_MP_CTL_NO_PAIR) ||
        (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_CONNECTING) ||
        (ack->addrs.lanes[remote].len != iface->lanes[lane].attr.ep_addr_len)) {
        ucs_diag("mp_rc: ep %p lane %u (%s): the peer did not pair the "
                 "rejoining lane", ep, lane, iface->lanes[lane].dev_name);
        uct_mp_lane_fail(ep, lane, UCS_ERR_UNREACHABLE);
        return;
    }

    status = uct_mp_lane_connect(ep, lane, &ack->devs.lanes[remote],
                                 &ack->addrs.lanes[remote], remote,
                                 ack->devs.lanes[remote].md_index);
    if (status != UCS_OK) {
        uct_mp_lane_fail(ep, lane, status);
        return;
    }

    uct_mp_keepalive_send_probe(ep, lane, ucs_get_time());
}

void uct_mp_join_rejoin_confirmed(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);

    if ((ep->join.rejoin_lane != (int)lane) ||
        (ep->lane.slots[lane].remote_lane == UCT_MP_CTL_NO_PAIR) ||
        (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_CONNECTING)) {
        return;
    }

    ep->join.rejoin_lane                = -1;
    ep->join.lanes[lane].retry_backoff = 0;
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
    ucs_diag("mp_rc: ep %p lane %u (%s) rejoined peer lane %u, %u lanes usable",
             ep, lane, iface->lanes[lane].dev_name,
             ep->lane.slots[lane].remote_lane, uct_mp_lanes_usable(ep->lane.sm));
}

/* Responder: may the peer's rejoin replace our lane j? Only a lane that
 * failed, is being rejoined or was closed (a drained lane that comes back),
 * or one silent for a keepalive interval (the peer saw the path fail
 * first): a working lane is never torn down */
static int uct_mp_join_may_replace(uct_mp_ep_t *ep, unsigned j)
{
    uct_mp_iface_t *iface     = uct_mp_join_iface(ep);
    uct_mp_lane_state_t state = uct_mp_lane_state(ep, j);
    ucs_time_t silent         = ucs_get_time() -
                                ep->lane.slots[j].last_arrival;

    if ((state == UCT_MP_LANE_FAILED) || (state == UCT_MP_LANE_CONNECTING) ||
        (state == UCT_MP_LANE_CLOSED) ||
        ((iface->ka_interval > 0) && (silent >= iface->ka_interval))) {
        return 1;
    }

    ucs_diag("mp_rc: ep %p lane %u (%s): peer asks to rejoin it, but it is "
             "%s and heard from %.0f ms ago: refused", ep, j,
             iface->lanes[j].dev_name, uct_mp_lane_state_str(state),
             ucs_time_to_msec(silent));
    return 0;
}

/* Responder: our lane for the peer's rejoining lane i: the lane paired with
 * it before, else the same index; -1 if none may rejoin now */
static int uct_mp_join_rejoin_lane(uct_mp_ep_t *ep, const uct_mp_ctl_t *req,
                                   unsigned i)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    unsigned j;

    for (j = 0; j < iface->num_lanes; ++j) {
        if (ep->lane.slots[j].remote_lane == i) {
            break;
        }
    }
    if (j == iface->num_lanes) {
        j = i;
    }
    if ((j >= iface->num_lanes) || ((int)j == ep->lane.tx_lane) ||
        (i >= req->devs.lane_count) || !uct_mp_join_may_replace(ep, j) ||
        (req->devs.lanes[i].md_index >= UCT_MP_MAX_LANES) ||
        !uct_mp_lane_entries_fit(iface, j, &req->devs.lanes[i], NULL,
                                 &req->addrs.lanes[i])) {
        return -1;
    }

    if (uct_mp_link_is_down(iface, j)) {
        /* not over a link known to be down: connecting an rc lane there
         * blocks the worker in the QP's address resolution (about 1 s on
         * rxe), long enough for the peer's keepalive to give up on the lanes
         * that still work */
        ucs_diag("mp_rc: ep %p lane %u (%s): peer lane %u wants to rejoin, "
                 "but link %s is down", ep, j, iface->lanes[j].dev_name, i,
                 iface->link_netdev[j]);
        return -1;
    }
    return j;
}

/* Responder: replace our side j of the pair with the peer's lane i */
static ucs_status_t uct_mp_join_replace_lane(uct_mp_ep_t *ep,
                                             const uct_mp_ctl_t *req,
                                             unsigned i, unsigned j)
{
    ucs_status_t status;

    if ((uct_mp_lane_state(ep, j) != UCT_MP_LANE_FAILED) &&
        (uct_mp_lane_state(ep, j) != UCT_MP_LANE_CLOSED)) {
        /* the peer says the path is gone: so is our side (a drained lane
         * that comes back is closed on both sides already) */
        uct_mp_lane_fail(ep, j, UCS_ERR_CONNECTION_RESET);
    }
    uct_mp_lane_drop_ep(ep, j);
    status = uct_mp_lane_create(ep, j, UCT_MP_LANE_EV_RETRY);
    if (status != UCS_OK) {
        return status;
    }

    /* CONNECTED when the initiator's KEEPALIVE arrives on it */
    status = uct_mp_lane_connect(ep, j, &req->devs.lanes[i],
                                 &req->addrs.lanes[i], i,
                                 req->devs.lanes[i].md_index);
    if (status != UCS_OK) {
        uct_mp_lane_fail(ep, j, status);
    }
    return status;
}

void uct_mp_join_progress(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_join_iface(ep);
    uint8_t ep_addrs[UCT_MP_MAX_LANES][UINT8_MAX];
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_t req, ack;
    uint32_t offer = 0;
    unsigned i;
    int j;

    if ((ep->join.rejoin_req == NULL) ||
        (uct_mp_ctl_unpack(ep->join.rejoin_req, ep->join.rejoin_req_len, &req,
                           errmsg, sizeof(errmsg)) != 0)) {
        goto out;
    }

    uct_mp_join_ack_init(&ack, &req);
    for (i = 0; i < req.addrs.lane_count; ++i) {
        if (req.addrs.lanes[i].len == 0) {
            continue;
        }

        j = uct_mp_join_rejoin_lane(ep, &req, i);
        if ((j < 0) || (uct_mp_join_replace_lane(ep, &req, i, j) != UCS_OK)) {
            continue;
        }

        ack.pairs[i] = j;
        offer       |= UCS_BIT(j);
        ucs_diag("mp_rc: ep %p lane %d (%s): peer lane %u rejoins", ep, j,
                 iface->lanes[j].dev_name, i);
    }

    if (uct_mp_join_fill_lanes(ep, &ack, ep_addrs, offer) == UCS_OK) {
        uct_mp_ctrl_send(ep, uct_mp_join_ctl_lane(ep), &ack);
    }

out:
    ucs_free(ep->join.rejoin_req);
    ep->join.rejoin_req = NULL;
}

/* JOIN_REQ in the DONE state: a lane rejoins after a failure, answered from
 * progress, where lane eps may be destroyed and created */
static void uct_mp_join_queue_rejoin(uct_mp_ep_t *ep, const void *data,
                                     size_t length)
{
    ep->join.rejoin_req = ucs_malloc(length, "mp rejoin request");
    if (ep->join.rejoin_req == NULL) {
        ucs_error("mp_rc: ep %p: failed to keep a %zu-byte rejoin request", ep,
                  length);
        return;
    }

    memcpy(ep->join.rejoin_req, data, length);
    ep->join.rejoin_req_len = length;
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_REJOIN);
}

static void uct_mp_join_handle_nak(uct_mp_ep_t *ep, const uct_mp_ctl_t *msg)
{
    if ((ep->join.rejoin_lane >= 0) && (msg->join_id == ep->join.id)) {
        ucs_diag("mp_rc: ep %p: peer refused the rejoin of lane %d "
                 "(reason %u)", ep, ep->join.rejoin_lane, msg->reason);
        ep->join.rejoin_deadline = 0; /* the next tick gives it up */
    } else if ((ep->join.state == UCT_MP_JOIN_SENT) &&
               (msg->join_id == ep->join.id)) {
        ucs_diag("mp_rc: ep %p: peer ep 0x%x refused JOIN %u (reason %u): "
                 "one lane", ep, msg->src_token, msg->join_id, msg->reason);
        ep->join.state = UCT_MP_JOIN_DONE;
        uct_mp_join_close_unjoined(ep, UCT_MP_MAX_LANES);
    }
}

void uct_mp_join_handle_ctl(uct_mp_ep_t *ep, const uct_mp_ctl_t *msg,
                            const void *data, size_t length)
{
    switch (msg->type) {
    case UCT_MP_CTL_JOIN_REQ:
        if (ep->join.peer_id_valid &&
            ((int32_t)(msg->join_id - ep->join.peer_id) <= 0)) {
            /* every attempt of the peer has a new id: a repeated or older
             * one was answered already */
            ucs_debug("mp_rc: ep %p: JOIN_REQ %u of ep 0x%x again (last %u): "
                      "ignored", ep, msg->join_id, msg->src_token,
                      ep->join.peer_id);
            break;
        }
        ep->join.peer_id       = msg->join_id;
        ep->join.peer_id_valid = 1;
        if ((ep->join.state == UCT_MP_JOIN_DONE) &&
            (ep->join.rejoin_req == NULL)) {
            uct_mp_join_queue_rejoin(ep, data, length);
        } else {
            uct_mp_join_handle_req(ep, msg);
        }
        break;
    case UCT_MP_CTL_JOIN_ACK:
        if ((ep->join.state == UCT_MP_JOIN_SENT) &&
            (msg->join_id == ep->join.id)) {
            uct_mp_join_handle_ack(ep, msg);
        } else if ((ep->join.rejoin_lane >= 0) &&
                   (msg->join_id == ep->join.id)) {
            uct_mp_join_handle_rejoin_ack(ep, msg);
        }
        break;
    case UCT_MP_CTL_JOIN_NAK:
        uct_mp_join_handle_nak(ep, msg);
        break;
    default:
        break;
    }
}

const uct_mp_lane_listener_t uct_mp_join_lane_listener = {
    .lane_changed = uct_mp_join_lane_changed,
    .lane_ep_gone = NULL,
    .peer_failed  = NULL
};
