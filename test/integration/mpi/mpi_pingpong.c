/*
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * mpi_pingpong: MPI ping-pong latency between 2 ranks, for the benchmark
 * (contrib/bench/small.py).
 *
 * For each size from --min-size to --max-size (powers of 2, default 1 B to
 * 64 KiB), rank 0 sends a message with MPI_Send, rank 1 receives it and sends
 * it back, --warmup untimed round trips first. Every round trip is timed on
 * its own (MPI_Wtime); rank 0 prints one line per size
 *   pingpong size S iters N median_us M avg_us A min_us L max_us X
 * with half the round-trip time (one-way latency), then "N passed, M failed".
 * Each message carries its iteration number in its first and last byte, and
 * every receiver checks the received count and both bytes, so a lost or
 * stale message fails the size.
 *   mpi_pingpong [--iters N] [--warmup W] [--min-size S] [--max-size S]
 * --iters applies up to 4 KiB; larger sizes run N * 4096 / size round trips,
 * at least N / 8 (so every size takes a similar time).
 *
 * Build:  mpicc -std=gnu99 -O2 -Wall -Wextra -o mpi_pingpong mpi_pingpong.c
 * Run:    contrib/testbed/mpirun-ns.sh test/integration/mpi/mpi_pingpong
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG 300

typedef struct {
    int    iters;
    int    warmup;
    size_t min_size;
    size_t max_size;
} pp_opts_t;

static int rank;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double*)a, y = *(const double*)b;

    return (x > y) - (x < y);
}

static int iters_of(const pp_opts_t *o, size_t size)
{
    long n = (size <= 4096) ? o->iters : (long)o->iters * 4096 / (long)size;

    return (n < o->iters / 8) ? ((o->iters / 8) ? o->iters / 8 : 1) : (int)n;
}

static void stamp(unsigned char *buf, size_t size, int i)
{
    buf[size - 1] = (unsigned char)(i ^ 0x5a);
    buf[0]        = (unsigned char)i;     /* the only byte of a 1-byte message */
}

/* returns 1 when the message of iteration i arrived whole */
static int stamp_ok(const unsigned char *buf, size_t size, int i, MPI_Status *st)
{
    int count;

    MPI_Get_count(st, MPI_BYTE, &count);
    return ((size_t)count == size) && (buf[0] == (unsigned char)i) &&
           ((size == 1) || (buf[size - 1] == (unsigned char)(i ^ 0x5a)));
}

/* one round trip of iteration i; returns 1 when the messages were good */
static int round_trip(unsigned char *sbuf, unsigned char *rbuf, size_t size, int i)
{
    int peer = 1 - rank;
    MPI_Status st;

    memset(rbuf, 0xff, size);
    if (rank == 0) {
        stamp(sbuf, size, i);
        MPI_Send(sbuf, (int)size, MPI_BYTE, peer, TAG, MPI_COMM_WORLD);
        MPI_Recv(rbuf, (int)size, MPI_BYTE, peer, TAG, MPI_COMM_WORLD, &st);
    } else {
        MPI_Recv(rbuf, (int)size, MPI_BYTE, peer, TAG, MPI_COMM_WORLD, &st);
        stamp(sbuf, size, i);
        MPI_Send(sbuf, (int)size, MPI_BYTE, peer, TAG, MPI_COMM_WORLD);
    }
    return stamp_ok(rbuf, size, i, &st);
}

/* times one size; returns 1 when every message on both ranks was good */
static int run_size(const pp_opts_t *o, size_t size, double *lat)
{
    unsigned char *sbuf = malloc(size), *rbuf = malloc(size);
    int n = iters_of(o, size), i, bad = 0, all_ok = 0, ok;
    double t0, sum = 0;

    if ((sbuf == NULL) || (rbuf == NULL)) {
        fprintf(stderr, "rank %d: out of memory (%zu bytes)\n", rank, size);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (i = 0; i < o->warmup; i++) {
        bad += !round_trip(sbuf, rbuf, size, i);
    }
    for (i = 0; i < n; i++) {
        t0     = MPI_Wtime();
        bad   += !round_trip(sbuf, rbuf, size, o->warmup + i);
        lat[i] = (MPI_Wtime() - t0) * 1e6 / 2;
        sum   += lat[i];
    }
    free(sbuf);
    free(rbuf);
    ok = bad == 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (bad) {
        fprintf(stderr, "rank %d: size %zu: %d of %d messages bad\n", rank,
                size, bad, o->warmup + n);
    }
    if ((rank == 0) && all_ok) {
        qsort(lat, n, sizeof(*lat), cmp_double);
        printf("pingpong size %zu iters %d median_us %.3f avg_us %.3f min_us %.3f "
               "max_us %.3f\n", size, n,
               (n % 2) ? lat[n / 2] : (lat[n / 2 - 1] + lat[n / 2]) / 2,
               sum / n, lat[0], lat[n - 1]);
        fflush(stdout);
    }
    return all_ok;
}

/* returns 0, or -1 on a bad argument */
static int parse_args(int argc, char **argv, pp_opts_t *o)
{
    int i;

    o->iters    = 1000;
    o->warmup   = 100;
    o->min_size = 1;
    o->max_size = 65536;
    for (i = 1; i < argc; i++) {
        if ((i + 1 < argc) && !strcmp(argv[i], "--iters")) {
            o->iters = atoi(argv[++i]);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--warmup")) {
            o->warmup = atoi(argv[++i]);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--min-size")) {
            o->min_size = strtoull(argv[++i], NULL, 0);
        } else if ((i + 1 < argc) && !strcmp(argv[i], "--max-size")) {
            o->max_size = strtoull(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "mpi_pingpong: unknown or incomplete argument '%s'\n",
                    argv[i]);
            return -1;
        }
    }
    if ((o->iters < 1) || (o->warmup < 0) || (o->min_size < 1) ||
        (o->max_size < o->min_size) || (o->max_size > (1ul << 30))) {
        fprintf(stderr, "mpi_pingpong: bad value (iters %d, warmup %d, sizes "
                "%zu..%zu of 1..1 GiB)\n", o->iters, o->warmup, o->min_size,
                o->max_size);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int nranks, npassed = 0, nfailed = 0;
    double *lat;
    pp_opts_t o;
    size_t size;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if ((parse_args(argc, argv, &o) < 0) || (nranks != 2)) {
        if (rank == 0) {
            fprintf(stderr, "mpi_pingpong: needs valid arguments and exactly 2 "
                    "ranks (got %d)\n", nranks);
            printf("0 passed, 1 failed\n");
        }
        MPI_Finalize();
        return 2;
    }
    lat = malloc(o.iters * sizeof(*lat));
    if (lat == NULL) {
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size = o.min_size; size <= o.max_size; size *= 2) {
        if (run_size(&o, size, lat)) {
            npassed++;
        } else {
            nfailed++;
        }
    }
    free(lat);
    if (rank == 0) {
        printf("%d passed, %d failed\n", npassed, nfailed);
        fflush(stdout);
    }
    MPI_Finalize();
    return nfailed ? 1 : 0;
}
