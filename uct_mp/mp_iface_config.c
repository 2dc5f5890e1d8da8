/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Configuration of the mp_rc iface: the UCX_MP_RC_* table (it embeds UCT's
 * iface table and the common UCX_MP_* table) and the checks of the config
 * and the open parameters.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_iface.h"

#include <uct/api/v2/uct_v2.h>
#include <ucs/debug/log.h>
#include <ucs/sys/math.h>
#include <string.h>


/* RC retry count 7 means "retry forever" on rxe: a dead path never reports */
#define UCT_MP_MAX_LANE_RETRY_COUNT  6


ucs_config_field_t uct_mp_iface_config_table[] = {
    {"", "", NULL, ucs_offsetof(uct_mp_iface_config_t, super),
     UCS_CONFIG_TYPE_TABLE(uct_iface_config_table)},

    {"MP_", "", NULL, ucs_offsetof(uct_mp_iface_config_t, mp),
     UCS_CONFIG_TYPE_TABLE(uct_mp_common_config_table)},

    {"STRIPE_TABLE", "auto",
     "How load_balance and efficiency place one put/get zcopy of a given size:\n"
     "a list of size:mode, sizes increasing, the last one inf; mode single puts\n"
     "the whole operation on one lane, stripe splits it over the active lanes\n"
     "in proportion to their measured bandwidth. E.g. 16k:single,inf:stripe.\n"
     "auto: load_balance 16k:single,inf:stripe, efficiency 256k:single,inf:stripe.",
     ucs_offsetof(uct_mp_iface_config_t, stripe_table), UCS_CONFIG_TYPE_STRING},

    {"KEEPALIVE_INTERVAL", "1s",
     "How often each connected lane of an endpoint probes its peer lane (lanes\n"
     "that connect endpoint to endpoint). 0 disables the keepalive; a lane\n"
     "then fails only when its transport reports an error.",
     ucs_offsetof(uct_mp_iface_config_t, keepalive_interval),
     UCS_CONFIG_TYPE_TIME},

    {"KEEPALIVE_MISSES", "3",
     "A lane that hears nothing from its peer for this many keepalive\n"
     "intervals becomes suspect: its traffic moves to the other lanes, and the\n"
     "first thing that arrives on it brings it back. Silent for twice as long\n"
     "again, it fails; with no lane left the endpoint reports the error.",
     ucs_offsetof(uct_mp_iface_config_t, keepalive_misses), UCS_CONFIG_TYPE_UINT},

    {"FAILBACK_INTERVAL", "1s",
     "After a lane fails, or did not join at start-up, try to re-establish\n"
     "it this long after, then after twice as long, up to 8 times as long\n"
     "(endpoint-to-endpoint lanes; one side of the pair starts, over a\n"
     "surviving lane). 0 disables fail-back.",
     ucs_offsetof(uct_mp_iface_config_t, failback_interval),
     UCS_CONFIG_TYPE_TIME},

    {"LINK_EVENTS", "y",
     "Watch the network device under each lane (a tcp lane's device, a RoCE\n"
     "port's netdev) for link state changes, and the port of each rc lane for\n"
     "verbs async events (port error / active): a lane whose link goes down\n"
     "fails at once instead of after the keepalive timeout, and fail-back\n"
     "retries it 100 ms after the link comes back.",
     ucs_offsetof(uct_mp_iface_config_t, link_events), UCS_CONFIG_TYPE_BOOL},

    {"CONNECT_TO_IFACE", "y",
     "Let lanes that can connect to a remote interface (tcp) do so when all\n"
     "lanes fit UCP's 63-byte iface address (up to 3 tcp lanes). With n they\n"
     "connect endpoint to endpoint and join over the primary lane, which needs\n"
     "UCP's client-server flow or an aux transport. Both fail over: an\n"
     "endpoint connected to an iface says HELLO and gets a passive partner.",
     ucs_offsetof(uct_mp_iface_config_t, connect_to_iface), UCS_CONFIG_TYPE_BOOL},

    {"CONTROL_DIR", "auto",
     "Directory of the process's control socket <pid>.sock, which uct_mp_ctl\n"
     "talks to (status, drain, undrain). auto: $XDG_RUNTIME_DIR/uct_mp, else\n"
     "/tmp/uct_mp-<uid>. Created with mode 0700; an existing one must belong\n"
     "to the user and not be open to others. Empty: no control socket.",
     ucs_offsetof(uct_mp_iface_config_t, control_dir), UCS_CONFIG_TYPE_STRING},

    {"WEIGHTS", "",
     "Bandwidth of the lanes in MB/s, which striping starts from instead of the\n"
     "lane transports' nominal figures (a shaped or shared link reports its\n"
     "nominal speed): device:MBps entries (every lane on that device), or\n"
     "plain numbers in lane order, e.g. path1:125,path2:62.5 or 125,62.5.\n"
     "Measured throughput replaces them after 1 MiB on a lane.",
     ucs_offsetof(uct_mp_iface_config_t, weights),
     UCS_CONFIG_TYPE_STRING_ARRAY},

    {"STRIPE_MIN_CHUNK", "8k",
     "Smallest part of a striped operation given to one lane; a smaller share\n"
     "is merged into the largest one.",
     ucs_offsetof(uct_mp_iface_config_t, stripe_min_chunk),
     UCS_CONFIG_TYPE_MEMUNITS},

    {"DEVICE_ATOMICS", "n",
     "Offer the lanes' device atomics (rc lanes) to UCP. They are faster, but an\n"
     "atomic in flight on a lane that fails cannot be issued again, since it may\n"
     "have executed: a fetching one completes with an error, a posted one may be\n"
     "lost. With n, UCP runs atomics in software over the mp AM channel, which\n"
     "delivers every request and reply exactly once across lane failures.",
     ucs_offsetof(uct_mp_iface_config_t, device_atomics), UCS_CONFIG_TYPE_BOOL},

    {"RMA_BOUNCE", "y",
     "Send put_short and put_bcopy from registered mp buffers as put_zcopy, and\n"
     "get_bcopy into mp buffers, through the striping path: they are tracked and\n"
     "posted again on another lane when their lane fails (rc lanes; tcp lanes\n"
     "offer zcopy put only). With n they go straight to the lane: one copy less,\n"
     "but a put in flight on a lane that fails is lost, and a get fails.",
     ucs_offsetof(uct_mp_iface_config_t, rma_bounce), UCS_CONFIG_TYPE_BOOL},

    UCT_IFACE_MPOOL_CONFIG_FIELDS("BOUNCE_", -1, 64, "bounce",
                                  ucs_offsetof(uct_mp_iface_config_t, bounce_mp),
                                  "\nBuffers of put_short, put_bcopy and get_bcopy in "
                                  "flight (RMA_BOUNCE)."),

    {NULL}
};


/* Check the iface config; the errors name the variables */
ucs_status_t
uct_mp_iface_check_config(const uct_mp_iface_config_t *config,
                          uct_mp_stripe_table_t *stripe_table)
{
    char errmsg[UCT_MP_STRIPE_ERRMSG_MAX];

    if ((config->keepalive_interval < 0) ||
        (config->keepalive_misses == 0)) {
        ucs_error("mp_rc: UCX_MP_RC_KEEPALIVE_INTERVAL=%.3fs "
                  "UCX_MP_RC_KEEPALIVE_MISSES=%u: the interval must not be "
                  "negative and the miss count at least 1",
                  config->keepalive_interval, config->keepalive_misses);
        return UCS_ERR_INVALID_PARAM;
    }

    if (config->mp.lane_retry_count > UCT_MP_MAX_LANE_RETRY_COUNT) {
        ucs_error("mp_rc: UCX_MP_RC_LANE_RETRY_COUNT=%u: at most %d (7 means "
                  "retry forever on Soft-RoCE)", config->mp.lane_retry_count,
                  UCT_MP_MAX_LANE_RETRY_COUNT);
        return UCS_ERR_INVALID_PARAM;
    }

    if (!strcmp(config->stripe_table, "auto")) {
        uct_mp_stripe_table_default(config->mp.policy, stripe_table);
    } else if (uct_mp_stripe_table_parse(config->stripe_table, stripe_table,
                                         errmsg, sizeof(errmsg)) != 0) {
        ucs_error("mp_rc: UCX_MP_RC_STRIPE_TABLE=%s: %s", config->stripe_table,
                  errmsg);
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

/*
 * UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT / AM_ALIGN_OFFSET: a power of 2, an
 * offset below it, no offset without an alignment (as UCX's transports).
 */
ucs_status_t uct_mp_iface_check_align(uct_mp_iface_t *iface,
                                             const uct_iface_params_t *params)
{
    iface->am_align        = 0;
    iface->am_align_offset = 0;
    iface->am_align_buf    = NULL;
    if (!(params->field_mask & UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT)) {
        if (params->field_mask & UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET) {
            ucs_error("mp_rc: AM alignment offset %zu without an alignment",
                      params->am_align_offset);
            return UCS_ERR_INVALID_PARAM;
        }
        return UCS_OK;
    }

    iface->am_align        = params->am_alignment;
    iface->am_align_offset = UCT_IFACE_PARAM_VALUE(params, am_align_offset,
                                                   AM_ALIGN_OFFSET, 0ul);
    if ((iface->am_align == 0) || !ucs_is_pow2(iface->am_align) ||
        (iface->am_align_offset >= iface->am_align)) {
        ucs_error("mp_rc: AM alignment %zu offset %zu: the alignment must be "
                  "a power of 2 and the offset below it", iface->am_align,
                  iface->am_align_offset);
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

