/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifndef UCT_MP_IFACE_H_
#define UCT_MP_IFACE_H_

#include "mp_md.h"
#include "mp_sched.h"
#include "mp_ctl.h"

#include <uct/base/uct_iface.h>
#include <net/if.h>
#include <ucs/datastruct/khash.h>
#include <ucs/datastruct/list.h>
#include <ucs/datastruct/mpool.h>


typedef struct uct_mp_iface_config {
    uct_iface_config_t       super;
    uct_mp_common_config_t   mp;
    char                     *stripe_table;     /* STRIPE_TABLE */
    ucs_config_names_array_t weights;           /* WEIGHTS */
    size_t                   stripe_min_chunk;  /* STRIPE_MIN_CHUNK */
    double                   keepalive_interval;
    unsigned                 keepalive_misses;
    double                   failback_interval;
    int                      link_events;
    int                      connect_to_iface;
    int                      device_atomics;    /* DEVICE_ATOMICS */
    int                      rma_bounce;        /* RMA_BOUNCE */
    uct_iface_mpool_config_t bounce_mp;         /* BOUNCE_MAX_BUFS, _GROW */
    char                     *control_dir;      /* CONTROL_DIR */
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


/* Argument of the AM handler installed on one lane iface for one AM id. */
typedef struct uct_mp_am_trampoline {
    struct uct_mp_iface      *iface;
    uint8_t                  lane;
    uint8_t                  id;
} uct_mp_am_trampoline_t;


/* Argument of the control AM handler of one lane iface: which lane it is. */
typedef struct uct_mp_ctl_trampoline {
    struct uct_mp_iface      *iface;
    uint8_t                  lane;
} uct_mp_ctl_trampoline_t;


struct uct_mp_ep;
KHASH_MAP_INIT_INT(uct_mp_eps, struct uct_mp_ep*)


typedef struct uct_mp_iface {
    uct_base_iface_t         super;
    uct_mp_policy_t          policy;
    unsigned                 lane_retry_count;
    uct_mp_stripe_table_t    stripe_table;    /* zcopy RMA: single or stripe */
    size_t                   stripe_min_chunk;
    double                   lane_weight[UCT_MP_MAX_LANES]; /* bytes/s, 0:
                                                 from the lane's attributes */
    ucs_time_t               ka_interval;     /* 0: no keepalive */
    unsigned                 ka_misses;
    ucs_time_t               failback_interval; /* 0: no fail-back */
    ucs_time_t               ka_next_check;
    uct_worker_cb_id_t       ka_prog_id;
    ucs_queue_head_t         flush_retry_q;   /* lane iface flushes to post
                                                 again (mp_flush.h) */
    uct_worker_cb_id_t       flush_prog_id;   /* posts them */
    /* link events (mp_link.c) */
    int                      link_events;     /* LINK_EVENTS */
    int                      link_fd;         /* rtnetlink socket, -1: none */
    int                      link_async;      /* the event fds are read on
                                                 UCS's async thread, not
                                                 from the progress */
    ucs_time_t               link_next_poll;
    uct_worker_cb_id_t       link_prog_id;
    /* what the event reader saw (the async thread may write these) */
    volatile uint8_t         link_seen_down[UCT_MP_MAX_LANES];
    volatile uint32_t        link_seen_gen;   /* +1 after each change */
    /* what the progress applied to the endpoints (main thread only) */
    uint32_t                 link_applied_gen;
    uint8_t                  link_down[UCT_MP_MAX_LANES];
    ucs_time_t               link_up_time[UCT_MP_MAX_LANES]; /* last came
                                                 up, 0: not seen */
    char                     link_netdev[UCT_MP_MAX_LANES][IFNAMSIZ]; /* "":
                                                 no netdev to watch */
    /* verbs async events (mp_verbs_events.c): a context per lane HCA */
    void                     *ib_ctx[UCT_MP_MAX_LANES]; /* ibv_context */
    unsigned                 num_ib_ctx;
    int8_t                   ib_ctx_of_lane[UCT_MP_MAX_LANES]; /* -1: none */
    uint8_t                  ib_port_of_lane[UCT_MP_MAX_LANES];
    int                      device_atomics;  /* DEVICE_ATOMICS */
    size_t                   bounce_size;     /* 0: short and bcopy RMA go
                                                 straight to the lanes */
    ucs_mpool_t              bounce_mp;       /* mp_bounce.c */
    uint8_t                  caps;        /* UCT_MP_CAP_* this build offers */
    uint64_t                 cap_flags;   /* UCT_IFACE_FLAG_* of the mp iface */
    unsigned                 num_lanes;
    uct_mp_lane_iface_t      lanes[UCT_MP_MAX_LANES];
    uct_mp_am_trampoline_t   am_trampolines[UCT_MP_MAX_LANES][UCT_AM_ID_MAX];
    uct_mp_ctl_trampoline_t  ctl_trampolines[UCT_MP_MAX_LANES];
    uint8_t                  dev_addr[UCT_MP_WIRE_MAX_LEN];   /* primary lane */
    size_t                   dev_addr_len;
    uint8_t                  lanes_addr[UCT_MP_WIRE_MAX_LEN]; /* lane devices */
    size_t                   lanes_addr_len;
    uint8_t                  iface_addr[2 * UCT_MP_WIRE_MAX_LEN];
    size_t                   iface_addr_len;
    size_t                   ep_addr_len;
    ucs_list_link_t          eps;         /* uct_mp_ep_t::list */
    ucs_list_link_t          all_list;    /* in the process's list of mp
                                             ifaces (uct_mp_debug_dump) */
    khash_t(uct_mp_eps)      eps_by_token; /* control messages find their ep */
    size_t                   am_align;        /* AM_ALIGNMENT, 0: none */
    size_t                   am_align_offset; /* AM_ALIGN_OFFSET */
    void                     *am_align_buf;   /* misaligned AMs are copied
                                                 here before delivery */
    size_t                   am_max_hdr;      /* cap.am.max_hdr advertised */
    size_t                   am_max_iov;      /* cap.am.max_iov advertised */
    void                     (*ctl_dispatch)(struct uct_mp_ep *ep,
                                             unsigned lane,
                                             const uct_mp_ctl_t *msg,
                                             const void *data, size_t length);
    uct_worker_cb_id_t       control_prog_id; /* reads the control socket
                                                 (mp_control.c) */
    int                      bad_addr_logged;
    int                      bad_ctl_logged;
} uct_mp_iface_t;


/* UCX_MP_RC_* (mp_iface_config.c) */
extern ucs_config_field_t uct_mp_iface_config_table[];

/* Check the config (errors name the variables) and fill stripe_table */
ucs_status_t uct_mp_iface_check_config(const uct_mp_iface_config_t *config,
                                       uct_mp_stripe_table_t *stripe_table);

/* Check the AM alignment open parameters and keep them in iface */
ucs_status_t uct_mp_iface_check_align(uct_mp_iface_t *iface,
                                      const uct_iface_params_t *params);

/* Open a lane iface on every lane device of md (at least one must open) /
 * close them */
ucs_status_t uct_mp_iface_open_lanes(uct_mp_iface_t *iface, uct_mp_md_t *md,
                                     uct_worker_h worker,
                                     const uct_iface_params_t *params);
void uct_mp_iface_close_lanes(uct_mp_iface_t *iface);

/* UCX_MP_RC_WEIGHTS: "dev:MBps" or positional "MBps" entries */
ucs_status_t uct_mp_iface_parse_weights(uct_mp_iface_t *iface,
                                        const ucs_config_names_array_t *w);

/* Every mp ep of the process, to stderr (call it from a debugger) */
void uct_mp_debug_dump(void);

#endif
