/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The lane interfaces of an mp iface: one per lane device, opened on the
 * same worker with mp's options for the lane transport, and their callbacks.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_iface.h"
#include "mp_ep.h"
#include "mp_lane_quirk.h"

#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <string.h>


/* AM from a lane: deliver to the handler UCP set on the mp iface. */
static ucs_status_t uct_mp_iface_lane_am_handler(void *arg, void *data,
                                                 size_t length, unsigned flags)
{
    uct_mp_am_trampoline_t *trampoline = arg;

    return uct_mp_am_rx(trampoline->iface, trampoline->lane, trampoline->id,
                        data, length, flags);
}

/* Error on a lane ep: the owning mp ep decides between failover and error. */
static ucs_status_t uct_mp_iface_lane_err_handler(void *arg, uct_ep_h lane_ep,
                                                  ucs_status_t status)
{
    uct_mp_iface_t *iface = arg;
    unsigned lane;
    uct_mp_ep_t *ep;

    uct_mp_lane_quirk_ep_failed(
            ucs_derived_of(iface->super.md, uct_mp_md_t)->lane_tl_name,
            lane_ep);

    ep = uct_mp_lane_find(iface, lane_ep, &lane);
    if ((ep != NULL) &&
        (uct_mp_lane_state(ep, lane) == UCT_MP_LANE_FAILED)) {
        return UCS_OK; /* failed already (an operation found it broken) */
    }
    if (ep == NULL) {
        /* A lane ep created by the lane transport itself (passive side) */
        ucs_debug("mp_rc: iface %p lane ep %p error %s not owned by an mp ep",
                  iface, lane_ep, ucs_status_string(status));
        return UCS_OK;
    }

    return uct_mp_lane_fail(ep, lane, status);
}

void uct_mp_iface_close_lanes(uct_mp_iface_t *iface)
{
    while (iface->num_lanes > 0) {
        uct_iface_close(iface->lanes[--iface->num_lanes].iface);
    }
}

/* mp's options for the lane transport (docs/DESIGN.md section 2) */
static ucs_status_t uct_mp_iface_lane_config(uct_mp_iface_t *iface,
                                             uct_mp_md_t *md,
                                             const uct_mp_lane_rsc_t *rsc,
                                             uct_iface_config_t **config_p)
{
    char value[16];
    const char *name;
    ucs_status_t status;

    status = uct_md_iface_config_read(md->lane_mds[rsc->md_index].md,
                                      md->lane_tl_name, NULL, NULL, config_p);
    if (status != UCS_OK) {
        return status;
    }

    if (md->lane_tl != UCT_MP_LANE_TL_TCP) {
        name = "RC_RETRY_COUNT";
        ucs_snprintf_safe(value, sizeof(value), "%u", iface->lane_retry_count);
    } else {
        /* a lane re-established while its path is still down (fail-back)
         * must not hold the worker in a blocking connect() */
        name = "CONN_NB";
        ucs_strncpy_zero(value, "y", sizeof(value));
    }

    status = uct_config_modify(*config_p, name, value);
    if (status != UCS_OK) {
        ucs_error("mp_rc: setting %s=%s on lane %s/%s failed: %s", name, value,
                  md->lane_tl_name, rsc->dev_name, ucs_status_string(status));
        uct_config_release(*config_p);
    }
    return status;
}

/* The lane's open parameters, from the mp iface's */
static void uct_mp_iface_lane_params(uct_mp_iface_t *iface, uct_mp_md_t *md,
                                     const uct_mp_lane_rsc_t *rsc,
                                     const uct_iface_params_t *params,
                                     uct_iface_params_t *lane_params)
{
    size_t rx_headroom = UCT_IFACE_PARAM_VALUE(params, rx_headroom,
                                               RX_HEADROOM, 0);

    memset(lane_params, 0, sizeof(*lane_params));
    lane_params->field_mask           = UCT_IFACE_PARAM_FIELD_OPEN_MODE |
                                        UCT_IFACE_PARAM_FIELD_DEVICE |
                                        UCT_IFACE_PARAM_FIELD_RX_HEADROOM |
                                        UCT_IFACE_PARAM_FIELD_ERR_HANDLER |
                                        UCT_IFACE_PARAM_FIELD_ERR_HANDLER_ARG |
                                        UCT_IFACE_PARAM_FIELD_ERR_HANDLER_FLAGS;
    lane_params->open_mode            = UCT_IFACE_OPEN_MODE_DEVICE;
    lane_params->mode.device.tl_name  = md->lane_tl_name;
    lane_params->mode.device.dev_name = rsc->dev_name;
    /* the mp data header in front of UCP's bytes stands in for 12 bytes of
     * UCP's headroom (mp_am.h) */
    lane_params->rx_headroom          = (rx_headroom >= UCT_MP_AM_HDR_LEN) ?
                                        (rx_headroom - UCT_MP_AM_HDR_LEN) : 0;
    lane_params->err_handler          = uct_mp_iface_lane_err_handler;
    lane_params->err_handler_arg      = iface;
    lane_params->err_handler_flags    = 0;
    if (iface->am_align > 0) {
        /* UCP's bytes start after the 12-byte mp data header */
        lane_params->field_mask     |= UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT |
                                       UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET;
        lane_params->am_alignment    = iface->am_align;
        lane_params->am_align_offset = iface->am_align_offset +
                                       UCT_MP_AM_HDR_LEN;
    }
    if (params->field_mask & UCT_IFACE_PARAM_FIELD_CPU_MASK) {
        lane_params->field_mask |= UCT_IFACE_PARAM_FIELD_CPU_MASK;
        lane_params->cpu_mask    = params->cpu_mask;
    }
    if (params->field_mask & UCT_IFACE_PARAM_FIELD_FEATURES) {
        lane_params->field_mask |= UCT_IFACE_PARAM_FIELD_FEATURES;
        lane_params->features    = params->features;
    }
}

/* Attributes and addresses of an opened lane iface */
static ucs_status_t uct_mp_iface_lane_query(uct_mp_md_t *md,
                                            const uct_mp_lane_rsc_t *rsc,
                                            uct_mp_lane_iface_t *lane)
{
    ucs_status_t status;

    status = uct_iface_query(lane->iface, &lane->attr);
    if (status != UCS_OK) {
        return status;
    }

    if ((lane->attr.device_addr_len > UINT8_MAX) ||
        (lane->attr.iface_addr_len > UINT8_MAX) ||
        (lane->attr.ep_addr_len > UINT8_MAX)) {
        ucs_diag("mp_rc: lane %s/%s addresses (%zu/%zu/%zu bytes) too long",
                 md->lane_tl_name, rsc->dev_name, lane->attr.device_addr_len,
                 lane->attr.iface_addr_len, lane->attr.ep_addr_len);
        return UCS_ERR_UNSUPPORTED;
    }

    status = uct_iface_get_device_address(lane->iface,
                                          (uct_device_addr_t*)lane->dev_addr);
    if ((status != UCS_OK) ||
        !(lane->attr.cap.flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        return status;
    }

    return uct_iface_get_address(lane->iface,
                                 (uct_iface_addr_t*)lane->iface_addr);
}

/* UCP's AM ids go to UCP's handlers; mp's own id to the control handler,
 * which needs to know the lane a message arrived on */
static ucs_status_t uct_mp_iface_lane_set_handlers(uct_mp_iface_t *iface,
                                                   unsigned index)
{
    uct_iface_h lane_iface = iface->lanes[index].iface;
    ucs_status_t status;
    unsigned id;

    iface->ctl_trampolines[index].iface = iface;
    iface->ctl_trampolines[index].lane  = index;
    for (id = 0; id < UCT_AM_ID_MAX; ++id) {
        status = (id == UCT_MP_CTL_AM_ID) ?
                 uct_iface_set_am_handler(lane_iface, id,
                                          uct_mp_ctrl_am_handler,
                                          &iface->ctl_trampolines[index], 0) :
                 uct_iface_set_am_handler(lane_iface, id,
                                          uct_mp_iface_lane_am_handler,
                                          &iface->am_trampolines[index][id],
                                          0);
        if (status != UCS_OK) {
            return status;
        }
    }
    return UCS_OK;
}

/* Open the lane iface on lane device rsc; on success it becomes the next lane */
static ucs_status_t uct_mp_iface_open_lane(uct_mp_iface_t *iface,
                                           uct_mp_md_t *md,
                                           const uct_mp_lane_rsc_t *rsc,
                                           uct_worker_h worker,
                                           const uct_iface_params_t *params)
{
    uct_mp_lane_iface_t *lane = &iface->lanes[iface->num_lanes];
    uct_iface_params_t lane_params;
    uct_iface_config_t *lane_config;
    ucs_status_t status;

    status = uct_mp_iface_lane_config(iface, md, rsc, &lane_config);
    if (status != UCS_OK) {
        return status;
    }

    uct_mp_iface_lane_params(iface, md, rsc, params, &lane_params);
    status = uct_iface_open(md->lane_mds[rsc->md_index].md, worker,
                            &lane_params, lane_config, &lane->iface);
    uct_config_release(lane_config);
    if (status != UCS_OK) {
        ucs_diag("mp_rc: lane %s/%s failed to open: %s", md->lane_tl_name,
                 rsc->dev_name, ucs_status_string(status));
        return status;
    }

    status = uct_mp_iface_lane_query(md, rsc, lane);
    if (status == UCS_OK) {
        status = uct_mp_iface_lane_set_handlers(iface, iface->num_lanes);
    }
    if (status != UCS_OK) {
        goto err_close;
    }

    lane->md_index = rsc->md_index;
    ucs_strncpy_zero(lane->dev_name, rsc->dev_name, sizeof(lane->dev_name));
    ++iface->num_lanes;
    ucs_debug("mp_rc: iface %p lane %u: %s/%s md %s", iface,
              iface->num_lanes - 1, md->lane_tl_name, rsc->dev_name,
              md->lane_mds[rsc->md_index].name);
    return UCS_OK;

err_close:
    uct_iface_close(lane->iface);
    return status;
}

ucs_status_t uct_mp_iface_open_lanes(uct_mp_iface_t *iface, uct_mp_md_t *md,
                                     uct_worker_h worker,
                                     const uct_iface_params_t *params)
{
    unsigned i;

    for (i = 0; i < md->num_lane_rscs; ++i) {
        uct_mp_iface_open_lane(iface, md, &md->lane_rscs[i], worker, params);
    }

    if (iface->num_lanes == 0) {
        ucs_error("mp_rc: none of the %u %s lane devices could be opened",
                  md->num_lane_rscs, md->lane_tl_name);
        return UCS_ERR_NO_DEVICE;
    }
    return UCS_OK;
}

/* UCX_MP_RC_WEIGHTS: "dev:MBps" or positional "MBps" entries */
ucs_status_t uct_mp_iface_parse_weights(uct_mp_iface_t *iface,
                                               const ucs_config_names_array_t *w)
{
    const char *entry, *colon, *value;
    unsigned i, lane, matched;
    char *end;
    double mbps;

    for (i = 0; i < w->count; ++i) {
        entry = w->names[i];
        colon = strrchr(entry, ':');
        value = (colon != NULL) ? colon + 1 : entry;
        mbps  = strtod(value, &end);
        if ((end == value) || (*end != '\0') || !(mbps > 0) || (mbps > 1e9)) {
            ucs_error("mp_rc: UCX_MP_RC_WEIGHTS entry '%s': the bandwidth must "
                      "be a positive number of MB/s", entry);
            return UCS_ERR_INVALID_PARAM;
        }

        if (colon == NULL) {
            if (i >= iface->num_lanes) {
                ucs_error("mp_rc: UCX_MP_RC_WEIGHTS entry %u ('%s') but only %u "
                          "lanes", i + 1, entry, iface->num_lanes);
                return UCS_ERR_INVALID_PARAM;
            }
            iface->lane_weight[i] = mbps * 1e6;
            continue;
        }

        matched = 0;
        for (lane = 0; lane < iface->num_lanes; ++lane) {
            if ((strlen(iface->lanes[lane].dev_name) == (size_t)(colon - entry)) &&
                !strncmp(iface->lanes[lane].dev_name, entry, colon - entry)) {
                iface->lane_weight[lane] = mbps * 1e6;
                ++matched;
            }
        }
        if (matched == 0) {
            ucs_error("mp_rc: UCX_MP_RC_WEIGHTS entry '%s' names no lane device",
                      entry);
            return UCS_ERR_INVALID_PARAM;
        }
    }
    return UCS_OK;
}

