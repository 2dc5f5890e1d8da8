/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The process's control socket (see mp_control.h).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_control.h"
#include "mp_ep.h"

#include <ucs/datastruct/string_buffer.h>
#include <ucs/debug/log.h>
#include <ucs/time/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <ucs/sys/string.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define UCT_MP_CONTROL_MAX_IFACES  64
#define UCT_MP_CONTROL_MAX_CLIENTS 8
#define UCT_MP_CONTROL_POLL_USEC   1000  /* how often progress looks */
#define UCT_MP_CONTROL_IDLE_SEC    5.0   /* a client without a request */
#define UCT_MP_CONTROL_PKT_MAX     8192  /* text per reply packet */
#define UCT_MP_CONTROL_REQ_MAX     256

typedef enum {
    UCT_MP_CONTROL_JOB_NONE,    /* waits for its request */
    UCT_MP_CONTROL_JOB_DRAIN,   /* a drain runs; progress lines go out */
    UCT_MP_CONTROL_JOB_UNDRAIN  /* drained lanes rejoin */
} uct_mp_control_job_t;

typedef struct {
    int                      fd;          /* -1: free slot */
    int                      refused;     /* another uid: the reason goes
                                             out after its request came */
    char                     reason[128];
    uct_mp_control_job_t     job;
    char                     dev[UCT_DEVICE_NAME_MAX];
    ucs_time_t               started;
    unsigned                 num_eps;     /* endpoints the job started on */
    int                      last_left;   /* last progress line's count */
} uct_mp_control_client_t;

/* Selecting the lanes of one device over every iface and endpoint */
typedef struct {
    unsigned                 eps;         /* eps with a lane on the device */
    unsigned                 running;     /* of them: drain running */
    unsigned                 outstanding; /* of them: not flushed yet */
    unsigned                 closed;      /* of them: drained and closed */
    unsigned                 failed_over; /* of them: failed meanwhile */
    unsigned                 connecting;  /* of them: rejoining */
    unsigned                 usable;      /* of them: ACTIVE or STANDBY */
} uct_mp_control_count_t;

static struct {
    int                      fd;          /* listening socket, -1: none */
    pid_t                    owner;       /* process that created it */
    int                      atexit_set;
    char                     path[sizeof(((struct sockaddr_un*)0)->sun_path)];
    ucs_time_t               next_poll;
    unsigned                 num_ifaces;
    uct_mp_iface_t           *ifaces[UCT_MP_CONTROL_MAX_IFACES];
    uct_mp_control_client_t  clients[UCT_MP_CONTROL_MAX_CLIENTS];
} uct_mp_control = {.fd = -1};


static void uct_mp_control_unlink(void)
{
    if ((uct_mp_control.fd >= 0) && (uct_mp_control.owner == getpid())) {
        unlink(uct_mp_control.path);
    }
}

/* CONTROL_DIR "auto": $XDG_RUNTIME_DIR/uct_mp, else /tmp/uct_mp-<uid> */
static void uct_mp_control_dir(const char *dir, char *buf, size_t max)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (strcmp(dir, "auto")) {
        ucs_strncpy_zero(buf, dir, max);
    } else if ((xdg != NULL) && (xdg[0] == '/')) {
        snprintf(buf, max, "%s/uct_mp", xdg);
    } else {
        snprintf(buf, max, "/tmp/uct_mp-%u", (unsigned)geteuid());
    }
}

/* dir exists afterwards as ours, mode 0700 (nobody else may even connect) */
static ucs_status_t uct_mp_control_check_dir(const char *dir)
{
    struct stat st;

    if ((mkdir(dir, 0700) != 0) && (errno != EEXIST)) {
        ucs_warn("mp_rc: no control socket: mkdir(%s) failed: %m", dir);
        return UCS_ERR_IO_ERROR;
    }

    if (lstat(dir, &st) != 0) {
        ucs_warn("mp_rc: no control socket: stat(%s) failed: %m", dir);
        return UCS_ERR_IO_ERROR;
    }

    if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid()) ||
        (st.st_mode & 0077)) {
        ucs_warn("mp_rc: no control socket: %s must be a directory of uid %u "
                 "with mode 0700 (it has uid %u, mode 0%o)", dir,
                 (unsigned)geteuid(), (unsigned)st.st_uid,
                 (unsigned)(st.st_mode & 07777));
        return UCS_ERR_INVALID_PARAM;
    }
    return UCS_OK;
}

static void uct_mp_control_open(const char *config_dir)
{
    char dir[PATH_MAX];
    struct sockaddr_un addr;
    int fd;

    uct_mp_control_dir(config_dir, dir, sizeof(dir));
    if (uct_mp_control_check_dir(dir) != UCS_OK) {
        return;
    }

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%d.sock", dir,
                 (int)getpid()) >= (int)sizeof(addr.sun_path)) {
        ucs_warn("mp_rc: no control socket: %s/%d.sock is longer than %zu",
                 dir, (int)getpid(), sizeof(addr.sun_path) - 1);
        return;
    }

    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ucs_warn("mp_rc: no control socket: socket() failed: %m");
        return;
    }

    unlink(addr.sun_path); /* an earlier process with this pid left it */
    if ((bind(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) ||
        (chmod(addr.sun_path, 0600) != 0) ||
        (listen(fd, UCT_MP_CONTROL_MAX_CLIENTS) != 0)) {
        ucs_warn("mp_rc: no control socket: bind/listen on %s failed: %m",
                 addr.sun_path);
        unlink(addr.sun_path);
        close(fd);
        return;
    }

    uct_mp_control.fd    = fd;
    uct_mp_control.owner = getpid();
    ucs_strncpy_zero(uct_mp_control.path, addr.sun_path,
                     sizeof(uct_mp_control.path));
    if (!uct_mp_control.atexit_set) {
        uct_mp_control.atexit_set = 1;
        atexit(uct_mp_control_unlink);
    }
    ucs_debug("mp_rc: control socket %s", uct_mp_control.path);
}

/* One reply packet: kind 'L' (text) or 'E' (end, text is the exit code) */
static int uct_mp_control_send(uct_mp_control_client_t *c, char kind,
                               const char *text, size_t len)
{
    char pkt[UCT_MP_CONTROL_PKT_MAX + 1];

    pkt[0] = kind;
    memcpy(pkt + 1, text, len);
    if (send(c->fd, pkt, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        ucs_diag("mp_rc: control socket: reply of %zu bytes lost: %m", len);
        return -1;
    }
    return 0;
}

/* Text to the client, in packets of at most UCT_MP_CONTROL_PKT_MAX */
static void uct_mp_control_print(uct_mp_control_client_t *c, const char *text)
{
    size_t len = strlen(text), chunk;

    while (len > 0) {
        chunk = ucs_min(len, UCT_MP_CONTROL_PKT_MAX);
        if (uct_mp_control_send(c, 'L', text, chunk) != 0) {
            return;
        }
        text += chunk;
        len  -= chunk;
    }
}

static void uct_mp_control_printf(uct_mp_control_client_t *c, const char *fmt,
                                  ...) UCS_F_PRINTF(2, 3);

static void uct_mp_control_printf(uct_mp_control_client_t *c, const char *fmt,
                                  ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uct_mp_control_print(c, line);
}

/* The last packet; the client goes */
static void uct_mp_control_end(uct_mp_control_client_t *c, int code)
{
    char text = '0' + code;

    uct_mp_control_send(c, 'E', &text, 1);
    close(c->fd);
    c->fd  = -1;
    c->job = UCT_MP_CONTROL_JOB_NONE;
}

/* An error line (also logged), then the end with code 1 */
static void uct_mp_control_fail(uct_mp_control_client_t *c, const char *msg)
{
    ucs_diag("mp_rc: control request refused: %s", msg);
    uct_mp_control_printf(c, "error: %s\n", msg);
    uct_mp_control_end(c, 1);
}

static const char *uct_mp_control_drain_phase(uct_mp_ep_t *ep, unsigned lane)
{
    static const char *names[] = {"none", "draining", "drained"};
    int flushed, fell_back;

    return names[uct_mp_drain_phase(ep, lane, &flushed, &fell_back)];
}

/* One lane of one ep, as text or JSON */
static void uct_mp_control_status_lane(ucs_string_buffer_t *sb, uct_mp_ep_t *ep,
                                       unsigned lane, int json, ucs_time_t now)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    uct_mp_lane_stats_t st;
    double age_ms;

    uct_mp_lane_stats(ep, lane, &st);
    age_ms = (st.last_arrival == 0) ? -1.0 :
             ucs_time_to_msec(now - st.last_arrival);
    ucs_string_buffer_appendf(sb, json ?
            "{\"index\":%u,\"device\":\"%s\",\"state\":\"%s\","
            "\"drain\":\"%s\",\"tx_ops\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
            ",\"rx_msgs\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"errors\":%"
            PRIu64 ",\"failovers\":%u,\"rejoins\":%u,\"weight_MBps\":%.1f,"
            "\"outstanding_bytes\":%zu,\"keepalive_age_ms\":%.0f}" :
            "    lane %u %-12s %-10s drain %-8s tx %" PRIu64 " ops %" PRIu64
            " B, rx %" PRIu64 " msgs %" PRIu64 " B, errors %" PRIu64
            ", failovers %u, rejoins %u, weight %.1f MB/s, outstanding %zu "
            "B, keepalive age %.0f ms\n",
            lane, iface->lanes[lane].dev_name,
            uct_mp_lane_state_str(st.state),
            uct_mp_control_drain_phase(ep, lane), st.tx_ops, st.tx_bytes,
            st.rx_msgs, st.rx_bytes, st.errors, st.failovers, st.rejoins,
            uct_mp_sched_weight(ep->rma.sched, lane) / 1e6,
            uct_mp_sched_outstanding(ep->rma.sched, lane), age_ms);
}

static void uct_mp_control_status_ep(ucs_string_buffer_t *sb, uct_mp_ep_t *ep,
                                     int json, ucs_time_t now)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    unsigned lane;

    ucs_string_buffer_appendf(sb, json ?
            "{\"token\":%u,\"peer_token\":%u,\"am_lane\":%d,"
            "\"replayed\":%u,\"rma_replayed\":%u,\"dup_dropped\":%u,"
            "\"failed\":%d,\"lanes\":[" :
            "  ep token 0x%x peer 0x%x: AM lane %d, replayed %u AMs and %u "
            "RMA chunks, %u duplicates dropped, failed %d\n",
            ep->token, ep->remote_token, ep->lane.tx_lane, ep->am.replayed,
            (unsigned)ep->rma.replayed, ep->am.dups, ep->lane.peer_failed);
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (json && (lane > 0)) {
            ucs_string_buffer_appendf(sb, ",");
        }
        uct_mp_control_status_lane(sb, ep, lane, json, now);
    }
    if (json) {
        ucs_string_buffer_appendf(sb, "]}");
    }
}

static void uct_mp_control_status_iface(ucs_string_buffer_t *sb,
                                        uct_mp_iface_t *iface, int json,
                                        ucs_time_t now)
{
    uct_mp_ep_t *ep;
    unsigned lane;
    int first = 1;

    ucs_string_buffer_appendf(sb, json ?
            "{\"device\":\"%s\",\"policy\":\"%s\",\"lanes\":[" :
            "iface %s: policy %s, lanes",
            iface->lanes[0].dev_name, uct_mp_policy_str(iface->policy));
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        ucs_string_buffer_appendf(sb, json ? "%s\"%s\"" : "%s%s",
                                  (lane == 0) ? (json ? "" : " ") : ",",
                                  iface->lanes[lane].dev_name);
    }
    ucs_string_buffer_appendf(sb, json ? "],\"eps\":[" : ", %zu eps\n",
                              ucs_list_length(&iface->eps));
    ucs_list_for_each(ep, &iface->eps, list) {
        if (json && !first) {
            ucs_string_buffer_appendf(sb, ",");
        }
        first = 0;
        uct_mp_control_status_ep(sb, ep, json, now);
    }
    if (json) {
        ucs_string_buffer_appendf(sb, "]}");
    }
}

static void uct_mp_control_status(uct_mp_control_client_t *c, int json)
{
    ucs_time_t now = ucs_get_time();
    ucs_string_buffer_t sb;
    unsigned i;

    ucs_string_buffer_init(&sb);
    ucs_string_buffer_appendf(&sb, json ? "{\"pid\":%d,\"ifaces\":[" :
                              "pid %d: %u mp ifaces\n", (int)getpid(),
                              uct_mp_control.num_ifaces);
    for (i = 0; i < uct_mp_control.num_ifaces; ++i) {
        if (json && (i > 0)) {
            ucs_string_buffer_appendf(&sb, ",");
        }
        uct_mp_control_status_iface(&sb, uct_mp_control.ifaces[i], json, now);
    }
    if (json) {
        ucs_string_buffer_appendf(&sb, "]}\n");
    }
    uct_mp_control_print(c, ucs_string_buffer_cstr(&sb));
    ucs_string_buffer_cleanup(&sb);
    uct_mp_control_end(c, 0);
}

/* Count the lanes on dev over every ep; with start, drain (1) or undrain
 * (2) them first. Returns the number of lanes on dev of the ifaces. */
static unsigned uct_mp_control_count(const char *dev, int start,
                                     uct_mp_control_count_t *n)
{
    uct_mp_iface_t *iface;
    uct_mp_ep_t *ep;
    unsigned i, lane, lanes = 0;
    int on_dev, flushed, fell_back;
    uct_mp_drain_phase_t phase;
    uct_mp_lane_state_t state;

    memset(n, 0, sizeof(*n));
    for (i = 0; i < uct_mp_control.num_ifaces; ++i) {
        iface = uct_mp_control.ifaces[i];
        for (lane = 0; lane < iface->num_lanes; ++lane) {
            lanes += !strcmp(iface->lanes[lane].dev_name, dev);
        }
        ucs_list_for_each(ep, &iface->eps, list) {
            on_dev = 0;
            for (lane = 0; lane < iface->num_lanes; ++lane) {
                if (strcmp(iface->lanes[lane].dev_name, dev)) {
                    continue;
                }
                if ((start == 1) &&
                    uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED)) {
                    uct_mp_drain_start(ep, lane);
                } else if (start == 2) {
                    uct_mp_drain_undrain(ep, lane);
                }
                state  = uct_mp_lane_state(ep, lane);
                phase  = uct_mp_drain_phase(ep, lane, &flushed, &fell_back);
                on_dev = 1;
                n->running     += (phase == UCT_MP_DRAIN_RUNNING);
                n->outstanding += (phase == UCT_MP_DRAIN_RUNNING) && !flushed;
                n->closed      += (phase == UCT_MP_DRAIN_CLOSED);
                n->failed_over += (phase == UCT_MP_DRAIN_CLOSED) && fell_back;
                n->connecting  += (state == UCT_MP_LANE_CONNECTING);
                n->usable   += (state == UCT_MP_LANE_ACTIVE) ||
                               (state == UCT_MP_LANE_STANDBY);
            }
            n->eps += on_dev;
        }
    }
    return lanes;
}

/* Why dev may not be drained (NULL: it may): unknown, or the last usable
 * lane of an ep */
static const char *uct_mp_control_drain_refusal(const char *dev, char *buf,
                                                size_t max)
{
    uct_mp_iface_t *iface;
    uct_mp_ep_t *ep;
    unsigned i, lane, on_dev;

    for (i = 0; i < uct_mp_control.num_ifaces; ++i) {
        iface = uct_mp_control.ifaces[i];
        ucs_list_for_each(ep, &iface->eps, list) {
            on_dev = 0;
            for (lane = 0; lane < iface->num_lanes; ++lane) {
                on_dev += !strcmp(iface->lanes[lane].dev_name, dev) &&
                          uct_mp_lane_usable(ep, lane,
                                             UCT_MP_LANE_USE_CONNECTED);
            }
            if ((on_dev > 0) && !uct_mp_drain_supported(ep)) {
                snprintf(buf, max, "cannot drain %s: the peer of ep 0x%x "
                         "(iface %s) does not support DRAIN", dev, ep->token,
                         iface->lanes[0].dev_name);
                return buf;
            }
            if ((on_dev > 0) && (uct_mp_lanes_usable(ep->lane.sm) <= on_dev)) {
                snprintf(buf, max, "cannot drain %s: it is the last usable "
                         "lane of ep 0x%x (iface %s)", dev, ep->token,
                         iface->lanes[0].dev_name);
                return buf;
            }
        }
    }
    return NULL;
}

/* Is dev a lane device of an iface? */
static int uct_mp_control_is_lane(const char *dev)
{
    uct_mp_control_count_t n;

    return uct_mp_control_count(dev, 0, &n) > 0;
}

/* Is dev a lane device? If not, the client is told so */
static int uct_mp_control_known_lane(uct_mp_control_client_t *c,
                                     const char *dev)
{
    char msg[256];

    if (uct_mp_control_is_lane(dev)) {
        return 1;
    }

    snprintf(msg, sizeof(msg), "unknown device %s: no mp lane uses it", dev);
    uct_mp_control_fail(c, msg);
    return 0;
}

static void uct_mp_control_drain(uct_mp_control_client_t *c, const char *dev,
                                 const char *to)
{
    char msg[256];
    uct_mp_control_count_t n;

    if (!uct_mp_control_known_lane(c, dev)) {
        return;
    }

    if ((to != NULL) && (!strcmp(to, dev) || !uct_mp_control_is_lane(to))) {
        snprintf(msg, sizeof(msg), "device %s was not configured as a lane or "
                 "spare device", to);
        uct_mp_control_fail(c, msg);
        return;
    }

    if (uct_mp_control_drain_refusal(dev, msg, sizeof(msg)) != NULL) {
        uct_mp_control_fail(c, msg);
        return;
    }

    uct_mp_control_count(dev, 1, &n);
    ucs_info("mp_rc: drain %s%s%s: draining %u eps", dev,
             (to != NULL) ? " to " : "", (to != NULL) ? to : "", n.running);
    ucs_strncpy_zero(c->dev, dev, sizeof(c->dev));
    c->job       = UCT_MP_CONTROL_JOB_DRAIN;
    c->started   = ucs_get_time();
    c->num_eps   = n.running;
    c->last_left = -1;
}

static void uct_mp_control_undrain(uct_mp_control_client_t *c,
                                   const char *dev)
{
    char msg[256];
    uct_mp_control_count_t n;

    if (!uct_mp_control_known_lane(c, dev)) {
        return;
    }

    uct_mp_control_count(dev, 0, &n);
    if (n.closed == 0) {
        snprintf(msg, sizeof(msg), "%s is not drained on any endpoint", dev);
        uct_mp_control_fail(c, msg);
        return;
    }

    c->num_eps = n.closed;
    uct_mp_control_count(dev, 2, &n);
    ucs_info("mp_rc: undrain %s: %u eps rejoin it", dev, c->num_eps);
    ucs_strncpy_zero(c->dev, dev, sizeof(c->dev));
    c->job       = UCT_MP_CONTROL_JOB_UNDRAIN;
    c->started   = ucs_get_time();
    c->last_left = -1;
}

/* A job's progress lines, and its end */
static void uct_mp_control_job_progress(uct_mp_control_client_t *c)
{
    double secs = ucs_time_to_sec(ucs_get_time() - c->started);
    uct_mp_control_count_t n;
    char line[256];
    int left;

    uct_mp_control_count(c->dev, 0, &n);
    left = (c->job == UCT_MP_CONTROL_JOB_DRAIN) ? n.running : n.connecting;
    if (left == c->last_left) {
        return;
    }

    c->last_left = left;
    if (c->job == UCT_MP_CONTROL_JOB_DRAIN) {
        snprintf(line, sizeof(line), (left > 0) ?
                 "drain %s: draining %d eps, %u with outstanding work\n" :
                 "drain %s: done: %u eps, %u failed over, %.3f s\n", c->dev,
                 (left > 0) ? left : (int)c->num_eps,
                 (left > 0) ? n.outstanding : n.failed_over, secs);
    } else {
        snprintf(line, sizeof(line), (left > 0) ?
                 "undrain %s: %d eps rejoining\n" :
                 "undrain %s: done: %u eps, %u lanes usable, %.3f s\n", c->dev,
                 (left > 0) ? left : (int)c->num_eps, n.usable, secs);
    }
    ucs_info("mp_rc: %.*s", (int)strlen(line) - 1, line);
    uct_mp_control_print(c, line);
    if (left == 0) {
        uct_mp_control_end(c, ((c->job == UCT_MP_CONTROL_JOB_UNDRAIN) &&
                               (n.usable < c->num_eps)) ? 1 : 0);
    }
}

static void uct_mp_control_request(uct_mp_control_client_t *c, char *req)
{
    char *save = NULL, *words[4] = {NULL};
    char msg[UCT_MP_CONTROL_REQ_MAX + 32];
    unsigned n = 0;
    char *w;

    for (w = strtok_r(req, " \t\n", &save); (w != NULL) && (n < 4);
         w = strtok_r(NULL, " \t\n", &save)) {
        words[n++] = w;
    }

    if ((n >= 1) && (n <= 2) && !strcmp(words[0], "status") &&
        ((n == 1) || !strcmp(words[1], "json"))) {
        uct_mp_control_status(c, n == 2);
    } else if ((n >= 2) && (n <= 3) && !strcmp(words[0], "drain")) {
        uct_mp_control_drain(c, words[1], words[2]);
    } else if ((n == 2) && !strcmp(words[0], "undrain")) {
        uct_mp_control_undrain(c, words[1]);
    } else {
        snprintf(msg, sizeof(msg), "unknown request '%s'",
                 (n > 0) ? words[0] : "");
        uct_mp_control_fail(c, msg);
    }
}

/* Only the socket's user, or root */
static int uct_mp_control_allowed(int fd, char *msg, size_t max)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        snprintf(msg, max, "SO_PEERCRED failed: %s", strerror(errno));
        return 0;
    }

    if ((cred.uid != 0) && (cred.uid != geteuid())) {
        snprintf(msg, max, "permission denied: uid %u may not control pid %d "
                 "of uid %u", (unsigned)cred.uid, (int)getpid(),
                 (unsigned)geteuid());
        return 0;
    }
    return 1;
}

static void uct_mp_control_accept(void)
{
    uct_mp_control_client_t *c = NULL, tmp;
    unsigned i;
    int fd;

    fd = accept4(uct_mp_control.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }

    for (i = 0; i < UCT_MP_CONTROL_MAX_CLIENTS; ++i) {
        if (uct_mp_control.clients[i].fd < 0) {
            c = &uct_mp_control.clients[i];
            break;
        }
    }

    tmp.fd = fd;
    if (c == NULL) {
        uct_mp_control_fail(&tmp, "busy: too many control clients");
        return;
    }

    memset(c, 0, sizeof(*c));
    c->fd      = fd;
    c->job     = UCT_MP_CONTROL_JOB_NONE;
    c->started = ucs_get_time();
    /* a refusal waits for the request: closing with it unread would reset
     * the connection before the client reads why */
    c->refused = !uct_mp_control_allowed(fd, c->reason, sizeof(c->reason));
}

static void uct_mp_control_client_progress(uct_mp_control_client_t *c,
                                           ucs_time_t now)
{
    char req[UCT_MP_CONTROL_REQ_MAX];
    ssize_t len;

    if (c->job != UCT_MP_CONTROL_JOB_NONE) {
        len = recv(c->fd, req, sizeof(req), MSG_DONTWAIT);
        if (len == 0) {
            close(c->fd); /* the client went; the job goes on */
            c->fd = -1;
            return;
        }
        uct_mp_control_job_progress(c);
        return;
    }

    len = recv(c->fd, req, sizeof(req) - 1, MSG_DONTWAIT);
    if ((len > 0) && c->refused) {
        uct_mp_control_fail(c, c->reason);
    } else if (len > 0) {
        req[len] = '\0';
        uct_mp_control_request(c, req);
    } else if ((len == 0) || ((errno != EAGAIN) && (errno != EWOULDBLOCK)) ||
               ((int64_t)(now - c->started) >
                (int64_t)ucs_time_from_sec(UCT_MP_CONTROL_IDLE_SEC))) {
        close(c->fd);
        c->fd = -1;
    }
}

/* Progress of every mp iface's worker: look at the socket once per ms */
static unsigned uct_mp_control_progress(void *arg)
{
    ucs_time_t now = ucs_get_time();
    unsigned i;

    if ((uct_mp_control.fd < 0) ||
        ((int64_t)(now - uct_mp_control.next_poll) < 0)) {
        return 0;
    }

    uct_mp_control.next_poll = now +
                               ucs_time_from_usec(UCT_MP_CONTROL_POLL_USEC);
    uct_mp_control_accept();
    for (i = 0; i < UCT_MP_CONTROL_MAX_CLIENTS; ++i) {
        if (uct_mp_control.clients[i].fd >= 0) {
            uct_mp_control_client_progress(&uct_mp_control.clients[i], now);
        }
    }
    return 0;
}

void uct_mp_control_iface_add(uct_mp_iface_t *iface, const char *dir)
{
    unsigned i;

    iface->control_prog_id = UCS_CALLBACKQ_ID_NULL;
    if (uct_mp_control.num_ifaces == UCT_MP_CONTROL_MAX_IFACES) {
        ucs_diag("mp_rc: iface %p: not shown on the control socket, which "
                 "has %u ifaces", iface, UCT_MP_CONTROL_MAX_IFACES);
        return;
    }

    if ((uct_mp_control.num_ifaces == 0) && (uct_mp_control.fd < 0) &&
        (dir != NULL) && (dir[0] != '\0')) {
        for (i = 0; i < UCT_MP_CONTROL_MAX_CLIENTS; ++i) {
            uct_mp_control.clients[i].fd = -1;
        }
        uct_mp_control_open(dir);
    }

    uct_mp_control.ifaces[uct_mp_control.num_ifaces++] = iface;
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_control_progress, iface, 0,
                                      &iface->control_prog_id);
}

void uct_mp_control_iface_remove(uct_mp_iface_t *iface)
{
    unsigned i;

    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &iface->control_prog_id);
    for (i = 0; i < uct_mp_control.num_ifaces; ++i) {
        if (uct_mp_control.ifaces[i] == iface) {
            uct_mp_control.ifaces[i] =
                    uct_mp_control.ifaces[--uct_mp_control.num_ifaces];
            break;
        }
    }

    if ((uct_mp_control.num_ifaces > 0) || (uct_mp_control.fd < 0)) {
        return;
    }

    for (i = 0; i < UCT_MP_CONTROL_MAX_CLIENTS; ++i) {
        if (uct_mp_control.clients[i].fd >= 0) {
            uct_mp_control_fail(&uct_mp_control.clients[i],
                                "the last mp iface closed");
        }
    }
    uct_mp_control_unlink();
    close(uct_mp_control.fd);
    uct_mp_control.fd = -1;
}
