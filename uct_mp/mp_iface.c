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
#include "mp_link.h"
#include "mp_lane_quirk.h"
#include "mp_control.h"

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

/* Take into iface_attr what lane can do too */
static void uct_mp_iface_query_lane(uct_iface_attr_t *iface_attr,
                                    const uct_iface_attr_t *lane,
                                    uct_mp_policy_t policy)
{
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

    if (policy != UCT_MP_POLICY_ACTIVE_BACKUP) {
        /* Striped traffic uses the sum of the lanes' bandwidth */
        iface_attr->bandwidth.dedicated += lane->bandwidth.dedicated;
        iface_attr->bandwidth.shared    += lane->bandwidth.shared;
    }
}

/* Every AM carries the mp data header */
static void uct_mp_iface_query_am_hdr(uct_iface_attr_t *iface_attr)
{
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
}

static ucs_status_t uct_mp_iface_query(uct_iface_h tl_iface,
                                       uct_iface_attr_t *iface_attr)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    const uct_iface_attr_t *primary = &iface->lanes[0].attr;
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
        uct_mp_iface_query_lane(iface_attr, &iface->lanes[i].attr,
                                iface->policy);
    }

    if (!iface->device_atomics) {
        memset(&iface_attr->cap.atomic32, 0, sizeof(iface_attr->cap.atomic32));
        memset(&iface_attr->cap.atomic64, 0, sizeof(iface_attr->cap.atomic64));
    }

    uct_mp_iface_query_am_hdr(iface_attr);
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
    int remote_of_local[UCT_MP_MAX_LANES];
    uct_mp_wire_t dev, lanes, ifc;

    if (uct_mp_peer_is_foreign_device(dev_addr)) {
        /* UCP's client-server flow: the connection manager's address of the
         * peer's primary lane device, in the lane transport's format */
        return uct_iface_is_reachable(iface->lanes[0].iface, dev_addr, NULL);
    }

    if (uct_mp_peer_unpack_device(iface, dev_addr, &dev) != UCS_OK) {
        return 0;
    }

    if ((iface_addr == NULL) ||
        !(iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_IFACE)) {
        /* connect-to-ep: the primary lanes pair, the others join later */
        return uct_mp_lane_entries_fit(iface, 0, &dev.lanes[0], NULL, NULL) &&
               uct_iface_is_reachable(iface->lanes[0].iface,
                                      dev.lanes[0].data, NULL);
    }

    if (uct_mp_peer_unpack_lanes(iface, iface_addr, UCT_MP_WIRE_IFACE_ADDR,
                                  &lanes, &ifc) != UCS_OK) {
        return 0;
    }

    /* Reachable when at least one lane pair is */
    return uct_mp_lane_pair(iface, &lanes, &ifc, NULL,
                            UCS_MASK(UCT_MP_MAX_LANES), 0,
                            remote_of_local) > 0;
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

static void *uct_mp_iface_lane_obj(void *arg, unsigned lane)
{
    return ((uct_mp_iface_t*)arg)->lanes[lane].iface;
}

/* Post lane iface flushes that found their lane without resources again */
static unsigned uct_mp_iface_flush_progress(void *arg)
{
    uct_mp_iface_t *iface = arg;

    iface->flush_prog_id = UCS_CALLBACKQ_ID_NULL;
    if (uct_mp_flush_lanes_retry(&iface->flush_retry_q, uct_mp_iface_lane_obj,
                                 iface)) {
        uct_worker_progress_register_safe(&iface->super.worker->super,
                                          uct_mp_iface_flush_progress, iface,
                                          UCS_CALLBACKQ_FLAG_ONESHOT,
                                          &iface->flush_prog_id);
    }
    return 1;
}

static ucs_status_t uct_mp_iface_flush(uct_iface_h tl_iface, unsigned flags,
                                       uct_completion_t *comp)
{
    uct_mp_iface_t *iface = ucs_derived_of(tl_iface, uct_mp_iface_t);
    void *lane_ifaces[UCT_MP_MAX_LANES];
    int in_progress       = 0;
    ucs_status_t status;
    uct_mp_ep_t *ep;
    unsigned i;

    /* mp's own outstanding work (AMs until acknowledged, tracked RMA,
     * striped chunks) is not on the lane ifaces: ask every endpoint */
    if (!(flags & UCT_FLUSH_FLAG_CANCEL)) {
        ucs_list_for_each(ep, &iface->eps, list) {
            status = uct_mp_flush_ep(ep, flags, NULL);
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
    status = uct_mp_flush_lanes(lane_ifaces, iface->num_lanes,
                                uct_mp_iface_flush_lane, flags, comp,
                                &iface->flush_retry_q, NULL, NULL);
    if (!ucs_queue_is_empty(&iface->flush_retry_q)) {
        uct_worker_progress_register_safe(&iface->super.worker->super,
                                          uct_mp_iface_flush_progress, iface,
                                          UCS_CALLBACKQ_FLAG_ONESHOT,
                                          &iface->flush_prog_id);
    }
    return status;
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

/*
 * The keepalive tick, persistent on the worker while keepalive is on: cheap
 * until a check is due, then every endpoint's tick (mp_ep.c). It checks 8
 * times per interval, so a silent lane fails within interval x misses of the
 * last thing heard from it, plus an eighth of an interval.
 */
static unsigned uct_mp_iface_tick(void *arg)
{
    uct_mp_iface_t *iface = arg;
    ucs_time_t now        = ucs_get_time();
    uct_mp_ep_t *ep, *tmp;

    if ((int64_t)(now - iface->ka_next_check) < 0) {
        return 0;
    }

    iface->ka_next_check = now + (iface->ka_interval / 8);
    ucs_list_for_each_safe(ep, tmp, &iface->eps, list) {
        if (!uct_mp_ep_tick(ep, now)) {
            break; /* the list may have changed under us */
        }
    }
    return 0;
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

/* What every am_zcopy is checked against: what the iface advertises */
static void uct_mp_iface_cache_am_caps(uct_mp_iface_t *iface)
{
    uct_iface_attr_t attr;

    uct_mp_iface_query(&iface->super.super, &attr);
    iface->am_max_hdr = attr.cap.am.max_hdr;
    iface->am_max_iov = attr.cap.am.max_iov;
}

/* Everything of the config and the md the iface keeps */
static void uct_mp_iface_copy_config(uct_mp_iface_t *iface, uct_mp_md_t *md,
                                     const uct_mp_iface_config_t *config)
{
    unsigned i, id;

    iface->policy            = config->mp.policy;
    iface->lane_retry_count  = config->mp.lane_retry_count;
    iface->stripe_min_chunk  = (config->stripe_min_chunk ==
                                UCS_MEMUNITS_AUTO) ? 8192 :
                               config->stripe_min_chunk;
    iface->ka_interval       = ucs_time_from_sec(config->keepalive_interval);
    iface->ka_misses         = config->keepalive_misses;
    iface->failback_interval = ucs_time_from_sec(
                                   ucs_max(config->failback_interval, 0.0));
    iface->link_events       = config->link_events;
    iface->device_atomics    = config->device_atomics;
    iface->caps              = UCT_MP_CAP_JOIN | UCT_MP_CAP_SEQ |
                               UCT_MP_CAP_DRAIN;
    iface->num_lanes         = 0;
    iface->bad_addr_logged   = 0;
    iface->bad_ctl_logged    = 0;
    iface->ctl_dispatch      = uct_mp_ep_ctl_dispatch;
    iface->ka_prog_id        = UCS_CALLBACKQ_ID_NULL;
    iface->flush_prog_id     = UCS_CALLBACKQ_ID_NULL;
    ucs_queue_head_init(&iface->flush_retry_q);
    iface->ka_next_check     = ucs_get_time();
    memset(iface->lane_weight, 0, sizeof(iface->lane_weight));
    for (i = 0; i < UCT_MP_MAX_LANES; ++i) {
        for (id = 0; id < UCT_AM_ID_MAX; ++id) {
            iface->am_trampolines[i][id] = (uct_mp_am_trampoline_t){iface, i,
                                                                    id};
        }
    }

    if (iface->policy != md->policy) {
        ucs_warn("mp_rc: UCX_MP_RC_POLICY changed between md and iface open "
                 "(%s, %s): using %s", uct_mp_policy_str(md->policy),
                 uct_mp_policy_str(iface->policy),
                 uct_mp_policy_str(iface->policy));
    }
}

/* Capabilities every lane has, as the config allows them */
static void uct_mp_iface_init_caps(uct_mp_iface_t *iface,
                                   const uct_mp_iface_config_t *config)
{
    unsigned i;

    iface->cap_flags = UCT_MP_IFACE_PASSTHROUGH_FLAGS;
    for (i = 0; i < iface->num_lanes; ++i) {
        iface->cap_flags &= iface->lanes[i].attr.cap.flags;
    }
    if (!config->connect_to_iface &&
        (iface->cap_flags & UCT_IFACE_FLAG_CONNECT_TO_EP)) {
        iface->cap_flags &= ~UCT_IFACE_FLAG_CONNECT_TO_IFACE;
    }
    if (!iface->device_atomics) {
        /* UCP then uses its software atomics over the AM channel */
        iface->cap_flags &= ~(UCT_IFACE_FLAG_ATOMIC_CPU |
                              UCT_IFACE_FLAG_ATOMIC_DEVICE);
    }
}

/* Open the lanes and everything built on them; undone by the cleanup */
static ucs_status_t
uct_mp_iface_acquire(uct_mp_iface_t *iface, uct_mp_md_t *md,
                     uct_worker_h worker, const uct_iface_params_t *params,
                     const uct_mp_iface_config_t *config)
{
    ucs_status_t status;

    status = uct_mp_iface_open_lanes(iface, md, worker, params);
    if (status != UCS_OK) {
        return status;
    }

    uct_mp_iface_init_caps(iface, config);
    status = uct_mp_iface_parse_weights(iface, &config->weights);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_peer_pack_addresses(iface, md);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    uct_mp_iface_cache_am_caps(iface);
    status = uct_mp_iface_alloc_align_buf(iface);
    if (status != UCS_OK) {
        goto err_close_lanes;
    }

    status = uct_mp_bounce_iface_init(iface, config);
    if (status != UCS_OK) {
        goto err_free_align_buf;
    }

    status = uct_mp_link_iface_init(iface);
    if (status != UCS_OK) {
        goto err_cleanup_bounce;
    }

    if (iface->ka_interval > 0) {
        uct_worker_progress_register_safe(&iface->super.worker->super,
                                          uct_mp_iface_tick, iface, 0,
                                          &iface->ka_prog_id);
    }
    return UCS_OK;

err_cleanup_bounce:
    uct_mp_bounce_iface_cleanup(iface);
err_free_align_buf:
    ucs_free(iface->am_align_buf);
err_close_lanes:
    uct_mp_iface_close_lanes(iface);
    return status;
}

static UCS_CLASS_INIT_FUNC(uct_mp_iface_t, uct_md_h tl_md, uct_worker_h worker,
                           const uct_iface_params_t *params,
                           const uct_iface_config_t *tl_config)
{
    uct_mp_md_t *md = ucs_derived_of(tl_md, uct_mp_md_t);
    const uct_mp_iface_config_t *config = ucs_derived_of(tl_config,
                                                         uct_mp_iface_config_t);
    ucs_status_t status;

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

    UCS_CLASS_CALL_SUPER_INIT(uct_base_iface_t, &uct_mp_iface_ops,
                              &uct_mp_iface_internal_ops, tl_md, worker, params,
                              tl_config UCS_STATS_ARG(
                                  (params->field_mask &
                                   UCT_IFACE_PARAM_FIELD_STATS_ROOT) ?
                                  params->stats_root : NULL)
                              UCS_STATS_ARG(params->mode.device.dev_name));

    status = uct_mp_iface_check_config(config, &self->stripe_table);
    if (status == UCS_OK) {
        status = uct_mp_iface_check_align(self, params);
    }
    if (status != UCS_OK) {
        return status;
    }

    uct_mp_iface_copy_config(self, md, config);
    ucs_list_head_init(&self->eps);
    ucs_list_add_tail(&uct_mp_all_ifaces, &self->all_list);
    kh_init_inplace(uct_mp_eps, &self->eps_by_token);

    status = uct_mp_iface_acquire(self, md, worker, params, config);
    if (status != UCS_OK) {
        kh_destroy_inplace(uct_mp_eps, &self->eps_by_token);
        ucs_list_del(&self->all_list);
        return status;
    }

    uct_mp_control_iface_add(self, config->control_dir);
    ucs_debug("mp_rc: iface %p opened %u of %u %s lanes, policy %s", self,
              self->num_lanes, md->num_lane_rscs, md->lane_tl_name,
              uct_mp_policy_str(self->policy));
    return UCS_OK;
}

static UCS_CLASS_CLEANUP_FUNC(uct_mp_iface_t)
{
    uct_mp_control_iface_remove(self);
    ucs_list_del(&self->all_list);
    if (!ucs_list_is_empty(&self->eps)) {
        ucs_warn("mp_rc: iface %p closed with %zu endpoints still open", self,
                 ucs_list_length(&self->eps));
    }
    uct_worker_progress_unregister_safe(&self->super.worker->super,
                                        &self->ka_prog_id);
    uct_worker_progress_unregister_safe(&self->super.worker->super,
                                        &self->flush_prog_id);
    uct_mp_flush_lanes_cancel(&self->flush_retry_q);
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
