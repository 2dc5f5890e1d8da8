/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * HELLO, HELLO_ACK and BYE; passive partners: creation, lookup, release (see
 * mp_hello.h and docs/DESIGN.md section 5).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_hello.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/time/time.h>
#include <string.h>


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_hello_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

void uct_mp_hello_init(uct_mp_ep_t *ep)
{
    memset(&ep->hello, 0, sizeof(ep->hello));
    ep->hello.state = UCT_MP_HELLO_NONE;
}

void uct_mp_hello_cleanup(uct_mp_ep_t *ep)
{
    if (ep->hello.state == UCT_MP_HELLO_PARTNER) {
        --uct_mp_hello_iface(ep)->hello_partners;
    }
    ucs_free(ep->hello.peer_addr);
    ep->hello.peer_addr = NULL;
    ep->hello.state     = UCT_MP_HELLO_NONE;
}

/* The lane of the next HELLO: the AM lane first, then each lane in turn,
 * so a HELLO gets through when the primary path died before the answer */
static int uct_mp_hello_lane(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_hello_iface(ep);
    unsigned i, lane;

    if (ep->hello.sent == 0) {
        return ep->lane.tx_lane;
    }

    for (i = 0; i < iface->num_lanes; ++i) {
        lane = (ep->hello.sent + i) % iface->num_lanes;
        if (uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED)) {
            return lane;
        }
    }
    return -1;
}

/* HELLO: caps, lane pairs, and the iface's own [lane devices][lane iface
 * addresses] (the iface address UCP published) */
static void uct_mp_hello_send(uct_mp_ep_t *ep, ucs_time_t now)
{
    uct_mp_iface_t *iface = uct_mp_hello_iface(ep);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_t msg;
    unsigned lane;
    int tx_lane;

    ep->hello.retry_at = now + ucs_time_from_msec(UCT_MP_HELLO_RETRY_MS);
    tx_lane            = uct_mp_hello_lane(ep);
    if (tx_lane < 0) {
        return;
    }

    memset(&msg, 0, sizeof(msg));
    if ((uct_mp_wire_unpack(iface->lanes_addr, iface->lanes_addr_len,
                            UCT_MP_WIRE_LANE_DEVS, &msg.devs, errmsg,
                            sizeof(errmsg)) != 0) ||
        (uct_mp_wire_unpack(iface->iface_addr + iface->lanes_addr_len,
                            iface->iface_addr_len - iface->lanes_addr_len,
                            UCT_MP_WIRE_IFACE_ADDR, &msg.addrs, errmsg,
                            sizeof(errmsg)) != 0)) {
        ucs_error("mp_rc: ep %p: own iface address: %s", ep, errmsg);
        return;
    }

    msg.type       = UCT_MP_CTL_HELLO;
    msg.lane       = tx_lane;
    msg.caps       = iface->caps;
    msg.pair_count = iface->num_lanes;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        msg.pairs[lane] = (ep->lane.slots[lane].ep == NULL) ?
                          UCT_MP_CTL_NO_PAIR :
                          ep->lane.slots[lane].remote_lane;
    }

    ++ep->hello.sent;
    ucs_debug("mp_rc: ep %p token 0x%x: HELLO %u on lane %d", ep, ep->token,
              ep->hello.sent, tx_lane);
    uct_mp_ctrl_send(ep, tx_lane, &msg);
}

void uct_mp_hello_start(uct_mp_ep_t *ep, uint8_t peer_caps)
{
    uct_mp_iface_t *iface = uct_mp_hello_iface(ep);
    uint8_t caps          = peer_caps & iface->caps;

    if (!(caps & UCT_MP_CAP_HELLO) || !(caps & UCT_MP_CAP_SEQ)) {
        ucs_debug("mp_rc: ep %p: peer offers no HELLO (caps 0x%x): AMs go "
                  "unsequenced", ep, peer_caps);
        return;
    }

    ep->hello.state = UCT_MP_HELLO_SENT;
    uct_mp_hello_send(ep, ucs_get_time());
}

void uct_mp_hello_acked(uct_mp_ep_t *ep)
{
    ucs_debug("mp_rc: ep %p token 0x%x: HELLO_ACK from partner 0x%x after %u "
              "HELLOs", ep, ep->token, ep->remote_token, ep->hello.sent);
    ep->hello.state = UCT_MP_HELLO_DONE;
    if (!ucs_queue_is_empty(&ep->pending.q)) {
        /* what UCP queued while the HELLO was out */
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_PENDING);
    }
}

/* Fail every lane of a sender nobody answers: UCP hears of the error */
static void uct_mp_hello_give_up(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_hello_iface(ep);
    unsigned lane;

    ucs_error("mp_rc: ep %p token 0x%x: no HELLO_ACK after %u HELLOs in %u "
              "ms: failing its lanes", ep, ep->token, ep->hello.sent,
              ep->hello.sent * UCT_MP_HELLO_RETRY_MS);
    ep->hello.state = UCT_MP_HELLO_NONE;
    for (lane = 0; (lane < iface->num_lanes) && !ep->lane.peer_failed;
         ++lane) {
        if ((ep->lane.slots[lane].ep != NULL) &&
            (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_FAILED)) {
            uct_mp_lane_fail(ep, lane, UCS_ERR_ENDPOINT_TIMEOUT);
        }
    }
}

int uct_mp_hello_tick(uct_mp_ep_t *ep, ucs_time_t now)
{
    if ((ep->hello.state != UCT_MP_HELLO_SENT) ||
        ((int64_t)(now - ep->hello.retry_at) < 0)) {
        return 1;
    }

    if (ep->hello.sent >= UCT_MP_HELLO_MAX_SENT) {
        uct_mp_hello_give_up(ep);
        return 0;
    }

    uct_mp_hello_send(ep, now);
    return 1;
}

/* Release doomed partners (a one-shot progress callback: never from inside
 * a lane's callback) */
static unsigned uct_mp_hello_reap(void *arg)
{
    uct_mp_iface_t *iface = arg;
    unsigned count        = 0;
    uct_mp_ep_t *ep, *tmp;

    iface->hello_prog_id = UCS_CALLBACKQ_ID_NULL;
    ucs_list_for_each_safe(ep, tmp, &iface->eps, list) {
        if ((ep->hello.state == UCT_MP_HELLO_PARTNER) && ep->hello.doomed) {
            ucs_debug("mp_rc: iface %p: releasing partner %p of ep 0x%x",
                      iface, ep, ep->remote_token);
            uct_ep_destroy(&ep->super.super);
            ++count;
        }
    }
    return count;
}

static void uct_mp_hello_doom(uct_mp_ep_t *ep, const char *why)
{
    uct_mp_iface_t *iface = uct_mp_hello_iface(ep);

    if ((ep->hello.state != UCT_MP_HELLO_PARTNER) || ep->hello.doomed) {
        return;
    }

    ucs_debug("mp_rc: partner %p token 0x%x of ep 0x%x: %s", ep, ep->token,
              ep->remote_token, why);
    ep->hello.doomed = 1;
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_hello_reap, iface,
                                      UCS_CALLBACKQ_FLAG_ONESHOT,
                                      &iface->hello_prog_id);
}

void uct_mp_hello_handle_bye(uct_mp_ep_t *ep)
{
    uct_mp_hello_doom(ep, "the sender said BYE");
}

void uct_mp_hello_bye(uct_mp_ep_t *ep)
{
    uct_mp_ctl_t msg;

    if ((ep->hello.state != UCT_MP_HELLO_DONE) || ep->lane.peer_failed ||
        (ep->lane.tx_lane < 0)) {
        return;
    }

    memset(&msg, 0, sizeof(msg));
    msg.type = UCT_MP_CTL_BYE;
    msg.lane = ep->lane.tx_lane;
    uct_mp_ctrl_send_now(ep, ep->lane.tx_lane, &msg);
}

/* Listener: a partner with no lane left has nobody to serve */
static void uct_mp_hello_peer_failed(uct_mp_ep_t *ep, ucs_status_t status)
{
    uct_mp_hello_doom(ep, "every lane to the sender failed");
}

/* The partner the sender of msg made with this iface address, if any */
static uct_mp_ep_t *uct_mp_hello_find(uct_mp_iface_t *iface,
                                      const uct_mp_ctl_t *msg,
                                      const void *addr, size_t addr_len)
{
    uct_mp_ep_t *ep;

    ucs_list_for_each(ep, &iface->eps, list) {
        if ((ep->hello.state == UCT_MP_HELLO_PARTNER) && !ep->hello.doomed &&
            (ep->remote_token == msg->src_token) &&
            (ep->hello.peer_addr_len == addr_len) &&
            !memcmp(ep->hello.peer_addr, addr, addr_len)) {
            return ep;
        }
    }
    return NULL;
}

/* HELLO_ACK on the lane the HELLO came in on, when the partner has it */
static void uct_mp_hello_send_ack(uct_mp_ep_t *partner, unsigned lane)
{
    uct_mp_ctl_t ack;

    if (!uct_mp_lane_usable(partner, lane, UCT_MP_LANE_USE_CONNECTED)) {
        lane = partner->lane.tx_lane;
    }

    memset(&ack, 0, sizeof(ack));
    ack.type = UCT_MP_CTL_HELLO_ACK;
    ack.lane = lane;
    ack.caps = uct_mp_hello_iface(partner)->caps;
    uct_mp_ctrl_send(partner, lane, &ack);
}

/* Make the partner of msg's sender (mp_ep.c builds its lanes from msg) */
static uct_mp_ep_t *uct_mp_hello_new_partner(uct_mp_iface_t *iface,
                                             const uct_mp_ctl_t *msg,
                                             const void *addr, size_t addr_len)
{
    uct_ep_params_t params;
    ucs_status_t status;
    uct_mp_ep_t *partner;
    uct_ep_h tl_ep;

    if (iface->hello_partners >= UCT_MP_HELLO_MAX_PARTNERS) {
        if (!iface->hello_limit_logged) {
            iface->hello_limit_logged = 1;
            ucs_error("mp_rc: iface %p keeps %u passive partners already: "
                      "HELLO of ep 0x%x (and later ones) dropped", iface,
                      iface->hello_partners, msg->src_token);
        }
        return NULL;
    }

    params.field_mask     = UCT_EP_PARAM_FIELD_IFACE;
    params.iface          = &iface->super.super;
    iface->hello_creating = msg;
    status                = UCS_CLASS_NEW_FUNC_NAME(uct_mp_ep_t)(&params,
                                                                 &tl_ep);
    iface->hello_creating = NULL;
    if (status != UCS_OK) {
        ucs_diag("mp_rc: iface %p: no partner for the HELLO of ep 0x%x: %s",
                 iface, msg->src_token, ucs_status_string(status));
        return NULL;
    }

    partner                     = ucs_derived_of(tl_ep, uct_mp_ep_t);
    partner->hello.state        = UCT_MP_HELLO_PARTNER;
    partner->hello.peer_addr    = ucs_malloc(addr_len, "mp partner address");
    if (partner->hello.peer_addr != NULL) {
        memcpy(partner->hello.peer_addr, addr, addr_len);
        partner->hello.peer_addr_len = addr_len;
    }
    ++iface->hello_partners;
    ucs_debug("mp_rc: iface %p: partner %p token 0x%x for ep 0x%x, %u "
              "partners", iface, partner, partner->token, msg->src_token,
              iface->hello_partners);
    return partner;
}

void uct_mp_hello_handle(uct_mp_iface_t *iface, unsigned lane,
                         const uct_mp_ctl_t *msg, const void *data,
                         size_t length)
{
    /* [lane devices][lane iface addresses] end the message */
    size_t addr_len  = msg->devs.total_len + msg->addrs.total_len;
    const void *addr = UCS_PTR_BYTE_OFFSET(data, length - addr_len);
    uct_mp_ep_t *partner;

    partner = uct_mp_hello_find(iface, msg, addr, addr_len);
    if (partner != NULL) {
        ucs_debug("mp_rc: iface %p: HELLO of ep 0x%x again: partner %p", iface,
                  msg->src_token, partner);
    } else {
        partner = uct_mp_hello_new_partner(iface, msg, addr, addr_len);
        if (partner == NULL) {
            return;
        }
    }

    uct_mp_lane_arrival(partner, lane);
    uct_mp_hello_send_ack(partner, lane);
}

void uct_mp_hello_iface_cleanup(uct_mp_iface_t *iface)
{
    uct_mp_ep_t *ep, *tmp;

    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &iface->hello_prog_id);
    if (iface->hello_partners > 0) {
        ucs_debug("mp_rc: iface %p closes: releasing %u passive partners",
                  iface, iface->hello_partners);
    }
    ucs_list_for_each_safe(ep, tmp, &iface->eps, list) {
        if (ep->hello.state == UCT_MP_HELLO_PARTNER) {
            uct_ep_destroy(&ep->super.super);
        }
    }
}

const uct_mp_lane_listener_t uct_mp_hello_lane_listener = {
    .lane_changed = NULL,
    .lane_ep_gone = NULL,
    .peer_failed  = uct_mp_hello_peer_failed
};
