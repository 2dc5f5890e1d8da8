/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifndef UCT_MP_MD_H_
#define UCT_MP_MD_H_

#include <uct/base/uct_md.h>
#include "mp_wire.h"
#include "mp_lanes.h"
#include "mp_topo.h"


#define UCT_MP_COMPONENT_NAME  "mp"
#define UCT_MP_TL_NAME         "mp_rc"

/* Lanes of one iface: v2 addresses carry only the primary lane, so the
 * lane count no longer depends on UCP's address limits */
#define UCT_MP_MAX_IFACE_LANES UCT_MP_MAX_LANES


extern uct_component_t uct_mp_component;


/*
 * Options shared by the mp md and the mp_rc iface: which lanes exist.
 * Read as UCX_MP_<NAME>, overridden by UCX_MP_RC_<NAME>.
 */
typedef struct uct_mp_common_config {
    char                     *lane_tl;   /* UCT transport every lane uses */
    ucs_config_names_array_t devices;    /* lane devices, or "all" */
    uct_mp_policy_t          policy;     /* how traffic uses the lanes */
    unsigned                 lane_retry_count; /* RC transport retries */
    uct_mp_locality_t        locality;   /* lane order by hwloc distance */
} uct_mp_common_config_t;

extern ucs_config_field_t uct_mp_common_config_table[];


typedef struct uct_mp_md_config {
    uct_md_config_t super;
} uct_mp_md_config_t;


/* One lane device: a device of the lane transport on one of the lane mds. */
typedef struct uct_mp_lane_rsc {
    unsigned                 md_index;   /* index in uct_mp_md_t::lane_mds */
    char                     dev_name[UCT_DEVICE_NAME_MAX];
    uct_device_type_t        dev_type;
    ucs_sys_device_t         sys_device;
    uct_mp_topo_class_t      locality;   /* distance to the binding, or
                                            UNKNOWN when not ranked */
} uct_mp_lane_rsc_t;


/* A memory domain of the lane transport (opaque child handle). */
typedef struct uct_mp_lane_md {
    uct_md_h                 md;
    uct_md_attr_t            attr;
    char                     name[UCT_MD_NAME_MAX];
} uct_mp_lane_md_t;


typedef struct uct_mp_md {
    uct_md_t                 super;
    uct_component_h          lane_component;
    uct_mp_lane_tl_t         lane_tl;
    char                     lane_tl_name[UCT_TL_NAME_MAX];
    uct_mp_policy_t          policy;
    unsigned                 num_lane_mds;
    uct_mp_lane_md_t         lane_mds[UCT_MP_MAX_LANES];
    unsigned                 num_lane_rscs;
    uct_mp_lane_rsc_t        lane_rscs[UCT_MP_MAX_IFACE_LANES];
    size_t                   rkey_packed_size;
} uct_mp_md_t;


/* Registration on every lane md; index = lane md index. */
typedef struct uct_mp_memh {
    uct_mem_h                lane[UCT_MP_MAX_LANES];
} uct_mp_memh_t;


/* Unpacked remote key: one lane rkey per remote lane md. */
typedef struct uct_mp_rkey {
    unsigned                 num_lane_rkeys;
    uct_component_h          lane_component;
    uct_rkey_bundle_t        lane[UCT_MP_MAX_LANES];
} uct_mp_rkey_t;


/*
 * The mp_rc device is named after the primary lane device (the first lane):
 * UCP's client-server flow looks for transports on the device its connection
 * manager resolved, so a connection to the primary device's address finds
 * mp_rc there. There is still exactly one mp_rc device.
 */
static UCS_F_ALWAYS_INLINE const char *uct_mp_md_device_name(const uct_mp_md_t *md)
{
    return md->lane_rscs[0].dev_name;
}

ucs_status_t uct_mp_common_config_read(uct_mp_common_config_t *config);
void uct_mp_common_config_release(uct_mp_common_config_t *config);

static UCS_F_ALWAYS_INLINE uct_mem_h
uct_mp_memh_lane(uct_mem_h memh, unsigned md_index)
{
    return (memh == UCT_MEM_HANDLE_NULL) ? UCT_MEM_HANDLE_NULL :
           ((uct_mp_memh_t*)memh)->lane[md_index];
}

static UCS_F_ALWAYS_INLINE uct_rkey_t
uct_mp_rkey_lane(uct_rkey_t rkey, unsigned remote_md_index)
{
    return ((const uct_mp_rkey_t*)rkey)->lane[remote_md_index].rkey;
}

#endif
