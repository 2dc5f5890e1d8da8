/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * uct_mp_ctl: talk to the control socket of a process that has mp_rc
 * interfaces (uct_mp/mp_control.c, docs/DESIGN.md section 13).
 *
 *   uct_mp_ctl [--dir DIR] list
 *   uct_mp_ctl [--dir DIR] PID status [--json]
 *   uct_mp_ctl [--dir DIR] PID drain DEV [--to DEV2] [--timeout SEC]
 *   uct_mp_ctl [--dir DIR] PID undrain DEV [--timeout SEC]
 *
 * Exit codes: 0 done, 1 error (refused, unknown device, no such process),
 * 2 timeout. Reply packets: 'L' text to print, 'E' + exit code, the last.
 */

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_PKT_MAX  8193
#define CTL_EXIT_OK      0
#define CTL_EXIT_ERROR   1
#define CTL_EXIT_TIMEOUT 2

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: uct_mp_ctl [--dir DIR] list\n"
            "       uct_mp_ctl [--dir DIR] PID status [--json]\n"
            "       uct_mp_ctl [--dir DIR] PID drain DEV [--to DEV2] "
            "[--timeout SEC]\n"
            "       uct_mp_ctl [--dir DIR] PID undrain DEV [--timeout SEC]\n"
            "DIR: the processes' UCX_MP_RC_CONTROL_DIR (default: that "
            "variable,\n"
            "else $XDG_RUNTIME_DIR/uct_mp, else /tmp/uct_mp-<uid>)\n"
            "exit codes: 0 done, 1 error, 2 timeout\n");
}

/* The control directory, as the mp module of this user chooses it */
static const char *ctl_dir(const char *opt, char *buf, size_t max)
{
    const char *env = getenv("UCX_MP_RC_CONTROL_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (opt != NULL) {
        return opt;
    }
    if (env == NULL) {
        env = getenv("UCX_MP_CONTROL_DIR");
    }
    if ((env != NULL) && strcmp(env, "auto")) {
        return env;
    }
    if ((xdg != NULL) && (xdg[0] == '/')) {
        snprintf(buf, max, "%s/uct_mp", xdg);
    } else {
        snprintf(buf, max, "/tmp/uct_mp-%u", (unsigned)geteuid());
    }
    return buf;
}

static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Connected socket to pid's control socket in dir, -1 (errno set) */
static int ctl_connect(const char *dir, long pid)
{
    struct sockaddr_un addr;
    int fd, saved;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%ld.sock", dir,
                 pid) >= (int)sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }

    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/*
 * Send req, print the reply's text to out until its end; returns the exit
 * code. The peer answers from its progress: a process that does not call
 * it does not answer (timeout).
 */
static int ctl_request(int fd, const char *req, double timeout, long pid,
                       FILE *out)
{
    double deadline = now_sec() + timeout;
    char pkt[CTL_PKT_MAX];
    struct pollfd pfd;
    ssize_t len;
    int wait_ms;

    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        fprintf(stderr, "uct_mp_ctl: sending to pid %ld failed: %s\n", pid,
                strerror(errno));
        return CTL_EXIT_ERROR;
    }

    for (;;) {
        wait_ms = (int)((deadline - now_sec()) * 1000.0);
        if (wait_ms <= 0) {
            fprintf(stderr, "uct_mp_ctl: timeout: pid %ld did not finish '%s' "
                    "within %.1f s\n", pid, req, timeout);
            return CTL_EXIT_TIMEOUT;
        }

        pfd.fd     = fd;
        pfd.events = POLLIN;
        if ((poll(&pfd, 1, wait_ms) < 0) && (errno != EINTR)) {
            fprintf(stderr, "uct_mp_ctl: poll failed: %s\n", strerror(errno));
            return CTL_EXIT_ERROR;
        }
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }

        len = recv(fd, pkt, sizeof(pkt), 0);
        if (len <= 0) {
            fprintf(stderr, "uct_mp_ctl: pid %ld closed the connection "
                    "without an answer\n", pid);
            return CTL_EXIT_ERROR;
        }
        if (pkt[0] == 'E') {
            return ((len >= 2) && (pkt[1] == '0')) ? CTL_EXIT_OK :
                                                     CTL_EXIT_ERROR;
        }
        fwrite(pkt + 1, 1, len - 1, out);
        fflush(out);
    }
}

/* Every process of dir that answers: PID, command, its status line */
static int ctl_list(const char *dir)
{
    char comm_path[64], comm[64], line[256];
    struct dirent *de;
    FILE *f, *mem;
    long pid;
    char *end;
    DIR *d;
    int fd, count = 0;

    d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            return CTL_EXIT_OK; /* no process made it yet */
        }
        fprintf(stderr, "uct_mp_ctl: cannot open %s: %s\n", dir,
                strerror(errno));
        return CTL_EXIT_ERROR;
    }

    printf("%-8s %-16s %s\n", "PID", "COMMAND", "STATUS");
    while ((de = readdir(d)) != NULL) {
        pid = strtol(de->d_name, &end, 10);
        if ((pid <= 0) || strcmp(end, ".sock")) {
            continue;
        }

        fd = ctl_connect(dir, pid);
        if (fd < 0) {
            continue; /* a process that exited without removing it */
        }

        snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", pid);
        f = fopen(comm_path, "r");
        if ((f == NULL) || (fgets(comm, sizeof(comm), f) == NULL)) {
            strcpy(comm, "?");
        }
        if (f != NULL) {
            fclose(f);
        }
        comm[strcspn(comm, "\n")] = '\0';

        memset(line, 0, sizeof(line));
        mem = fmemopen(line, sizeof(line) - 1, "w");
        if ((mem != NULL) && (ctl_request(fd, "status", 1.0, pid, mem) ==
                              CTL_EXIT_OK)) {
            fclose(mem);
            line[strcspn(line, "\n")] = '\0';
        } else {
            if (mem != NULL) {
                fclose(mem);
            }
            strcpy(line, "(no answer)");
        }
        close(fd);
        printf("%-8ld %-16s %s\n", pid, comm, line);
        ++count;
    }
    closedir(d);
    return CTL_EXIT_OK;
}

/* The request text of argv[i..] (after PID), NULL on bad usage */
static const char *ctl_parse(int argc, char **argv, int i, char *req,
                             size_t max, double *timeout)
{
    const char *cmd = argv[i++], *dev = NULL, *to = NULL;
    int json        = 0;

    if ((i < argc) && strcmp(cmd, "status") && (argv[i][0] != '-')) {
        dev = argv[i++];
    }
    for (; i < argc; ++i) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--to") && (i + 1 < argc)) {
            to = argv[++i];
        } else if (!strcmp(argv[i], "--timeout") && (i + 1 < argc)) {
            *timeout = atof(argv[++i]);
        } else {
            return NULL;
        }
    }

    if (!strcmp(cmd, "status") && (dev == NULL) && (to == NULL)) {
        snprintf(req, max, json ? "status json" : "status");
    } else if (!strcmp(cmd, "drain") && (dev != NULL) && !json) {
        snprintf(req, max, "drain %s%s%s", dev, (to != NULL) ? " " : "",
                 (to != NULL) ? to : "");
    } else if (!strcmp(cmd, "undrain") && (dev != NULL) && !json &&
               (to == NULL)) {
        snprintf(req, max, "undrain %s", dev);
    } else {
        return NULL;
    }
    return req;
}

int main(int argc, char **argv)
{
    const char *dir_opt = NULL, *dir;
    char dir_buf[256], req[256];
    double timeout = 60.0;
    long pid;
    char *end;
    int i = 1, fd, ret;

    if ((argc > 2) && !strcmp(argv[1], "--dir")) {
        dir_opt = argv[2];
        i       = 3;
    }
    if ((i < argc) && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
        usage(stdout);
        return CTL_EXIT_OK;
    }

    dir = ctl_dir(dir_opt, dir_buf, sizeof(dir_buf));
    if (dir[0] == '\0') {
        fprintf(stderr, "uct_mp_ctl: the control socket is disabled "
                "(UCX_MP_RC_CONTROL_DIR is empty)\n");
        return CTL_EXIT_ERROR;
    }
    if ((i < argc) && !strcmp(argv[i], "list") && (i + 1 == argc)) {
        return ctl_list(dir);
    }

    if (i + 1 >= argc) {
        usage(stderr);
        return CTL_EXIT_ERROR;
    }
    pid = strtol(argv[i], &end, 10);
    if ((pid <= 0) || (*end != '\0') ||
        (ctl_parse(argc, argv, i + 1, req, sizeof(req), &timeout) == NULL)) {
        usage(stderr);
        return CTL_EXIT_ERROR;
    }

    fd = ctl_connect(dir, pid);
    if (fd < 0) {
        fprintf(stderr, "uct_mp_ctl: cannot connect to %s/%ld.sock: %s\n", dir,
                pid, strerror(errno));
        return CTL_EXIT_ERROR;
    }

    ret = ctl_request(fd, req, timeout, pid, stdout);
    close(fd);
    return ret;
}
