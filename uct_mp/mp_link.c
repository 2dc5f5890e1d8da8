/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Link events over rtnetlink (see mp_link.h and docs/DESIGN.md section 9).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_link.h"
#include "mp_iface.h"
#include "mp_ep.h"
#include "mp_lanes.h"
#include "mp_verbs_events.h"
#include "mp_netlink.h"

#include <uct/base/uct_iface.h>
#include <ucs/arch/cpu.h>
#include <ucs/async/async.h>
#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <ucs/sys/sys.h>
#include <ucs/time/time.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* how often the progress reads the event fds when no async thread does, and
 * passes over the endpoints for lanes on a link that is down */
#define UCT_MP_LINK_POLL_MS   5
/* netlink messages read in one go, at most (more: resync from sysfs) */
#define UCT_MP_LINK_MAX_READ  256
/* one netlink datagram; a larger one (RTM_NEWLINK of a NIC with many VFs)
 * is cut and followed by a link dump */
#define UCT_MP_LINK_BUF_LEN   32768
/* nlmsg_seq of mp's link dump requests ("mp" and 1) */
#define UCT_MP_LINK_DUMP_SEQ  0x6d700001u
/* a link that came back settles this long before a lane retries over it */


static unsigned uct_mp_link_progress(void *arg);

/* The netdev under a lane: a tcp lane's device itself; an rc lane's RoCE
 * port's netdev from sysfs (none for InfiniBand ports) */
static void uct_mp_link_lane_netdev(uct_mp_iface_t *iface, unsigned lane,
                                    char *netdev, size_t max)
{
    uct_mp_md_t *md      = ucs_derived_of(iface->super.md, uct_mp_md_t);
    const char *dev_name = iface->lanes[lane].dev_name;
    char ibdev[UCT_DEVICE_NAME_MAX], path[256];
    unsigned port;
    ssize_t len;

    netdev[0] = '\0';
    if (md->lane_tl == UCT_MP_LANE_TL_TCP) {
        ucs_strncpy_zero(netdev, dev_name, max);
        return;
    }

    if (!uct_mp_verbs_lane_port(dev_name, ibdev, sizeof(ibdev), &port)) {
        return;
    }
    ucs_snprintf_safe(path, sizeof(path),
                      "/sys/class/infiniband/%s/ports/%u/gid_attrs/ndevs/0",
                      ibdev, port);
    len = ucs_read_file_str(netdev, max, 1, "%s", path);
    if (len <= 0) {
        netdev[0] = '\0';
        return;
    }
    netdev[strcspn(netdev, "\n")] = '\0';
}

/* Link state from sysfs: at start, and after the netlink socket overflowed */
static int uct_mp_link_sysfs_up(const char *netdev)
{
    char state[32];

    if (ucs_read_file_str(state, sizeof(state), 1,
                          "/sys/class/net/%s/operstate", netdev) <= 0) {
        return 1; /* unknown: assume up, the keepalive still watches */
    }
    return strncmp(state, "down", 4) && strncmp(state, "lowerlayerdown", 14);
}

/* A non-blocking rtnetlink socket on the link group, or -1 */
static int uct_mp_link_open_netlink(uct_mp_iface_t *iface)
{
    struct sockaddr_nl sa;
    int fd;

    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                NETLINK_ROUTE);
    if (fd < 0) {
        ucs_diag("mp_rc: iface %p: no link events, netlink socket failed: %m",
                 iface);
        return -1; /* the keepalive still detects failures */
    }

    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (bind(fd, (struct sockaddr*)&sa, sizeof(sa)) < 0) {
        ucs_diag("mp_rc: iface %p: no link events, netlink bind failed: %m",
                 iface);
        close(fd);
        return -1;
    }
    return fd;
}

int uct_mp_link_is_down(uct_mp_iface_t *iface, unsigned lane)
{
    return (lane < iface->num_lanes) && iface->link_down[lane];
}

void uct_mp_link_lane_seen(uct_mp_iface_t *iface, unsigned lane, int up,
                           const char *what)
{
    if ((lane >= iface->num_lanes) || (iface->link_seen_down[lane] == !up)) {
        return;
    }

    iface->link_seen_down[lane] = !up;
    ucs_memory_cpu_store_fence();
    ++iface->link_seen_gen; /* one writer: the async lock serialises them */
    ucs_diag("mp_rc: iface %p lane %u (%s): %s", iface, lane,
             iface->lanes[lane].dev_name, what);
}

ucs_time_t uct_mp_link_up_time(uct_mp_iface_t *iface, unsigned lane)
{
    return iface->link_up_time[lane];
}

/* Main thread: take over what the event reader saw. A link that came back
 * is noted with its time (fail-back retries soon, mp_join.c); the lanes on a
 * link that went down fail from uct_mp_link_fail_lanes(). Returns 1 if
 * anything changed. */
static int uct_mp_link_apply(uct_mp_iface_t *iface)
{
    uint32_t gen = iface->link_seen_gen;
    ucs_time_t now;
    unsigned lane;

    if (ucs_likely(gen == iface->link_applied_gen)) {
        return 0;
    }

    ucs_memory_cpu_load_fence();
    iface->link_applied_gen = gen;
    now                     = ucs_get_time();
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (iface->link_down[lane] == iface->link_seen_down[lane]) {
            continue;
        }

        iface->link_down[lane] = iface->link_seen_down[lane];
        if (!iface->link_down[lane]) {
            iface->link_up_time[lane] = now;
        }
    }
    return 1;
}

/* netdev's link went up or down */
static void uct_mp_link_changed(uct_mp_iface_t *iface, const char *netdev,
                                int up)
{
    char what[IFNAMSIZ + 16];
    unsigned lane;

    ucs_snprintf_safe(what, sizeof(what), "link %s %s", netdev,
                      up ? "up" : "down");
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (!strcmp(iface->link_netdev[lane], netdev)) {
            uct_mp_link_lane_seen(iface, lane, up, what);
        }
    }
}

/* Fail the lanes of every ep that run over a link that is down. One lane of
 * one ep per pass when it was the ep's last: UCP may release the ep then.
 * Returns 1 if it must run again. */
static int uct_mp_link_fail_lanes(uct_mp_iface_t *iface)
{
    uct_mp_lane_state_t state;
    uct_mp_ep_t *ep;
    unsigned lane;

    for (lane = 0; (lane < iface->num_lanes) && !iface->link_down[lane];
         ++lane) {
    }
    if (lane == iface->num_lanes) {
        return 0; /* every link is up */
    }

    ucs_list_for_each(ep, &iface->eps, list) {
        if (ep->lane.peer_failed || ep->closing) {
            continue;
        }
        for (lane = 0; lane < iface->num_lanes; ++lane) {
            state = uct_mp_lane_state(ep, lane);
            if (!iface->link_down[lane] || (ep->lane.slots[lane].ep == NULL) ||
                ep->lane.slots[lane].destroy_pending ||
                (state == UCT_MP_LANE_FAILED)) {
                continue;
            }

            uct_mp_lane_fail(ep, lane, UCS_ERR_UNREACHABLE);
            if (ep->lane.peer_failed) {
                return 1; /* ep may be gone: start over next time */
            }
        }
    }
    return 0;
}

static void uct_mp_link_netlink_event(void *arg,
                                      const uct_mp_netlink_link_t *link)
{
    uct_mp_link_changed(arg, link->name, link->up);
}

/* Ask the kernel for every link's state; the answers arrive on the socket
 * and are read like events. 1 if the request went out. */
static int uct_mp_link_request_dump(uct_mp_iface_t *iface)
{
    char req[UCT_MP_NETLINK_DUMP_LEN];
    struct sockaddr_nl sa;
    size_t len;

    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK; /* nl_pid 0: the kernel */
    len          = uct_mp_netlink_pack_dump(req, sizeof(req),
                                            UCT_MP_LINK_DUMP_SEQ);
    return sendto(iface->link_fd, req, len, 0, (struct sockaddr*)&sa,
                  sizeof(sa)) == (ssize_t)len;
}

/* One datagram of len bytes (more than the buffer: MSG_TRUNC cut it);
 * 1 if messages were lost and no dump was requested (resync from sysfs) */
static int uct_mp_link_parse(uct_mp_iface_t *iface, const char *buf,
                             size_t max, ssize_t len)
{
    size_t parsed = ucs_min((size_t)len, max);
    char errmsg[UCT_MP_NETLINK_ERRMSG_MAX];
    uct_mp_netlink_result_t res;

    if ((uct_mp_netlink_parse(buf, parsed, uct_mp_link_netlink_event, iface,
                              &res, errmsg, sizeof(errmsg)) != 0) &&
        (parsed == (size_t)len)) {
        ucs_diag("mp_rc: iface %p: netlink datagram of %zd bytes: %s", iface,
                 len, errmsg);
    }
    if (parsed < (size_t)len) {
        ucs_diag("mp_rc: iface %p: netlink datagram of %zd bytes cut to %zu, "
                 "requesting the link states", iface, len, parsed);
        /* a dump answer too large for the buffer: sysfs instead */
        return (res.truncated_seq == UCT_MP_LINK_DUMP_SEQ) ||
               !uct_mp_link_request_dump(iface);
    }
    return res.overrun || (res.error != 0);
}

/* Read what the kernel said; 1 if messages were lost (resync from sysfs) */
static int uct_mp_link_read(uct_mp_iface_t *iface)
{
    char buf[UCT_MP_LINK_BUF_LEN] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct sockaddr_nl sa;
    socklen_t sa_len;
    unsigned count;
    ssize_t len;

    /* until the socket is empty: the async thread's epoll is edge-triggered */
    for (count = 0; count < UCT_MP_LINK_MAX_READ; ++count) {
        sa_len = sizeof(sa);
        len    = recvfrom(iface->link_fd, buf, sizeof(buf), MSG_TRUNC,
                          (struct sockaddr*)&sa, &sa_len);
        if (len < 0) {
            return (errno == ENOBUFS);
        }

        if ((sa_len != sizeof(sa)) || (sa.nl_family != AF_NETLINK) ||
            (sa.nl_pid != 0)) {
            ucs_debug("mp_rc: iface %p: dropped a netlink datagram of %zd "
                      "bytes from port %u, not the kernel", iface, len,
                      sa.nl_pid);
            continue;
        }

        if (uct_mp_link_parse(iface, buf, sizeof(buf), len)) {
            return 1;
        }
    }
    return 1; /* more than we read: resync */
}

/* Read the event fds (netlink and verbs): on UCS's async thread, holding the
 * worker's async lock, or from the progress when there is no async thread */
static void uct_mp_link_read_events(uct_mp_iface_t *iface)
{
    unsigned lane;

    uct_mp_verbs_events_poll(iface, uct_mp_link_lane_seen);
    if ((iface->link_fd < 0) || !uct_mp_link_read(iface)) {
        return;
    }

    ucs_diag("mp_rc: iface %p: link events lost (netlink overflow), "
             "reading link states", iface);
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (iface->link_netdev[lane][0] != '\0') {
            uct_mp_link_changed(iface, iface->link_netdev[lane],
                                uct_mp_link_sysfs_up(
                                        iface->link_netdev[lane]));
        }
    }
}

static void uct_mp_link_async_event(int fd, ucs_event_set_types_t events,
                                    void *arg)
{
    uct_mp_link_read_events(arg);
}

/* The fds to watch: the netlink socket and each verbs context's async fd */
static unsigned uct_mp_link_event_fds(uct_mp_iface_t *iface, int *fds)
{
    unsigned i, count = 0;

    if (iface->link_fd >= 0) {
        fds[count++] = iface->link_fd;
    }
    for (i = 0; i < iface->num_ib_ctx; ++i) {
        fds[count++] = uct_mp_verbs_events_fd(iface, i);
    }
    return count;
}

static void uct_mp_link_async_remove(const int *fds, unsigned count)
{
    unsigned i;

    for (i = 0; i < count; ++i) {
        ucs_async_remove_handler(fds[i], 1);
    }
}

/* With a thread async mode (UCP's workers have one), the events are read as
 * they arrive, however long the application goes between progress calls;
 * the endpoints' lanes fail in the next progress call */
static void uct_mp_link_async_add(uct_mp_iface_t *iface)
{
    ucs_async_context_t *async = iface->super.worker->async;
    int fds[UCT_MP_MAX_LANES + 1];
    ucs_status_t status;
    unsigned i, count;

    if ((async == NULL) || ((async->mode != UCS_ASYNC_MODE_THREAD_SPINLOCK) &&
                            (async->mode != UCS_ASYNC_MODE_THREAD_MUTEX))) {
        return;
    }

    count = uct_mp_link_event_fds(iface, fds);
    for (i = 0; i < count; ++i) {
        status = ucs_async_set_event_handler(async->mode, fds[i],
                                             UCS_EVENT_SET_EVREAD,
                                             uct_mp_link_async_event, iface,
                                             async);
        if (status != UCS_OK) {
            ucs_diag("mp_rc: iface %p: link events fd %d not watched by the "
                     "async thread (%s), read from the progress", iface,
                     fds[i], ucs_status_string(status));
            uct_mp_link_async_remove(fds, i);
            return;
        }
    }
    iface->link_async = 1;
}

ucs_status_t uct_mp_link_iface_init(uct_mp_iface_t *iface)
{
    unsigned lane, watched = 0, verbs_watched;

    iface->link_fd          = -1;
    iface->link_async       = 0;
    iface->link_prog_id     = UCS_CALLBACKQ_ID_NULL;
    iface->link_seen_gen    = 0;
    iface->link_applied_gen = 0;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        iface->link_down[lane]      = 0;
        iface->link_up_time[lane]   = 0;
        iface->link_seen_down[lane] = 0;
        uct_mp_link_lane_netdev(iface, lane, iface->link_netdev[lane],
                                sizeof(iface->link_netdev[lane]));
        watched += (iface->link_netdev[lane][0] != '\0');
    }

    verbs_watched = uct_mp_verbs_events_init(iface);
    if (iface->link_events && (watched > 0)) {
        iface->link_fd = uct_mp_link_open_netlink(iface);
    }
    if ((iface->link_fd < 0) && (verbs_watched == 0)) {
        return UCS_OK;
    }

    for (lane = 0; (lane < iface->num_lanes) && (iface->link_fd >= 0);
         ++lane) {
        if (iface->link_netdev[lane][0] != '\0') {
            iface->link_down[lane]      =
                !uct_mp_link_sysfs_up(iface->link_netdev[lane]);
            iface->link_seen_down[lane] = iface->link_down[lane];
            ucs_debug("mp_rc: iface %p lane %u (%s): watching link %s (%s)",
                      iface, lane, iface->lanes[lane].dev_name,
                      iface->link_netdev[lane],
                      iface->link_down[lane] ? "down" : "up");
        }
    }

    iface->link_next_poll = ucs_get_time();
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_link_progress, iface, 0,
                                      &iface->link_prog_id);
    uct_mp_link_async_add(iface);
    return UCS_OK;
}

void uct_mp_link_iface_cleanup(uct_mp_iface_t *iface)
{
    int fds[UCT_MP_MAX_LANES + 1];

    if (iface->link_async) {
        uct_mp_link_async_remove(fds, uct_mp_link_event_fds(iface, fds));
        iface->link_async = 0;
    }
    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &iface->link_prog_id);
    if (iface->link_fd >= 0) {
        close(iface->link_fd);
        iface->link_fd = -1;
    }
    uct_mp_verbs_events_cleanup(iface);
}

static unsigned uct_mp_link_progress(void *arg)
{
    uct_mp_iface_t *iface = arg;
    ucs_time_t now        = ucs_get_time();
    int due               = (int64_t)(now - iface->link_next_poll) >= 0;

    if (due && !iface->link_async) {
        uct_mp_link_read_events(iface); /* no async thread reads them */
    }

    /* a volatile read per call unless the event reader saw a change */
    if (uct_mp_link_apply(iface) || due) {
        iface->link_next_poll = now + ucs_time_from_msec(UCT_MP_LINK_POLL_MS);
        uct_mp_link_fail_lanes(iface);
    }
    return 0;
}
