/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The control channel of an mp endpoint (see mp_ctrl.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_ctrl.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/datastruct/queue.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <string.h>


/* A control message waiting for its lane to have resources */
typedef struct uct_mp_ctrl_out {
    ucs_queue_elem_t         queue;
    uint8_t                  lane;
    uint8_t                  type;
    size_t                   length;
    uint8_t                  data[UCT_MP_CTL_MAX_LEN];
} uct_mp_ctrl_out_t;


void uct_mp_ctrl_ep_init(uct_mp_ep_t *ep)
{
    ucs_queue_head_init(&ep->ctrl.q);
    ep->ctrl.count       = 0;
    ep->ctrl.full_logged = 0;
}

void uct_mp_ctrl_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_ctrl_out_t *out;

    ucs_queue_for_each_extract(out, &ep->ctrl.q, queue, 1) {
        ucs_free(out);
    }
    ep->ctrl.count = 0;
}

static size_t uct_mp_ctrl_pack_cb(void *dest, void *arg)
{
    uct_mp_ctrl_out_t *out = arg;

    memcpy(dest, out->data, out->length);
    return out->length;
}

/* Post out on its lane: the lane's status, or UCS_ERR_NOT_CONNECTED */
static ssize_t uct_mp_ctrl_post(uct_mp_ep_t *ep, uct_mp_ctrl_out_t *out)
{
    uct_ep_h lane_ep = ep->lane.slots[out->lane].ep;
    ssize_t packed;

    packed = (lane_ep == NULL) ? UCS_ERR_NOT_CONNECTED :
             uct_ep_am_bcopy(lane_ep, UCT_MP_CTL_AM_ID, uct_mp_ctrl_pack_cb,
                             out, 0);
    if (packed == UCS_ERR_NO_RESOURCE) {
        return packed; /* stays queued */
    } else if ((packed < 0) &&
               (uct_mp_lane_state(ep, out->lane) != UCT_MP_LANE_FAILED)) {
        ucs_diag("mp_rc: ep %p lane %u: sending %s failed: %s", ep, out->lane,
                 uct_mp_ctl_type_str(out->type),
                 ucs_status_string((ucs_status_t)packed));
    } else if (packed < 0) {
        ucs_debug("mp_rc: ep %p lane %u failed: %s dropped", ep, out->lane,
                  uct_mp_ctl_type_str(out->type));
    } else {
        ucs_trace("mp_rc: ep %p lane %u: sent %s (%zd bytes)", ep, out->lane,
                  uct_mp_ctl_type_str(out->type), packed);
    }
    return packed;
}

/* A message about the endpoint rather than its lane (JOIN_*, DATA_ACK)
 * queued for a lane that failed or has no ep goes on the AM lane: dropped,
 * a lost JOIN leaves the endpoint on fewer lanes. Probes stay on their lane
 * (their answer is the lane's evidence). */
static void uct_mp_ctrl_retarget(uct_mp_ep_t *ep, uct_mp_ctrl_out_t *out)
{
    int am_lane = ep->lane.tx_lane;

    if ((out->type == UCT_MP_CTL_KEEPALIVE) ||
        (out->type == UCT_MP_CTL_KEEPALIVE_ACK) || (am_lane < 0) ||
        (am_lane == out->lane) ||
        ((ep->lane.slots[out->lane].ep != NULL) &&
         (uct_mp_lane_state(ep, out->lane) != UCT_MP_LANE_FAILED))) {
        return;
    }

    ucs_debug("mp_rc: ep %p: %s for lane %u goes on lane %d", ep,
              uct_mp_ctl_type_str(out->type), out->lane, am_lane);
    out->lane = am_lane;
}

/*
 * Send queued control messages, in order per lane. A lane without resources
 * (a tcp lane still connecting, a full send queue) holds back only its own
 * messages: the keepalive of the other lanes must not wait behind it.
 */
unsigned uct_mp_ctrl_progress(uct_mp_ep_t *ep)
{
    uint32_t blocked = 0; /* lanes that returned NO_RESOURCE */
    ucs_queue_iter_t iter;
    uct_mp_ctrl_out_t *out;
    unsigned count = 0;

    ucs_queue_for_each_safe(out, iter, &ep->ctrl.q, queue) {
        uct_mp_ctrl_retarget(ep, out);
        if (blocked & UCS_BIT(out->lane)) {
            continue;
        }

        if (uct_mp_ctrl_post(ep, out) == UCS_ERR_NO_RESOURCE) {
            blocked |= UCS_BIT(out->lane);
            continue;
        }

        ucs_queue_del_iter(&ep->ctrl.q, iter);
        ucs_free(out);
        --ep->ctrl.count;
        ++count;
    }

    if (!ucs_queue_is_empty(&ep->ctrl.q)) {
        uct_mp_work_schedule(&ep->work, UCT_MP_WORK_CTRL);
    }
    return count;
}

void uct_mp_ctrl_first(uct_mp_ep_t *ep)
{
    if (ucs_unlikely(!ucs_queue_is_empty(&ep->ctrl.q))) {
        uct_mp_ctrl_progress(ep);
    }
}

/* An acknowledgement of the same kind waiting in the queue: the newer one
 * takes its place (a peer's probes or duplicates cannot grow the queue) */
static uct_mp_ctrl_out_t *uct_mp_ctrl_coalesce(uct_mp_ep_t *ep, unsigned lane,
                                               uint8_t type)
{
    uct_mp_ctrl_out_t *out;

    if ((type != UCT_MP_CTL_DATA_ACK) && (type != UCT_MP_CTL_KEEPALIVE_ACK)) {
        return NULL;
    }

    ucs_queue_for_each(out, &ep->ctrl.q, queue) {
        if ((out->type == type) &&
            ((type == UCT_MP_CTL_DATA_ACK) || (out->lane == lane))) {
            return out;
        }
    }
    return NULL;
}

ucs_status_t uct_mp_ctrl_send(uct_mp_ep_t *ep, unsigned lane, uct_mp_ctl_t *msg)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctrl_out_t *out, *queued;

    msg->dst_token = ep->remote_token;
    msg->src_token = ep->token;
    queued         = uct_mp_ctrl_coalesce(ep, lane, msg->type);
    if (queued != NULL) {
        out = queued;
    } else if (ep->ctrl.count >= UCT_MP_CTRL_QUEUE_MAX) {
        if (!ep->ctrl.full_logged) {
            ep->ctrl.full_logged = 1;
            ucs_error("mp_rc: ep %p: %u control messages wait to be sent: %s "
                      "on lane %u dropped (later ones silently)", ep,
                      ep->ctrl.count, uct_mp_ctl_type_str(msg->type), lane);
        }
        return UCS_ERR_NO_RESOURCE;
    } else {
        out = ucs_malloc(sizeof(*out), "mp control message");
        if (out == NULL) {
            ucs_error("mp_rc: ep %p: failed to allocate a control message", ep);
            return UCS_ERR_NO_MEMORY;
        }
    }

    out->lane      = lane;
    out->type      = msg->type;
    out->length    = uct_mp_ctl_pack(msg, out->data, sizeof(out->data),
                                     errmsg, sizeof(errmsg));
    if (out->length == 0) {
        /* an ack (fixed size) in a queued one's place always packs */
        ucs_error("mp_rc: ep %p: %s", ep, errmsg);
        if (queued == NULL) {
            ucs_free(out);
        }
        return UCS_ERR_INVALID_PARAM;
    }

    if (queued != NULL) {
        return UCS_OK; /* sent in the queued one's place */
    }

    ++ep->ctrl.count;
    ucs_queue_push(&ep->ctrl.q, &out->queue);
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_CTRL);
    return UCS_OK;
}

ucs_status_t uct_mp_ctrl_am_handler(void *arg, void *data, size_t length,
                                    unsigned flags)
{
    uct_mp_ctl_trampoline_t *trampoline = arg;
    uct_mp_iface_t *iface               = trampoline->iface;
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_ctl_t msg;
    uct_mp_ep_t *ep;

    if (uct_mp_ctl_unpack(data, length, &msg, errmsg, sizeof(errmsg)) != 0) {
        if (!iface->bad_ctl_logged) {
            iface->bad_ctl_logged = 1;
            ucs_error("mp_rc: dropping control message on lane %u: %s",
                      trampoline->lane, errmsg);
        }
        return UCS_OK;
    }

    ep = uct_mp_peer_ep_by_token(iface, msg.dst_token);
    if ((ep == NULL) ||
        ((ep->remote_token != 0) && (ep->remote_token != msg.src_token))) {
        ucs_debug("mp_rc: %s from ep 0x%x to unknown ep 0x%x dropped",
                  uct_mp_ctl_type_str(msg.type), msg.src_token, msg.dst_token);
        return UCS_OK;
    }

    ucs_trace("mp_rc: ep %p lane %u: got %s from ep 0x%x", ep,
              trampoline->lane, uct_mp_ctl_type_str(msg.type), msg.src_token);
    uct_mp_lane_arrival(ep, trampoline->lane);
    iface->ctl_dispatch(ep, trampoline->lane, &msg, data, length);
    return UCS_OK;
}
