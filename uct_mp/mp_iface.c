/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The mp_rc interface: one UCT interface, on one device named after the first
 * lane device (UCP's client-server flow finds it there), that opens
 * one lane interface per selected lane device, on the same worker, and
 * presents their common capabilities to UCP.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_iface.h"
#include "mp_ep.h"
#include "mp_flush.h"
#include "mp_join.h"
#include "mp_ctl.h"
#include "mp_keepalive.h"
#include "mp_link.h"
#include "mp_bounce.h"
#include "mp_lane_quirk.h"

#include <uct/api/v2/uct_v2.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>
#include <ucs/sys/string.h>
#include <ucs/sys/math.h>
#include <ucs/sys/stubs.h>
#include <ucs/time/time.h>
#include <string.h>


/* What the mp iface implements on top of lanes that have it */
#define UCT_MP_IFACE_PASSTHROUGH_FLAGS \
    (UCT_IFACE_FLAG_AM_SHORT | UCT_IFACE_FLAG_AM_BCOPY | \
     UCT_IFACE_FLAG_AM_ZCOPY | UCT_IFACE_FLAG_PUT_SHORT | \
     UCT_IFACE_FLAG_PUT_BCOPY | UCT_IFACE_FLAG_PUT_ZCOPY | \
     UCT_IFACE_FLAG_GET_SHORT | UCT_IFACE_FLAG_GET_BCOPY | \
     UCT_IFACE_FLAG_GET_ZCOPY | UCT_IFACE_FLAG_ATOMIC_CPU | \
     UCT_IFACE_FLAG_ATOMIC_DEVICE | UCT_IFACE_FLAG_PENDING | \
     UCT_IFACE_FLAG_CB_SYNC | UCT_IFACE_FLAG_CONNECT_TO_IFACE | \
     UCT_IFACE_FLAG_CONNECT_TO_EP | UCT_IFACE_FLAG_ERRHANDLE_PEER_FAILURE | \
     UCT_IFACE_FLAG_EP_CHECK)


/* UCP 1.13 (address format v1) packs device addresses of at most 31 bytes
 * and iface addresses of at most 63 bytes */
#define UCT_MP_UCP_MAX_DEV_ADDR_LEN    31
#define UCT_MP_UCP_MAX_IFACE_ADDR_LEN  63

/* RC retry count 7 means "retry forever" on rxe: a dead path never reports */
#define UCT_MP_MAX_LANE_RETRY_COUNT  6


/* Every open mp iface of the process, for uct_mp_debug_dump() */
static UCS_LIST_HEAD(uct_mp_all_ifaces);

/*
 * Print the state of every mp endpoint to stderr: lanes, queues, the AM
 * channel, pending requests. For a process that hangs: from a debugger,
 * "call uct_mp_debug_dump()". Single-threaded workers only (no locking).
 */
void uct_mp_debug_dump(void)
{
    uct_mp_iface_t *iface;
    uct_mp_ep_t *ep;

    ucs_list_for_each(iface, &uct_mp_all_ifaces, all_list) {
        fprintf(stderr, "mp_rc: iface %p: %u lanes, %zu eps\n", iface,
                iface->num_lanes, ucs_list_length(&iface->eps));
        ucs_list_for_each(ep, &iface->eps, list) {
            uct_mp_ep_dump(ep, stderr);
        }
    }
}

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
     "intervals fails, and its traffic moves to the other lanes; with no lane\n"
     "left the endpoint reports the error.",
     ucs_offsetof(uct_mp_iface_config_t, keepalive_misses), UCS_CONFIG_TYPE_UINT},

    {"FAILBACK_INTERVAL", "1s",
     "After a lane fails, try to re-establish it this long after, then after\n"
     "twice as long, up to 8 times as long (endpoint-to-endpoint lanes; one\n"
     "side of the pair starts, over a surviving lane). 0 disables fail-back.",
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
     "UCP's client-server flow or an aux transport, and gives both sides lane\n"
     "keepalive.",
     ucs_offsetof(uct_mp_iface_config_t, connect_to_iface), UCS_CONFIG_TYPE_BOOL},

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


void uct_mp_iface_log_bad_addr(uct_mp_iface_t *iface, const char *what,
                               const char *errmsg)
{
    if (!iface->bad_addr_logged) {
        iface->bad_addr_logged = 1;
        ucs_error("mp_rc: rejecting peer %s: %s", what, errmsg);
    } else {
        ucs_debug("mp_rc: rejecting peer %s: %s", what, errmsg);
    }
}

ucs_status_t uct_mp_iface_check_lanes(uct_mp_iface_t *iface,
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
        uct_mp_iface_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    for (i = 0; i < msg->lane_count; ++i) {
        if ((msg->kind == UCT_MP_WIRE_LANE_DEVS) &&
            (msg->lanes[i].md_index >= UCT_MP_MAX_LANES)) {
            ucs_snprintf_safe(errmsg, sizeof(errmsg),
                              "lane %u has md index %u (maximum %d)", i,
                              msg->lanes[i].md_index, UCT_MP_MAX_LANES - 1);
            uct_mp_iface_log_bad_addr(iface, what, errmsg);
            return UCS_ERR_UNREACHABLE;
        }

        if ((msg->kind != UCT_MP_WIRE_IFACE_ADDR) && (msg->lanes[i].len == 0)) {
            ucs_snprintf_safe(errmsg, sizeof(errmsg), "lane %u has an empty "
                              "address", i);
            uct_mp_iface_log_bad_addr(iface, what, errmsg);
            return UCS_ERR_UNREACHABLE;
        }
    }
    return UCS_OK;
}

ucs_status_t uct_mp_iface_unpack_device(uct_mp_iface_t *iface,
                                        const uct_device_addr_t *dev_addr,
                                        uct_mp_wire_t *dev)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];

    if (uct_mp_wire_unpack(dev_addr, UCT_MP_WIRE_MAX_LEN,
                           UCT_MP_WIRE_DEVICE_ADDR, dev, errmsg,
                           sizeof(errmsg)) != 0) {
        uct_mp_iface_log_bad_addr(iface, "device address", errmsg);
        return UCS_ERR_UNREACHABLE;
    }
    return uct_mp_iface_check_lanes(iface, dev, "device address");
}

ucs_status_t uct_mp_iface_unpack_lanes(uct_mp_iface_t *iface, const void *buf,
                                       uct_mp_wire_kind_t kind,
                                       uct_mp_wire_t *lanes, uct_mp_wire_t *msg)
{
    const char *what = (kind == UCT_MP_WIRE_EP_ADDR) ? "ep address" :
                                                       "iface address";
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    ucs_status_t status;

    if (uct_mp_wire_unpack(buf, UCT_MP_WIRE_MAX_LEN, UCT_MP_WIRE_LANE_DEVS,
                           lanes, errmsg, sizeof(errmsg)) != 0) {
        uct_mp_iface_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    status = uct_mp_iface_check_lanes(iface, lanes, what);
    if (status != UCS_OK) {
        return status;
    }

    if (uct_mp_wire_unpack(UCS_PTR_BYTE_OFFSET(buf, lanes->total_len),
                           UCT_MP_WIRE_MAX_LEN, kind, msg, errmsg,
                           sizeof(errmsg)) != 0) {
        uct_mp_iface_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }

    if (msg->lane_count != lanes->lane_count) {
        ucs_snprintf_safe(errmsg, sizeof(errmsg),
                          "%u lane addresses for %u lane devices",
                          msg->lane_count, lanes->lane_count);
        uct_mp_iface_log_bad_addr(iface, what, errmsg);
        return UCS_ERR_UNREACHABLE;
    }
    return UCS_OK;
}

ucs_status_t uct_mp_iface_add_ep(uct_mp_iface_t *iface, struct uct_mp_ep *ep)
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
        ep->token = token;
        ucs_list_add_tail(&iface->eps, &ep->list);
        return UCS_OK;
    }

    ucs_error("mp_rc: iface %p: no free ep token after %u attempts", iface,
              attempt);
    return UCS_ERR_NO_RESOURCE;
}

void uct_mp_iface_remove_ep(uct_mp_iface_t *iface, struct uct_mp_ep *ep)
{
    khiter_t iter = kh_get(uct_mp_eps, &iface->eps_by_token, ep->token);

    if (iter != kh_end(&iface->eps_by_token)) {
        kh_del(uct_mp_eps, &iface->eps_by_token, iter);
    }
    ucs_list_del(&ep->list);
}

struct uct_mp_ep *uct_mp_iface_ep_by_token(uct_mp_iface_t *iface,
                                           uint32_t token)
{
    khiter_t iter = kh_get(uct_mp_eps, &iface->eps_by_token, token);

    return (iter == kh_end(&iface->eps_by_token)) ? NULL :
           kh_value(&iface->eps_by_token, iter);
}

static ucs_status_t uct_mp_iface_query(uct_iface_h tl_iface,
                                       uct_iface_attr_t *iface_attr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    const uct_iface_attr_t *primary = &iface->lanes[0].attr;
    const uct_iface_attr_t *lane;
    unsigned i;

    uct_base_iface_query(&iface->super, iface_attr);

    /* Start from the primary lane, then take what every lane can do */
    iface_attr->cap                = primary->cap;
    iface_attr->cap.flags          = iface->cap_flags;
    iface_attr->cap.event_flags    = 0;
    iface_attr->device_addr_len    = iface->dev_addr_len;
    iface_attr->iface_addr_len     = iface->iface_addr_len;
    iface_attr->ep_addr_len        = iface->ep_addr_len;
    iface_attr->max_conn_priv      = 0;
    iface_attr->overhead           = primary->overhead;
    iface_attr->latency            = primary->latency;
    iface_attr->bandwidth          = primary->bandwidth;
    iface_attr->priority           = primary->priority;
    iface_attr->max_num_eps        = primary->max_num_eps;
    iface_attr->dev_num_paths      = 1;

    for (i = 1; i < iface->num_lanes; ++i) {
        lane = &iface->lanes[i].attr;

#define UCT_MP_CAP_MIN(_field) \
        iface_attr->cap._field = ucs_min(iface_attr->cap._field, lane->cap._field)
        UCT_MP_CAP_MIN(put.max_short);
        UCT_MP_CAP_MIN(put.max_bcopy);
        UCT_MP_CAP_MIN(put.max_zcopy);
        UCT_MP_CAP_MIN(put.max_iov);
        UCT_MP_CAP_MIN(get.max_short);
        UCT_MP_CAP_MIN(get.max_bcopy);
        UCT_MP_CAP_MIN(get.max_zcopy);
        UCT_MP_CAP_MIN(get.max_iov);
        UCT_MP_CAP_MIN(am.max_short);
        UCT_MP_CAP_MIN(am.max_bcopy);
        UCT_MP_CAP_MIN(am.max_zcopy);
        UCT_MP_CAP_MIN(am.max_hdr);
        UCT_MP_CAP_MIN(am.max_iov);
#undef UCT_MP_CAP_MIN
        iface_attr->cap.put.min_zcopy = ucs_max(iface_attr->cap.put.min_zcopy,
                                                lane->cap.put.min_zcopy);
        iface_attr->cap.get.min_zcopy = ucs_max(iface_attr->cap.get.min_zcopy,
                                                lane->cap.get.min_zcopy);
        iface_attr->cap.am.min_zcopy  = ucs_max(iface_attr->cap.am.min_zcopy,
                                                lane->cap.am.min_zcopy);
        iface_attr->cap.atomic32.op_flags  &= lane->cap.atomic32.op_flags;
        iface_attr->cap.atomic32.fop_flags &= lane->cap.atomic32.fop_flags;
        iface_attr->cap.atomic64.op_flags  &= lane->cap.atomic64.op_flags;
        iface_attr->cap.atomic64.fop_flags &= lane->cap.atomic64.fop_flags;
        iface_attr->max_num_eps = ucs_min(iface_attr->max_num_eps,
                                          lane->max_num_eps);

        if (iface->policy != UCT_MP_POLICY_ACTIVE_BACKUP) {
            /* Striped traffic uses the sum of the lanes' bandwidth */
            iface_attr->bandwidth.dedicated += lane->bandwidth.dedicated;
            iface_attr->bandwidth.shared    += lane->bandwidth.shared;
        }
    }

    if (!iface->device_atomics) {
        memset(&iface_attr->cap.atomic32, 0, sizeof(iface_attr->cap.atomic32));
        memset(&iface_attr->cap.atomic64, 0, sizeof(iface_attr->cap.atomic64));
    }

    /* every AM carries the mp data header */
    iface_attr->cap.am.max_short = (iface_attr->cap.am.max_short >
                                    UCT_MP_AM_HDR_LEN) ?
                                   (iface_attr->cap.am.max_short -
                                    UCT_MP_AM_HDR_LEN) : 0;
    iface_attr->cap.am.max_bcopy -= UCT_MP_AM_HDR_LEN;
    iface_attr->cap.am.max_zcopy -= UCT_MP_AM_HDR_LEN; /* header is counted */
    iface_attr->cap.am.max_hdr    = (iface_attr->cap.am.max_hdr >
                                     UCT_MP_AM_HDR_LEN) ?
                                    ucs_min(iface_attr->cap.am.max_hdr -
                                            UCT_MP_AM_HDR_LEN, UINT8_MAX * 4) :
                                    0;
    iface_attr->cap.am.max_iov    = ucs_max(iface_attr->cap.am.max_iov, 2) - 1;
    if (iface_attr->cap.am.max_short == 0) {
        iface_attr->cap.flags &= ~UCT_IFACE_FLAG_AM_SHORT;
    }

    return UCS_OK;
}

static ucs_status_t
uct_mp_iface_get_device_address(uct_iface_h tl_iface, uct_device_addr_t *addr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);

    memcpy(addr, iface->dev_addr, iface->dev_addr_len);
    return UCS_OK;
}

static ucs_status_t uct_mp_iface_get_address(uct_iface_h tl_iface,
                                             uct_iface_addr_t *addr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);

    memcpy(addr, iface->iface_addr, iface->iface_addr_len);
    return UCS_OK;
}

static int uct_mp_iface_is_reachable(const uct_iface_h tl_iface,
                                     const uct_device_addr_t *dev_addr,
                                     const uct_iface_addr_t *iface_addr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    uct_mp_wire_t dev, lanes, ifc;
    unsigned local, remote;

    if (!uct_mp_wire_is_kind(dev_addr, UCT_MP_WIRE_DEVICE_ADDR)) {
        /* UCP's client-server flow: the connection manager's address of the
         * peer's primary lane device, in the lane transport's format */
        return uct_iface_is_reachable(iface->lanes[0].iface, dev_addr, NULL);
    }

    if (uct_mp_iface_unpack_device(iface, dev_addr, &dev) != UCS_OK) {
        return 0;
    }

    if ((iface_addr == NULL) ||
        !(iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        /* connect-to-ep: the primary lanes pair, the others join later */
        return uct_iface_is_reachable(iface->lanes[0].iface,
                                      dev.lanes[0].data, NULL);
    }

    if (uct_mp_iface_unpack_lanes(iface, iface_addr, UCT_MP_WIRE_IFACE_ADDR,
                                  &lanes, &ifc) != UCS_OK) {
        return 0;
    }

    /* Reachable when at least one lane pair is */
    for (local = 0; local < iface->num_lanes; ++local) {
        for (remote = 0; remote < lanes.lane_count; ++remote) {
            if (uct_iface_is_reachable(iface->lanes[local].iface,
                                       lanes.lanes[remote].data,
                                       ifc.lanes[remote].data)) {
                return 1;
            }
        }
    }

    return 0;
}

static unsigned uct_mp_iface_progress(uct_iface_h tl_iface)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    unsigned i, count = 0;

    for (i = 0; i < iface->num_lanes; ++i) {
        count += uct_iface_progress(iface->lanes[i].iface);
    }
    return count;
}

static void uct_mp_iface_progress_enable(uct_iface_h tl_iface, unsigned flags)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    unsigned i;

    /* Lane ifaces register their own progress on the shared worker */
    for (i = 0; i < iface->num_lanes; ++i) {
        uct_iface_progress_enable(iface->lanes[i].iface, flags);
    }
}

static void uct_mp_iface_progress_disable(uct_iface_h tl_iface, unsigned flags)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    unsigned i;

    for (i = 0; i < iface->num_lanes; ++i) {
        uct_iface_progress_disable(iface->lanes[i].iface, flags);
    }
}

static ucs_status_t uct_mp_iface_flush_lane(void *lane_iface, unsigned flags,
                                            uct_completion_t *comp)
{
    return uct_iface_flush(lane_iface, flags, comp);
}

static ucs_status_t uct_mp_iface_flush(uct_iface_h tl_iface, unsigned flags,
                                       uct_completion_t *comp)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    void *lane_ifaces[UCT_MP_MAX_LANES];
    int in_progress = 0;
    ucs_status_t status;
    uct_mp_ep_t *ep;
    unsigned i;

    /* mp's own outstanding work (AMs until acknowledged, tracked RMA,
     * striped chunks) is not on the lane ifaces: ask every endpoint */
    if (!(flags & UCT_FLUSH_FLAG_CANCEL)) {
        ucs_list_for_each(ep, &iface->eps, list) {
            status = uct_mp_ep_flush(&ep->super.super, flags, NULL);
            if ((status == UCS_ERR_NO_RESOURCE) ||
                (status == UCS_INPROGRESS)) {
                in_progress = 1;
            }
        }
        if (in_progress) {
            /* with a completion: nothing is posted, the caller retries */
            return (comp == NULL) ? UCS_INPROGRESS : UCS_ERR_NO_RESOURCE;
        }
    }

    for (i = 0; i < iface->num_lanes; ++i) {
        lane_ifaces[i] = iface->lanes[i].iface;
    }
    return uct_mp_flush_lanes(lane_ifaces, iface->num_lanes,
                              uct_mp_iface_flush_lane, flags, comp, NULL,
                              NULL);
}

static ucs_status_t uct_mp_iface_fence(uct_iface_h tl_iface, unsigned flags)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    ucs_status_t status;
    uct_mp_ep_t *ep;

    /* each endpoint fences the way its operations spread (mp_fence.h) */
    ucs_list_for_each(ep, &iface->eps, list) {
        status = uct_mp_ep_fence(&ep->super.super, flags);
        if (status != UCS_OK) {
            return status;
        }
    }
    return UCS_OK;
}

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

    ep = uct_mp_ep_find_lane(iface, lane_ep, &lane);
    if ((ep != NULL) &&
        (uct_mp_lanes_state(ep->lanes, lane) == UCT_MP_LANE_FAILED)) {
        return UCS_OK; /* failed already (an operation found it broken) */
    }
    if (ep == NULL) {
        /* A lane ep created by the lane transport itself (passive side) */
        ucs_debug("mp_rc: iface %p lane ep %p error %s not owned by an mp ep",
                  iface, lane_ep, ucs_status_string(status));
        return UCS_OK;
    }

    return uct_mp_ep_lane_failed(ep, lane, status);
}

static ucs_status_t uct_mp_iface_estimate_perf(uct_iface_h tl_iface,
                                               uct_perf_attr_t *perf_attr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);

    return uct_iface_estimate_perf(iface->lanes[0].iface, perf_attr);
}

static uct_iface_internal_ops_t uct_mp_iface_internal_ops = {
    .iface_estimate_perf = uct_mp_iface_estimate_perf,
    .iface_vfs_refresh   = (uct_iface_vfs_refresh_func_t)ucs_empty_function,
    .ep_query            = (uct_ep_query_func_t)
                           ucs_empty_function_return_unsupported,
    .ep_invalidate       = (uct_ep_invalidate_func_t)
                           ucs_empty_function_return_unsupported
};

static UCS_CLASS_DECLARE_DELETE_FUNC(uct_mp_iface_t, uct_iface_t);

static ucs_status_ptr_t
uct_mp_ep_tag_rndv_zcopy_unsupported(uct_ep_h ep, uct_tag_t tag,
                                     const void *header, unsigned header_length,
                                     const uct_iov_t *iov, size_t iovcnt,
                                     unsigned flags, uct_completion_t *comp)
{
    return UCS_STATUS_PTR(UCS_ERR_UNSUPPORTED);
}

static uct_iface_ops_t uct_mp_iface_ops = {
    .ep_put_short             = uct_mp_ep_put_short,
    .ep_put_bcopy             = uct_mp_ep_put_bcopy,
    .ep_put_zcopy             = uct_mp_ep_put_zcopy,
    .ep_get_short             = uct_mp_ep_get_short,
    .ep_get_bcopy             = uct_mp_ep_get_bcopy,
    .ep_get_zcopy             = uct_mp_ep_get_zcopy,
    .ep_am_short              = uct_mp_ep_am_short,
    .ep_am_short_iov          = uct_mp_ep_am_short_iov,
    .ep_am_bcopy              = uct_mp_ep_am_bcopy,
    .ep_am_zcopy              = uct_mp_ep_am_zcopy,
    .ep_atomic_cswap64        = uct_mp_ep_atomic_cswap64,
    .ep_atomic_cswap32        = uct_mp_ep_atomic_cswap32,
    .ep_atomic32_post         = uct_mp_ep_atomic32_post,
    .ep_atomic64_post         = uct_mp_ep_atomic64_post,
    .ep_atomic32_fetch        = uct_mp_ep_atomic32_fetch,
    .ep_atomic64_fetch        = uct_mp_ep_atomic64_fetch,
    .ep_tag_eager_short       = (uct_ep_tag_eager_short_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_tag_eager_bcopy       = (uct_ep_tag_eager_bcopy_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_tag_eager_zcopy       = (uct_ep_tag_eager_zcopy_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_tag_rndv_zcopy        = uct_mp_ep_tag_rndv_zcopy_unsupported,
    .ep_tag_rndv_cancel       = (uct_ep_tag_rndv_cancel_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_tag_rndv_request      = (uct_ep_tag_rndv_request_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_tag_recv_zcopy     = (uct_iface_tag_recv_zcopy_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_tag_recv_cancel    = (uct_iface_tag_recv_cancel_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_pending_add           = uct_mp_ep_pending_add,
    .ep_pending_purge         = uct_mp_ep_pending_purge,
    .ep_flush                 = uct_mp_ep_flush,
    .ep_fence                 = uct_mp_ep_fence,
    .ep_check                 = uct_mp_ep_check,
    .ep_create                = UCS_CLASS_NEW_FUNC_NAME(uct_mp_ep_t),
    .ep_connect               = (uct_ep_connect_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_disconnect            = (uct_ep_disconnect_func_t)
                                ucs_empty_function_return_unsupported,
    .cm_ep_conn_notify        = (uct_cm_ep_conn_notify_func_t)
                                ucs_empty_function_return_unsupported,
    .ep_destroy               = UCS_CLASS_DELETE_FUNC_NAME(uct_mp_ep_t),
    .ep_get_address           = uct_mp_ep_get_address,
    .ep_connect_to_ep         = uct_mp_ep_connect_to_ep,
    .iface_accept             = (uct_iface_accept_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_reject             = (uct_iface_reject_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_flush              = uct_mp_iface_flush,
    .iface_fence              = uct_mp_iface_fence,
    .iface_progress_enable    = uct_mp_iface_progress_enable,
    .iface_progress_disable   = uct_mp_iface_progress_disable,
    .iface_progress           = uct_mp_iface_progress,
    .iface_event_fd_get       = (uct_iface_event_fd_get_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_event_arm          = (uct_iface_event_arm_func_t)
                                ucs_empty_function_return_unsupported,
    .iface_close              = UCS_CLASS_DELETE_FUNC_NAME(uct_mp_iface_t),
    .iface_query              = uct_mp_iface_query,
    .iface_get_device_address = uct_mp_iface_get_device_address,
    .iface_get_address        = uct_mp_iface_get_address,
    .iface_is_reachable       = uct_mp_iface_is_reachable
};

static void uct_mp_iface_close_lanes(uct_mp_iface_t *iface)
{
    while (iface->num_lanes > 0) {
        uct_iface_close(iface->lanes[--iface->num_lanes].iface);
    }
}

/*
 * UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT / AM_ALIGN_OFFSET: a power of 2, an
 * offset below it, no offset without an alignment (as UCX's transports).
 */
static ucs_status_t uct_mp_iface_check_align(uct_mp_iface_t *iface,
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

/* Lanes that deliver AMs without a descriptor (tcp) ignore the alignment:
 * mp copies such AMs into a buffer aligned as asked (mp_am.c) */
static ucs_status_t uct_mp_iface_alloc_align_buf(uct_mp_iface_t *iface)
{
    size_t size = 0;
    unsigned i;

    if (iface->am_align <= 1) {
        return UCS_OK;
    }
    for (i = 0; i < iface->num_lanes; ++i) {
        size = ucs_max(size, iface->lanes[i].attr.cap.am.max_short);
        size = ucs_max(size, iface->lanes[i].attr.cap.am.max_bcopy);
        size = ucs_max(size, iface->lanes[i].attr.cap.am.max_zcopy);
    }
    return ucs_posix_memalign(&iface->am_align_buf,
                              ucs_max(iface->am_align, sizeof(void*)),
                              size + iface->am_align, "mp am align");
}

/* Open the lane iface on lane device rsc; on success it becomes the next lane. */
static ucs_status_t uct_mp_iface_open_lane(uct_mp_iface_t *iface,
                                           uct_mp_md_t *md,
                                           const uct_mp_lane_rsc_t *rsc,
                                           uct_worker_h worker,
                                           const uct_iface_params_t *params)
{
    uct_mp_lane_iface_t *lane = &iface->lanes[iface->num_lanes];
    uct_md_h lane_md          = md->lane_mds[rsc->md_index].md;
    uct_iface_params_t lane_params;
    uct_iface_config_t *lane_config;
    char value[16];
    ucs_status_t status;
    unsigned id;

    status = uct_md_iface_config_read(lane_md, md->lane_tl_name, NULL, NULL,
                                      &lane_config);
    if (status != UCS_OK) {
        return status;
    }

    if (md->lane_tl != UCT_MP_LANE_TL_TCP) {
        ucs_snprintf_safe(value, sizeof(value), "%u", iface->lane_retry_count);
        status = uct_config_modify(lane_config, "RC_RETRY_COUNT", value);
        if (status != UCS_OK) {
            ucs_error("mp_rc: setting RC_RETRY_COUNT=%s on lane %s/%s failed: %s",
                      value, md->lane_tl_name, rsc->dev_name,
                      ucs_status_string(status));
            uct_config_release(lane_config);
            return status;
        }
    } else {
        /* a lane re-established while its path is still down (fail-back)
         * must not hold the worker in a blocking connect() */
        status = uct_config_modify(lane_config, "CONN_NB", "y");
        if (status != UCS_OK) {
            ucs_error("mp_rc: setting CONN_NB=y on lane %s/%s failed: %s",
                      md->lane_tl_name, rsc->dev_name,
                      ucs_status_string(status));
            uct_config_release(lane_config);
            return status;
        }
    }

    memset(&lane_params, 0, sizeof(lane_params));
    lane_params.field_mask           = UCT_IFACE_PARAM_FIELD_OPEN_MODE |
                                       UCT_IFACE_PARAM_FIELD_DEVICE |
                                       UCT_IFACE_PARAM_FIELD_RX_HEADROOM |
                                       UCT_IFACE_PARAM_FIELD_ERR_HANDLER |
                                       UCT_IFACE_PARAM_FIELD_ERR_HANDLER_ARG |
                                       UCT_IFACE_PARAM_FIELD_ERR_HANDLER_FLAGS;
    lane_params.open_mode            = UCT_IFACE_OPEN_MODE_DEVICE;
    lane_params.mode.device.tl_name  = md->lane_tl_name;
    lane_params.mode.device.dev_name = rsc->dev_name;
    /* the mp data header in front of UCP's bytes stands in for 12 bytes of
     * UCP's headroom (mp_am.h) */
    lane_params.rx_headroom          = UCT_IFACE_PARAM_VALUE(params, rx_headroom,
                                                             RX_HEADROOM, 0);
    lane_params.rx_headroom          = (lane_params.rx_headroom >=
                                        UCT_MP_AM_HDR_LEN) ?
                                       (lane_params.rx_headroom -
                                        UCT_MP_AM_HDR_LEN) : 0;
    lane_params.err_handler          = uct_mp_iface_lane_err_handler;
    lane_params.err_handler_arg      = iface;
    lane_params.err_handler_flags    = 0;
    if (iface->am_align > 0) {
        /* UCP's bytes start after the 12-byte mp data header */
        lane_params.field_mask     |= UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT |
                                      UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET;
        lane_params.am_alignment    = iface->am_align;
        lane_params.am_align_offset = iface->am_align_offset +
                                      UCT_MP_AM_HDR_LEN;
    }
    if (params->field_mask & UCT_IFACE_PARAM_FIELD_CPU_MASK) {
        lane_params.field_mask |= UCT_IFACE_PARAM_FIELD_CPU_MASK;
        lane_params.cpu_mask    = params->cpu_mask;
    }
    if (params->field_mask & UCT_IFACE_PARAM_FIELD_FEATURES) {
        lane_params.field_mask |= UCT_IFACE_PARAM_FIELD_FEATURES;
        lane_params.features    = params->features;
    }

    status = uct_iface_open(lane_md, worker, &lane_params, lane_config,
                            &lane->iface);
    uct_config_release(lane_config);
    if (status != UCS_OK) {
        ucs_diag("mp_rc: lane %s/%s failed to open: %s", md->lane_tl_name,
                 rsc->dev_name, ucs_status_string(status));
        return status;
    }

    status = uct_iface_query(lane->iface, &lane->attr);
    if (status != UCS_OK) {
        goto err_close;
    }

    if ((lane->attr.device_addr_len > UINT8_MAX) ||
        (lane->attr.iface_addr_len > UINT8_MAX) ||
        (lane->attr.ep_addr_len > UINT8_MAX)) {
        ucs_diag("mp_rc: lane %s/%s addresses (%zu/%zu/%zu bytes) too long",
                 md->lane_tl_name, rsc->dev_name, lane->attr.device_addr_len,
                 lane->attr.iface_addr_len, lane->attr.ep_addr_len);
        status = UCS_ERR_UNSUPPORTED;
        goto err_close;
    }

    status = uct_iface_get_device_address(lane->iface,
                                          (uct_device_addr_t*)lane->dev_addr);
    if (status != UCS_OK) {
        goto err_close;
    }

    if (lane->attr.cap.flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE) {
        status = uct_iface_get_address(lane->iface,
                                       (uct_iface_addr_t*)lane->iface_addr);
        if (status != UCS_OK) {
            goto err_close;
        }
    }

    /* UCP's AM ids go to UCP's handlers; mp's own id to the control
     * handler, which needs to know the lane a message arrived on */
    iface->ctl_trampolines[iface->num_lanes].iface = iface;
    iface->ctl_trampolines[iface->num_lanes].lane  = iface->num_lanes;
    for (id = 0; id < UCT_AM_ID_MAX; ++id) {
        if (id == UCT_MP_CTL_AM_ID) {
            status = uct_iface_set_am_handler(lane->iface, id,
                                              uct_mp_join_ctl_handler,
                                              &iface->ctl_trampolines[iface->num_lanes],
                                              0);
        } else {
            status = uct_iface_set_am_handler(lane->iface, id,
                                              uct_mp_iface_lane_am_handler,
                                              &iface->am_trampolines[iface->num_lanes][id],
                                              0);
        }
        if (status != UCS_OK) {
            goto err_close;
        }
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

/* UCX_MP_RC_WEIGHTS: "dev:MBps" or positional "MBps" entries */
static ucs_status_t uct_mp_iface_parse_weights(uct_mp_iface_t *iface,
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

static ucs_status_t uct_mp_iface_pack_addresses(uct_mp_iface_t *iface,
                                                uct_mp_md_t *md)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t dev = {0}, lanes = {0}, ifc = {0}, ep = {0};
    const uct_mp_lane_iface_t *lane;
    size_t ifc_len;
    unsigned i;

    /* device address: the primary lane's device */
    dev.kind             = UCT_MP_WIRE_DEVICE_ADDR;
    dev.caps             = iface->caps;
    dev.lane_tl          = md->lane_tl;
    dev.lane_count       = 1;
    dev.lanes[0].len     = iface->lanes[0].attr.device_addr_len;
    dev.lanes[0].data    = iface->lanes[0].dev_addr;

    /* [lane devices]: every lane's md index, bandwidth class and device */
    lanes.kind           = UCT_MP_WIRE_LANE_DEVS;
    lanes.lane_tl        = md->lane_tl;
    lanes.lane_count     = iface->num_lanes;
    ifc.kind             = UCT_MP_WIRE_IFACE_ADDR;
    ifc.lane_count       = iface->num_lanes;
    for (i = 0; i < iface->num_lanes; ++i) {
        lane                    = &iface->lanes[i];
        lanes.lanes[i].md_index = lane->md_index;
        lanes.lanes[i].bw_class = uct_mp_wire_bw_class(
                                      ucs_max(lane->attr.bandwidth.dedicated,
                                              lane->attr.bandwidth.shared));
        lanes.lanes[i].len      = lane->attr.device_addr_len;
        lanes.lanes[i].data     = lane->dev_addr;
        ifc.lanes[i].len        = lane->attr.iface_addr_len;
        ifc.lanes[i].data       = lane->iface_addr;
    }

    /* ep address: the primary lane's ep, sized for any lane count */
    ep.kind              = UCT_MP_WIRE_EP_ADDR;
    ep.lane_count        = 1;
    ep.lanes[0].len      = iface->lanes[0].attr.ep_addr_len;

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

    /* Connect-to-iface needs [lane devices][lane ifaces] in what UCP allows
     * for an iface address; else the lanes connect ep to ep */
    ifc_len = uct_mp_wire_packed_size(&ifc);
    iface->iface_addr_len = 0;
    if (iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE) {
        if (iface->lanes_addr_len + ifc_len > UCT_MP_UCP_MAX_IFACE_ADDR_LEN) {
            ucs_diag("mp_rc: %u lanes need a %zu-byte iface address, UCP allows "
                     "%d: lanes connect ep to ep", iface->num_lanes,
                     iface->lanes_addr_len + ifc_len,
                     UCT_MP_UCP_MAX_IFACE_ADDR_LEN);
            iface->cap_flags &= ~UCT_IFACE_FLAG_CONNECT_TO_IFACE;
        } else {
            memcpy(iface->iface_addr, iface->lanes_addr, iface->lanes_addr_len);
            uct_mp_wire_pack(&ifc, iface->iface_addr + iface->lanes_addr_len,
                             ifc_len, NULL, 0);
            iface->iface_addr_len = iface->lanes_addr_len + ifc_len;
        }
    }

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

static UCS_CLASS_INIT_FUNC(uct_mp_iface_t, uct_md_h tl_md, uct_worker_h worker,
                           const uct_iface_params_t *params,
                           const uct_iface_config_t *tl_config)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    const uct_mp_iface_config_t *config = ucs_derived_of(tl_config,
                                                         uct_mp_iface_config_t);
    char errmsg[UCT_MP_STRIPE_ERRMSG_MAX];
    ucs_status_t status;
    unsigned i, id;

    UCT_CHECK_PARAM(params->field_mask & UCT_IFACE_PARAM_FIELD_OPEN_MODE,
                    "UCT_IFACE_PARAM_FIELD_OPEN_MODE is not defined");
    if (!(params->open_mode & UCT_IFACE_OPEN_MODE_DEVICE)) {
        ucs_error("mp_rc: only UCT_IFACE_OPEN_MODE_DEVICE is supported");
        return UCS_ERR_UNSUPPORTED;
    }

    if ((md->num_lane_rscs == 0) ||
        strcmp(params->mode.device.dev_name, uct_mp_md_device_name(md))) {
        ucs_error("mp_rc: no device '%s' (the mp_rc device is '%s')",
                  params->mode.device.dev_name,
                  (md->num_lane_rscs == 0) ? "none" :
                  uct_mp_md_device_name(md));
        return UCS_ERR_NO_DEVICE;
    }

    status = uct_mp_iface_check_align(self, params);
    if (status != UCS_OK) {
        return status;
    }

    UCS_CLASS_CALL_SUPER_INIT(uct_base_iface_t, &uct_mp_iface_ops,
                              &uct_mp_iface_internal_ops, tl_md, worker, params,
                              tl_config UCS_STATS_ARG(
                                  (params->field_mask &
                                   UCT_IFACE_PARAM_FIELD_STATS_ROOT) ?
                                  params->stats_root : NULL)
                              UCS_STATS_ARG(params->mode.device.dev_name));

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
        uct_mp_stripe_table_default(config->mp.policy, &self->stripe_table);
    } else if (uct_mp_stripe_table_parse(config->stripe_table,
                                         &self->stripe_table, errmsg,
                                         sizeof(errmsg)) != 0) {
        ucs_error("mp_rc: UCX_MP_RC_STRIPE_TABLE=%s: %s", config->stripe_table,
                  errmsg);
        return UCS_ERR_INVALID_PARAM;
    }

    self->policy           = config->mp.policy;
    self->lane_retry_count = config->mp.lane_retry_count;
    self->stripe_min_chunk = (config->stripe_min_chunk == UCS_MEMUNITS_AUTO) ?
                             8192 : config->stripe_min_chunk;
    self->ka_interval      = ucs_time_from_sec(config->keepalive_interval);
    self->ka_misses        = config->keepalive_misses;
    self->failback_interval = ucs_time_from_sec(ucs_max(config->failback_interval,
                                                        0.0));
    self->link_events      = config->link_events;
    self->caps            = UCT_MP_CAP_JOIN | UCT_MP_CAP_SEQ;
    self->num_lanes       = 0;
    self->bad_addr_logged = 0;
    self->bad_ctl_logged  = 0;
    ucs_list_head_init(&self->eps);
    ucs_list_add_tail(&uct_mp_all_ifaces, &self->all_list);
    kh_init_inplace(uct_mp_eps, &self->eps_by_token);
    for (i = 0; i < UCT_MP_MAX_LANES; ++i) {
        for (id = 0; id < UCT_AM_ID_MAX; ++id) {
            self->am_trampolines[i][id] = (uct_mp_am_trampoline_t){self, i, id};
        }
    }

    if (self->policy != md->policy) {
        ucs_warn("mp_rc: UCX_MP_RC_POLICY changed between md and iface open "
                 "(%s, %s): using %s", uct_mp_policy_str(md->policy),
                 uct_mp_policy_str(self->policy),
                 uct_mp_policy_str(self->policy));
    }

    for (i = 0; i < md->num_lane_rscs; ++i) {
        uct_mp_iface_open_lane(self, md, &md->lane_rscs[i], worker, params);
    }

    if (self->num_lanes == 0) {
        ucs_error("mp_rc: none of the %u %s lane devices could be opened",
                  md->num_lane_rscs, md->lane_tl_name);
        status = UCS_ERR_NO_DEVICE;
        goto err_destroy_eps_hash;
    }

    /* Capabilities every lane has */
    self->cap_flags = UCT_MP_IFACE_PASSTHROUGH_FLAGS;
    for (i = 0; i < self->num_lanes; ++i) {
        self->cap_flags &= self->lanes[i].attr.cap.flags;
    }
    if (!config->connect_to_iface &&
        (self->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_EP)) {
        self->cap_flags &= ~UCT_IFACE_FLAG_CONNECT_TO_IFACE;
    }
    self->device_atomics = config->device_atomics;
    if (!self->device_atomics) {
        /* UCP then uses its software atomics over the AM channel */
        self->cap_flags &= ~(UCT_IFACE_FLAG_ATOMIC_CPU |
                             UCT_IFACE_FLAG_ATOMIC_DEVICE);
    }

    memset(self->lane_weight, 0, sizeof(self->lane_weight));
    status = uct_mp_iface_parse_weights(self, &config->weights);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_iface_pack_addresses(self, md);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_iface_alloc_align_buf(self);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_bounce_iface_init(self, config);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_link_iface_init(self);
    if (status != UCS_OK) {
        goto err_cleanup_bounce;
    }

    uct_mp_keepalive_iface_init(self);
    ucs_debug("mp_rc: iface %p opened %u of %u %s lanes, policy %s", self,
              self->num_lanes, md->num_lane_rscs, md->lane_tl_name,
              uct_mp_policy_str(self->policy));
    return UCS_OK;

err_cleanup_bounce:
    uct_mp_bounce_iface_cleanup(self);
err_close_lanes:
    ucs_free(self->am_align_buf);
    uct_mp_iface_close_lanes(self);
err_destroy_eps_hash:
    kh_destroy_inplace(uct_mp_eps, &self->eps_by_token);
    ucs_list_del(&self->all_list);
    return status;
}

static UCS_CLASS_CLEANUP_FUNC(uct_mp_iface_t)
{
    ucs_list_del(&self->all_list);
    if (!ucs_list_is_empty(&self->eps)) {
        ucs_warn("mp_rc: iface %p closed with %zu endpoints still open", self,
                 ucs_list_length(&self->eps));
    }
    uct_mp_keepalive_iface_cleanup(self);
    uct_mp_link_iface_cleanup(self);
    uct_mp_bounce_iface_cleanup(self);
    uct_mp_iface_close_lanes(self);
    ucs_free(self->am_align_buf);
    kh_destroy_inplace(uct_mp_eps, &self->eps_by_token);
}

UCS_CLASS_DEFINE(uct_mp_iface_t, uct_base_iface_t);

static UCS_CLASS_DEFINE_NEW_FUNC(uct_mp_iface_t, uct_iface_t, uct_md_h,
                                 uct_worker_h, const uct_iface_params_t*,
                                 const uct_iface_config_t*);
static UCS_CLASS_DEFINE_DELETE_FUNC(uct_mp_iface_t, uct_iface_t);

/* One device, named after the primary lane device, when lanes exist */
static ucs_status_t
uct_mp_query_devices(uct_md_h tl_md, uct_tl_device_resource_t **tl_devices_p,
                     unsigned *num_tl_devices_p)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    uct_tl_device_resource_t *device;

    if (md->num_lane_rscs == 0) {
        *tl_devices_p     = NULL;
        *num_tl_devices_p = 0;
        return UCS_OK;
    }

    device = ucs_calloc(1, sizeof(*device), "mp device");
    if (device == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    ucs_strncpy_zero(device->name, uct_mp_md_device_name(md),
                     sizeof(device->name));
    device->type       = UCT_DEVICE_TYPE_NET;
    device->sys_device = md->lane_rscs[0].sys_device;

    *tl_devices_p     = device;
    *num_tl_devices_p = 1;
    return UCS_OK;
}

UCT_TL_DEFINE_ENTRY(&uct_mp_component, mp_rc, uct_mp_query_devices,
                    uct_mp_iface_t, "MP_RC_", uct_mp_iface_config_table,
                    uct_mp_iface_config_t);

UCT_SINGLE_TL_INIT(&uct_mp_component, mp_rc, ctor,,)
