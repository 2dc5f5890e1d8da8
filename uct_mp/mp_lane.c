/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The lanes of an mp endpoint (see mp_lane.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_lane.h"
#include "mp_ep.h"
#include "mp_peer.h"
#include "mp_lane_quirk.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <ucs/time/time.h>
#include <string.h>


static UCS_F_ALWAYS_INLINE uct_mp_iface_t *uct_mp_lane_iface(uct_mp_ep_t *ep)
{
    return ucs_derived_of(ep->super.super.iface, uct_mp_iface_t);
}

const char *uct_mp_lane_name(uct_mp_ep_t *ep, unsigned lane)
{
    return uct_mp_lane_iface(ep)->lanes[lane].dev_name;
}

ucs_status_t uct_mp_lane_ep_init(uct_mp_ep_t *ep,
                                 const uct_mp_lane_listener_t *const *listeners)
{
    uct_mp_iface_t *iface = uct_mp_lane_iface(ep);
    unsigned lane;

    memset(ep->lane.slots, 0, sizeof(ep->lane.slots));
    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        ep->lane.slots[lane].remote_lane = UCT_MP_CTL_NO_PAIR;
    }
    ep->lane.listeners   = listeners;
    ep->lane.tx_lane     = -1;
    ep->lane.busy_lane   = -1;
    ep->lane.peer_failed = 0;
    ep->lane.sm          = uct_mp_lanes_create(iface->num_lanes, iface->policy);
    if (ep->lane.sm == NULL) {
        ucs_error("mp_rc: failed to allocate lane state of %u lanes",
                  iface->num_lanes);
        return UCS_ERR_NO_MEMORY;
    }
    return UCS_OK;
}

void uct_mp_lane_ep_cleanup(uct_mp_ep_t *ep)
{
    unsigned lane;

    if (ep->lane.sm == NULL) {
        return;
    }

    for (lane = 0; lane < uct_mp_lane_iface(ep)->num_lanes; ++lane) {
        uct_mp_lane_destroy(ep, lane);
    }
    uct_mp_lanes_destroy(ep->lane.sm);
    ep->lane.sm = NULL;
}

uct_mp_lane_state_t uct_mp_lane_state(uct_mp_ep_t *ep, unsigned lane)
{
    return uct_mp_lanes_state(ep->lane.sm, lane);
}

int uct_mp_lane_usable(uct_mp_ep_t *ep, unsigned lane, uct_mp_lane_use_t use)
{
    uct_mp_lane_state_t state = uct_mp_lanes_state(ep->lane.sm, lane);

    switch (use) {
    case UCT_MP_LANE_USE_TRAFFIC:
        return (ep->lane.slots[lane].ep != NULL) &&
               (state == UCT_MP_LANE_ACTIVE);
    case UCT_MP_LANE_USE_CONNECTED:
        return (ep->lane.slots[lane].ep != NULL) &&
               !ep->lane.slots[lane].destroy_pending &&
               ((state == UCT_MP_LANE_ACTIVE) ||
                (state == UCT_MP_LANE_STANDBY) ||
                (state == UCT_MP_LANE_SUSPECT));
    default:
        return (ep->lane.slots[lane].ep != NULL) &&
               ((state == UCT_MP_LANE_ACTIVE) ||
                (state == UCT_MP_LANE_STANDBY) ||
                (state == UCT_MP_LANE_SUSPECT) ||
                (state == UCT_MP_LANE_DRAINING));
    }
}

static void uct_mp_lane_notify_changed(uct_mp_ep_t *ep, unsigned lane,
                                       uct_mp_lane_state_t prev)
{
    const uct_mp_lane_listener_t *const *l;

    for (l = ep->lane.listeners; *l != NULL; ++l) {
        if ((*l)->lane_changed != NULL) {
            (*l)->lane_changed(ep, lane, prev);
        }
    }
}

static void uct_mp_lane_notify_ep_gone(uct_mp_ep_t *ep, unsigned lane)
{
    const uct_mp_lane_listener_t *const *l;

    for (l = ep->lane.listeners; *l != NULL; ++l) {
        if ((*l)->lane_ep_gone != NULL) {
            (*l)->lane_ep_gone(ep, lane);
        }
    }
}

void uct_mp_lane_event(uct_mp_ep_t *ep, unsigned lane,
                       uct_mp_lane_event_t event)
{
    uct_mp_lane_state_t prev = uct_mp_lanes_state(ep->lane.sm, lane);
    uct_mp_lane_state_t state;

    if (uct_mp_lanes_event(ep->lane.sm, lane, event) != 0) {
        ucs_debug("mp_rc: ep %p lane %u (%s): event %s ignored in state %s", ep,
                  lane, uct_mp_lane_name(ep, lane),
                  uct_mp_lane_event_str(event), uct_mp_lane_state_str(prev));
    } else {
        ucs_debug("mp_rc: ep %p lane %u (%s): %s -> %s on %s", ep, lane,
                  uct_mp_lane_name(ep, lane), uct_mp_lane_state_str(prev),
                  uct_mp_lane_state_str(uct_mp_lane_state(ep, lane)),
                  uct_mp_lane_event_str(event));
    }

    state = uct_mp_lane_state(ep, lane);
    if ((state == UCT_MP_LANE_CONNECTING) || (state == UCT_MP_LANE_FAILED) ||
        (state == UCT_MP_LANE_CLOSED)) {
        ep->lane.slots[lane].suspect_at = 0; /* a verdict on an old ep */
    }

    if (event == UCT_MP_LANE_EV_RETRY) {
        ep->lane.slots[lane].retrying = 1;
    } else if ((event == UCT_MP_LANE_EV_CONNECTED) &&
               ep->lane.slots[lane].retrying) {
        ep->lane.slots[lane].retrying = 0;
        ++ep->lane.slots[lane].rejoins;
    }

    ep->lane.tx_lane = uct_mp_lanes_select(ep->lane.sm, UCT_MP_OP_AM, 0);
    uct_mp_lane_notify_changed(ep, lane, prev);
}

ucs_status_t uct_mp_lane_create(uct_mp_ep_t *ep, unsigned lane,
                                uct_mp_lane_event_t event)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    uct_ep_params_t lane_params;
    ucs_status_t status;

    lane_params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
    lane_params.iface      = uct_mp_lane_iface(ep)->lanes[lane].iface;
    status                 = uct_ep_create(&lane_params, &slot->ep);
    if (status != UCS_OK) {
        slot->ep = NULL;
        return status;
    }

    slot->parked      = 0; /* an undrain reopens a drained lane with RETRY */
    slot->drain_flush = 0;
    uct_mp_lane_event(ep, lane, event);
    return UCS_OK;
}

static int uct_mp_lane_entry_fits(const uct_mp_wire_lane_t *entry,
                                   size_t local_len)
{
    return (entry == NULL) ||
           ((entry->len == local_len) &&
            ((entry->data != NULL) || (local_len == 0)));
}

int uct_mp_lane_entries_fit(uct_mp_iface_t *iface, unsigned lane,
                            const uct_mp_wire_lane_t *dev,
                            const uct_mp_wire_lane_t *ifc,
                            const uct_mp_wire_lane_t *epa)
{
    const uct_iface_attr_t *attr = &iface->lanes[lane].attr;

    return uct_mp_lane_entry_fits(dev, attr->device_addr_len) &&
           uct_mp_lane_entry_fits(ifc, attr->iface_addr_len) &&
           uct_mp_lane_entry_fits(epa, attr->ep_addr_len);
}

/* Refuse peer entries that do not fit lane: the lane transport reads its
 * own lengths from them, and a NULL one crashes it */
static ucs_status_t uct_mp_lane_check_peer(uct_mp_ep_t *ep, unsigned lane,
                                           const uct_mp_wire_lane_t *dev,
                                           const uct_mp_wire_lane_t *ifc,
                                           const uct_mp_wire_lane_t *epa,
                                           unsigned remote)
{
    const uct_iface_attr_t *attr = &uct_mp_lane_iface(ep)->lanes[lane].attr;
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];

    if (uct_mp_lane_entries_fit(uct_mp_lane_iface(ep), lane, dev, ifc, epa)) {
        return UCS_OK;
    }

    ucs_snprintf_safe(errmsg, sizeof(errmsg), "peer lane %u has device/iface/"
                      "ep addresses of %d/%d/%d bytes, lane %u (%s) uses "
                      "%zu/%zu/%zu", remote, dev ? dev->len : -1,
                      ifc ? ifc->len : -1, epa ? epa->len : -1, lane,
                      uct_mp_lane_name(ep, lane), attr->device_addr_len,
                      attr->iface_addr_len, attr->ep_addr_len);
    uct_mp_peer_log_bad_addr(uct_mp_lane_iface(ep), "lane", errmsg);
    return UCS_ERR_UNREACHABLE;
}

ucs_status_t uct_mp_lane_create_to_iface(uct_mp_ep_t *ep, unsigned lane,
                                         const uct_mp_wire_lane_t *dev,
                                         const uct_mp_wire_lane_t *ifc,
                                         unsigned remote, unsigned md_index)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    uct_ep_params_t lane_params;
    ucs_status_t status;

    status = uct_mp_lane_check_peer(ep, lane, dev, ifc, NULL, remote);
    if (status != UCS_OK) {
        return status;
    }

    lane_params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                             UCT_EP_PARAM_FIELD_DEV_ADDR |
                             UCT_EP_PARAM_FIELD_IFACE_ADDR;
    lane_params.iface      = uct_mp_lane_iface(ep)->lanes[lane].iface;
    lane_params.dev_addr   = dev->data;
    lane_params.iface_addr = ifc->data;
    status                 = uct_ep_create(&lane_params, &slot->ep);
    if (status != UCS_OK) {
        slot->ep = NULL;
        ucs_diag("mp_rc: ep %p lane %u (%s) to peer lane %u failed: %s", ep,
                 lane, uct_mp_lane_name(ep, lane), remote,
                 ucs_status_string(status));
        return status;
    }

    slot->remote_lane     = remote;
    slot->remote_md_index = md_index;
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CREATE);
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CONNECTED);
    return UCS_OK;
}

ucs_status_t uct_mp_lane_connect(uct_mp_ep_t *ep, unsigned lane,
                                 const uct_mp_wire_lane_t *dev,
                                 const uct_mp_wire_lane_t *epa,
                                 unsigned remote, unsigned md_index)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    ucs_status_t status;

    status = uct_mp_lane_check_peer(ep, lane, dev, NULL, epa, remote);
    if (status != UCS_OK) {
        return status;
    }

    status = uct_ep_connect_to_ep(slot->ep, dev->data, epa->data);
    if (status != UCS_OK) {
        return status;
    }

    slot->remote_lane     = remote;
    slot->remote_md_index = md_index;
    return UCS_OK;
}

void uct_mp_lane_unpair(uct_mp_ep_t *ep, unsigned lane)
{
    ep->lane.slots[lane].remote_lane = UCT_MP_CTL_NO_PAIR;
}

void uct_mp_lane_drop_ep(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    uct_ep_h lane_ep         = slot->ep;

    slot->destroy_pending = 0;
    if (lane_ep == NULL) {
        return;
    }

    uct_mp_lane_notify_ep_gone(ep, lane);
    slot->ep = NULL;         /* completions see the lane gone */
    uct_mp_lane_quirk_ep_drop(ucs_derived_of(uct_mp_lane_iface(ep)->super.md,
                                             uct_mp_md_t)->lane_tl_name,
                              lane_ep);
    uct_ep_destroy(lane_ep); /* hands back what it held */
}

void uct_mp_lane_destroy(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];

    if (slot->ep != NULL) {
        uct_mp_lane_notify_ep_gone(ep, lane);
        uct_ep_destroy(slot->ep);
        slot->ep = NULL;
    }
    slot->destroy_pending = 0;
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_CLOSE);
}

unsigned uct_mp_lane_gc(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = uct_mp_lane_iface(ep);
    unsigned lane, count = 0;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (!ep->lane.slots[lane].destroy_pending) {
            continue;
        }

        if (ep->lane.slots[lane].ep == NULL) {
            ep->lane.slots[lane].destroy_pending = 0;
            continue;
        }

        uct_mp_lane_drop_ep(ep, lane);
        ucs_debug("mp_rc: ep %p lane %u (%s): failed lane ep destroyed", ep,
                  lane, iface->lanes[lane].dev_name);
        ++count;
    }
    return count;
}

/* No lane left: tell the modules, then the user */
static ucs_status_t uct_mp_lane_peer_failed(uct_mp_ep_t *ep, unsigned lane,
                                            ucs_status_t status)
{
    const uct_mp_lane_listener_t *const *l;

    ep->lane.peer_failed = 1;
    ucs_debug("mp_rc: ep %p lane %u (%s) failed: %s; no lane left", ep, lane,
              uct_mp_lane_name(ep, lane), ucs_status_string(status));
    for (l = ep->lane.listeners; *l != NULL; ++l) {
        if ((*l)->peer_failed != NULL) {
            (*l)->peer_failed(ep, status);
        }
    }
    if (ep->hidden) {
        return UCS_OK; /* a passive partner: UCP does not know it */
    }
    return uct_iface_handle_ep_err(&uct_mp_lane_iface(ep)->super.super,
                                   &ep->super.super, status);
}

ucs_status_t uct_mp_lane_fail(uct_mp_ep_t *ep, unsigned lane,
                              ucs_status_t status)
{
    int tx_lane;

    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_ERROR);
    uct_mp_lane_notify_ep_gone(ep, lane);
    /* its outstanding operations come back when its ep is destroyed, from
     * progress: not from inside its own callback */
    ep->lane.slots[lane].destroy_pending = 1;
    uct_mp_work_schedule(&ep->work, UCT_MP_WORK_LANE_GC);

    tx_lane = ep->lane.tx_lane;
    if (tx_lane >= 0) {
        ++ep->lane.slots[lane].failovers;
        /* diag, not warn: a peer that closes its endpoint looks the same to
         * the lane transport until mp closes lanes with a control message */
        ucs_diag("mp_rc: ep %p lane %u (%s) failed: %s; traffic moves to lane "
                 "%d (%s), %u lanes usable", ep, lane,
                 uct_mp_lane_name(ep, lane), ucs_status_string(status),
                 tx_lane, uct_mp_lane_name(ep, tx_lane),
                 uct_mp_lanes_usable(ep->lane.sm));
        return UCS_OK;
    }

    if (ep->lane.peer_failed) {
        return UCS_OK;
    }
    return uct_mp_lane_peer_failed(ep, lane, status);
}

ucs_status_t uct_mp_lane_refused(uct_mp_ep_t *ep, int lane, ucs_status_t status)
{
    if (!uct_mp_lane_broken(status)) {
        return status;
    }

    if (uct_mp_lane_state(ep, lane) != UCT_MP_LANE_FAILED) {
        uct_mp_lane_fail(ep, lane, status);
    }

    if (ep->lane.tx_lane < 0) {
        return status;
    }

    /* no lane is out of resources: a wake-up waits on tx_lane (mp_pending) */
    ep->lane.busy_lane = -1;
    return UCS_ERR_NO_RESOURCE;
}

void uct_mp_lane_arrival(uct_mp_ep_t *ep, unsigned lane)
{
    if (ucs_unlikely(lane >= UCT_MP_MAX_LANES)) {
        return;
    }

    ep->lane.slots[lane].last_arrival = ucs_get_time();
    if (ucs_unlikely(ep->lane.slots[lane].suspect_at != 0)) {
        uct_mp_lane_evidence(ep, lane, "something arrived on it");
    }
}

void uct_mp_lane_suspect(uct_mp_ep_t *ep, unsigned lane, ucs_time_t now,
                         const char *why)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];

    if (slot->suspect_at != 0) {
        return;
    }

    slot->suspect_at = now;
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_SUSPECT);
    ucs_diag("mp_rc: ep %p lane %u (%s) suspect: %s; %s, %u lanes usable",
             ep, lane, uct_mp_lane_name(ep, lane), why,
             (ep->lane.tx_lane == (int)lane) ?
             "no other lane, it keeps the traffic" : "traffic leaves it",
             uct_mp_lanes_usable(ep->lane.sm));
}

void uct_mp_lane_evidence(uct_mp_ep_t *ep, unsigned lane, const char *what)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    ucs_time_t suspect_at    = slot->suspect_at;

    if (suspect_at == 0) {
        return;
    }

    slot->suspect_at = 0;
    if (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_SUSPECT) {
        uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_EVIDENCE);
    }
    ucs_diag("mp_rc: ep %p lane %u (%s) back after %.0f ms suspect: %s; "
             "%u lanes usable", ep, lane, uct_mp_lane_name(ep, lane),
             ucs_time_to_msec(ucs_get_time() - suspect_at), what,
             uct_mp_lanes_usable(ep->lane.sm));
}

void uct_mp_lane_count_rx(uct_mp_ep_t *ep, unsigned lane, size_t length)
{
    if (ucs_likely(lane < UCT_MP_MAX_LANES)) {
        ++ep->lane.slots[lane].rx_msgs;
        ep->lane.slots[lane].rx_bytes += length;
    }
}

void uct_mp_lane_stats(uct_mp_ep_t *ep, unsigned lane,
                       uct_mp_lane_stats_t *stats)
{
    const uct_mp_lane_counters_t *c = uct_mp_lanes_counters(ep->lane.sm, lane);
    const uct_mp_lane_slot_t *slot  = &ep->lane.slots[lane];

    memset(stats, 0, sizeof(*stats));
    stats->state        = uct_mp_lane_state(ep, lane);
    stats->has_ep       = (slot->ep != NULL);
    stats->parked       = slot->parked;
    stats->rx_msgs      = slot->rx_msgs;
    stats->rx_bytes     = slot->rx_bytes;
    stats->failovers    = slot->failovers;
    stats->rejoins      = slot->rejoins;
    stats->last_arrival = slot->last_arrival;
    if (c != NULL) {
        stats->tx_ops   = c->tx_ops;
        stats->tx_bytes = c->tx_bytes;
        stats->errors   = c->errors;
    }
}

ucs_status_t uct_mp_lane_drain(uct_mp_ep_t *ep, unsigned lane)
{
    if (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_DRAINING) {
        return UCS_OK;
    }

    if (!uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED)) {
        return UCS_ERR_NOT_CONNECTED;
    }

    /* a suspect lane carries nothing: draining it leaves the others */
    if ((uct_mp_lane_state(ep, lane) != UCT_MP_LANE_SUSPECT) &&
        (uct_mp_lanes_usable(ep->lane.sm) < 2)) {
        return UCS_ERR_BUSY;
    }

    ep->lane.slots[lane].parked = 1;
    uct_mp_lane_event(ep, lane, UCT_MP_LANE_EV_DRAIN);
    return UCS_OK;
}

static void uct_mp_lane_drain_flushed(uct_completion_t *self)
{
    ucs_container_of(self, uct_mp_lane_slot_t, drain_comp)->drain_flush = 2;
}

/*
 * One flush with a completion, not polled flushes without one: tcp asks the
 * peer to acknowledge its last put only for a flush that waits for it, so a
 * flush without a completion may answer UCS_INPROGRESS for ever.
 */
int uct_mp_lane_flushed(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_lane_slot_t *slot = &ep->lane.slots[lane];
    ucs_status_t status;

    if ((slot->ep == NULL) || slot->destroy_pending ||
        (slot->drain_flush == 2)) {
        return 1;
    } else if (slot->drain_flush == 1) {
        return 0;
    }

    slot->drain_comp.func   = uct_mp_lane_drain_flushed;
    slot->drain_comp.count  = 1;
    slot->drain_comp.status = UCS_OK;
    status                  = uct_ep_flush(slot->ep, 0, &slot->drain_comp);
    if (status == UCS_OK) {
        slot->drain_flush = 2;
    } else if (status == UCS_INPROGRESS) {
        slot->drain_flush = 1; /* the completion ends it */
    }
    return slot->drain_flush == 2; /* UCS_ERR_NO_RESOURCE: ask again */
}

int uct_mp_lane_parked(uct_mp_ep_t *ep, unsigned lane)
{
    return ep->lane.slots[lane].parked;
}

void uct_mp_lane_set_busy(uct_mp_ep_t *ep, int lane)
{
    ep->lane.busy_lane = lane;
}

void uct_mp_lane_account(uct_mp_ep_t *ep, unsigned lane, size_t length)
{
    uct_mp_lanes_account(ep->lane.sm, lane, length);
}

int uct_mp_lane_select_rma(uct_mp_ep_t *ep, size_t length)
{
    if (uct_mp_lane_iface(ep)->policy == UCT_MP_POLICY_LOAD_BALANCE) {
        return uct_mp_lanes_select(ep->lane.sm, UCT_MP_OP_RMA, length);
    }
    return ep->lane.tx_lane;
}

ucs_status_t uct_mp_lane_none(uct_mp_ep_t *ep)
{
    return ep->lane.peer_failed ? UCS_ERR_ENDPOINT_TIMEOUT :
                                  UCS_ERR_NO_RESOURCE;
}

ucs_status_t uct_mp_lane_rkey(uct_mp_ep_t *ep, int lane, uct_rkey_t rkey,
                              uct_rkey_t *lane_rkey_p)
{
    const uct_mp_rkey_t *mp_rkey = (const uct_mp_rkey_t*)rkey;
    unsigned md_index            = ep->lane.slots[lane].remote_md_index;

    if (ucs_unlikely(md_index >= mp_rkey->num_lane_rkeys)) {
        ucs_error("mp_rc: ep %p lane %d needs remote md %u, the remote key has "
                  "%u", ep, lane, md_index, mp_rkey->num_lane_rkeys);
        return UCS_ERR_INVALID_PARAM;
    }

    *lane_rkey_p = uct_mp_rkey_lane(rkey, md_index);
    return UCS_OK;
}

ucs_status_t uct_mp_lane_iov(uct_mp_ep_t *ep, int lane, const uct_iov_t *iov,
                             size_t iovcnt, uct_iov_t *lane_iov)
{
    unsigned md_index = uct_mp_lane_iface(ep)->lanes[lane].md_index;
    size_t i;

    UCT_CHECK_IOV_SIZE(iovcnt, (size_t)UCT_MP_MAX_IOV, "mp_rc lane iov");
    for (i = 0; i < iovcnt; ++i) {
        lane_iov[i]      = iov[i];
        lane_iov[i].memh = uct_mp_memh_lane(iov[i].memh, md_index);
    }
    return UCS_OK;
}

/* Can local lane pair with remote lane (see uct_mp_lane_pair)? */
static int uct_mp_lane_pairable(uct_mp_iface_t *iface, unsigned local,
                                unsigned remote, const uct_mp_wire_t *devs,
                                const uct_mp_wire_t *ifc,
                                const uct_mp_wire_t *eps)
{
    return uct_mp_lane_entries_fit(iface, local, &devs->lanes[remote],
                                   (ifc == NULL) ? NULL : &ifc->lanes[remote],
                                   (eps == NULL) ? NULL : &eps->lanes[remote]) &&
           uct_iface_is_reachable(iface->lanes[local].iface,
                                  devs->lanes[remote].data,
                                  (ifc == NULL) ? NULL :
                                  ifc->lanes[remote].data);
}

unsigned uct_mp_lane_pair(uct_mp_iface_t *iface, const uct_mp_wire_t *devs,
                          const uct_mp_wire_t *ifc, const uct_mp_wire_t *eps,
                          uint32_t local_mask, unsigned first_remote,
                          int *remote_of_local)
{
    int remote_paired[UCT_MP_MAX_LANES] = {0};
    unsigned local, remote, num_pairs = 0;

    for (local = 0; local < iface->num_lanes; ++local) {
        remote_of_local[local] = -1;
        if (!(local_mask & UCS_BIT(local))) {
            continue;
        }

        /* the same index first, then the first free reachable one */
        if ((local < devs->lane_count) && (local >= first_remote) &&
            !remote_paired[local] &&
            uct_mp_lane_pairable(iface, local, local, devs, ifc, eps)) {
            remote_of_local[local] = local;
        } else {
            for (remote = first_remote; remote < devs->lane_count; ++remote) {
                if (!remote_paired[remote] &&
                    uct_mp_lane_pairable(iface, local, remote, devs, ifc,
                                         eps)) {
                    remote_of_local[local] = remote;
                    break;
                }
            }
        }

        if (remote_of_local[local] >= 0) {
            remote_paired[remote_of_local[local]] = 1;
            ++num_pairs;
        }
    }
    return num_pairs;
}

uct_mp_ep_t *uct_mp_lane_find(uct_mp_iface_t *iface, uct_ep_h lane_ep,
                              unsigned *lane_p)
{
    uct_mp_ep_t *ep;
    unsigned lane;

    ucs_list_for_each(ep, &iface->eps, list) {
        for (lane = 0; lane < iface->num_lanes; ++lane) {
            if (ep->lane.slots[lane].ep == lane_ep) {
                *lane_p = lane;
                return ep;
            }
        }
    }
    return NULL;
}
