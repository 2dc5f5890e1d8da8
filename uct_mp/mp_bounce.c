/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Tracked short and bcopy RMA through registered bounce buffers (see
 * mp_bounce.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_bounce.h"
#include "mp_ep.h"

#include <uct/base/uct_iface.h>
#include <ucs/datastruct/mpool.inl>
#include <ucs/debug/log.h>
#include <ucs/sys/math.h>
#include <ucs/arch/cpu.h>
#include <string.h>


/* One tracked operation and its buffer (the data follows the header) */
typedef struct uct_mp_bounce_desc {
    uct_completion_t         comp;        /* of the zcopy operation */
    ucs_list_link_t          list;        /* in ep->bounce.ops, post order */
    struct uct_mp_ep         *ep;         /* NULL once the ep is gone */
    uct_mem_h                memh;        /* mp memh of this buffer */
    uint64_t                 seq;
    size_t                   length;
    int                      is_put;
    uct_unpack_callback_t    unpack_cb;   /* get: hands the data over */
    void                     *unpack_arg;
    uct_completion_t         *user_comp;  /* get: the user's completion */
} uct_mp_bounce_desc_t;


static UCS_F_ALWAYS_INLINE void *uct_mp_bounce_data(uct_mp_bounce_desc_t *desc)
{
    return desc + 1;
}

static void uct_mp_bounce_init_desc(uct_iface_h tl_iface, void *obj,
                                    uct_mem_h memh)
{
    uct_mp_bounce_desc_t *desc = obj;

    desc->memh = memh;
}

ucs_status_t uct_mp_bounce_iface_init(uct_mp_iface_t *iface,
                                      const uct_mp_iface_config_t *config)
{
    const uint64_t need = UCT_IFACE_FLAG_PUT_ZCOPY;
    size_t put_short = SIZE_MAX, put_bcopy = SIZE_MAX, get_bcopy = SIZE_MAX;
    const uct_iface_attr_t *attr;
    uct_md_attr_t md_attr;
    ucs_status_t status;
    unsigned lane;

    iface->bounce_size = 0;
    if (!config->rma_bounce || ((iface->cap_flags & need) != need) ||
        !(iface->cap_flags & (UCT_IFACE_FLAG_PUT_SHORT |
                              UCT_IFACE_FLAG_PUT_BCOPY |
                              UCT_IFACE_FLAG_GET_BCOPY))) {
        ucs_debug("mp_rc: iface %p: short and bcopy RMA go straight to the "
                  "lanes (RMA_BOUNCE=%d, lane flags 0x%" PRIx64 ")", iface,
                  config->rma_bounce, iface->cap_flags);
        return UCS_OK;
    }

    status = uct_md_query(iface->super.md, &md_attr);
    if (status != UCS_OK) {
        return status;
    }

    if (!(md_attr.cap.flags & UCT_MD_FLAG_REG)) {
        ucs_diag("mp_rc: iface %p: the lane mds cannot register memory, short "
                 "and bcopy RMA are not tracked across lane failures", iface);
        return UCS_OK;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        attr      = &iface->lanes[lane].attr;
        put_short = ucs_min(put_short, attr->cap.put.max_short);
        put_bcopy = ucs_min(put_bcopy, attr->cap.put.max_bcopy);
        get_bcopy = ucs_min(get_bcopy, attr->cap.get.max_bcopy);
    }
    iface->bounce_size = ucs_max(put_short, ucs_max(put_bcopy, get_bcopy));

    status = uct_iface_mpool_init(&iface->super, &iface->bounce_mp,
                                  sizeof(uct_mp_bounce_desc_t) +
                                  iface->bounce_size,
                                  sizeof(uct_mp_bounce_desc_t),
                                  UCS_SYS_CACHE_LINE_SIZE, &config->bounce_mp,
                                  64, uct_mp_bounce_init_desc,
                                  "mp_rc_bounce");
    if (status != UCS_OK) {
        ucs_error("mp_rc: iface %p: failed to create the pool of %zu-byte "
                  "bounce buffers: %s", iface, iface->bounce_size,
                  ucs_status_string(status));
        iface->bounce_size = 0;
        return status;
    }

    ucs_debug("mp_rc: iface %p: short and bcopy RMA up to %zu bytes go "
              "through bounce buffers", iface, iface->bounce_size);
    return UCS_OK;
}

void uct_mp_bounce_iface_cleanup(uct_mp_iface_t *iface)
{
    if (iface->bounce_size > 0) {
        ucs_mpool_cleanup(&iface->bounce_mp, 1);
        iface->bounce_size = 0;
    }
}

void uct_mp_bounce_ep_init(uct_mp_ep_t *ep)
{
    ucs_list_head_init(&ep->bounce.ops);
    ep->bounce.seq  = 0;
    ep->bounce.lost = 0;
}

void uct_mp_bounce_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_bounce_desc_t *desc, *tmp;

    ucs_list_for_each_safe(desc, tmp, &ep->bounce.ops, list) {
        ucs_list_del(&desc->list);
        desc->ep = NULL; /* its completion only frees it */
    }
    if (ep->bounce.lost > 0) {
        ucs_error("mp_rc: ep %p: %" PRIu64 " short/bcopy RMA operations "
                  "failed on every lane", ep, ep->bounce.lost);
    }
}

uint64_t uct_mp_bounce_mark(uct_mp_ep_t *ep)
{
    return ep->bounce.seq;
}

int uct_mp_bounce_done_before(uct_mp_ep_t *ep, uint64_t mark)
{
    uct_mp_bounce_desc_t *oldest;

    if (ucs_list_is_empty(&ep->bounce.ops)) {
        return 1;
    }

    oldest = ucs_list_head(&ep->bounce.ops, uct_mp_bounce_desc_t, list);
    return oldest->seq >= mark;
}

/* The zcopy operation of desc completed (after any re-posts) */
static void uct_mp_bounce_completed(uct_completion_t *self)
{
    uct_mp_bounce_desc_t *desc = ucs_container_of(self, uct_mp_bounce_desc_t,
                                                  comp);
    uct_mp_ep_t *ep            = desc->ep;

    if (!desc->is_put) {
        if (self->status == UCS_OK) {
            desc->unpack_cb(desc->unpack_arg, uct_mp_bounce_data(desc),
                            desc->length);
        }
        if (desc->user_comp != NULL) {
            uct_invoke_completion(desc->user_comp, self->status);
        }
    }

    if (ep != NULL) {
        if ((self->status != UCS_OK) && (self->status != UCS_ERR_CANCELED) &&
            !ep->closing) {
            /* the striping path re-posts until no lane is left */
            ucs_diag("mp_rc: ep %p: %s of %zu bytes failed on every lane: %s",
                     ep, desc->is_put ? "put" : "get", desc->length,
                     ucs_status_string(self->status));
            ++ep->bounce.lost;
        }
        ucs_list_del(&desc->list);
        if (!ucs_queue_is_empty(&ep->flush.q)) {
            /* flushes may have nothing left to wait for */
            uct_mp_work_schedule(&ep->work, UCT_MP_WORK_FLUSH);
        }
    }
    ucs_mpool_put_inline(desc);
}

/* Post desc's buffer as a zcopy operation. UCS_INPROGRESS: it is tracked
 * until it completes; any other status: desc went back to the pool. */
static ucs_status_t uct_mp_bounce_post(uct_mp_ep_t *ep,
                                       uct_mp_bounce_desc_t *desc,
                                       uint64_t remote_addr, uct_rkey_t rkey)
{
    uct_iov_t iov;
    ucs_status_t status;

    iov.buffer = uct_mp_bounce_data(desc);
    iov.length = desc->length;
    iov.memh   = desc->memh;
    iov.stride = 0;
    iov.count  = 1;

    desc->ep          = ep;
    desc->comp.func   = uct_mp_bounce_completed;
    desc->comp.count  = 1;
    desc->comp.status = UCS_OK;
    status = uct_mp_rma_zcopy(ep, desc->is_put ? UCT_MP_RMA_PUT_ZCOPY :
                                                 UCT_MP_RMA_GET_BCOPY,
                              &iov, 1, remote_addr, rkey, &desc->comp);

    if (status == UCS_INPROGRESS) {
        desc->seq = ep->bounce.seq++;
        ucs_list_add_tail(&ep->bounce.ops, &desc->list);
        return UCS_INPROGRESS;
    }

    if ((status == UCS_OK) && !desc->is_put) {
        desc->unpack_cb(desc->unpack_arg, uct_mp_bounce_data(desc),
                        desc->length);
    }
    ucs_mpool_put_inline(desc);
    return status;
}

static UCS_F_ALWAYS_INLINE uct_mp_bounce_desc_t *
uct_mp_bounce_get_desc(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    uct_mp_bounce_desc_t *desc;

    desc = ucs_mpool_get_inline(&iface->bounce_mp);
    if (ucs_unlikely(desc == NULL)) {
        ucs_error("mp_rc: ep %p: out of bounce buffers", ep);
    }
    return desc;
}

ucs_status_t uct_mp_bounce_put_short(uct_mp_ep_t *ep, const void *buffer,
                                     unsigned length, uint64_t remote_addr,
                                     uct_rkey_t rkey)
{
    uct_mp_bounce_desc_t *desc = uct_mp_bounce_get_desc(ep);
    ucs_status_t status;

    if (ucs_unlikely(desc == NULL)) {
        return UCS_ERR_NO_MEMORY;
    }

    memcpy(uct_mp_bounce_data(desc), buffer, length);
    desc->length = length;
    desc->is_put = 1;
    status       = uct_mp_bounce_post(ep, desc, remote_addr, rkey);
    return (status == UCS_INPROGRESS) ? UCS_OK : status;
}

ssize_t uct_mp_bounce_put_bcopy(uct_mp_ep_t *ep, uct_pack_callback_t pack_cb,
                                void *arg, uint64_t remote_addr,
                                uct_rkey_t rkey)
{
    uct_mp_bounce_desc_t *desc = uct_mp_bounce_get_desc(ep);
    ucs_status_t status;
    size_t length;

    if (ucs_unlikely(desc == NULL)) {
        return UCS_ERR_NO_MEMORY;
    }

    length       = pack_cb(uct_mp_bounce_data(desc), arg);
    desc->length = length;
    desc->is_put = 1;
    status       = uct_mp_bounce_post(ep, desc, remote_addr, rkey);
    if ((status == UCS_INPROGRESS) || (status == UCS_OK)) {
        return length;
    }
    return status;
}

ucs_status_t uct_mp_bounce_get_bcopy(uct_mp_ep_t *ep,
                                     uct_unpack_callback_t unpack_cb,
                                     void *arg, size_t length,
                                     uint64_t remote_addr, uct_rkey_t rkey,
                                     uct_completion_t *comp)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    uct_mp_bounce_desc_t *desc;

    if (ucs_unlikely(length > iface->bounce_size)) {
        ucs_error("mp_rc: ep %p: get_bcopy of %zu bytes exceeds %zu", ep,
                  length, iface->bounce_size);
        return UCS_ERR_INVALID_PARAM;
    }

    desc = uct_mp_bounce_get_desc(ep);
    if (ucs_unlikely(desc == NULL)) {
        return UCS_ERR_NO_MEMORY;
    }

    desc->length     = length;
    desc->is_put     = 0;
    desc->unpack_cb  = unpack_cb;
    desc->unpack_arg = arg;
    desc->user_comp  = comp;
    return uct_mp_bounce_post(ep, desc, remote_addr, rkey);
}
