/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The mp_rc endpoint: creation, connection and destruction, and the three
 * entry points of everything that happens to it later: its progress
 * callback (deferred work of every module, mp_work.h), the keepalive tick,
 * and control message dispatch. The data path is in mp_ep_ops.c.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_ep.h"

#include <ucs/debug/log.h>
#include <ucs/time/time.h>
#include <ucs/sys/string.h>
#include <string.h>


/* The modules that hear of lane events, in the order they are told */
static const uct_mp_lane_listener_t *const uct_mp_ep_lane_listeners[] = {
    &uct_mp_keepalive_lane_listener,
    &uct_mp_rma_lane_listener,
    &uct_mp_am_lane_listener,
    &uct_mp_join_lane_listener,
    &uct_mp_pending_lane_listener,
    &uct_mp_flush_lane_listener,
    &uct_mp_drain_lane_listener,
    NULL
};


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_ep_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

/*
 * The endpoint's progress callback: the steps its modules asked for. A step
 * that may end in the endpoint's error (a lane failing under a flush, a
 * pending request that finds its last lane broken) may let UCP release the
 * endpoint, so at most one of those runs per call, last.
 */
static unsigned uct_mp_ep_progress(void *arg)
{
    uct_mp_ep_t *ep = arg;
    unsigned bits   = uct_mp_work_take(&ep->work);
    unsigned count  = 0;

    if (bits & UCT_MP_WORK_LANE_GC) {
        count += uct_mp_lane_gc(ep);
    }
    if (bits & UCT_MP_WORK_CTRL) {
        count += uct_mp_ctrl_progress(ep);
    }
    if (bits & UCT_MP_WORK_REJOIN) {
        uct_mp_join_progress(ep);
    }
    if (bits & UCT_MP_WORK_AM_REPLAY) {
        uct_mp_am_progress(ep);
    }
    if (bits & UCT_MP_WORK_STRIPE) {
        count += uct_mp_rma_progress(ep);
    }
    if (bits & UCT_MP_WORK_FLUSH) {
        uct_mp_flush_progress(ep);
    }
    if (bits & UCT_MP_WORK_DRAIN) {
        uct_mp_drain_progress(ep);
    }

    if (bits & UCT_MP_WORK_PENDING) {
        if (bits & UCT_MP_WORK_FENCE) {
            uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FENCE);
        }
        uct_mp_pending_progress(ep);
    } else if (bits & UCT_MP_WORK_FENCE) {
        uct_mp_fence_progress(ep);
    }
    return count + 1;
}

int uct_mp_ep_tick(uct_mp_ep_t *ep, ucs_time_t now)
{
    if ((ep->remote_token == 0) || ep->lane.peer_failed || ep->closing) {
        return 1; /* connect-to-iface eps have no peer ep to answer */
    }

    uct_mp_am_send_ack(ep, 0); /* what a quiet receiver still owes */
    uct_mp_join_failback_tick(ep, now);
    return uct_mp_keepalive_check(ep, now);
}

void uct_mp_ep_ctl_dispatch(uct_mp_ep_t *ep, unsigned lane,
                            const uct_mp_ctl_t *msg, const void *data,
                            size_t length)
{
    switch (msg->type) {
    case UCT_MP_CTL_KEEPALIVE:
        uct_mp_join_handle_keepalive(ep, lane, msg);
        uct_mp_am_send_ack(ep, 1); /* a probe also asks for it */
        uct_mp_keepalive_answer(ep, lane, msg->probe_seq);
        break;
    case UCT_MP_CTL_KEEPALIVE_ACK:
        /* the lane's evidence of life; on a rejoining lane also the
         * confirmation */
        uct_mp_keepalive_probe_answered(ep, lane, msg->probe_seq);
        uct_mp_join_rejoin_confirmed(ep, lane);
        break;
    case UCT_MP_CTL_DATA_ACK:
        uct_mp_am_handle_ack(ep, msg->probe_seq);
        break;
    case UCT_MP_CTL_DRAIN:
    case UCT_MP_CTL_DRAIN_DONE:
        uct_mp_drain_handle_ctl(ep, msg);
        break;
    default:
        uct_mp_join_handle_ctl(ep, msg, data, length);
        break;
    }
}

/* Connect to the peer's iface: one lane ep per lane pair */
static ucs_status_t uct_mp_ep_connect_to_iface(uct_mp_ep_t *ep,
                                               const uct_ep_params_t *params)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    int remote_of_local[UCT_MP_MAX_LANES];
    uct_mp_wire_t peer_dev, dev, ifc;
    ucs_status_t status;
    unsigned lane;
    int remote;

    if (!(iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        ucs_error("mp_rc: ep %p: lanes connect ep to ep, not to an iface", ep);
        return UCS_ERR_UNSUPPORTED;
    }

    status = uct_mp_peer_unpack_device(iface, params->dev_addr, &peer_dev);
    if (status != UCS_OK) {
        return status;
    }

    status = uct_mp_peer_unpack_lanes(iface, params->iface_addr,
                                      UCT_MP_WIRE_IFACE_ADDR, &dev, &ifc);
    if (status != UCS_OK) {
        return status;
    }

    if (uct_mp_lane_pair(iface, &dev, &ifc, NULL, UCS_MASK(UCT_MP_MAX_LANES),
                         0, remote_of_local) == 0) {
        ucs_error("mp_rc: none of %u local and %u peer lanes is reachable",
                  iface->num_lanes, dev.lane_count);
        return UCS_ERR_UNREACHABLE;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        remote = remote_of_local[lane];
        if (remote >= 0) {
            uct_mp_lane_create_to_iface(ep, lane, &dev.lanes[remote],
                                        &ifc.lanes[remote], remote,
                                        dev.lanes[remote].md_index);
        }
    }

    return (ep->lane.tx_lane < 0) ? UCS_ERR_UNREACHABLE : UCS_OK;
}

/* Create an unconnected lane ep on every lane; connect_to_ep pairs them */
static ucs_status_t uct_mp_ep_create_for_ep(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    ucs_status_t status;
    unsigned lane;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        status = uct_mp_lane_create(ep, lane, UCT_MP_LANE_EV_CREATE);
        if (status != UCS_OK) {
            ucs_error("mp_rc: ep %p lane %u (%s) create failed: %s", ep, lane,
                      uct_mp_lane_name(ep, lane), ucs_status_string(status));
            return status;
        }
    }
    return UCS_OK;
}

/*
 * ep address (v2) = caps, lane transport, token and the primary lane's ep
 * address, whatever the lane count: it must fit RDMA-CM private data in UCP's
 * client-server flow. The other lanes join over the primary lane.
 */
ucs_status_t uct_mp_ep_get_address(uct_ep_h tl_ep, uct_ep_addr_t *addr)
{
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    uct_mp_md_t *md       = ucs_derived_of(iface->super.md, uct_mp_md_t);
    uint8_t primary_addr[UINT8_MAX];
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t msg = {0};
    ucs_status_t status;

    if (ep->lane.slots[0].ep == NULL) {
        ucs_error("mp_rc: ep %p has no primary lane ep to address", ep);
        return UCS_ERR_INVALID_PARAM;
    }

    status = uct_ep_get_address(ep->lane.slots[0].ep,
                                (uct_ep_addr_t*)primary_addr);
    if (status != UCS_OK) {
        return status;
    }

    msg.kind          = UCT_MP_WIRE_EP_ADDR;
    msg.caps          = iface->caps;
    msg.lane_tl       = md->lane_tl;
    msg.token         = ep->token;
    msg.lane_count    = 1;
    msg.lanes[0].len  = iface->lanes[0].attr.ep_addr_len;
    msg.lanes[0].data = primary_addr;
    if (uct_mp_wire_pack(&msg, addr, iface->ep_addr_len, errmsg,
                         sizeof(errmsg)) == 0) {
        ucs_error("mp_rc: %s", errmsg);
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

/* Decode and check the peer's ep address */
static ucs_status_t uct_mp_ep_unpack_ep_addr(uct_mp_iface_t *iface,
                                             const uct_ep_addr_t *ep_addr,
                                             uct_mp_wire_t *epa)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    ucs_status_t status;

    status = uct_mp_peer_unpack(iface, ep_addr, UCT_MP_WIRE_EP_ADDR,
                                "ep address", epa);
    if (status != UCS_OK) {
        return status;
    }

    if (epa->lanes[0].len != iface->lanes[0].attr.ep_addr_len) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg), "primary lane ep address of "
                          "%u bytes, %s lanes use %zu", epa->lanes[0].len,
                          ucs_derived_of(iface->super.md,
                                         uct_mp_md_t)->lane_tl_name,
                          iface->lanes[0].attr.ep_addr_len);
        uct_mp_peer_log_bad_addr(iface, "ep address", errmsg);
        return UCS_ERR_UNREACHABLE;
    }
    return UCS_OK;
}

/*
 * dev_addr is our v2 device address (worker-address flow) or, in UCP's
 * client-server flow, the connection manager's address of the peer's primary
 * lane device in the lane transport's own format.
 */
ucs_status_t uct_mp_ep_connect_to_ep(uct_ep_h tl_ep,
                                     const uct_device_addr_t *dev_addr,
                                     const uct_ep_addr_t *ep_addr)
{
    uct_mp_ep_t *ep       = ucs_derived_of(tl_ep, uct_mp_ep_t);
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    uct_mp_wire_t dev, epa;
    ucs_status_t status;

    status = uct_mp_ep_unpack_ep_addr(iface, ep_addr, &epa);
    if (status != UCS_OK) {
        return status;
    }

    if (!uct_mp_peer_is_foreign_device(dev_addr)) {
        status = uct_mp_peer_unpack_device(iface, dev_addr, &dev);
        if (status != UCS_OK) {
            return status;
        }
    } else {
        /* the connection manager's, of the lane transport's own length */
        dev.lanes[0].len  = iface->lanes[0].attr.device_addr_len;
        dev.lanes[0].data = dev_addr;
    }

    /* The primary lanes pair: each side published its lane 0 ep address;
     * the peer's primary md is its md 0, by rule */
    status = uct_mp_lane_connect(ep, 0, &dev.lanes[0], &epa.lanes[0], 0, 0);
    if (status != UCS_OK) {
        ucs_error("mp_rc: ep %p primary lane (%s) connect failed: %s", ep,
                  uct_mp_lane_name(ep, 0), ucs_status_string(status));
        return status;
    }

    ep->remote_token = epa.token;
    uct_mp_am_ep_connected(ep, epa.caps);
    uct_mp_lane_event(ep, 0, UCT_MP_LANE_EV_CONNECTED);
    uct_mp_join_primary_connected(ep, epa.caps);
    uct_mp_drain_ep_connected(ep, epa.caps);

    ucs_debug("mp_rc: ep %p token 0x%x connected to ep 0x%x, join %s", ep,
              ep->token, ep->remote_token,
              (ep->join.state == UCT_MP_JOIN_WANTED) ? "wanted" :
                                                       "not needed");
    return UCS_OK;
}

void uct_mp_ep_dump(uct_mp_ep_t *ep, FILE *stream)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    unsigned lane;

    fprintf(stream, "mp_rc: ep %p token 0x%x peer 0x%x join %d tx_lane %d "
            "busy_lane %d peer_failed %d closing %d work 0x%x\n", ep,
            ep->token, ep->remote_token, ep->join.state, ep->lane.tx_lane,
            ep->lane.busy_lane, ep->lane.peer_failed, ep->closing,
            ep->work.mask);
    fprintf(stream, "  queues: pending %zu (in_pending %d) ctl %zu stripe %zu "
            "replay %zu flush %zu; rejoin lane %d\n",
            ucs_queue_length(&ep->pending.q), ep->pending.in_pending,
            ucs_queue_length(&ep->ctrl.q), ucs_queue_length(&ep->rma.stripe_q),
            ucs_queue_length(&ep->rma.replay_q), ucs_queue_length(&ep->flush.q),
            ep->join.rejoin_lane);
    fprintf(stream, "  am: seq %d tx_dsn %u rx_expected %u rx_acked %u "
            "probe_dsn %u ring %u lane %d replay %d refused %u\n", ep->am.seq,
            ep->am.tx_dsn, ep->am.rx_expected, ep->am.rx_acked,
            ep->am.probe_dsn, ep->am.ring_len, ep->am.lane, ep->am.replay,
            ep->am.refused);
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        fprintf(stream, "  lane %u (%s): %s ep %p remote %u wakeup %s, "
                "outstanding %zu B, weight %.1f MB/s, probe %u\n", lane,
                iface->lanes[lane].dev_name,
                uct_mp_lane_state_str(uct_mp_lane_state(ep, lane)),
                ep->lane.slots[lane].ep, ep->lane.slots[lane].remote_lane,
                ep->pending.wakeups[lane].armed ? "armed" : "-",
                uct_mp_sched_outstanding(ep->rma.sched, lane),
                uct_mp_sched_weight(ep->rma.sched, lane) / 1e6,
                ep->ka.lanes[lane].probe_seq);
    }
}

/* Report every lane as it was, before closing re-elects the others */
static void uct_mp_ep_report_lanes(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    const uct_mp_lane_counters_t *counters;
    uct_mp_lane_state_t state;
    unsigned lane;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        counters = uct_mp_lanes_counters(ep->lane.sm, lane);
        state    = uct_mp_lane_state(ep, lane);
        if ((counters != NULL) && ((ep->lane.slots[lane].ep != NULL) ||
                                   (state == UCT_MP_LANE_FAILED))) {
            ucs_info("mp_rc: ep %p lane %u (%s) state %s: %" PRIu64 " ops, %"
                     PRIu64 " bytes, %" PRIu64 " errors; striping weight "
                     "%.1f MB/s, %zu bytes outstanding", ep, lane,
                     uct_mp_lane_name(ep, lane), uct_mp_lane_state_str(state),
                     counters->tx_ops, counters->tx_bytes, counters->errors,
                     uct_mp_sched_weight(ep->rma.sched, lane) / 1e6,
                     uct_mp_sched_outstanding(ep->rma.sched, lane));
        }
    }
}

/* Undo uct_mp_ep_init_modules(); lanes destroyed first, so what they held
 * comes back before the modules go */
static void uct_mp_ep_cleanup_modules(uct_mp_ep_t *ep)
{
    ep->closing = 1;
    uct_mp_fence_ep_cleanup(ep);
    if (ep->lane.sm != NULL) {
        uct_mp_ep_report_lanes(ep);
    }
    uct_mp_lane_ep_cleanup(ep);
    uct_mp_am_ep_cleanup(ep);
    uct_mp_flush_ep_cleanup(ep);
    uct_mp_rma_ep_cleanup(ep);
    uct_mp_bounce_ep_cleanup(ep);
    uct_mp_join_cleanup(ep);
    uct_mp_ctrl_ep_cleanup(ep);
    uct_mp_work_cleanup(&ep->work);
}

static ucs_status_t uct_mp_ep_init_modules(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(ep);
    ucs_status_t status, rma_status;

    ep->token        = 0;
    ep->remote_token = 0;
    ep->closing      = 0;
    uct_mp_work_init(&ep->work, &iface->super.worker->super,
                     uct_mp_ep_progress, ep);
    uct_mp_ctrl_ep_init(ep);
    uct_mp_pending_init(ep);
    uct_mp_am_ep_init(ep);
    uct_mp_flush_ep_init(ep);
    uct_mp_join_init(ep);
    uct_mp_drain_init(ep);
    uct_mp_bounce_ep_init(ep);
    uct_mp_fence_ep_init(ep);
    uct_mp_keepalive_ep_init(ep);
    /* both leave a state their cleanup takes, even when they fail */
    status     = uct_mp_lane_ep_init(ep, uct_mp_ep_lane_listeners);
    rma_status = uct_mp_rma_ep_init(ep);
    return (status != UCS_OK) ? status : rma_status;
}

static UCS_CLASS_INIT_FUNC(uct_mp_ep_t, const uct_ep_params_t *params)
{
    uct_mp_iface_t *iface;
    ucs_status_t status;

    UCT_CHECK_PARAM(params->field_mask & UCT_EP_PARAM_FIELD_IFACE,
                    "UCT_EP_PARAM_FIELD_IFACE is not defined");
    UCT_CHECK_PARAM(!(params->field_mask & UCT_EP_PARAM_FIELD_IFACE_ADDR) ||
                    (params->field_mask & UCT_EP_PARAM_FIELD_DEV_ADDR),
                    "UCT_EP_PARAM_FIELD_IFACE_ADDR needs "
                    "UCT_EP_PARAM_FIELD_DEV_ADDR");
    iface = ucs_derived_of(params->iface, uct_mp_iface_t);

    UCS_CLASS_CALL_SUPER_INIT(uct_base_ep_t, &iface->super);

    status = uct_mp_ep_init_modules(self);
    if (status != UCS_OK) {
        goto err_cleanup_modules;
    }

    status = uct_mp_peer_add_ep(iface, self, &self->token);
    if (status != UCS_OK) {
        goto err_cleanup_modules;
    }
    ucs_list_add_tail(&iface->eps, &self->list);

    if (params->field_mask & UCT_EP_PARAM_FIELD_IFACE_ADDR) {
        status = uct_mp_ep_connect_to_iface(self, params);
    } else {
        status = uct_mp_ep_create_for_ep(self);
    }
    if (status != UCS_OK) {
        goto err_remove_ep;
    }

    ucs_debug("mp_rc: ep %p token 0x%x created, tx lane %d", self, self->token,
              self->lane.tx_lane);
    return UCS_OK;

err_remove_ep:
    uct_mp_peer_remove_ep(iface, self->token);
    ucs_list_del(&self->list);
err_cleanup_modules:
    uct_mp_ep_cleanup_modules(self);
    return status;
}

static UCS_CLASS_CLEANUP_FUNC(uct_mp_ep_t)
{
    uct_mp_iface_t *iface = uct_mp_ep_iface(self);

    uct_mp_peer_remove_ep(iface, self->token);
    ucs_list_del(&self->list);
    uct_mp_ep_cleanup_modules(self);
}

UCS_CLASS_DEFINE(uct_mp_ep_t, uct_base_ep_t);
UCS_CLASS_DEFINE_NEW_FUNC(uct_mp_ep_t, uct_ep_t, const uct_ep_params_t*);
UCS_CLASS_DEFINE_DELETE_FUNC(uct_mp_ep_t, uct_ep_t);
