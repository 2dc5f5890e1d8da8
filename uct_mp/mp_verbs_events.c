/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Port state of rc lanes from verbs async events (see mp_verbs_events.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_verbs_events.h"
#include "mp_link.h"
#include "mp_iface.h"
#include "mp_md.h"

#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <string.h>
#include <stdio.h>


int uct_mp_verbs_lane_port(const char *dev_name, char *hca, size_t max,
                           unsigned *port)
{
    const char *colon = strchr(dev_name, ':');

    if ((colon == NULL) || (sscanf(colon + 1, "%u", port) != 1) ||
        ((size_t)(colon - dev_name) >= max)) {
        return 0;
    }
    memcpy(hca, dev_name, colon - dev_name);
    hca[colon - dev_name] = '\0';
    return 1;
}

#ifdef UCT_MP_HAVE_IBVERBS
#include <infiniband/verbs.h>
#include <errno.h>
#include <fcntl.h>

/* events read in one poll, at most: until EAGAIN in practice (the async
 * thread's epoll is edge-triggered) */
#define UCT_MP_VERBS_EVENTS_MAX_POLL  256


/* The context of hca, opened once per iface; -1 on failure */
static int uct_mp_verbs_events_context(uct_mp_iface_t *iface,
                                       struct ibv_device **devs, int num_devs,
                                       const char *hca)
{
    struct ibv_context *ctx;
    unsigned i;
    int d, flags;

    for (i = 0; i < iface->num_ib_ctx; ++i) {
        ctx = iface->ib_ctx[i];
        if (!strcmp(ibv_get_device_name(ctx->device), hca)) {
            return i;
        }
    }

    for (d = 0; (d < num_devs) && strcmp(ibv_get_device_name(devs[d]), hca);
         ++d) {
    }
    if (d == num_devs) {
        ucs_diag("mp_rc: iface %p: no verbs device %s for async events",
                 iface, hca);
        return -1;
    }

    ctx = ibv_open_device(devs[d]);
    if (ctx == NULL) {
        ucs_diag("mp_rc: iface %p: ibv_open_device(%s) for async events "
                 "failed: %m", iface, hca);
        return -1;
    }

    flags = fcntl(ctx->async_fd, F_GETFL);
    if ((flags < 0) ||
        (fcntl(ctx->async_fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
        ucs_diag("mp_rc: iface %p: %s async fd %d not made non-blocking: %m",
                 iface, hca, ctx->async_fd);
        ibv_close_device(ctx);
        return -1;
    }

    iface->ib_ctx[iface->num_ib_ctx] = ctx;
    return iface->num_ib_ctx++;
}

unsigned uct_mp_verbs_events_init(uct_mp_iface_t *iface)
{
    uct_mp_md_t *md = ucs_derived_of(iface->super.md, uct_mp_md_t);
    char hca[UCT_DEVICE_NAME_MAX];
    struct ibv_device **devs;
    unsigned lane, port, watched = 0;
    int num_devs, ctx;

    iface->num_ib_ctx = 0;
    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        iface->ib_ctx_of_lane[lane] = -1;
    }
    if (!iface->link_events || (md->lane_tl == UCT_MP_LANE_TL_TCP)) {
        return 0;
    }

    devs = ibv_get_device_list(&num_devs);
    if (devs == NULL) {
        ucs_diag("mp_rc: iface %p: no verbs devices for async events: %m",
                 iface);
        return 0;
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (!uct_mp_verbs_lane_port(iface->lanes[lane].dev_name, hca,
                                   sizeof(hca), &port)) {
            continue;
        }
        ctx = uct_mp_verbs_events_context(iface, devs, num_devs, hca);
        if (ctx < 0) {
            continue;
        }
        iface->ib_ctx_of_lane[lane]  = ctx;
        iface->ib_port_of_lane[lane] = port;
        ++watched;
        ucs_debug("mp_rc: iface %p lane %u (%s): watching port %u of %s "
                  "(verbs async events, fd %d)", iface, lane,
                  iface->lanes[lane].dev_name, port, hca,
                  ((struct ibv_context*)iface->ib_ctx[ctx])->async_fd);
    }
    ibv_free_device_list(devs);
    return watched;
}

void uct_mp_verbs_events_cleanup(uct_mp_iface_t *iface)
{
    unsigned i;

    for (i = 0; i < iface->num_ib_ctx; ++i) {
        ibv_close_device(iface->ib_ctx[i]);
    }
    iface->num_ib_ctx = 0;
}

int uct_mp_verbs_events_fd(uct_mp_iface_t *iface, unsigned i)
{
    return ((struct ibv_context*)iface->ib_ctx[i])->async_fd;
}

void uct_mp_verbs_events_poll(uct_mp_iface_t *iface,
                              uct_mp_verbs_port_seen_func_t seen)
{
    struct ibv_async_event event;
    struct ibv_context *ctx;
    unsigned i, lane, count;
    char what[64];
    int up;

    for (i = 0; i < iface->num_ib_ctx; ++i) {
        ctx = iface->ib_ctx[i];
        for (count = 0; count < UCT_MP_VERBS_EVENTS_MAX_POLL; ++count) {
            if (ibv_get_async_event(ctx, &event) != 0) {
                break; /* EAGAIN: nothing pending */
            }

            if ((event.event_type == IBV_EVENT_PORT_ERR) ||
                (event.event_type == IBV_EVENT_PORT_ACTIVE)) {
                up = (event.event_type == IBV_EVENT_PORT_ACTIVE);
                ucs_diag("mp_rc: iface %p: %s port %d: %s (verbs async "
                         "event)", iface,
                         ibv_get_device_name(ctx->device),
                         event.element.port_num,
                         ibv_event_type_str(event.event_type));
                ucs_snprintf_safe(what, sizeof(what), "port %s:%d %s "
                                  "(verbs async event)",
                                  ibv_get_device_name(ctx->device),
                                  event.element.port_num, up ? "active" :
                                  "down");
                for (lane = 0; lane < iface->num_lanes; ++lane) {
                    if ((iface->ib_ctx_of_lane[lane] == (int)i) &&
                        (iface->ib_port_of_lane[lane] ==
                         event.element.port_num)) {
                        seen(iface, lane, up, what);
                    }
                }
            } else {
                ucs_debug("mp_rc: iface %p: %s: async event %s", iface,
                          ibv_get_device_name(ctx->device),
                          ibv_event_type_str(event.event_type));
            }
            ibv_ack_async_event(&event);
        }
    }
}

#else /* UCT_MP_HAVE_IBVERBS */

unsigned uct_mp_verbs_events_init(uct_mp_iface_t *iface)
{
    iface->num_ib_ctx = 0;
    return 0;
}

void uct_mp_verbs_events_cleanup(uct_mp_iface_t *iface)
{
}

int uct_mp_verbs_events_fd(uct_mp_iface_t *iface, unsigned i)
{
    return -1;
}

void uct_mp_verbs_events_poll(uct_mp_iface_t *iface,
                              uct_mp_verbs_port_seen_func_t seen)
{
}

#endif /* UCT_MP_HAVE_IBVERBS */
