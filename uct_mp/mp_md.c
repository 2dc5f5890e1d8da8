/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The mp memory domain: opens every memory domain of the lane transport that
 * has a selected lane device, registers memory on all of them and packs one
 * versioned remote key that carries every lane md's key.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_md.h"
#include "mp_iface.h"

#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/sys/string.h>
#include <net/if.h>
#include <string.h>


static const char *uct_mp_policy_names[] = {
    [UCT_MP_POLICY_ACTIVE_BACKUP] = "active_backup",
    [UCT_MP_POLICY_LOAD_BALANCE]  = "load_balance",
    [UCT_MP_POLICY_EFFICIENCY]    = "efficiency",
    [UCT_MP_POLICY_LAST]          = NULL
};

static const char *uct_mp_locality_names[] = {
    [UCT_MP_LOCALITY_NEAR]   = "near",
    [UCT_MP_LOCALITY_ALL]    = "all",
    [UCT_MP_LOCALITY_IGNORE] = "ignore",
    [UCT_MP_LOCALITY_LAST]   = NULL
};

ucs_config_field_t uct_mp_common_config_table[] = {
    {"LANE_TL", "rc_verbs",
     "UCT transport of every lane: rc_verbs (RDMA devices and ports), rc_mlx5,\n"
     "or tcp on hosts without RDMA. All lanes use the same transport and both\n"
     "peers must agree on it.",
     ucs_offsetof(uct_mp_common_config_t, lane_tl), UCS_CONFIG_TYPE_STRING},

    {"DEVICES", "all",
     "Comma-separated lane devices of the lane transport, e.g. mlx5_0:1,mlx5_1:1\n"
     "or path1,path2 for tcp. 'all' takes every usable device (loopback\n"
     "interfaces excluded), up to " UCS_PP_MAKE_STRING(UCT_MP_MAX_LANES) " lanes.",
     ucs_offsetof(uct_mp_common_config_t, devices), UCS_CONFIG_TYPE_STRING_ARRAY},

    {"POLICY", "active_backup",
     "How traffic uses the lanes:\n"
     " active_backup - all traffic on the primary lane, the others connected\n"
     "                 and idle; a failed primary is replaced by the next lane.\n"
     " load_balance  - large transfers striped over all healthy lanes by weight.\n"
     " efficiency    - one lane unless a transfer gains from more.",
     ucs_offsetof(uct_mp_common_config_t, policy),
     UCS_CONFIG_TYPE_ENUM(uct_mp_policy_names)},

    {"LANE_RETRY_COUNT", "6",
     "Transport retry count of rc lanes (their RC_RETRY_COUNT). A lane must\n"
     "report a dead path quickly so that mp can move traffic; 7 means retry\n"
     "forever on some devices (Soft-RoCE), so values above 6 are refused.",
     ucs_offsetof(uct_mp_common_config_t, lane_retry_count),
     UCS_CONFIG_TYPE_UINT},

    {"LOCALITY", "all",
     "Lane order by hwloc distance (PCIe, NUMA node, package) between each lane\n"
     "device and the CPUs this process is bound to, or its last CPU if unbound:\n"
     " all    - with DEVICES=all, every device, nearest first: the nearest is the\n"
     "          primary lane (the device name, active_backup's lane).\n"
     " near   - only the devices of the nearest distance class, at least one; an\n"
     "          unbound process keeps all. An explicit DEVICES list keeps its\n"
     "          order and is only filtered.\n"
     " ignore - configured order (DEVICES order, else by name); no hwloc.\n"
     "Devices hwloc cannot place (rxe, veth: no PCI device) follow the placed\n"
     "ones in configured order.",
     ucs_offsetof(uct_mp_common_config_t, locality),
     UCS_CONFIG_TYPE_ENUM(uct_mp_locality_names)},

    {NULL}
};

/* The common table as the md reads it: UCX_MP_<NAME>, then UCX_MP_RC_<NAME>. */
static ucs_config_field_t uct_mp_common_config_wrapper_table[] = {
    {"MP_", "", NULL, 0, UCS_CONFIG_TYPE_TABLE(uct_mp_common_config_table)},
    {NULL}
};

static ucs_config_field_t uct_mp_md_config_table[] = {
    {"", "", NULL, ucs_offsetof(uct_mp_md_config_t, super),
     UCS_CONFIG_TYPE_TABLE(uct_md_config_table)},

    {NULL}
};


ucs_status_t uct_mp_common_config_read(uct_mp_common_config_t *config)
{
    ucs_status_t status;

    status = ucs_config_parser_fill_opts(config,
                                         uct_mp_common_config_wrapper_table,
                                         UCS_DEFAULT_ENV_PREFIX, "MP_RC_", 0);
    if (status != UCS_OK) {
        ucs_error("mp: failed to read UCX_MP_RC_* configuration: %s",
                  ucs_status_string(status));
    }
    return status;
}

void uct_mp_common_config_release(uct_mp_common_config_t *config)
{
    ucs_config_parser_release_opts(config, uct_mp_common_config_wrapper_table);
}

static int uct_mp_devices_all(const ucs_config_names_array_t *devices)
{
    return (devices->count == 0) ||
           ((devices->count == 1) && !strcmp(devices->names[0], "all"));
}

static int uct_mp_netdev_is_loopback(const char *dev_name)
{
    char path[PATH_MAX];
    long flags;

    ucs_snprintf_safe(path, sizeof(path), "/sys/class/net/%s/flags", dev_name);
    if (ucs_read_file_number(&flags, 1, "%s", path) != UCS_OK) {
        return 0;
    }
    return !!(flags & IFF_LOOPBACK);
}

/*
 * How many lanes UCX_MP_RC_DEVICES puts on this lane transport device. A device
 * named twice gets two lanes (two connections on one port: distinct ECMP paths
 * in an L3 fabric, or a test of several lanes on one device).
 */
static unsigned uct_mp_device_lanes(const uct_mp_common_config_t *config,
                                    const uct_tl_resource_desc_t *rsc)
{
    unsigned i, count = 0;

    if (uct_mp_devices_all(&config->devices)) {
        return ((rsc->dev_type != UCT_DEVICE_TYPE_NET) ||
                !uct_mp_netdev_is_loopback(rsc->dev_name)) ? 1 : 0;
    }

    for (i = 0; i < config->devices.count; ++i) {
        if (!strcmp(config->devices.names[i], rsc->dev_name)) {
            ++count;
        }
    }
    return count;
}

/* Position of a device in UCX_MP_RC_DEVICES; with "all", every device ties */
static unsigned uct_mp_device_rank(const uct_mp_common_config_t *config,
                                   const char *dev_name)
{
    unsigned i;

    for (i = 0; i < config->devices.count; ++i) {
        if (!strcmp(config->devices.names[i], dev_name)) {
            return i;
        }
    }
    return 0;
}

/*
 * Lane order: as listed in UCX_MP_RC_DEVICES (the first is the primary of
 * active_backup), else by device name. Both peers derive the same order from
 * the same configuration, which lane pairing relies on.
 */
static void uct_mp_md_sort_lanes(uct_mp_md_t *md,
                                 const uct_mp_common_config_t *config)
{
    uct_mp_lane_rsc_t tmp;
    unsigned i, j;
    int before;

    for (i = 1; i < md->num_lane_rscs; ++i) { /* stable insertion sort */
        tmp = md->lane_rscs[i];
        for (j = i; j > 0; --j) {
            before = (uct_mp_device_rank(config, tmp.dev_name) <
                      uct_mp_device_rank(config, md->lane_rscs[j - 1].dev_name)) ||
                     ((uct_mp_device_rank(config, tmp.dev_name) ==
                       uct_mp_device_rank(config, md->lane_rscs[j - 1].dev_name)) &&
                      (strcmp(tmp.dev_name, md->lane_rscs[j - 1].dev_name) < 0));
            if (!before) {
                break;
            }
            md->lane_rscs[j] = md->lane_rscs[j - 1];
        }
        md->lane_rscs[j] = tmp;
    }
}

/*
 * UCX_MP_RC_LOCALITY (docs/DESIGN.md 12): with DEVICES=all, lanes in order
 * of hwloc distance; near also drops the farther ones. An explicit DEVICES
 * list is the user's order: near only filters it.
 */
static void uct_mp_md_locality(uct_mp_md_t *md,
                               const uct_mp_common_config_t *config)
{
    int all = uct_mp_devices_all(&config->devices);
    uct_mp_topo_rank_t ranks[UCT_MP_MAX_IFACE_LANES];
    uct_mp_lane_rsc_t rscs[UCT_MP_MAX_IFACE_LANES];
    const char *names[UCT_MP_MAX_IFACE_LANES];
    unsigned i, num_kept = 0;
    uct_mp_topo_info_t info;
    char err[256] = "";

    if ((config->locality == UCT_MP_LOCALITY_IGNORE) ||
        (md->num_lane_rscs < 2) ||
        (!all && (config->locality != UCT_MP_LOCALITY_NEAR))) {
        return; /* nothing to choose */
    }

    for (i = 0; i < md->num_lane_rscs; ++i) {
        names[i] = md->lane_rscs[i].dev_name;
    }
    if (uct_mp_topo_rank_lanes(names, md->num_lane_rscs, config->locality,
                               ranks, &info, err, sizeof(err)) < 0) {
        ucs_diag("mp: UCX_MP_RC_LOCALITY=%s not applied, lanes keep their "
                 "configured order: %s",
                 uct_mp_locality_names[config->locality], err);
        return;
    }

    for (i = 0; i < md->num_lane_rscs; ++i) {
        md->lane_rscs[i].locality = ranks[i].cls;
        if (ranks[i].cls == UCT_MP_TOPO_UNKNOWN) {
            ucs_diag("mp: lane device %s: hwloc cannot place it (no PCI "
                     "device): %s", names[i], !ranks[i].keep ?
                     "not used with UCX_MP_RC_LOCALITY=near" : all ?
                     "it follows the placed devices in configured order" :
                     "it keeps its UCX_MP_RC_DEVICES position");
        } else if (!ranks[i].keep) {
            ucs_diag("mp: UCX_MP_RC_LOCALITY=near: lane device %s (%s of cpus"
                     " %s) not used", names[i],
                     uct_mp_topo_class_str(ranks[i].cls), info.cpuset);
        }
        if (ranks[i].keep) {
            rscs[all ? ranks[i].order : num_kept] = md->lane_rscs[i];
            ++num_kept;
        }
    }

    memcpy(md->lane_rscs, rscs, num_kept * sizeof(rscs[0]));
    md->num_lane_rscs = num_kept;
}

/*
 * Renumber the lane mds in the order lanes first use them, so that the
 * primary lane's md has index 0: v2 ep addresses carry only the primary lane,
 * and the peer finds that lane's rkey at index 0 of our packed rkeys. Lane
 * mds left without a lane by LOCALITY=near are closed.
 */
static void uct_mp_md_order_lane_mds(uct_mp_md_t *md)
{
    uct_mp_lane_md_t lane_mds[UCT_MP_MAX_LANES];
    int new_index[UCT_MP_MAX_LANES];
    unsigned i, count = 0;

    for (i = 0; i < md->num_lane_mds; ++i) {
        new_index[i] = -1;
    }

    for (i = 0; i < md->num_lane_rscs; ++i) {
        if (new_index[md->lane_rscs[i].md_index] < 0) {
            new_index[md->lane_rscs[i].md_index] = count;
            lane_mds[count++] = md->lane_mds[md->lane_rscs[i].md_index];
        }
        md->lane_rscs[i].md_index = new_index[md->lane_rscs[i].md_index];
    }

    for (i = 0; i < md->num_lane_mds; ++i) {
        if (new_index[i] < 0) {
            uct_md_close(md->lane_mds[i].md);
        }
    }
    md->num_lane_mds = count;
    memcpy(md->lane_mds, lane_mds, count * sizeof(lane_mds[0]));
}

/* One line per lane, e.g. under ucx_info -d with UCX_LOG_LEVEL=info */
static void uct_mp_md_log_lanes(const uct_mp_md_t *md)
{
    unsigned i;

    for (i = 0; i < md->num_lane_rscs; ++i) {
        ucs_info("mp: %s lane %u: %s, %s", md->lane_tl_name, i,
                 md->lane_rscs[i].dev_name,
                 (md->lane_rscs[i].locality == UCT_MP_TOPO_UNKNOWN) ?
                 "configured order" :
                 uct_mp_topo_class_str(md->lane_rscs[i].locality));
    }
}

static uct_component_h uct_mp_find_component(const char *name)
{
    uct_component_h *components;
    uct_component_h found = NULL;
    unsigned i, num_components;

    if (uct_query_components(&components, &num_components) != UCS_OK) {
        return NULL;
    }

    for (i = 0; i < num_components; ++i) {
        if (!strcmp(components[i]->name, name)) {
            found = components[i];
            break;
        }
    }

    uct_release_component_list(components);
    return found;
}

static void uct_mp_md_close_lanes(uct_mp_md_t *md)
{
    while (md->num_lane_mds > 0) {
        uct_md_close(md->lane_mds[--md->num_lane_mds].md);
    }
}

/* Open one lane md; keep it if it has selected lane devices. */
static ucs_status_t uct_mp_md_open_lane_md(uct_mp_md_t *md, const char *md_name,
                                           const uct_mp_common_config_t *config)
{
    uct_mp_lane_md_t *lane_md = &md->lane_mds[md->num_lane_mds];
    unsigned i, count, num_rscs, num_selected = 0;
    uct_tl_resource_desc_t *rscs;
    uct_md_config_t *md_config;
    uct_mp_lane_rsc_t *rsc;
    ucs_status_t status;

    status = uct_md_config_read(md->lane_component, NULL, NULL, &md_config);
    if (status != UCS_OK) {
        return status;
    }

    status = uct_md_open(md->lane_component, md_name, md_config, &lane_md->md);
    uct_config_release(md_config);
    if (status != UCS_OK) {
        ucs_debug("mp: lane md %s failed to open: %s", md_name,
                  ucs_status_string(status));
        return status;
    }

    status = uct_md_query(lane_md->md, &lane_md->attr);
    if (status != UCS_OK) {
        goto err_close;
    }

    status = uct_md_query_tl_resources(lane_md->md, &rscs, &num_rscs);
    if (status != UCS_OK) {
        goto err_close;
    }

    for (i = 0; i < num_rscs; ++i) {
        if (strcmp(rscs[i].tl_name, md->lane_tl_name)) {
            continue;
        }

        for (count = uct_mp_device_lanes(config, &rscs[i]); count > 0;
             --count) {
            if (md->num_lane_rscs >= UCT_MP_MAX_IFACE_LANES) {
                ucs_diag("mp: lane device %s not used: already %d lanes",
                         rscs[i].dev_name, UCT_MP_MAX_IFACE_LANES);
                break;
            }

            rsc             = &md->lane_rscs[md->num_lane_rscs++];
            rsc->md_index   = md->num_lane_mds;
            rsc->dev_type   = rscs[i].dev_type;
            rsc->sys_device = rscs[i].sys_device;
            rsc->locality   = UCT_MP_TOPO_UNKNOWN;
            ucs_strncpy_zero(rsc->dev_name, rscs[i].dev_name,
                             UCT_DEVICE_NAME_MAX);
            ++num_selected;
        }
    }
    uct_release_tl_resource_list(rscs);

    if (num_selected == 0) {
        status = UCS_ERR_NO_DEVICE;
        goto err_close;
    }

    ucs_strncpy_zero(lane_md->name, md_name, sizeof(lane_md->name));
    ++md->num_lane_mds;
    return UCS_OK;

err_close:
    uct_md_close(lane_md->md);
    return status;
}

static void uct_mp_md_close(uct_md_h tl_md)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);

    uct_mp_md_close_lanes(md);
    ucs_free(md);
}

static ucs_status_t uct_mp_md_query(uct_md_h tl_md, uct_md_attr_t *md_attr)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    const uct_md_attr_t *lane_attr;
    unsigned i;
    int cpu;

    memset(md_attr, 0, sizeof(*md_attr));
    md_attr->cap.flags            = UCT_MD_FLAG_REG | UCT_MD_FLAG_NEED_RKEY;
    md_attr->cap.max_reg          = SIZE_MAX;
    md_attr->cap.reg_mem_types    = UINT64_MAX;
    md_attr->cap.access_mem_types = UINT64_MAX;
    md_attr->reg_cost             = ucs_linear_func_make(0, 0);
    md_attr->rkey_packed_size     = md->rkey_packed_size;
    ucs_strncpy_zero(md_attr->component_name, UCT_MP_COMPONENT_NAME,
                     sizeof(md_attr->component_name));

    /* What every lane md can do, and the cost of registering on all of them */
    for (i = 0; i < md->num_lane_mds; ++i) {
        lane_attr = &md->lane_mds[i].attr;
        if (!(lane_attr->cap.flags & UCT_MD_FLAG_REG)) {
            md_attr->cap.flags &= ~UCT_MD_FLAG_REG;
        }
        /* UCP hands zcopy operations a registered memh only when the md says
         * it needs one; rc lanes need their lkey */
        md_attr->cap.flags |= lane_attr->cap.flags & UCT_MD_FLAG_NEED_MEMH;
        md_attr->cap.max_reg           = ucs_min(md_attr->cap.max_reg,
                                                 lane_attr->cap.max_reg);
        md_attr->cap.reg_mem_types    &= lane_attr->cap.reg_mem_types;
        md_attr->cap.access_mem_types &= lane_attr->cap.access_mem_types;
        md_attr->reg_cost              = ucs_linear_func_add(md_attr->reg_cost,
                                                             lane_attr->reg_cost);
        for (cpu = 0; cpu < UCS_CPU_SETSIZE; ++cpu) {
            if (ucs_cpu_is_set(cpu, &lane_attr->local_cpus)) {
                UCS_CPU_SET(cpu, &md_attr->local_cpus);
            }
        }
    }

    return UCS_OK;
}

static ucs_status_t uct_mp_md_mem_dereg_lanes(uct_mp_md_t *md,
                                              uct_mp_memh_t *memh,
                                              unsigned count)
{
    ucs_status_t status = UCS_OK, lane_status;
    unsigned i;

    for (i = 0; i < count; ++i) {
        lane_status = uct_md_mem_dereg(md->lane_mds[i].md, memh->lane[i]);
        if (lane_status != UCS_OK) {
            ucs_warn("mp: deregistration on lane md %s failed: %s",
                     md->lane_mds[i].name, ucs_status_string(lane_status));
            status = lane_status;
        }
    }
    return status;
}

static ucs_status_t uct_mp_md_mem_reg(uct_md_h tl_md, void *address,
                                      size_t length, unsigned flags,
                                      uct_mem_h *memh_p)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    uct_mp_memh_t *memh;
    ucs_status_t status;
    unsigned i;

    memh = ucs_calloc(1, sizeof(*memh), "uct_mp_memh");
    if (memh == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    for (i = 0; i < md->num_lane_mds; ++i) {
        status = uct_md_mem_reg(md->lane_mds[i].md, address, length, flags,
                                &memh->lane[i]);
        if (status != UCS_OK) {
            ucs_error("mp: registering %p length %zu on lane md %s failed: %s",
                      address, length, md->lane_mds[i].name,
                      ucs_status_string(status));
            goto err_dereg;
        }
    }

    *memh_p = memh;
    return UCS_OK;

err_dereg:
    uct_mp_md_mem_dereg_lanes(md, memh, i);
    ucs_free(memh);
    return status;
}

static ucs_status_t
uct_mp_md_mem_dereg(uct_md_h tl_md, const uct_md_mem_dereg_params_t *params)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    uct_mp_memh_t *memh;
    ucs_status_t status;

    UCT_MD_MEM_DEREG_CHECK_PARAMS(params, 0);

    memh   = params->memh;
    status = uct_mp_md_mem_dereg_lanes(md, memh, md->num_lane_mds);
    ucs_free(memh);
    return status;
}

static ucs_status_t
uct_mp_md_mkey_pack(uct_md_h tl_md, uct_mem_h tl_memh,
                    const uct_md_mkey_pack_params_t *params, void *rkey_buffer)
{
    uct_mp_md_t *md     = ucs_derived_of(tl_md, uct_mp_md_t);
    uct_mp_memh_t *memh = tl_memh;
    uint8_t lane_rkeys[UCT_MP_WIRE_MAX_LEN];
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t msg   = {0};
    size_t offset       = 0;
    ucs_status_t status;
    unsigned i;

    msg.kind       = UCT_MP_WIRE_RKEY;
    msg.lane_tl    = md->lane_tl;
    msg.lane_count = md->num_lane_mds;
    for (i = 0; i < md->num_lane_mds; ++i) {
        status = uct_md_mkey_pack(md->lane_mds[i].md, memh->lane[i],
                                  &lane_rkeys[offset]);
        if (status != UCS_OK) {
            ucs_error("mp: packing the rkey of lane md %s failed: %s",
                      md->lane_mds[i].name, ucs_status_string(status));
            return status;
        }
        msg.lanes[i].len  = md->lane_mds[i].attr.rkey_packed_size;
        msg.lanes[i].data = &lane_rkeys[offset];
        offset           += md->lane_mds[i].attr.rkey_packed_size;
    }

    if (uct_mp_wire_pack(&msg, rkey_buffer, md->rkey_packed_size, errmsg,
                         sizeof(errmsg)) == 0) {
        ucs_error("mp: %s", errmsg);
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

static uct_md_ops_t uct_mp_md_ops = {
    .close                  = uct_mp_md_close,
    .query                  = uct_mp_md_query,
    .mem_alloc              = (uct_md_mem_alloc_func_t)
                              ucs_empty_function_return_unsupported,
    .mem_free               = (uct_md_mem_free_func_t)
                              ucs_empty_function_return_unsupported,
    .mem_advise             = (uct_md_mem_advise_func_t)
                              ucs_empty_function_return_unsupported,
    .mem_reg                = uct_mp_md_mem_reg,
    .mem_dereg              = uct_mp_md_mem_dereg,
    .mem_query              = (uct_md_mem_query_func_t)
                              ucs_empty_function_return_unsupported,
    .mkey_pack              = uct_mp_md_mkey_pack,
    .is_sockaddr_accessible = (uct_md_is_sockaddr_accessible_func_t)
                              ucs_empty_function_return_zero_int,
    .detect_memory_type     = (uct_md_detect_memory_type_func_t)
                              ucs_empty_function_return_unsupported
};

static ucs_status_t uct_mp_md_compute_rkey_size(uct_mp_md_t *md)
{
    uct_mp_wire_t msg = {0};
    unsigned i;

    msg.kind       = UCT_MP_WIRE_RKEY;
    msg.lane_count = md->num_lane_mds;
    for (i = 0; i < md->num_lane_mds; ++i) {
        if (md->lane_mds[i].attr.rkey_packed_size !=
            uct_mp_lane_tl_rkey_len(md->lane_tl)) { /* what peers expect */
            ucs_error("mp: lane md %s rkey size %zu, %s lanes use %zu",
                      md->lane_mds[i].name, md->lane_mds[i].attr.rkey_packed_size,
                      md->lane_tl_name, uct_mp_lane_tl_rkey_len(md->lane_tl));
            return UCS_ERR_UNSUPPORTED;
        }
        msg.lanes[i].len = md->lane_mds[i].attr.rkey_packed_size;
    }

    md->rkey_packed_size = uct_mp_wire_packed_size(&msg);
    if (md->rkey_packed_size > UCT_MP_WIRE_MAX_LEN) {
        ucs_error("mp: packed rkey of %u lane mds needs %zu bytes, maximum %d",
                  md->num_lane_mds, md->rkey_packed_size, UCT_MP_WIRE_MAX_LEN);
        return UCS_ERR_UNSUPPORTED;
    }
    return UCS_OK;
}

/* Open the lane mds. UCS_ERR_NO_DEVICE when no selected lane device exists. */
static ucs_status_t uct_mp_md_open_lanes(uct_mp_md_t *md,
                                         const uct_mp_common_config_t *config)
{
    uct_md_resource_desc_t *md_rscs;
    uct_component_attr_t comp_attr;
    const char *component_name;
    ucs_status_t status;
    unsigned i;

    md->lane_tl = uct_mp_lane_tl_from_name(config->lane_tl);
    if (md->lane_tl == UCT_MP_LANE_TL_UNKNOWN) {
        ucs_error("mp: UCX_MP_RC_LANE_TL=%s is not a supported lane transport "
                  "(rc_verbs, rc_mlx5, tcp)", config->lane_tl);
        return UCS_ERR_INVALID_PARAM;
    }

    ucs_strncpy_zero(md->lane_tl_name, config->lane_tl,
                     sizeof(md->lane_tl_name));
    component_name     = uct_mp_lane_tl_component(md->lane_tl);
    md->lane_component = uct_mp_find_component(component_name);
    if (md->lane_component == NULL) {
        ucs_debug("mp: component '%s' of lane transport %s is not loaded",
                  component_name, config->lane_tl);
        return UCS_ERR_NO_DEVICE;
    }

    comp_attr.field_mask = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCE_COUNT;
    status = uct_component_query(md->lane_component, &comp_attr);
    if (status != UCS_OK) {
        return status;
    }

    md_rscs = ucs_alloca(sizeof(*md_rscs) * comp_attr.md_resource_count);
    comp_attr.field_mask   = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCES;
    comp_attr.md_resources = md_rscs;
    status = uct_component_query(md->lane_component, &comp_attr);
    if (status != UCS_OK) {
        return status;
    }

    for (i = 0; (i < comp_attr.md_resource_count) &&
                (md->num_lane_mds < UCT_MP_MAX_LANES); ++i) {
        uct_mp_md_open_lane_md(md, md_rscs[i].md_name, config);
    }

    if (md->num_lane_rscs == 0) {
        ucs_debug("mp: no %s lane device selected by UCX_MP_RC_DEVICES",
                  md->lane_tl_name);
        return UCS_ERR_NO_DEVICE;
    }

    uct_mp_md_sort_lanes(md, config);
    uct_mp_md_locality(md, config);
    uct_mp_md_order_lane_mds(md);
    uct_mp_md_log_lanes(md);

    return uct_mp_md_compute_rkey_size(md);
}

static ucs_status_t
uct_mp_md_open(uct_component_t *component, const char *md_name,
               const uct_md_config_t *uct_md_config, uct_md_h *md_p)
{
    uct_mp_common_config_t config;
    uct_mp_md_t *md;
    ucs_status_t status;

    status = uct_mp_common_config_read(&config);
    if (status != UCS_OK) {
        goto err;
    }

    md = ucs_calloc(1, sizeof(*md), "uct_mp_md");
    if (md == NULL) {
        ucs_error("mp: failed to allocate the md");
        status = UCS_ERR_NO_MEMORY;
        goto err_release_config;
    }

    md->super.ops       = &uct_mp_md_ops;
    md->super.component = &uct_mp_component;
    md->policy          = config.policy;

    status = uct_mp_md_open_lanes(md, &config);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    uct_mp_common_config_release(&config);
    *md_p = &md->super;
    return UCS_OK;

err_close_lanes:
    uct_mp_md_close_lanes(md);
    ucs_free(md);
err_release_config:
    uct_mp_common_config_release(&config);
err:
    return status;
}

static ucs_status_t
uct_mp_rkey_unpack(uct_component_t *component, const void *rkey_buffer,
                   uct_rkey_t *rkey_p, void **handle_p)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_component_h lane_component;
    uct_mp_rkey_t *rkey;
    uct_mp_wire_t msg;
    ucs_status_t status;
    const char *name;
    unsigned i;

    if (uct_mp_wire_unpack_rkey(rkey_buffer, &msg, errmsg,
                                sizeof(errmsg)) != 0) {
        ucs_error("mp: invalid remote key: %s", errmsg);
        return UCS_ERR_INVALID_PARAM;
    }

    name           = uct_mp_lane_tl_component(msg.lane_tl);
    lane_component = (name == NULL) ? NULL : uct_mp_find_component(name);
    if (lane_component == NULL) {
        ucs_error("mp: remote key of lane transport %d (%s) cannot be unpacked "
                  "here", msg.lane_tl, (name == NULL) ? "unknown" : name);
        return UCS_ERR_UNSUPPORTED;
    }

    rkey = ucs_calloc(1, sizeof(*rkey), "uct_mp_rkey");
    if (rkey == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    rkey->lane_component = lane_component;
    for (i = 0; i < msg.lane_count; ++i) {
        status = uct_rkey_unpack(lane_component, msg.lanes[i].data,
                                 &rkey->lane[i]);
        if (status != UCS_OK) {
            ucs_error("mp: unpacking lane %u of the remote key failed: %s", i,
                      ucs_status_string(status));
            goto err_release;
        }
        ++rkey->num_lane_rkeys;
    }

    *rkey_p   = (uintptr_t)rkey;
    *handle_p = rkey;
    return UCS_OK;

err_release:
    while (rkey->num_lane_rkeys > 0) {
        uct_rkey_release(lane_component, &rkey->lane[--rkey->num_lane_rkeys]);
    }
    ucs_free(rkey);
    return status;
}

static ucs_status_t uct_mp_rkey_release(uct_component_t *component,
                                        uct_rkey_t tl_rkey, void *handle)
{
    uct_mp_rkey_t *rkey = handle;
    unsigned i;

    if (rkey == NULL) {
        return UCS_OK; /* UCP releases keys whose unpacking failed */
    }

    for (i = 0; i < rkey->num_lane_rkeys; ++i) {
        uct_rkey_release(rkey->lane_component, &rkey->lane[i]);
    }
    ucs_free(rkey);
    return UCS_OK;
}

uct_component_t uct_mp_component = {
    .query_md_resources = uct_md_query_single_md_resource,
    .md_open            = uct_mp_md_open,
    .cm_open            = (uct_component_cm_open_func_t)
                          ucs_empty_function_return_unsupported,
    .rkey_unpack        = uct_mp_rkey_unpack,
    .rkey_ptr           = (uct_component_rkey_ptr_func_t)
                          ucs_empty_function_return_unsupported,
    .rkey_release       = uct_mp_rkey_release,
    .name               = UCT_MP_COMPONENT_NAME,
    .md_config          = {
        .name           = "Multi-path memory domain",
        .prefix         = "MP_",
        .table          = uct_mp_md_config_table,
        .size           = sizeof(uct_mp_md_config_t),
    },
    .cm_config          = UCS_CONFIG_EMPTY_GLOBAL_LIST_ENTRY,
    .tl_list            = UCT_COMPONENT_TL_LIST_INITIALIZER(&uct_mp_component),
    .flags              = 0,
    .md_vfs_init        = (uct_component_md_vfs_init_func_t)ucs_empty_function
};
