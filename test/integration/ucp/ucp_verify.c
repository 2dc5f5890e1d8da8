/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * ucp_verify: the project's UCP verification program. A server and a client
 * exchange tagged messages, active messages, put/get and atomics at sizes
 * from 1 byte to rendezvous sizes, and check every byte against a pattern
 * that depends on size, direction and iteration, so lost, stale, misplaced,
 * duplicated or reordered data is caught.
 *
 *   ucp_verify -s [-p PORT] [--p2p|--cm] [options]          (server)
 *   ucp_verify -c SERVER [-p PORT] [--p2p|--cm] [options]   (client)
 *
 * --cm  : UCP's client-server flow (listener + sockaddr endpoint): transport
 *         addresses travel in the connection manager's private data.
 * --p2p : worker addresses exchanged over a TCP socket, then
 *         ucp_ep_create(REMOTE_ADDRESS): the MPI-style wire-up.
 * Options: --only tag,am,rma,atomic,stream  --max-size N  --iters N
 *          --timeout S  --close-timeout S  --stream-secs S
 *          --no-stream-rma  -v
 * stream (not in the default set): for --stream-secs, both sides send tagged
 * messages and AMs of mixed sizes with sequence numbers, 8 of each in flight,
 * and each receiver counts what it got lost, duplicated, reordered or
 * corrupt: the counts a fault test reports. Meanwhile each side runs rounds
 * of put, flush, get (every byte checked) and fetch-add on the peer's memory
 * (unless --no-stream-rma); the fetched values and the final counters show
 * an atomic that ran twice or never.
 * Each side prints PASS/FAIL lines and "N passed, M failed"; exit 0 only if
 * nothing failed.
 *
 * Build: gcc -std=gnu99 -O2 -g -Wall -Werror -o ucp_verify ucp_verify.c -lucp -lucs
 */

#define _GNU_SOURCE
#include <ucp/api/ucp.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TAG_DATA      0x1000000000000000ull
#define TAG_BURST     0x2000000000000000ull
#define TAG_CTRL      0x3000000000000000ull
#define TAG_MASK_ALL  0xffffffffffffffffull
#define AM_ID         7
#define AM_BURST_ID   8
#define AM_STREAM_ID  9
#define TAG_STREAM    0x4000000000000000ull
#define STREAM_WINDOW 8           /* messages in flight per kind and way */
#define STREAM_END    0xffffffffu /* seq of the end marker */
#define STREAM_MAX    (1u << 22)  /* messages per kind and way */
#define BURST_COUNT   200
#define AM_BURST      100
#define RMA_SIZE      (8u << 20)

typedef struct {
    int         server;
    const char  *server_addr;
    int         port;
    int         cm;
    unsigned    iters;
    size_t      max_size;
    double      timeout;
    double      close_timeout; /* > 0: flush-mode close, then force */
    int         verbose;
    double      stream_secs;   /* --stream-secs: how long the stream sends */
    int         stream_rma;    /* put/get/fetch-add rounds in the stream */
    int         only_tag, only_am, only_rma, only_atomic, only_stream;
} options_t;

static options_t     opts;
static ucp_context_h context;
static ucp_worker_h  worker;
static ucp_ep_h      ep;
static double        deadline;
static unsigned      passed, failed;
static const char    *current_test = "setup";
static ucs_status_t  ep_error = UCS_OK;

static const size_t default_sizes[] = {
    1, 8, 64, 1000, 4095, 8192, 65536, 65537, 262144 + 5, 1048576 + 3,
    4194304
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check(int ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "PASS" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (ok) {
        ++passed;
    } else {
        ++failed;
    }
}

static void stream_dump(void);

static void die(const char *fmt, ...)
{
    void (*mp_dump)(void);
    va_list ap;

    if (!strcmp(current_test, "stream") && opts.stream_rma) {
        stream_dump();
    }
    /* the mp module's state, when it is loaded (LD_PRELOAD) */
    mp_dump = (void (*)(void))dlsym(RTLD_DEFAULT, "uct_mp_debug_dump");
    if (mp_dump != NULL) {
        fflush(stdout);
        mp_dump();
    }

    printf("FAIL %s: ", current_test);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n%u passed, %u failed\n", passed, failed + 1);
    fflush(stdout);
    exit(2);
}

static void progress_once(void)
{
    ucp_worker_progress(worker);
    if ((ep_error != UCS_OK) && (passed == 0) && (failed == 0)) {
        /* before the first check this is a failed connection (e.g. the
         * server does not listen yet), which a harness may retry */
        die("connect failed: endpoint error: %s", ucs_status_string(ep_error));
    }
    if (now() > deadline) {
        die("timeout after %.0f s", opts.timeout);
    }
}

/* Wait for a request; returns its status */
static ucs_status_t wait_req(void *req)
{
    ucs_status_t status;

    if (req == NULL) {
        return UCS_OK;
    }
    if (UCS_PTR_IS_ERR(req)) {
        return UCS_PTR_STATUS(req);
    }
    while ((status = ucp_request_check_status(req)) == UCS_INPROGRESS) {
        progress_once();
    }
    ucp_request_free(req);
    return status;
}

/* Deterministic content: position, size, direction, iteration. One 64-bit
 * word per 8 bytes (a 4 MiB check is a few ms, so the stream keeps calling
 * progress often enough for the latencies a fault test measures). */
static uint64_t pattern_word(size_t word, uint64_t seed)
{
    uint64_t x = (word + 1) * 0x9e3779b97f4a7c15ull ^ (seed * 0xbf58476d1ce4e5b9ull);
    x ^= x >> 29;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void fill(void *buf, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    size_t i;
    uint64_t w;

    for (i = 0; i + 8 <= len; i += 8) {
        w = pattern_word(i / 8, seed);
        memcpy(p + i, &w, 8);
    }
    if (i < len) {
        w = pattern_word(i / 8, seed);
        memcpy(p + i, &w, len - i);
    }
}

/* Index of the first wrong byte, or -1 */
static long verify(const void *buf, size_t len, uint64_t seed)
{
    const uint8_t *p = buf;
    size_t i, k;
    uint64_t w;

    for (i = 0; i < len; i += 8) {
        w = pattern_word(i / 8, seed);
        if (memcmp(p + i, &w, (len - i < 8) ? len - i : 8) != 0) {
            for (k = 0; (k < 8) && (p[i + k] == ((uint8_t*)&w)[k]); ++k) {
            }
            return (long)(i + k);
        }
    }
    return -1;
}

static uint64_t seed_of(size_t size, int dir, unsigned iter)
{
    return ((uint64_t)size << 20) ^ ((uint64_t)dir << 16) ^ iter;
}

static ucs_status_t tag_send(const void *buf, size_t len, ucp_tag_t tag)
{
    ucp_request_param_t param = {0};
    return wait_req(ucp_tag_send_nbx(ep, buf, len, tag, &param));
}

static ucs_status_t tag_recv(void *buf, size_t len, ucp_tag_t tag,
                             size_t *recv_len)
{
    ucp_request_param_t param = {0};
    ucp_tag_recv_info_t info  = {0};
    ucs_status_t status;
    void *req;

    /* always a request: UCP 1.13 does not fill recv_info on every path of
     * an in-place completion (an unexpected eager zcopy message) */
    param.op_attr_mask       = UCP_OP_ATTR_FIELD_RECV_INFO |
                               UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
    param.recv_info.tag_info = &info;
    req = ucp_tag_recv_nbx(worker, buf, len, tag, TAG_MASK_ALL, &param);
    if (UCS_PTR_IS_ERR(req)) {
        return UCS_PTR_STATUS(req);
    } else if (req != NULL) {
        while ((status = ucp_tag_recv_request_test(req, &info)) ==
               UCS_INPROGRESS) {
            progress_once();
        }
        ucp_request_free(req);
    } else {
        status = UCS_OK;
    }

    if (recv_len != NULL) {
        *recv_len = info.length;
    }
    return status;
}

/* Control messages: small fixed structs over TAG_CTRL | code */
static void ctrl_send(unsigned code, const void *buf, size_t len)
{
    ucs_status_t status = tag_send(buf, len, TAG_CTRL | code);
    if (status != UCS_OK) {
        die("control message %u not sent: %s", code, ucs_status_string(status));
    }
}

static void ctrl_recv(unsigned code, void *buf, size_t len)
{
    size_t got;
    ucs_status_t status = tag_recv(buf, len, TAG_CTRL | code, &got);
    if (status != UCS_OK) {
        die("control message %u not received: %s", code,
            ucs_status_string(status));
    }
}

/* Exchange a 32-bit result: the checker tells the other side its failures */
static unsigned ctrl_exchange_result(unsigned code, unsigned my_failures)
{
    uint32_t peer = 0, mine = my_failures;

    if (opts.server) {
        ctrl_send(code, &mine, sizeof(mine));
        ctrl_recv(code + 1, &peer, sizeof(peer));
    } else {
        ctrl_recv(code, &peer, sizeof(peer));
        ctrl_send(code + 1, &mine, sizeof(mine));
    }
    return peer;
}

static int size_enabled(size_t size)
{
    return size <= opts.max_size;
}

/*
 * 1. Tagged messages both ways, every size, every iteration; then a burst of
 *    small messages on one tag whose sequence numbers must arrive in order.
 */
static void test_tag(void)
{
    size_t max = opts.max_size, i, got;
    unsigned iter, k, out_of_order = 0;
    uint8_t *buf = malloc(max + 1);
    ucs_status_t status;
    int dir;
    long bad;

    current_test = "tag";
    for (i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); ++i) {
        size_t size = default_sizes[i];
        unsigned bad_iters = 0;
        if (!size_enabled(size)) {
            continue;
        }
        for (iter = 0; iter < opts.iters; ++iter) {
            for (dir = 0; dir < 2; ++dir) {
                ucp_tag_t tag = TAG_DATA | ((uint64_t)size << 8) |
                                (iter << 1) | dir;
                int sender = (dir == 0) ? !opts.server : opts.server;
                if (sender) {
                    fill(buf, size, seed_of(size, dir, iter));
                    status = tag_send(buf, size, tag);
                    if (status != UCS_OK) {
                        ++bad_iters;
                    }
                } else {
                    memset(buf, 0xcc, size + 1);
                    status = tag_recv(buf, size, tag, &got);
                    bad    = verify(buf, size, seed_of(size, dir, iter));
                    if ((status != UCS_OK) || (got != size) || (bad >= 0) ||
                        (buf[size] != 0xcc)) {
                        if (bad_iters++ == 0) {
                            printf("    tag size %zu iter %u dir %d: status %s "
                                   "length %zu first bad byte %ld\n", size,
                                   iter, dir, ucs_status_string(status), got,
                                   bad);
                        }
                    }
                }
            }
        }
        check(bad_iters == 0, "tag size %zu x%u both directions", size,
              opts.iters);
    }

    /* burst: order on one tag */
    if (!opts.server) {
        uint32_t msg[16];
        void *reqs[BURST_COUNT];
        ucp_request_param_t param = {0};
        for (k = 0; k < BURST_COUNT; ++k) {
            static uint32_t msgs[BURST_COUNT][16];
            msgs[k][0] = k;
            fill(&msgs[k][1], sizeof(msg) - 4, k);
            reqs[k] = ucp_tag_send_nbx(ep, msgs[k], sizeof(msg), TAG_BURST,
                                       &param);
        }
        for (k = 0; k < BURST_COUNT; ++k) {
            if (wait_req(reqs[k]) != UCS_OK) {
                ++out_of_order;
            }
        }
        out_of_order += ctrl_exchange_result(10, 0);
        check(out_of_order == 0, "tag burst of %d x 64 B in order",
              BURST_COUNT);
    } else {
        uint32_t msg[16];
        for (k = 0; k < BURST_COUNT; ++k) {
            status = tag_recv(msg, sizeof(msg), TAG_BURST, &got);
            if ((status != UCS_OK) || (msg[0] != k) ||
                (verify(&msg[1], sizeof(msg) - 4, msg[0]) >= 0)) {
                if (out_of_order++ == 0) {
                    printf("    burst: expected #%u, got #%u (%s)\n", k, msg[0],
                           ucs_status_string(status));
                }
            }
        }
        ctrl_exchange_result(10, out_of_order);
        check(out_of_order == 0, "tag burst of %d x 64 B received in order",
              BURST_COUNT);
    }
    free(buf);
}

/* 2. Active messages, eager and rendezvous, and an ordered burst */
typedef struct {
    unsigned received;
    unsigned bad;
    unsigned rndv_pending;
    unsigned burst_next;
    unsigned burst_bad;
} am_state_t;

static am_state_t am;

/*
 * Fetch a rendezvous AM's length bytes into a buffer behind a context of two
 * words (ctx0, ctx1); cb gets the context when the bytes are in, also when
 * they came in place (request NULL). Returns -1 if nothing was started.
 */
static int am_recv_rndv(void *data, size_t length, uint64_t ctx0,
                        uint64_t ctx1, ucp_am_recv_data_nbx_callback_t cb)
{
    ucp_request_param_t rparam = {0};
    uint64_t *ctx = malloc(2 * sizeof(uint64_t) + length);
    void *req;

    if (ctx == NULL) {
        return -1;
    }
    ctx[0]              = ctx0;
    ctx[1]              = ctx1;
    rparam.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                          UCP_OP_ATTR_FIELD_USER_DATA;
    rparam.cb.recv_am   = cb;
    rparam.user_data    = ctx;
    ++am.rndv_pending;
    req = ucp_am_recv_data_nbx(worker, data, ctx + 2, length, &rparam);
    if (req == NULL) {
        cb(NULL, UCS_OK, length, ctx); /* completed in place */
    } else if (UCS_PTR_IS_ERR(req)) {
        --am.rndv_pending;
        free(ctx);
        return -1;
    }
    return 0;
}

static void am_rndv_done(void *request, ucs_status_t status, size_t length,
                         void *user_data)
{
    uint64_t *hdr = user_data; /* [0]=seed [1]=length, buffer follows */
    if ((status != UCS_OK) || (length != hdr[1]) ||
        (verify(hdr + 2, hdr[1], hdr[0]) >= 0)) {
        ++am.bad;
        printf("    am rndv length %zu: %s\n", length,
               ucs_status_string(status));
    }
    ++am.received;
    --am.rndv_pending;
    free(hdr);
    if (request != NULL) {
        ucp_request_free(request);
    }
}

static ucs_status_t am_handler(void *arg, const void *header,
                               size_t header_length, void *data, size_t length,
                               const ucp_am_recv_param_t *param)
{
    uint64_t seed, expect_len;

    if (header_length != 2 * sizeof(uint64_t)) {
        ++am.bad;
        ++am.received;
        return UCS_OK;
    }
    memcpy(&seed, header, sizeof(seed));
    memcpy(&expect_len, (const uint8_t*)header + 8, sizeof(expect_len));

    if (!(param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
        if ((length != expect_len) || (verify(data, length, seed) >= 0)) {
            ++am.bad;
            printf("    am eager length %zu (expected %zu) bad data\n", length,
                   (size_t)expect_len);
        }
        ++am.received;
        return UCS_OK;
    }

    if (am_recv_rndv(data, length, seed, expect_len, am_rndv_done) != 0) {
        ++am.bad;
    }
    return UCS_OK;
}

static ucs_status_t am_burst_handler(void *arg, const void *header,
                                     size_t header_length, void *data,
                                     size_t length,
                                     const ucp_am_recv_param_t *param)
{
    uint32_t seq;
    memcpy(&seq, data, sizeof(seq));
    if (seq != am.burst_next) {
        if (am.burst_bad++ == 0) {
            printf("    am burst: expected #%u, got #%u\n", am.burst_next, seq);
        }
    }
    am.burst_next = seq + 1;
    return UCS_OK;
}

static ucs_status_t stream_am_handler(void *arg, const void *header,
                                      size_t header_length, void *data,
                                      size_t length,
                                      const ucp_am_recv_param_t *param);

static void set_am_handlers(void)
{
    ucp_am_handler_param_t param = {0};

    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                       UCP_AM_HANDLER_PARAM_FIELD_CB |
                       UCP_AM_HANDLER_PARAM_FIELD_ARG;
    param.id = AM_ID;
    param.cb = am_handler;
    param.arg = NULL;
    if (ucp_worker_set_am_recv_handler(worker, &param) != UCS_OK) {
        die("ucp_worker_set_am_recv_handler failed");
    }
    param.id = AM_BURST_ID;
    param.cb = am_burst_handler;
    if (ucp_worker_set_am_recv_handler(worker, &param) != UCS_OK) {
        die("ucp_worker_set_am_recv_handler failed");
    }
    param.id = AM_STREAM_ID;
    param.cb = stream_am_handler;
    if (ucp_worker_set_am_recv_handler(worker, &param) != UCS_OK) {
        die("ucp_worker_set_am_recv_handler failed");
    }
}

static void test_am(void)
{
    static const size_t sizes[] = {8, 4000, 65536, 1048576 + 3};
    unsigned i, expected = 0, k;
    uint32_t peer_bad;

    current_test = "am";
    if (!opts.server) {
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
            size_t size = sizes[i];
            uint64_t hdr[2] = {seed_of(size, 2, i), size};
            ucp_request_param_t param = {0};
            uint8_t *buf;
            ucs_status_t status;
            if (!size_enabled(size)) {
                continue;
            }
            buf = malloc(size);
            fill(buf, size, hdr[0]);
            status = wait_req(ucp_am_send_nbx(ep, AM_ID, hdr, sizeof(hdr), buf,
                                              size, &param));
            free(buf);
            check(status == UCS_OK, "am send %zu B: %s", size,
                  ucs_status_string(status));
            ++expected;
        }
        for (k = 0; k < AM_BURST; ++k) {
            ucp_request_param_t param = {0};
            uint32_t seq = k;
            param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
            param.flags        = UCP_AM_SEND_FLAG_EAGER;
            if (wait_req(ucp_am_send_nbx(ep, AM_BURST_ID, NULL, 0, &seq,
                                         sizeof(seq), &param)) != UCS_OK) {
                ++am.burst_bad;
            }
        }
        ctrl_send(20, &expected, sizeof(expected));
        ctrl_recv(21, &peer_bad, sizeof(peer_bad));
        check(peer_bad == 0, "am: receiver verified every byte and the burst "
              "order (%u problems)", peer_bad);
    } else {
        uint32_t bad;
        ctrl_recv(20, &expected, sizeof(expected));
        while ((am.received < expected) || (am.rndv_pending > 0) ||
               (am.burst_next < AM_BURST)) {
            progress_once();
        }
        check(am.bad == 0, "am: %u messages, eager and rendezvous, every byte",
              am.received);
        check(am.burst_bad == 0, "am: burst of %d in order", AM_BURST);
        bad = am.bad + am.burst_bad;
        ctrl_send(21, &bad, sizeof(bad));
    }
}

/* Register buf for remote access */
static ucp_mem_h map_memory(void *buf, size_t len)
{
    ucp_mem_map_params_t mparams = {0};
    ucp_mem_h memh;

    mparams.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS |
                         UCP_MEM_MAP_PARAM_FIELD_LENGTH;
    mparams.address    = buf;
    mparams.length     = len;
    if (ucp_mem_map(context, &mparams, &memh) != UCS_OK) {
        die("ucp_mem_map of %zu bytes failed", len);
    }
    return memh;
}

/* Server: tell the client where buf is and its packed rkey (codes base..+2) */
static void send_region(unsigned base, void *buf, ucp_mem_h memh)
{
    uint64_t addr = (uintptr_t)buf, len;
    void *rkey_buf;
    size_t rkey_len;

    if (ucp_rkey_pack(context, memh, &rkey_buf, &rkey_len) != UCS_OK) {
        die("ucp_rkey_pack failed");
    }
    len = rkey_len;
    ctrl_send(base, &addr, sizeof(addr));
    ctrl_send(base + 1, &len, sizeof(len));
    ctrl_send(base + 2, rkey_buf, rkey_len);
    ucp_rkey_buffer_release(rkey_buf);
}

/* Client: the server's address and unpacked rkey of send_region() */
static ucp_rkey_h recv_region(unsigned base, uint64_t *remote_p)
{
    ucp_rkey_h rkey;
    ucs_status_t status;
    void *rkey_buf;
    uint64_t len;

    ctrl_recv(base, remote_p, sizeof(*remote_p));
    ctrl_recv(base + 1, &len, sizeof(len));
    if (len > 4096) {
        die("remote key of %llu bytes", (unsigned long long)len);
    }
    rkey_buf = malloc(len);
    ctrl_recv(base + 2, rkey_buf, len);
    status = ucp_ep_rkey_unpack(ep, rkey_buf, &rkey);
    free(rkey_buf);
    if (status != UCS_OK) {
        die("ucp_ep_rkey_unpack: %s", ucs_status_string(status));
    }
    return rkey;
}

/* 3. put/get: regions at odd offsets and sizes of one remote buffer */
typedef struct {
    size_t offset;
    size_t size;
} region_t;

static const region_t regions[] = {
    {0, 1}, {3, 4095}, {8192, 65537}, {200000, 1048576 + 7}, {3000000, 4096},
    {4194304, 4194304 - 64}
};

static void test_rma(void)
{
    unsigned nregions = sizeof(regions) / sizeof(regions[0]), i;
    ucp_request_param_t param = {0};
    ucp_mem_h memh;
    uint8_t *buf;
    uint64_t remote;
    uint32_t peer_bad;

    current_test = "rma";
    buf = aligned_alloc(4096, RMA_SIZE);
    memset(buf, 0, RMA_SIZE);
    memh = map_memory(buf, RMA_SIZE);

    if (opts.server) {
        unsigned bad = 0;
        send_region(30, buf, memh);
        /* the client's puts are done when it asks us to check */
        ctrl_recv(33, &peer_bad, sizeof(peer_bad));
        for (i = 0; i < nregions; ++i) {
            if ((regions[i].offset + regions[i].size > RMA_SIZE) ||
                !size_enabled(regions[i].size)) {
                continue;
            }
            long b = verify(buf + regions[i].offset, regions[i].size,
                            seed_of(regions[i].size, 3, i));
            if (b >= 0) {
                ++bad;
                printf("    server memory region %u (offset %zu size %zu): "
                       "first bad byte %ld\n", i, regions[i].offset,
                       regions[i].size, b);
            }
        }
        check(bad == 0, "rma: server memory holds every put byte");
        ctrl_send(34, &bad, sizeof(bad));
    } else {
        ucp_rkey_h rkey = recv_region(30, &remote);
        unsigned bad_get = 0;
        ucs_status_t status;

        for (i = 0; i < nregions; ++i) {
            if (!size_enabled(regions[i].size)) {
                continue;
            }
            fill(buf + regions[i].offset, regions[i].size,
                 seed_of(regions[i].size, 3, i));
            status = wait_req(ucp_put_nbx(ep, buf + regions[i].offset,
                                          regions[i].size,
                                          remote + regions[i].offset, rkey,
                                          &param));
            if (status != UCS_OK) {
                check(0, "rma put %zu B at %zu: %s", regions[i].size,
                      regions[i].offset, ucs_status_string(status));
            }
            /* a fence between puts (UCP: uct_iface_fence of each iface, or
             * a flush): it must not fail nor stall later puts */
            status = ucp_worker_fence(worker);
            if (status != UCS_OK) {
                check(0, "rma: worker fence after put %u: %s", i,
                      ucs_status_string(status));
            }
        }
        status = wait_req(ucp_ep_flush_nbx(ep, &param));
        check(status == UCS_OK, "rma: flush after puts: %s",
              ucs_status_string(status));

        /* read every region back into fresh memory */
        memset(buf, 0, RMA_SIZE);
        for (i = 0; i < nregions; ++i) {
            if (!size_enabled(regions[i].size)) {
                continue;
            }
            status = wait_req(ucp_get_nbx(ep, buf + regions[i].offset,
                                          regions[i].size,
                                          remote + regions[i].offset, rkey,
                                          &param));
            long b = verify(buf + regions[i].offset, regions[i].size,
                            seed_of(regions[i].size, 3, i));
            if ((status != UCS_OK) || (b >= 0)) {
                ++bad_get;
                printf("    get region %u (offset %zu size %zu): %s, first "
                       "bad byte %ld\n", i, regions[i].offset, regions[i].size,
                       ucs_status_string(status), b);
            }
        }
        check(bad_get == 0, "rma: get returns every put byte (%u regions)",
              nregions);

        ctrl_send(33, &bad_get, sizeof(bad_get));
        ctrl_recv(34, &peer_bad, sizeof(peer_bad));
        check(peer_bad == 0, "rma: server verified its memory (%u bad "
              "regions)", peer_bad);
        ucp_rkey_destroy(rkey);
    }

    ucp_mem_unmap(context, memh);
    free(buf);
}

/* 4. 64-bit atomics with known results */
static void test_atomic(void)
{
    const unsigned adds = 100;
    ucp_mem_h memh;
    uint64_t *word = aligned_alloc(64, 64);
    uint32_t peer_bad;

    current_test = "atomic";
    memset(word, 0, 64);
    memh = map_memory(word, 64);

    if (opts.server) {
        uint64_t expected;
        uint32_t bad;
        send_region(40, word, memh);
        ctrl_recv(43, &expected, sizeof(expected));
        bad = (*word != expected);
        check(!bad, "atomic: server word is %llu, expected %llu",
              (unsigned long long)*word, (unsigned long long)expected);
        ctrl_send(44, &bad, sizeof(bad));
    } else {
        ucp_request_param_t param = {0};
        uint64_t remote, value = 3, result = 0, final;
        ucp_rkey_h rkey = recv_region(40, &remote);
        unsigned k;
        ucs_status_t status;

        param.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE;
        param.datatype     = ucp_dt_make_contig(sizeof(uint64_t));
        for (k = 0; k < adds; ++k) {
            status = wait_req(ucp_atomic_op_nbx(ep, UCP_ATOMIC_OP_ADD, &value,
                                                1, remote, rkey, &param));
            if (status != UCS_OK) {
                die("atomic add: %s", ucs_status_string(status));
            }
        }

        param.op_attr_mask |= UCP_OP_ATTR_FIELD_REPLY_BUFFER;
        param.reply_buffer  = &result;
        value  = 1000;
        status = wait_req(ucp_atomic_op_nbx(ep, UCP_ATOMIC_OP_ADD, &value, 1,
                                            remote, rkey, &param));
        check((status == UCS_OK) && (result == 3 * adds),
              "atomic: %u adds then fetch-add returns %llu (expected %u)",
              adds, (unsigned long long)result, 3 * adds);

        {
            uint64_t swap = 777, compare = 3 * adds + 1000;
            result              = swap;
            param.reply_buffer  = &result;
            status = wait_req(ucp_atomic_op_nbx(ep, UCP_ATOMIC_OP_CSWAP,
                                                &compare, 1, remote, rkey,
                                                &param));
            check((status == UCS_OK) && (result == compare),
                  "atomic: compare-swap saw %llu (expected %llu)",
                  (unsigned long long)result, (unsigned long long)compare);
        }

        final = 777;
        ctrl_send(43, &final, sizeof(final));
        ctrl_recv(44, &peer_bad, sizeof(peer_bad));
        check(peer_bad == 0, "atomic: server saw the final value");
        ucp_rkey_destroy(rkey);
    }

    ucp_mem_unmap(context, memh);
    free(word);
}

/* ---- connection establishment ---- */

static void ep_error_cb(void *arg, ucp_ep_h failed_ep, ucs_status_t status)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    ep_error = status;
    printf("    endpoint error: %s (at %ld.%06ld)\n", ucs_status_string(status),
           (long)tv.tv_sec, (long)tv.tv_usec);
    fflush(stdout);
}

static void ep_params_common(ucp_ep_params_t *p)
{
    p->field_mask     |= UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                         UCP_EP_PARAM_FIELD_ERR_HANDLER;
    p->err_mode        = UCP_ERR_HANDLING_MODE_PEER;
    p->err_handler.cb  = ep_error_cb;
    p->err_handler.arg = NULL;
}

static ucp_conn_request_h conn_request;

static void conn_handler(ucp_conn_request_h request, void *arg)
{
    conn_request = request;
}

static int oob_listen_accept(int port)
{
    struct sockaddr_in addr = {0};
    int one = 1, lfd, fd;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    addr.sin_family      = AF_INET;
    addr.sin_port        = htons(port);
    addr.sin_addr.s_addr = INADDR_ANY;
    if ((bind(lfd, (struct sockaddr*)&addr, sizeof(addr)) < 0) ||
        (listen(lfd, 1) < 0)) {
        die("oob listen on port %d: %m", port);
    }
    fd = accept(lfd, NULL, NULL);
    close(lfd);
    if (fd < 0) {
        die("oob accept: %m");
    }
    return fd;
}

static int oob_connect(const char *host, int port)
{
    struct addrinfo hints = {0}, *res;
    char port_str[16];
    int fd, k;

    hints.ai_family   = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port_str, sizeof(port_str), "%d", port);
    if (getaddrinfo(host, port_str, &hints, &res) != 0) {
        die("cannot resolve %s", host);
    }
    for (k = 0; k < 100; ++k) { /* the server may start a little later */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
            freeaddrinfo(res);
            return fd;
        }
        close(fd);
        usleep(100000);
    }
    die("oob connect to %s:%d: %m", host, port);
    return -1;
}

static void oob_xfer(int fd, void *buf, size_t len, int send_it)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send_it ? send(fd, p, len, 0) : recv(fd, p, len, 0);
        if (n <= 0) {
            die("oob %s failed", send_it ? "send" : "recv");
        }
        p += n;
        len -= n;
    }
}

static void connect_p2p(void)
{
    ucp_address_t *my_addr, *peer_addr;
    size_t my_len;
    uint64_t len;
    ucp_ep_params_t params = {0};
    int fd = opts.server ? oob_listen_accept(opts.port) :
                           oob_connect(opts.server_addr, opts.port);

    if (ucp_worker_get_address(worker, &my_addr, &my_len) != UCS_OK) {
        die("ucp_worker_get_address failed");
    }
    len = my_len;
    oob_xfer(fd, &len, sizeof(len), 1);
    oob_xfer(fd, my_addr, my_len, 1);
    oob_xfer(fd, &len, sizeof(len), 0);
    peer_addr = malloc(len);
    oob_xfer(fd, peer_addr, len, 0);
    ucp_worker_release_address(worker, my_addr);

    params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    params.address    = peer_addr;
    ep_params_common(&params);
    if (ucp_ep_create(worker, &params, &ep) != UCS_OK) {
        die("ucp_ep_create to the peer's worker address failed");
    }
    free(peer_addr);
    close(fd);
}

static void connect_cm(void)
{
    ucp_ep_params_t params = {0};
    struct sockaddr_in addr = {0};
    ucp_listener_h listener = NULL;
    struct addrinfo hints = {0}, *res;
    char port_str[16];
    ucs_status_t status;

    if (opts.server) {
        ucp_listener_params_t lparams = {0};
        addr.sin_family      = AF_INET;
        addr.sin_port        = htons(opts.port);
        addr.sin_addr.s_addr = INADDR_ANY;
        lparams.field_mask       = UCP_LISTENER_PARAM_FIELD_SOCK_ADDR |
                                   UCP_LISTENER_PARAM_FIELD_CONN_HANDLER;
        lparams.sockaddr.addr    = (struct sockaddr*)&addr;
        lparams.sockaddr.addrlen = sizeof(addr);
        lparams.conn_handler.cb  = conn_handler;
        if (ucp_listener_create(worker, &lparams, &listener) != UCS_OK) {
            die("ucp_listener_create on port %d failed", opts.port);
        }
        while (conn_request == NULL) {
            progress_once();
        }
        params.field_mask   = UCP_EP_PARAM_FIELD_CONN_REQUEST;
        params.conn_request = conn_request;
        ep_params_common(&params);
        status = ucp_ep_create(worker, &params, &ep);
        ucp_listener_destroy(listener);
    } else {
        hints.ai_family   = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(port_str, sizeof(port_str), "%d", opts.port);
        if (getaddrinfo(opts.server_addr, port_str, &hints, &res) != 0) {
            die("cannot resolve %s", opts.server_addr);
        }
        usleep(500000); /* let the listener come up */
        params.field_mask       = UCP_EP_PARAM_FIELD_FLAGS |
                                  UCP_EP_PARAM_FIELD_SOCK_ADDR;
        params.flags            = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER;
        params.sockaddr.addr    = res->ai_addr;
        params.sockaddr.addrlen = res->ai_addrlen;
        ep_params_common(&params);
        status = ucp_ep_create(worker, &params, &ep);
        freeaddrinfo(res);
    }
    if (status != UCS_OK) {
        die("ucp_ep_create (client-server): %s", ucs_status_string(status));
    }
}

/*
 * 5. Stream: tagged messages and AMs both ways for --stream-secs, windowed,
 *    each carrying a sequence number; the receiver counts lost, duplicated,
 *    reordered and corrupt messages. Sizes cycle from 8 B to 1 MiB + 3, so
 *    eager and rendezvous protocols (striped RMA under mp_rc) both run.
 */
static const size_t stream_sizes[] = {
    8, 64, 4000, 8192, 65537, 8, 262149, 1000, 1048579, 16, 4194304
};

typedef struct {
    const char *name;
    uint8_t    *seen;        /* bitmap of sequence numbers received */
    uint32_t   expected;     /* next sequence number in order */
    uint32_t   total;        /* from the end marker */
    int        end_seen;
    unsigned   ok, dup, reordered, corrupt, errors;
} stream_rx_t;

static stream_rx_t stream_tag_rx = {"tag"}, stream_am_rx = {"am"};

static size_t stream_size(uint32_t seq)
{
    size_t size = stream_sizes[seq % (sizeof(stream_sizes) /
                                      sizeof(stream_sizes[0]))];
    return (size > opts.max_size) ? (opts.max_size > 8 ? opts.max_size : 8) : size;
}

/* Pattern seed of message seq of a kind sent by the server or the client */
static uint64_t stream_seed_of(int sender_is_server, uint32_t seq, int am_kind)
{
    return 0x5eed000000000000ull ^ ((uint64_t)am_kind << 40) ^
           ((uint64_t)sender_is_server << 36) ^ seq;
}

static uint64_t stream_seed(uint32_t seq, int am_kind)
{
    return stream_seed_of(opts.server, seq, am_kind);
}

/* The receiver's view of seeds: the sender is the other side */
static uint64_t stream_peer_seed(uint32_t seq, int am_kind)
{
    return stream_seed_of(!opts.server, seq, am_kind);
}

/* The bytes of message seq were checked (after stream_account with -1) */
static void stream_data_checked(stream_rx_t *rx, uint32_t seq, int data_ok)
{
    if (data_ok) {
        ++rx->ok;
    } else if (rx->corrupt++ == 0) {
        printf("    stream %s: #%u has wrong bytes\n", rx->name, seq);
    }
}

/* Message seq arrived (in this order); data_ok: its bytes are right (1),
 * wrong (0), or checked later (-1, stream_data_checked). Returns 1 if it is
 * new, 0 for a duplicate or an impossible seq. */
static int stream_account(stream_rx_t *rx, uint32_t seq, int data_ok)
{
    if (seq >= STREAM_MAX) {
        ++rx->corrupt;
        return 0;
    }
    if (rx->seen[seq / 8] & (1u << (seq % 8))) {
        if (rx->dup++ == 0) {
            printf("    stream %s: #%u again\n", rx->name, seq);
        }
        return 0;
    }
    rx->seen[seq / 8] |= 1u << (seq % 8);
    if (seq != rx->expected) {
        if (rx->reordered++ == 0) {
            printf("    stream %s: expected #%u, got #%u\n", rx->name,
                   rx->expected, seq);
        }
    }
    rx->expected = seq + 1;
    if (data_ok >= 0) {
        stream_data_checked(rx, seq, data_ok);
    }
    return 1;
}

static void stream_am_rndv_done(void *request, ucs_status_t status,
                                size_t length, void *user_data)
{
    uint64_t *ctx = user_data; /* [0]=seq|new<<32 [1]=length, then data */
    uint32_t seq  = (uint32_t)ctx[0];

    if (ctx[0] >> 32) { /* not a duplicate, counted as such on arrival */
        stream_data_checked(&stream_am_rx, seq,
                            (status == UCS_OK) && (length == ctx[1]) &&
                            (verify(ctx + 2, ctx[1],
                                    stream_peer_seed(seq, 1)) < 0));
    }
    if (status != UCS_OK) {
        ++stream_am_rx.errors;
    }
    --am.rndv_pending;
    free(ctx);
    if (request != NULL) {
        ucp_request_free(request);
    }
}

static ucs_status_t stream_am_handler(void *arg, const void *header,
                                      size_t header_length, void *data,
                                      size_t length,
                                      const ucp_am_recv_param_t *param)
{
    uint32_t hdr[2];
    int fresh;

    if (header_length != sizeof(hdr)) {
        ++stream_am_rx.corrupt;
        return UCS_OK;
    }
    memcpy(hdr, header, sizeof(hdr));
    if (hdr[0] == STREAM_END) {
        stream_am_rx.total    = hdr[1];
        stream_am_rx.end_seen = 1;
        return UCS_OK;
    }

    if (!(param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
        stream_account(&stream_am_rx, hdr[0],
                       (length == stream_size(hdr[0])) &&
                       (verify(data, length, stream_peer_seed(hdr[0], 1)) < 0));
        return UCS_OK;
    }

    /* rendezvous: the order is the order of arrival of the headers; the
     * bytes are checked when they are in */
    fresh = stream_account(&stream_am_rx, hdr[0], -1);
    if (am_recv_rndv(data, length, hdr[0] | ((uint64_t)fresh << 32),
                     stream_size(hdr[0]), stream_am_rndv_done) != 0) {
        ++stream_am_rx.errors;
    }
    return UCS_OK;
}

typedef struct {
    void     *req;
    uint8_t  *buf;
    uint32_t hdr[2]; /* AM header: seq, total (end marker) */
} stream_slot_t;

/* Post the next message of a kind into slot; seq STREAM_END: the marker */
static void stream_post_send(stream_slot_t *slot, int am_kind, uint32_t seq,
                             uint32_t total)
{
    ucp_request_param_t param = {0};
    size_t size;

    if (seq == STREAM_END) {
        size = 8;
        memcpy(slot->buf, &seq, 4);
        memcpy(slot->buf + 4, &total, 4);
    } else {
        size = stream_size(seq);
        fill(slot->buf, size, stream_seed(seq, am_kind));
        if (!am_kind) {
            memcpy(slot->buf, &seq, 4); /* the tag receiver reads it back */
        }
    }
    slot->hdr[0] = seq;
    slot->hdr[1] = total;
    if (am_kind) {
        slot->req = ucp_am_send_nbx(ep, AM_STREAM_ID, slot->hdr,
                                    sizeof(slot->hdr), slot->buf, size, &param);
    } else {
        slot->req = ucp_tag_send_nbx(ep, slot->buf, size, TAG_STREAM, &param);
    }
    if (UCS_PTR_IS_ERR(slot->req)) {
        die("stream %s send #%u: %s", am_kind ? "am" : "tag", seq,
            ucs_status_string(UCS_PTR_STATUS(slot->req)));
    }
}

/* 1 when the slot's send is done (or nothing is in it) */
static int stream_slot_done(stream_slot_t *slot)
{
    ucs_status_t status;

    if (slot->req == NULL) {
        return 1;
    }
    status = ucp_request_check_status(slot->req);
    if (status == UCS_INPROGRESS) {
        return 0;
    }
    ucp_request_free(slot->req);
    slot->req = NULL;
    if (status != UCS_OK) {
        die("stream send: %s", ucs_status_string(status));
    }
    return 1;
}

static void stream_post_recv(stream_slot_t *slot, size_t max)
{
    ucp_request_param_t param = {0};

    param.op_attr_mask = UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
    slot->req = ucp_tag_recv_nbx(worker, slot->buf, max, TAG_STREAM,
                                 TAG_MASK_ALL, &param);
    if (UCS_PTR_IS_ERR(slot->req)) {
        die("stream tag receive: %s",
            ucs_status_string(UCS_PTR_STATUS(slot->req)));
    }
}

/* Completed tag receive in slot: account for it; 1 if it was the marker */
static int stream_recv_done(stream_slot_t *slot)
{
    ucp_tag_recv_info_t info;
    ucs_status_t status;
    uint32_t seq, total;

    status = ucp_tag_recv_request_test(slot->req, &info);
    if (status == UCS_INPROGRESS) {
        return -1;
    }
    ucp_request_free(slot->req);
    slot->req = NULL;
    if ((status != UCS_OK) || (info.length < 8)) {
        ++stream_tag_rx.errors;
        return 0;
    }
    memcpy(&seq, slot->buf, 4);
    if (seq == STREAM_END) {
        memcpy(&total, slot->buf + 4, 4);
        stream_tag_rx.total    = total;
        stream_tag_rx.end_seen = 1;
        return 1;
    }
    /* the first 4 bytes carry seq instead of the pattern */
    fill(slot->buf, 4, stream_peer_seed(seq, 0));
    stream_account(&stream_tag_rx, seq,
                   (seq < STREAM_MAX) && (info.length == stream_size(seq)) &&
                   (verify(slot->buf, info.length,
                           stream_peer_seed(seq, 0)) < 0));
    return 0;
}

static void stream_report(stream_rx_t *rx, unsigned peer_sent)
{
    unsigned lost = (rx->total > rx->ok + rx->corrupt) ?
                    rx->total - rx->ok - rx->corrupt : 0;

    printf("    stream %s received: %u of %u sent by the peer; lost %u, "
           "duplicated %u, reordered %u, corrupt %u, errors %u\n", rx->name,
           rx->ok, rx->total, lost, rx->dup, rx->reordered, rx->corrupt,
           rx->errors);
    check(rx->end_seen && (rx->total == peer_sent) && (rx->total > 0) &&
          (lost == 0) && (rx->dup == 0) && (rx->reordered == 0) &&
          (rx->corrupt == 0) && (rx->errors == 0),
          "stream %s: %u messages, lost %u, duplicated %u, reordered %u, "
          "corrupt %u (all must be 0)", rx->name, rx->ok, lost, rx->dup,
          rx->reordered, rx->corrupt);
}

/*
 * The stream's RMA part: while tags and AMs flow, each side runs rounds
 * against the peer's memory, one operation at a time: put a fresh pattern,
 * flush, get it back and check every byte, then fetch-add 1 on the peer's
 * counter. The fetched value must equal the number of adds completed before
 * (an add executed twice or lost shows as a gap), and at the end each side's
 * counter must equal the adds its peer completed.
 */
#define RMA_STREAM_SLOT   ((size_t)1048576 + 64)
#define RMA_STREAM_SIZE   (3 * RMA_STREAM_SLOT + 64)

static const size_t rma_stream_sizes[] = {8, 200, 1000, 4096, 70000, 1048579};

typedef enum {
    RMA_STREAM_IDLE,    /* next: put */
    RMA_STREAM_PUT,     /* put posted */
    RMA_STREAM_FLUSH,   /* flush posted */
    RMA_STREAM_GET,     /* get posted */
    RMA_STREAM_FADD     /* fetch-add posted */
} rma_stream_state_t;

typedef struct {
    rma_stream_state_t state;
    void               *req;
    uint8_t            *local;     /* what we put, then what we get */
    uint8_t            *region;    /* our memory, the peer's target */
    uint64_t           *counter;   /* in region, after the slots */
    ucp_mem_h          memh;
    uint64_t           remote;     /* the peer's region */
    ucp_rkey_h         rkey;
    uint32_t           round;
    uint64_t           adds;       /* fetch-adds completed */
    uint64_t           fetched;
    unsigned           bad_bytes, bad_fetch, errors;
} rma_stream_t;

static rma_stream_t rma_stream;

static size_t rma_stream_size(uint32_t round)
{
    size_t size = rma_stream_sizes[round % (sizeof(rma_stream_sizes) /
                                            sizeof(rma_stream_sizes[0]))];
    return size_enabled(size) ? size : 8;
}

/* The largest size the rounds use */
static size_t rma_stream_max_size(void)
{
    size_t i, max = 0;

    for (i = 0; i < sizeof(rma_stream_sizes) / sizeof(rma_stream_sizes[0]);
         ++i) {
        max = (rma_stream_size(i) > max) ? rma_stream_size(i) : max;
    }
    return max;
}

static uint64_t rma_stream_offset(uint32_t round)
{
    return (round % 3) * RMA_STREAM_SLOT + (round % 5);
}

static uint64_t rma_stream_seed(uint32_t round)
{
    return 0xa5a5000000000000ull ^ ((uint64_t)opts.server << 40) ^ round;
}

static void rma_stream_setup(void)
{
    rma_stream_t *r = &rma_stream;

    memset(r, 0, sizeof(*r));
    r->region = aligned_alloc(4096, RMA_STREAM_SIZE);
    r->local  = malloc(RMA_STREAM_SLOT);
    if ((r->region == NULL) || (r->local == NULL)) {
        die("out of memory");
    }
    memset(r->region, 0, RMA_STREAM_SIZE);
    r->counter = (uint64_t*)(r->region + 3 * RMA_STREAM_SLOT);
    r->memh    = map_memory(r->region, RMA_STREAM_SIZE);
    if (opts.server) {
        send_region(50, r->region, r->memh);
        r->rkey = recv_region(53, &r->remote);
    } else {
        r->rkey = recv_region(50, &r->remote);
        send_region(53, r->region, r->memh);
    }
}

/* A posted request finished? Counts a failure in errors. */
static int rma_stream_done(rma_stream_t *r)
{
    ucs_status_t status;

    if (r->req == NULL) {
        return 1;
    }
    if (UCS_PTR_IS_ERR(r->req)) {
        status = UCS_PTR_STATUS(r->req);
    } else {
        status = ucp_request_check_status(r->req);
        if (status == UCS_INPROGRESS) {
            return 0;
        }
        ucp_request_free(r->req);
    }
    r->req = NULL;
    if (status != UCS_OK) {
        static const char *step[] = {
            [RMA_STREAM_PUT] = "put", [RMA_STREAM_FLUSH] = "flush",
            [RMA_STREAM_GET] = "get", [RMA_STREAM_FADD]  = "fetch-add"
        };
        ++r->errors;
        printf("    stream rma round %u, %s: %s\n", r->round, step[r->state],
               ucs_status_string(status));
    }
    return 1;
}

/* Advance the round; start a new one only while may_start */
static void rma_stream_step(int may_start)
{
    rma_stream_t *r = &rma_stream;
    ucp_request_param_t param = {0};
    size_t size     = rma_stream_size(r->round);
    uint64_t offset = rma_stream_offset(r->round);
    uint64_t one    = 1;
    long b;

    if (!rma_stream_done(r)) {
        return;
    }

    switch (r->state) {
    case RMA_STREAM_IDLE:
        if (!may_start) {
            return;
        }
        fill(r->local, size, rma_stream_seed(r->round));
        r->req   = ucp_put_nbx(ep, r->local, size, r->remote + offset, r->rkey,
                               &param);
        r->state = RMA_STREAM_PUT;
        break;
    case RMA_STREAM_PUT:
        r->req   = ucp_ep_flush_nbx(ep, &param);
        r->state = RMA_STREAM_FLUSH;
        break;
    case RMA_STREAM_FLUSH:
        memset(r->local, 0, size);
        r->req   = ucp_get_nbx(ep, r->local, size, r->remote + offset, r->rkey,
                               &param);
        r->state = RMA_STREAM_GET;
        break;
    case RMA_STREAM_GET:
        b = verify(r->local, size, rma_stream_seed(r->round));
        if (b >= 0) {
            ++r->bad_bytes;
            printf("    stream rma round %u (%zu B at +%llu): first bad byte "
                   "%ld\n", r->round, size, (unsigned long long)offset, b);
        }
        param.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE |
                             UCP_OP_ATTR_FIELD_REPLY_BUFFER;
        param.datatype     = ucp_dt_make_contig(sizeof(uint64_t));
        param.reply_buffer = &r->fetched;
        r->fetched         = UINT64_MAX;
        r->req   = ucp_atomic_op_nbx(ep, UCP_ATOMIC_OP_ADD, &one, 1,
                                     r->remote + 3 * RMA_STREAM_SLOT, r->rkey,
                                     &param);
        r->state = RMA_STREAM_FADD;
        break;
    case RMA_STREAM_FADD:
        if (r->fetched != r->adds) {
            ++r->bad_fetch;
            printf("    stream rma round %u: fetch-add returned %llu, expected "
                   "%llu\n", r->round, (unsigned long long)r->fetched,
                   (unsigned long long)r->adds);
        }
        ++r->adds;
        ++r->round;
        r->state = RMA_STREAM_IDLE;
        break;
    }
}

/* Where the RMA stream is (for a timeout) */
static void stream_dump(void)
{
    rma_stream_t *r = &rma_stream;

    printf("    stream rma: round %u state %d request %p, %llu adds\n",
           r->round, (int)r->state, r->req, (unsigned long long)r->adds);
}

/* Finish the round in flight, compare counters with the peer, report */
static void rma_stream_finish(void)
{
    rma_stream_t *r = &rma_stream;
    uint32_t peer_adds;

    while (r->state != RMA_STREAM_IDLE) {
        progress_once();
        rma_stream_step(0);
    }
    peer_adds = ctrl_exchange_result(26, (unsigned)r->adds);
    printf("    stream rma: %u rounds of put, flush, get and fetch-add; my "
           "counter %llu, the peer completed %u adds\n", r->round,
           (unsigned long long)*r->counter, peer_adds);
    check((r->bad_bytes == 0) && (r->errors == 0),
          "stream rma: %u put/get rounds of 8 B to %zu B, every byte read "
          "back (%u bad, %u errors)", r->round, rma_stream_max_size(),
          r->bad_bytes, r->errors);
    check((r->bad_fetch == 0) && (*r->counter == peer_adds),
          "stream atomic: %llu fetch-adds each returned the count before it "
          "(%u did not); counter %llu = the peer's %u adds",
          (unsigned long long)r->adds, r->bad_fetch,
          (unsigned long long)*r->counter, peer_adds);
    ucp_rkey_destroy(r->rkey);
    ucp_mem_unmap(context, r->memh);
    free(r->region);
    free(r->local);
}

static void test_stream(void)
{
    size_t max = stream_sizes[0], i;
    stream_slot_t tx[2][STREAM_WINDOW], rx[STREAM_WINDOW];
    uint32_t next[2] = {0, 0}, peer_sent[2];
    double send_end, report = now() + 2.0;
    unsigned head = 0, k;
    int kind, end_sent = 0, progress_left;
    ucp_tag_message_h msg;
    ucp_tag_recv_info_t info;

    current_test = "stream";
    for (i = 0; i < sizeof(stream_sizes) / sizeof(stream_sizes[0]); ++i) {
        max = (stream_size(i) > max) ? stream_size(i) : max;
    }
    stream_tag_rx.seen = calloc(STREAM_MAX / 8, 1);
    stream_am_rx.seen  = calloc(STREAM_MAX / 8, 1);
    memset(tx, 0, sizeof(tx));
    memset(rx, 0, sizeof(rx));
    for (k = 0; k < STREAM_WINDOW; ++k) {
        for (kind = 0; kind < 2; ++kind) {
            tx[kind][k].buf = malloc(max);
        }
        rx[k].buf = malloc(max);
        if ((rx[k].buf == NULL) || (tx[0][k].buf == NULL) ||
            (tx[1][k].buf == NULL) || (stream_tag_rx.seen == NULL) ||
            (stream_am_rx.seen == NULL)) {
            die("out of memory");
        }
        stream_post_recv(&rx[k], max);
    }

    if (opts.stream_rma) {
        rma_stream_setup();
    }

    /* both sides start together */
    ctrl_exchange_result(20, 0);
    send_end = now() + opts.stream_secs;

    while (!end_sent || !stream_tag_rx.end_seen || !stream_am_rx.end_seen ||
           (am.rndv_pending > 0)) {
        progress_once();
        if (opts.stream_rma) {
            rma_stream_step(now() < send_end);
        }

        /* send: refill free slots until send_end, then the end markers once
         * everything before them is out */
        if (!end_sent) {
            for (kind = 0; kind < 2; ++kind) {
                for (k = 0; k < STREAM_WINDOW; ++k) {
                    if (stream_slot_done(&tx[kind][k]) && (now() < send_end) &&
                        (next[kind] < STREAM_MAX - 1)) {
                        stream_post_send(&tx[kind][k], kind, next[kind]++, 0);
                    }
                }
            }
            if (now() >= send_end) {
                for (k = 0; (k < STREAM_WINDOW) &&
                            stream_slot_done(&tx[0][k]) &&
                            stream_slot_done(&tx[1][k]); ++k) {
                }
                if (k == STREAM_WINDOW) {
                    stream_post_send(&tx[0][0], 0, STREAM_END, next[0]);
                    stream_post_send(&tx[1][0], 1, STREAM_END, next[1]);
                    end_sent = 1;
                }
            }
        }

        /* receive tags in posting order (= matching order) */
        while (!stream_tag_rx.end_seen && (rx[head].req != NULL)) {
            int r = stream_recv_done(&rx[head]);
            if (r < 0) {
                break;
            }
            if (r == 0) {
                stream_post_recv(&rx[head], max);
            }
            head = (head + 1) % STREAM_WINDOW;
        }

        if (now() > report) {
            printf("    stream: sent %u tag + %u am, received %u tag + %u am\n",
                   next[0], next[1], stream_tag_rx.ok, stream_am_rx.ok);
            report = now() + 2.0;
        }
    }
    for (kind = 0; kind < 2; ++kind) {
        for (k = 0; k < STREAM_WINDOW; ++k) {
            while (!stream_slot_done(&tx[kind][k])) {
                progress_once();
            }
        }
    }

    /* the receives posted after the marker match nothing: cancel them */
    for (k = 0; k < STREAM_WINDOW; ++k) {
        if (rx[k].req != NULL) {
            ucp_request_cancel(worker, rx[k].req);
            while (ucp_request_check_status(rx[k].req) == UCS_INPROGRESS) {
                progress_once();
            }
            ucp_request_free(rx[k].req);
            rx[k].req = NULL;
        }
    }

    /* anything still arriving on the stream tag is a duplicate */
    peer_sent[0] = ctrl_exchange_result(22, next[0]);
    peer_sent[1] = ctrl_exchange_result(24, next[1]);
    for (progress_left = 1000; progress_left > 0; --progress_left) {
        progress_once();
    }
    while ((msg = ucp_tag_probe_nb(worker, TAG_STREAM, TAG_MASK_ALL, 1,
                                   &info)) != NULL) {
        void *req;
        ucp_request_param_t param = {0};
        uint8_t *junk = malloc(info.length + 1);
        ++stream_tag_rx.dup;
        req = ucp_tag_msg_recv_nbx(worker, junk, info.length, msg, &param);
        wait_req(req);
        free(junk);
    }

    printf("    stream: %.0f s, sent %u tag + %u am messages\n",
           opts.stream_secs, next[0], next[1]);
    stream_report(&stream_tag_rx, peer_sent[0]);
    stream_report(&stream_am_rx, peer_sent[1]);
    if (opts.stream_rma) {
        rma_stream_finish();
    }

    for (k = 0; k < STREAM_WINDOW; ++k) {
        free(tx[0][k].buf);
        free(tx[1][k].buf);
        free(rx[k].buf);
    }
    free(stream_tag_rx.seen);
    free(stream_am_rx.seen);
}

static void usage(void)
{
    fprintf(stderr, "usage: ucp_verify -s|-c SERVER [-p PORT] [--p2p|--cm] "
            "[--only tag,am,rma,atomic,stream] [--max-size N] [--iters N] "
            "[--timeout S] [--close-timeout S] [--stream-secs S] "
            "[--no-stream-rma] [-v]\n");
    exit(1);
}

static void parse_args(int argc, char **argv)
{
    int i;

    opts.port     = 13337;
    opts.iters    = 3;
    opts.max_size = 4194304;
    opts.timeout  = 120;
    opts.stream_secs = 10;
    opts.stream_rma  = 1;
    opts.only_tag = opts.only_am = opts.only_rma = opts.only_atomic = 1;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-s")) {
            opts.server = 1;
        } else if (!strcmp(argv[i], "-c") && (i + 1 < argc)) {
            opts.server_addr = argv[++i];
        } else if (!strcmp(argv[i], "-p") && (i + 1 < argc)) {
            opts.port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--cm")) {
            opts.cm = 1;
        } else if (!strcmp(argv[i], "--p2p")) {
            opts.cm = 0;
        } else if (!strcmp(argv[i], "--iters") && (i + 1 < argc)) {
            opts.iters = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--max-size") && (i + 1 < argc)) {
            opts.max_size = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--timeout") && (i + 1 < argc)) {
            opts.timeout = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--close-timeout") && (i + 1 < argc)) {
            opts.close_timeout = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--only") && (i + 1 < argc)) {
            char *list = strdup(argv[++i]), *save = NULL, *t;
            opts.only_tag = opts.only_am = opts.only_rma = 0;
            opts.only_atomic = 0;
            for (t = strtok_r(list, ",", &save); t != NULL;
                 t = strtok_r(NULL, ",", &save)) {
                if (!strcmp(t, "tag")) {
                    opts.only_tag = 1;
                } else if (!strcmp(t, "am")) {
                    opts.only_am = 1;
                } else if (!strcmp(t, "rma")) {
                    opts.only_rma = 1;
                } else if (!strcmp(t, "atomic")) {
                    opts.only_atomic = 1;
                } else if (!strcmp(t, "stream")) {
                    opts.only_stream = 1;
                } else {
                    fprintf(stderr, "unknown test '%s'\n", t);
                    usage();
                }
            }
            free(list);
        } else if (!strcmp(argv[i], "--no-stream-rma")) {
            opts.stream_rma = 0;
        } else if (!strcmp(argv[i], "--stream-secs") && (i + 1 < argc)) {
            opts.stream_secs = atof(argv[++i]);
        } else if (!strcmp(argv[i], "-v")) {
            opts.verbose = 1;
        } else {
            usage();
        }
    }
    if (opts.server == (opts.server_addr != NULL)) {
        usage();
    }
}

int main(int argc, char **argv)
{
    ucp_params_t params = {0};
    ucp_worker_params_t wparams = {0};
    ucp_request_param_t cparam = {0};
    ucs_status_t status;
    void *req;

    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    deadline = now() + opts.timeout;

    params.field_mask = UCP_PARAM_FIELD_FEATURES;
    params.features   = UCP_FEATURE_TAG | UCP_FEATURE_AM | UCP_FEATURE_RMA |
                        UCP_FEATURE_AMO64;
    status = ucp_init(&params, NULL, &context);
    if (status != UCS_OK) {
        die("ucp_init: %s", ucs_status_string(status));
    }
    wparams.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wparams.thread_mode = UCS_THREAD_MODE_SINGLE;
    status = ucp_worker_create(context, &wparams, &worker);
    if (status != UCS_OK) {
        die("ucp_worker_create: %s", ucs_status_string(status));
    }
    set_am_handlers();

    current_test = opts.cm ? "connect (client-server)" : "connect (p2p)";
    if (opts.cm) {
        connect_cm();
    } else {
        connect_p2p();
    }
    if (opts.verbose) {
        ucp_ep_print_info(ep, stderr);
    }

    if (opts.only_tag) {
        test_tag();
    }
    if (opts.only_am) {
        test_am();
    }
    if (opts.only_rma) {
        test_rma();
    }
    if (opts.only_atomic) {
        test_atomic();
    }
    if (opts.only_stream) {
        test_stream();
    }

    /* Final handshake, then close politely */
    current_test = "close";
    {
        uint32_t token = 0xc105e;
        if (opts.server) {
            ctrl_recv(90, &token, sizeof(token));
            ctrl_send(91, &token, sizeof(token));
        } else {
            ctrl_send(90, &token, sizeof(token));
            ctrl_recv(91, &token, sizeof(token));
        }
    }
    check(ep_error == UCS_OK, "no endpoint error during the run (%s)",
          ucs_status_string(ep_error));

    /* Flush-mode close; the peer closing first may fail the flush. With
     * --close-timeout a close that UCP cannot flush in time (its own lanes
     * over a dead path, outside mp) is forced, and said so. */
    req = ucp_ep_close_nbx(ep, &cparam);
    if (UCS_PTR_IS_PTR(req)) {
        double close_deadline = now() + opts.close_timeout;
        while (ucp_request_check_status(req) == UCS_INPROGRESS) {
            if ((opts.close_timeout > 0) && (now() > close_deadline)) {
                printf("    close: UCP's flush did not finish in %.0f s, the "
                       "worker closes the endpoint\n", opts.close_timeout);
                break;
            }
            progress_once();
        }
        ucp_request_free(req);
    }

    ucp_worker_destroy(worker);
    ucp_cleanup(context);
    printf("%u passed, %u failed\n", passed, failed);
    return (failed == 0) && (passed > 0) ? 0 : 1;
}
