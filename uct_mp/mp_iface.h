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
    uint8_t                  dev_addr[UCT_MP_WIRE_MAX_LEN];   /* summary */
    size_t                   dev_addr_len;
    uint8_t                  lanes_addr[UCT_MP_WIRE_MAX_LEN]; /* lane devices */
    size_t                   lanes_addr_len;
    uint8_t                  iface_addr[2 * UCT_MP_WIRE_MAX_LEN];
    size_t                   iface_addr_len;
    size_t                   ep_addr_len;
    ucs_list_link_t          eps;         /* uct_mp_ep_t::list */
    int                      bad_addr_logged;
} uct_mp_iface_t;


/*
 * Addresses (UCP 1.13's v1 address format allows 31-byte device and 63-byte
 * iface addresses, less than lane device addresses of RoCE need):
 *   device address  summary: header, caps, lane transport, session, and per
 *                   lane md index and bandwidth class (no lane addresses)
 *   iface address   [lane devices][lane iface addresses], connect-to-iface only
 *   ep address      [lane devices][lane ep addresses]
 * where [lane devices] is a device-kind message with every lane's device
 * address. Each decode logs the first malformed address at error level and
 * returns UCS_ERR_UNREACHABLE.
 */
ucs_status_t uct_mp_iface_unpack_summary(uct_mp_iface_t *iface,
                                         const uct_device_addr_t *dev_addr,
                                         uct_mp_wire_t *summary);

/* [lane devices] at buf, then a message of kind after it */
ucs_status_t uct_mp_iface_unpack_lanes(uct_mp_iface_t *iface, const void *buf,
                                       uct_mp_wire_kind_t kind,
                                       uct_mp_wire_t *lanes, uct_mp_wire_t *msg);

void uct_mp_iface_log_bad_addr(uct_mp_iface_t *iface, const char *what,
                               const char *errmsg);

#endif
