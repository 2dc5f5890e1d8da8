/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Peers of an mp iface: addresses and endpoint tokens (see mp_peer.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_peer.h"

#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <ucs/sys/math.h>
#include <string.h>


/* UCP 1.13 (address format v1) packs device addresses of at most 31 bytes
 * and iface addresses of at most 63 bytes */
#define UCT_MP_UCP_MAX_DEV_ADDR_LEN    31
#define UCT_MP_UCP_MAX_IFACE_ADDR_LEN  63


void uct_mp_peer_log_bad_addr(uct_mp_iface_t *iface, const char *what,
                               const char *errmsg)
{
    if (!iface->bad_addr_logged) {
        iface->bad_addr_logged = 1;
        ucs_error("mp_rc: rejecting peer %s: %s", what, errmsg);
    } else {
        ucs_debug("mp_rc: rejecting peer %s: %s", what, errmsg);
    }
}

ucs_status_t uct_mp_peer_check_lanes(uct_mp_iface_t *iface,
                                      const uct_mp_wire_t *msg,
                                      const char *what)
{
    uct_mp_md_t *md = ucs_derived_of(iface->super.md, uct_mp_md_t);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    unsigned i;

    if (msg->lane_tl != md->lane_tl) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg),
                          "peer lanes use %s, local lanes use %s",
                          uct_mp_lane_tl_name(msg->lane_tl) ?: "an unknown transport",
                          md->lane_tl_name);
        uct_mp_peer_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    for (i = 0; i < msg->lane_count; ++i) {
        if ((msg->kind == UCT_MP_WIRE_LANE_DEVS) &&
            (msg->lanes[i].md_index >= UCT_MP_MAX_LANES)) {
            ucs_snprintf_safe(errmsg, sizeof(errmsg),
                              "lane %u has md index %u (maximum %d)", i,
                              msg->lanes[i].md_index, UCT_MP_MAX_LANES - 1);
            uct_mp_peer_log_bad_addr(iface, what, errmsg);
            return UCS_ERR_UNREACHABLE;
        }

        if ((msg->kind != UCT_MP_WIRE_IFACE_ADDR) && (msg->lanes[i].len == 0)) {
            ucs_snprintf_safe(errmsg, sizeof(errmsg), "lane %u has an empty "
                              "address", i);
            uct_mp_peer_log_bad_addr(iface, what, errmsg);
            return UCS_ERR_UNREACHABLE;
        }
    }
    return UCS_OK;
}

unsigned uct_mp_peer_lane_lens(uct_mp_iface_t *iface, uct_mp_wire_kind_t kind,
                               uint8_t *lens)
{
    unsigned lane, i, count = 0;
    size_t len;

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        len = (kind == UCT_MP_WIRE_EP_ADDR)    ?
              iface->lanes[lane].attr.ep_addr_len :
              (kind == UCT_MP_WIRE_IFACE_ADDR) ?
              iface->lanes[lane].attr.iface_addr_len :
              iface->lanes[lane].attr.device_addr_len;
        for (i = 0; i < count; ++i) {
            if (lens[i] == len) {
                break;
            }
        }
        if ((i == count) && (len <= UINT8_MAX)) {
            lens[count++] = len;
        }
    }
    return count;
}

int uct_mp_peer_is_foreign_device(const uct_device_addr_t *dev_addr)
{
    uint8_t version;

    return !uct_mp_wire_is_kind(dev_addr, UCT_MP_WIRE_DEVICE_ADDR) &&
           !uct_mp_wire_is_other_version(dev_addr,
                                         UCT_MP_UCP_MAX_DEV_ADDR_LEN,
                                         UCT_MP_WIRE_DEVICE_ADDR, &version);
}

ucs_status_t uct_mp_peer_unpack(uct_mp_iface_t *iface, const void *buf,
                                uct_mp_wire_kind_t kind, const char *what,
                                uct_mp_wire_t *msg)
{
    uct_mp_wire_kind_t lens_of = (kind == UCT_MP_WIRE_LANE_DEVS) ?
                                 UCT_MP_WIRE_DEVICE_ADDR : kind;
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uint8_t lens[UCT_MP_MAX_LANES];

    if (uct_mp_wire_unpack_exact(buf, kind, lens,
                                 uct_mp_peer_lane_lens(iface, lens_of, lens),
                                 msg, errmsg, sizeof(errmsg)) != 0) {
        uct_mp_peer_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }
    return (kind == UCT_MP_WIRE_IFACE_ADDR) ? UCS_OK :
           uct_mp_peer_check_lanes(iface, msg, what);
}

ucs_status_t uct_mp_peer_unpack_device(uct_mp_iface_t *iface,
                                        const uct_device_addr_t *dev_addr,
                                        uct_mp_wire_t *dev)
{
    return uct_mp_peer_unpack(iface, dev_addr, UCT_MP_WIRE_DEVICE_ADDR,
                              "device address", dev);
}

ucs_status_t uct_mp_peer_unpack_lanes(uct_mp_iface_t *iface, const void *buf,
                                       uct_mp_wire_kind_t kind,
                                       uct_mp_wire_t *lanes, uct_mp_wire_t *msg)
{
    const char *what = (kind == UCT_MP_WIRE_EP_ADDR) ? "ep address" :
                                                       "iface address";
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    ucs_status_t status;

    status = uct_mp_peer_unpack(iface, buf, UCT_MP_WIRE_LANE_DEVS, what, lanes);
    if (status != UCS_OK) {
        return status;
    }

    status = uct_mp_peer_unpack(iface,
                                UCS_PTR_BYTE_OFFSET(buf, lanes->total_len),
                                kind, what, msg);
    if (status != UCS_OK) {
        return status;
    }

    if (msg->lane_count != lanes->lane_count) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg),
                          "%u lane addresses for %u lane devices",
                          msg->lane_count, lanes->lane_count);
        uct_mp_peer_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }
    return UCS_OK;
}

ucs_status_t uct_mp_peer_add_ep(uct_mp_iface_t *iface, struct uct_mp_ep *ep,
                               uint32_t *token_p)
{
    unsigned attempt;
    khiter_t iter;
    uint32_t token;
    int ret;

    /* A random non-zero token, unique among this iface's eps */
    for (attempt = 0; attempt < 64; ++attempt) {
        token = (uint32_t)ucs_generate_uuid((uintptr_t)ep + attempt);
        if (token == 0) {
            continue;
        }

        iter = kh_put(uct_mp_eps, &iface->eps_by_token, token, &ret);
        if (ret == UCS_KH_PUT_FAILED) {
            return UCS_ERR_NO_MEMORY;
        } else if (ret == UCS_KH_PUT_KEY_PRESENT) {
            continue;
        }

        kh_value(&iface->eps_by_token, iter) = ep;
        *token_p = token;
        return UCS_OK;
    }

    ucs_error("mp_rc: iface %p: no free ep token after %u attempts", iface,
              attempt);
    return UCS_ERR_NO_RESOURCE;
}

void uct_mp_peer_remove_ep(uct_mp_iface_t *iface, uint32_t token)
{
    khiter_t iter = kh_get(uct_mp_eps, &iface->eps_by_token, token);

    if (iter != kh_end(&iface->eps_by_token)) {
        kh_del(uct_mp_eps, &iface->eps_by_token, iter);
    }
}

struct uct_mp_ep *uct_mp_peer_ep_by_token(uct_mp_iface_t *iface,
                                           uint32_t token)
{
    khiter_t iter = kh_get(uct_mp_eps, &iface->eps_by_token, token);

    return (iter == kh_end(&iface->eps_by_token)) ? NULL :
           kh_value(&iface->eps_by_token, iter);
}

/* [lane devices] (every lane's md index, bandwidth class and device) and
 * [lane iface addresses] */
static void uct_mp_peer_lanes_msgs(uct_mp_iface_t *iface, uct_mp_md_t *md,
                                   uct_mp_wire_t *lanes, uct_mp_wire_t *ifc)
{
    const uct_mp_lane_iface_t *lane;
    unsigned i;

    lanes->kind       = UCT_MP_WIRE_LANE_DEVS;
    lanes->lane_tl    = md->lane_tl;
    lanes->lane_count = iface->num_lanes;
    ifc->kind         = UCT_MP_WIRE_IFACE_ADDR;
    ifc->lane_count   = iface->num_lanes;
    for (i = 0; i < iface->num_lanes; ++i) {
        lane                     = &iface->lanes[i];
        lanes->lanes[i].md_index = lane->md_index;
        lanes->lanes[i].bw_class = uct_mp_wire_bw_class(
                                       ucs_max(lane->attr.bandwidth.dedicated,
                                               lane->attr.bandwidth.shared));
        lanes->lanes[i].len      = lane->attr.device_addr_len;
        lanes->lanes[i].data     = lane->dev_addr;
        ifc->lanes[i].len        = lane->attr.iface_addr_len;
        ifc->lanes[i].data       = lane->iface_addr;
    }
}

/* Connect-to-iface needs [lane devices][lane ifaces] in what UCP allows for
 * an iface address; else the lanes connect ep to ep */
static void uct_mp_peer_pack_iface_addr(uct_mp_iface_t *iface,
                                        const uct_mp_wire_t *ifc)
{
    size_t ifc_len = uct_mp_wire_packed_size(ifc);

    iface->iface_addr_len = 0;
    if (!(iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        return;
    }

    if (iface->lanes_addr_len + ifc_len > UCT_MP_UCP_MAX_IFACE_ADDR_LEN) {
        ucs_diag("mp_rc: %u lanes need a %zu-byte iface address, UCP allows "
                 "%d: lanes connect ep to ep", iface->num_lanes,
                 iface->lanes_addr_len + ifc_len,
                 UCT_MP_UCP_MAX_IFACE_ADDR_LEN);
        iface->cap_flags &= ~UCT_IFACE_FLAG_CONNECT_TO_IFACE;
        return;
    }

    memcpy(iface->iface_addr, iface->lanes_addr, iface->lanes_addr_len);
    uct_mp_wire_pack(ifc, iface->iface_addr + iface->lanes_addr_len, ifc_len,
                     NULL, 0);
    iface->iface_addr_len = iface->lanes_addr_len + ifc_len;
}

ucs_status_t uct_mp_peer_pack_addresses(uct_mp_iface_t *iface, uct_mp_md_t *md)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t dev = {0}, lanes = {0}, ifc = {0}, ep = {0};

    /* device address: the primary lane's device */
    dev.kind          = UCT_MP_WIRE_DEVICE_ADDR;
    dev.caps          = iface->caps;
    dev.lane_tl       = md->lane_tl;
    dev.lane_count    = 1;
    dev.lanes[0].len  = iface->lanes[0].attr.device_addr_len;
    dev.lanes[0].data = iface->lanes[0].dev_addr;
    uct_mp_peer_lanes_msgs(iface, md, &lanes, &ifc);

    /* ep address: the primary lane's ep, sized for any lane count */
    ep.kind           = UCT_MP_WIRE_EP_ADDR;
    ep.lane_count     = 1;
    ep.lanes[0].len   = iface->lanes[0].attr.ep_addr_len;

    iface->dev_addr_len = uct_mp_wire_pack(&dev, iface->dev_addr,
                                           UCT_MP_UCP_MAX_DEV_ADDR_LEN, errmsg,
                                           sizeof(errmsg));
    if (iface->dev_addr_len == 0) {
        goto err;
    }

    iface->lanes_addr_len = uct_mp_wire_pack(&lanes, iface->lanes_addr,
                                             sizeof(iface->lanes_addr), errmsg,
                                             sizeof(errmsg));
    if (iface->lanes_addr_len == 0) {
        goto err;
    }

    uct_mp_peer_pack_iface_addr(iface, &ifc);
    if (!(iface->cap_flags & (UCT_IFACE_FLAG_CONNECT_TO_IFACE |
                              UCT_IFACE_FLAG_CONNECT_TO_EP))) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg),
                          "%s lanes share no connection mode UCP can use",
                          md->lane_tl_name);
        goto err;
    }

    iface->ep_addr_len = uct_mp_wire_packed_size(&ep);
    return UCS_OK;

err:
    ucs_error("mp_rc: %s", errmsg);
    return UCS_ERR_UNSUPPORTED;
}
