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
 * There is no internal timeout: run it under one (mpirun-ns.sh does).
 *
 * Build:  mpicc -std=gnu99 -O2 -Wall -Wextra -o mpi_verify mpi_verify.c
 *         (Debian: apt-get install libopenmpi-dev openmpi-bin)
 * Run:    contrib/testbed/mpirun-ns.sh test/integration/mpi/mpi_verify
 */
#include <mpi.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* compare buf[0..len) with the pattern; returns the number of bad bytes and
 * reports the first one. Also checks the guard zone. */
static size_t verify(const char *what, const unsigned char *buf, size_t len,
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
        fprintf(stderr, "rank %d: %s size %zu: %zu bad byte(s), first at offset %zu "
                "(got 0x%02x, expected 0x%02x)\n", rank, what, size, bad, first,
                buf[first], exp[first]);
    }
    for (i = 0; i < GUARD; i++) {
        if (buf[len + i] != GUARD_BYTE) {
            fprintf(stderr, "rank %d: %s size %zu: guard byte %zu after the buffer "
                    "overwritten\n", rank, what, size, i);
            bad++;
            break;
        }
    }
    free(exp);
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

int main(int argc, char **argv)
{
    char host[MPI_MAX_PROCESSOR_NAME], peer_host[MPI_MAX_PROCESSOR_NAME];
    int len, any_failed;
    size_t s;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
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
        printf("mpi_verify: rank 0 on %s, rank 1 on %s, %zu sizes up to %zu bytes\n",
               host, peer_host, NSIZES, sizes[NSIZES - 1]);
        fflush(stdout);
    }

    for (s = 0; s < NSIZES; s++) {
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
