/*
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * mpi_verify: a 2-rank MPI correctness check for the uct_mp testbed.
 *
 * For each message size in {0, 1, 8, 1000, 4096, 65536, 65537, 1 MiB, 4 MiB+3}:
 *   send-recv-0to1 / send-recv-1to0   blocking MPI_Send/MPI_Recv, each direction
 *   isend-irecv                        MPI_Isend + MPI_Irecv in both directions at once
 *   bcast-root0 / bcast-root1          MPI_Bcast from each rank
 *   allreduce-bxor-u8                  MPI_Allreduce(BXOR) on size bytes
 *   allreduce-sum-i64                  MPI_Allreduce(SUM) on ceil(size/8) int64 values
 * Every payload byte is generated from a deterministic pattern seeded by the
 * size, the sending rank and the check, and every received byte is compared;
 * a guard zone after each receive buffer catches overruns, and received counts
 * are checked with MPI_Get_count. A check passes only when it passes on both
 * ranks. Rank 0 prints one line per check and finally exactly
 * "N passed, M failed"; the exit code is nonzero when anything failed.
 * The short mode has no internal timeout: run it under one (mpirun-ns.sh does).
 *
 * Long mode (--long): a stream for failover tests, bounded by a message count
 * and a time. Each round, both ranks post WINDOW receives and WINDOW sends of
 * sizes cycling through 0 B .. 4 MiB+3 (eager and rendezvous, the two
 * directions at different sizes). Every message has a sequence number per
 * direction, carried in its tag and in its pattern's seed: a receiver checks
 * the tag (lost, duplicated or reordered messages), the received count, every
 * byte and the guard zone. Rank 0 ends the stream when --messages have been
 * sent each way or --secs have passed (its last messages carry the "last" bit
 * in their tags). Rank 0 prints a progress line every --progress-secs and at
 * the end "long: ..." with the counts, then "N passed, M failed". A rank that
 * completes no round for --stall-secs prints where it waits and exits with 3,
 * so a hang becomes a bounded failure (the launcher ends the other rank).
 *   mpi_verify --long [--messages N] [--secs S] [--window W]
 *              [--progress-secs P] [--stall-secs T]
 *
 * Build:  mpicc -std=gnu99 -O2 -Wall -Wextra -o mpi_verify mpi_verify.c
 *         (Debian: apt-get install libopenmpi-dev openmpi-bin)
 * Run:    contrib/testbed/mpirun-ns.sh test/integration/mpi/mpi_verify
 */
#include <mpi.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define GUARD      64          /* bytes after each receive buffer */
#define GUARD_BYTE 0xA5
#define FILL_BYTE  0x5A        /* receive buffers start as this */

static const size_t sizes[] = {0, 1, 8, 1000, 4096, 65536, 65537,
                               1048576, 4194304 + 3};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static int rank, nranks, npassed, nfailed;

/* deterministic pattern: xorshift64* seeded by (size, rank, salt) */
static uint64_t seed_of(size_t size, int src, int salt)
{
    uint64_t s = 0x9E3779B97F4A7C15ull ^ ((uint64_t)size * 0xBF58476D1CE4E5B9ull) ^
                 ((uint64_t)(src + 1) << 48) ^ ((uint64_t)(salt + 1) << 40);
    return s ? s : 1;
}

static uint64_t next64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void fill(unsigned char *buf, size_t len, size_t size, int src, int salt)
{
    uint64_t s = seed_of(size, src, salt), v = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if ((i & 7) == 0) {
            v = next64(&s);
        }
        buf[i] = (unsigned char)(v >> (8 * (i & 7)));
    }
}

/* the int64 vector of rank src: small values so that sums never overflow */
static int64_t elem(size_t size, int src, size_t i)
{
    return (int64_t)((seed_of(size, src, 99) + i * 2654435761u) % 1000003) -
           500000 + (int64_t)src;
}

static unsigned char *alloc_buf(size_t len)
{
    unsigned char *p = malloc(len + GUARD);

    if (p == NULL) {
        fprintf(stderr, "rank %d: out of memory (%zu bytes)\n", rank, len);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    memset(p, FILL_BYTE, len);
    memset(p + len, GUARD_BYTE, GUARD);
    return p;
}

/* compare buf[0..len) with the pattern of (size, src, salt); returns the
 * number of bad bytes and reports the first one */
static size_t verify_bytes(const char *what, const unsigned char *buf, size_t len,
                           size_t size, int src, int salt)
{
    unsigned char *exp = malloc(len ? len : 1);
    size_t i, bad = 0, first = (size_t)-1;

    if (exp == NULL) {
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    fill(exp, len, size, src, salt);
    for (i = 0; i < len; i++) {
        if (buf[i] != exp[i]) {
            if (bad++ == 0) {
                first = i;
            }
        }
    }
    if (bad) {
        fprintf(stderr, "rank %d: %s: %zu bad byte(s), first at offset %zu "
                "(got 0x%02x, expected 0x%02x)\n", rank, what, bad, first,
                buf[first], exp[first]);
    }
    free(exp);
    return bad;
}

/* verify_bytes, and the guard zone after buf[len] */
static size_t verify(const char *what, const unsigned char *buf, size_t len,
                     size_t size, int src, int salt)
{
    char desc[96];
    size_t i, bad;

    snprintf(desc, sizeof(desc), "%s size %zu", what, size);
    bad = verify_bytes(desc, buf, len, size, src, salt);
    for (i = 0; i < GUARD; i++) {
        if (buf[len + i] != GUARD_BYTE) {
            fprintf(stderr, "rank %d: %s: guard byte %zu after the buffer "
                    "overwritten\n", rank, desc, i);
            bad++;
            break;
        }
    }
    return bad;
}

static int count_ok(const char *what, MPI_Status *st, size_t size)
{
    int count;

    MPI_Get_count(st, MPI_BYTE, &count);
    if ((size_t)count != size) {
        fprintf(stderr, "rank %d: %s: received %d bytes, expected %zu\n", rank,
                what, count, size);
        return 0;
    }
    return 1;
}

/* a check passes when it passed on every rank */
static void report(const char *name, size_t size, int local_ok)
{
    int all_ok = 0;

    MPI_Allreduce(&local_ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (all_ok) {
        npassed++;
    } else {
        nfailed++;
    }
    if (rank == 0) {
        printf("%s %-20s size %8zu\n", all_ok ? "PASS" : "FAIL", name, size);
        fflush(stdout);
    }
}

static void check_send_recv(size_t size, int src)
{
    int dst = 1 - src, ok = 1, tag = 100 + src;
    unsigned char *buf = alloc_buf(size);
    MPI_Status st;
    char name[32];

    snprintf(name, sizeof(name), "send-recv-%dto%d", src, dst);
    if (rank == src) {
        fill(buf, size, size, src, 1);
        MPI_Send(buf, (int)size, MPI_BYTE, dst, tag, MPI_COMM_WORLD);
    } else {
        MPI_Recv(buf, (int)size, MPI_BYTE, src, tag, MPI_COMM_WORLD, &st);
        ok = count_ok(name, &st, size) && verify(name, buf, size, size, src, 1) == 0;
    }
    free(buf);
    report(name, size, ok);
}

static void check_isend_irecv(size_t size)
{
    int peer = 1 - rank, ok;
    unsigned char *sbuf = alloc_buf(size), *rbuf = alloc_buf(size);
    MPI_Request req[2];
    MPI_Status st[2];

    fill(sbuf, size, size, rank, 2);
    MPI_Irecv(rbuf, (int)size, MPI_BYTE, peer, 200, MPI_COMM_WORLD, &req[0]);
    MPI_Isend(sbuf, (int)size, MPI_BYTE, peer, 200, MPI_COMM_WORLD, &req[1]);
    MPI_Waitall(2, req, st);
    ok = count_ok("isend-irecv", &st[0], size) &&
         verify("isend-irecv", rbuf, size, size, peer, 2) == 0 &&
         verify("isend-irecv (send buffer unchanged)", sbuf, size, size, rank, 2) == 0;
    free(sbuf);
    free(rbuf);
    report("isend-irecv", size, ok);
}

static void check_bcast(size_t size, int root)
{
    unsigned char *buf = alloc_buf(size);
    char name[32];
    int ok;

    snprintf(name, sizeof(name), "bcast-root%d", root);
    if (rank == root) {
        fill(buf, size, size, root, 3);
    }
    MPI_Bcast(buf, (int)size, MPI_BYTE, root, MPI_COMM_WORLD);
    ok = verify(name, buf, size, size, root, 3) == 0;
    free(buf);
    report(name, size, ok);
}

static void check_allreduce_bxor(size_t size)
{
    unsigned char *in = alloc_buf(size), *out = alloc_buf(size), *other;
    size_t i, bad = 0;
    int r;

    fill(in, size, size, rank, 4);
    MPI_Allreduce(in, out, (int)size, MPI_UINT8_T, MPI_BXOR, MPI_COMM_WORLD);
    /* expected: XOR of every rank's pattern */
    other = alloc_buf(size);
    memset(other, 0, size);
    for (r = 0; r < nranks; r++) {
        unsigned char *p = alloc_buf(size);
        fill(p, size, size, r, 4);
        for (i = 0; i < size; i++) {
            other[i] ^= p[i];
        }
        free(p);
    }
    for (i = 0; i < size; i++) {
        bad += out[i] != other[i];
    }
    for (i = 0; i < GUARD; i++) {
        bad += out[size + i] != GUARD_BYTE;
    }
    if (bad) {
        fprintf(stderr, "rank %d: allreduce-bxor-u8 size %zu: %zu bad byte(s)\n",
                rank, size, bad);
    }
    free(in);
    free(out);
    free(other);
    report("allreduce-bxor-u8", size, bad == 0);
}

static void check_allreduce_sum(size_t size)
{
    size_t n = (size + 7) / 8, i, bad = 0;
    int64_t *in = malloc((n + 1) * sizeof(*in)), *out = malloc((n + 1) * sizeof(*out));
    const int64_t guard = 0x5A5A5A5A5A5A5A5Al;
    int r;

    if (in == NULL || out == NULL) {
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (i = 0; i < n; i++) {
        in[i] = elem(size, rank, i);
    }
    out[n] = guard;
    MPI_Allreduce(in, out, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) {
        int64_t exp = 0;
        for (r = 0; r < nranks; r++) {
            exp += elem(size, r, i);
        }
        if (out[i] != exp && bad++ == 0) {
            fprintf(stderr, "rank %d: allreduce-sum-i64 size %zu: element %zu is %lld, "
                    "expected %lld\n", rank, size, i, (long long)out[i], (long long)exp);
        }
    }
    if (out[n] != guard) {
        fprintf(stderr, "rank %d: allreduce-sum-i64 size %zu: guard overwritten\n", rank, size);
        bad++;
    }
    free(in);
    free(out);
    report("allreduce-sum-i64", size, bad == 0);
}

/*
 * Long mode
 */
static const size_t long_sizes[] = {0, 1, 8, 64, 100, 1000, 2048, 4096, 8191,
                                    8192, 16384, 65536, 65537, 262144,
                                    1048576, 4194304 + 3};
#define NLONG_SIZES (sizeof(long_sizes) / sizeof(long_sizes[0]))
#define LONG_MAX_WINDOW 16
#define LONG_SEQ_MASK   0x3fff  /* tag = (seq & mask) << 1 | last */
#define LONG_SALT       7
#define LONG_MAX_REPORTS 10     /* bad messages described, per rank */

typedef struct {
    unsigned long long messages;   /* per direction */
    double             secs;
    double             progress_secs;
    int                window;
    int                stall_secs;
} long_opts_t;

/* what the stall watchdog reports */
static volatile unsigned long long long_round, long_seq;
static volatile int long_stall_secs;

static double now_epoch(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec * 1e-6;
}

static void long_stalled(int sig)
{
    char msg[200];
    int len;

    (void)sig;
    len = snprintf(msg, sizeof(msg), "[%.3f] rank %d: long: no round completed for "
                   "%d s (waiting in round %llu, messages from seq %llu); "
                   "giving up\n", now_epoch(), rank, long_stall_secs,
                   long_round, long_seq);
    if (write(2, msg, len) < 0) {
        /* nothing more to do */
    }
    _exit(3);
}

static size_t long_size_of(unsigned long long seq, int src)
{
    return long_sizes[(seq + 5 * (unsigned long long)src) % NLONG_SIZES];
}

static int long_tag_of(unsigned long long seq, int last)
{
    return (int)(((seq & LONG_SEQ_MASK) << 1) | (last ? 1 : 0));
}

/* checks one received message; returns 1 when good */
static int long_check(const unsigned char *buf, MPI_Status *st,
                      unsigned long long seq, int src, int *nreports)
{
    size_t size = long_size_of(seq, src), max = long_sizes[NLONG_SIZES - 1], i;
    int count, tag_seq = st->MPI_TAG >> 1;
    char what[80];

    MPI_Get_count(st, MPI_BYTE, &count);
    snprintf(what, sizeof(what), "long seq %llu (%zu bytes) from rank %d", seq,
             size, src);
    if ((unsigned long long)tag_seq != (seq & LONG_SEQ_MASK)) {
        if ((*nreports)++ < LONG_MAX_REPORTS) {
            fprintf(stderr, "rank %d: %s: tag says seq %d (mod %d): lost, "
                    "duplicated or reordered\n", rank, what, tag_seq,
                    LONG_SEQ_MASK + 1);
        }
        return 0;
    }
    if ((size_t)count != size) {
        if ((*nreports)++ < LONG_MAX_REPORTS) {
            fprintf(stderr, "rank %d: %s: received %d bytes, expected %zu\n",
                    rank, what, count, size);
        }
        return 0;
    }
    if (verify_bytes(what, buf, size, (size_t)seq, src, LONG_SALT) != 0) {
        (*nreports)++;
        return 0;
    }
    /* the rest of the buffer (sized for the largest message) and its guard */
    for (i = size; i < max + GUARD; i++) {
        if (buf[i] != ((i < max) ? FILL_BYTE : GUARD_BYTE)) {
            if ((*nreports)++ < LONG_MAX_REPORTS) {
                fprintf(stderr, "rank %d: %s: byte %zu after the message "
                        "overwritten\n", rank, what, i);
            }
            return 0;
        }
    }
    return 1;
}

typedef struct {
    unsigned char     *sbuf[LONG_MAX_WINDOW], *rbuf[LONG_MAX_WINDOW];
    unsigned long long seq, rounds, received, bad, rx_bytes;
    int                nreports, last;
} long_state_t;

/* one round of w messages each way; returns 1 when the peer said "last" */
static int long_round_run(long_state_t *ls, int w, int last)
{
    int peer = 1 - rank, i, peer_last = 0;
    MPI_Request req[2 * LONG_MAX_WINDOW];
    MPI_Status st[2 * LONG_MAX_WINDOW];
    size_t size;

    long_round = ls->rounds;
    long_seq   = ls->seq;
    for (i = 0; i < w; i++) {
        memset(ls->rbuf[i], FILL_BYTE, long_sizes[NLONG_SIZES - 1]);
        MPI_Irecv(ls->rbuf[i], (int)long_sizes[NLONG_SIZES - 1], MPI_BYTE, peer,
                  MPI_ANY_TAG, MPI_COMM_WORLD, &req[i]);
    }
    for (i = 0; i < w; i++) {
        size = long_size_of(ls->seq + i, rank);
        fill(ls->sbuf[i], size, (size_t)(ls->seq + i), rank, LONG_SALT);
        MPI_Isend(ls->sbuf[i], (int)size, MPI_BYTE, peer,
                  long_tag_of(ls->seq + i, last), MPI_COMM_WORLD, &req[w + i]);
    }
    MPI_Waitall(2 * w, req, st);
    for (i = 0; i < w; i++) {
        if (long_check(ls->rbuf[i], &st[i], ls->seq + i, peer, &ls->nreports)) {
            ls->rx_bytes += long_size_of(ls->seq + i, peer);
        } else {
            ls->bad++;
        }
        peer_last |= st[i].MPI_TAG & 1;
        ls->received++;
    }
    ls->seq += w;
    ls->rounds++;
    alarm(long_stall_secs);
    return peer_last;
}

static void long_progress(const long_state_t *ls, double t0)
{
    printf("[%.3f] long progress: %.1f s, round %llu, %llu messages each way, "
           "rank 0 received %llu bytes, %llu bad\n", now_epoch(),
           MPI_Wtime() - t0, ls->rounds, ls->seq, ls->rx_bytes, ls->bad);
    fflush(stdout);
}

static void long_run(const long_opts_t *o)
{
    long_state_t ls;
    double t0, next;
    unsigned long long tot[3], all[3];
    int i, w, done = 0, last = 0;

    memset(&ls, 0, sizeof(ls));
    for (i = 0; i < o->window; i++) {
        ls.sbuf[i] = alloc_buf(long_sizes[NLONG_SIZES - 1]);
        ls.rbuf[i] = alloc_buf(long_sizes[NLONG_SIZES - 1]);
    }
    long_stall_secs = o->stall_secs;
    signal(SIGALRM, long_stalled);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    next = t0 + o->progress_secs;
    if (rank == 0) {
        printf("[%.3f] long start: up to %llu messages each way or %.0f s, "
               "window %d, %zu sizes up to %zu bytes\n", now_epoch(),
               o->messages, o->secs, o->window, NLONG_SIZES,
               long_sizes[NLONG_SIZES - 1]);
        fflush(stdout);
    }
    alarm(long_stall_secs);
    while (!done) {
        w = (int)((o->messages - ls.seq < (unsigned long long)o->window) ?
                  o->messages - ls.seq : (unsigned long long)o->window);
        if (rank == 0) {
            last = (MPI_Wtime() - t0 >= o->secs) || (ls.seq + w >= o->messages);
        }
        done = long_round_run(&ls, w, last) || last || (ls.seq >= o->messages);
        if ((rank == 0) && (MPI_Wtime() >= next)) {
            long_progress(&ls, t0);
            next += o->progress_secs;
        }
    }
    alarm(0);
    tot[0] = ls.received;
    tot[1] = ls.bad;
    tot[2] = ls.rx_bytes;
    MPI_Allreduce(tot, all, 3, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        long_progress(&ls, t0);
        printf("long: %llu messages each way in %.1f s, %llu received and checked "
               "by both ranks, %llu bytes verified, %llu bad\n", ls.seq,
               MPI_Wtime() - t0, all[0], all[2], all[1]);
        fflush(stdout);
    }
    for (i = 0; i < o->window; i++) {
        free(ls.sbuf[i]);
        free(ls.rbuf[i]);
    }
    report("long-stream", long_sizes[NLONG_SIZES - 1],
           (ls.bad == 0) && (ls.received == ls.seq));
}

/* returns 1 for --long, 0 for the short mode, -1 on a bad argument */
static int parse_args(int argc, char **argv, long_opts_t *o)
{
    int i, is_long = 0;

    o->messages      = 1000000;
    o->secs          = 60;
    o->progress_secs = 1;
    o->window        = 4;
    o->stall_secs    = 30;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--long")) {
            is_long = 1;
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--messages")) {
            o->messages = strtoull(argv[++i], NULL, 0);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--secs")) {
            o->secs = atof(argv[++i]);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--progress-secs")) {
            o->progress_secs = atof(argv[++i]);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--window")) {
            o->window = atoi(argv[++i]);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--stall-secs")) {
            o->stall_secs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "mpi_verify: unknown or incomplete argument '%s'\n",
                    argv[i]);
            return -1;
        }
    }
    if ((o->messages == 0) || (o->secs <= 0) || (o->progress_secs <= 0) ||
        (o->window < 1) || (o->window > LONG_MAX_WINDOW) || (o->stall_secs < 0)) {
        fprintf(stderr, "mpi_verify: bad long-mode value (messages %llu, secs %g, "
                "progress-secs %g, window %d of 1..%d, stall-secs %d)\n",
                o->messages, o->secs, o->progress_secs, o->window,
                LONG_MAX_WINDOW, o->stall_secs);
        return -1;
    }
    return is_long;
}

int main(int argc, char **argv)
{
    char host[MPI_MAX_PROCESSOR_NAME], peer_host[MPI_MAX_PROCESSOR_NAME];
    int len, any_failed, mode;
    long_opts_t lopts;
    size_t s;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    mode = parse_args(argc, argv, &lopts);
    if (mode < 0) {
        if (rank == 0) {
            printf("0 passed, 1 failed\n");
        }
        MPI_Finalize();
        return 2;
    }
    if (nranks != 2) {
        if (rank == 0) {
            fprintf(stderr, "mpi_verify: needs exactly 2 ranks (got %d)\n", nranks);
            printf("0 passed, 1 failed\n");
        }
        MPI_Finalize();
        return 1;
    }
    /* MPI errors are fatal (default handler): they abort with a nonzero exit */
    memset(host, 0, sizeof(host));
    MPI_Get_processor_name(host, &len);
    MPI_Sendrecv(host, sizeof(host), MPI_CHAR, 1 - rank, 1, peer_host, sizeof(peer_host),
                 MPI_CHAR, 1 - rank, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rank == 0) {
        printf("mpi_verify: rank 0 on %s, rank 1 on %s, %s\n", host, peer_host,
               mode ? "long mode" : "short mode");
        fflush(stdout);
    }

    if (mode == 1) {
        long_run(&lopts);
    }
    for (s = 0; (mode == 0) && (s < NSIZES); s++) {
        check_send_recv(sizes[s], 0);
        check_send_recv(sizes[s], 1);
        check_isend_irecv(sizes[s]);
        check_bcast(sizes[s], 0);
        check_bcast(sizes[s], 1);
        check_allreduce_bxor(sizes[s]);
        check_allreduce_sum(sizes[s]);
    }

    any_failed = nfailed != 0;
    if (rank == 0) {
        printf("%d passed, %d failed\n", npassed, nfailed);
        fflush(stdout);
    }
    MPI_Finalize();
    return any_failed ? 1 : 0;
}
