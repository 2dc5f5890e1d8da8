/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifndef UCT_MP_IFACE_H_
#define UCT_MP_IFACE_H_

#include "mp_md.h"

#include <uct/base/uct_iface.h>
#include <ucs/datastruct/list.h>


typedef struct uct_mp_iface_config {
    uct_iface_config_t       super;
    uct_mp_common_config_t   mp;
} uct_mp_iface_config_t;


/* One lane of the iface (opaque child handle): a lane transport interface. */
typedef struct uct_mp_lane_iface {
    uct_iface_h              iface;
    uct_iface_attr_t         attr;
    unsigned                 md_index;   /* lane md in uct_mp_md_t::lane_mds */
    char                     dev_name[UCT_DEVICE_NAME_MAX];
    uint8_t                  dev_addr[UINT8_MAX];
    uint8_t                  iface_addr[UINT8_MAX];
} uct_mp_lane_iface_t;


/* Argument of the AM handler installed on the lane ifaces for one AM id. */
typedef struct uct_mp_am_trampoline {
    struct uct_mp_iface      *iface;
    uint8_t                  id;
} uct_mp_am_trampoline_t;


typedef struct uct_mp_iface {
    uct_base_iface_t         super;
    uct_mp_policy_t          policy;
    unsigned                 lane_retry_count;
    uint32_t                 session;     /* random id of this iface */
    uint8_t                  caps;        /* UCT_MP_CAP_* this build offers */
    uint64_t                 cap_flags;   /* UCT_IFACE_FLAG_* of the mp iface */
    unsigned                 num_lanes;
    uct_mp_lane_iface_t      lanes[UCT_MP_MAX_LANES];
    uct_mp_am_trampoline_t   am_trampolines[UCT_AM_ID_MAX];
    uint8_t                  dev_addr[UCT_MP_WIRE_MAX_LEN];
    size_t                   dev_addr_len;
    uint8_t                  iface_addr[UCT_MP_WIRE_MAX_LEN];
    size_t                   iface_addr_len;
    size_t                   ep_addr_len;
    ucs_list_link_t          eps;         /* uct_mp_ep_t::list */
    int                      bad_addr_logged;
} uct_mp_iface_t;


/* Decode a peer's device address (and iface address, if not NULL); log the
 * first malformed one at error level. Returns UCS_ERR_UNREACHABLE if bad. */
ucs_status_t uct_mp_iface_unpack_peer(uct_mp_iface_t *iface,
                                      const uct_device_addr_t *dev_addr,
                                      const uct_iface_addr_t *iface_addr,
                                      uct_mp_wire_t *dev, uct_mp_wire_t *ifc);

void uct_mp_iface_log_bad_addr(uct_mp_iface_t *iface, const char *what,
                               const char *errmsg);

#endif
