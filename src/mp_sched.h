/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Striping scheduler of one mp endpoint: decides how one RMA zcopy operation
 * (put/get) is placed on the lanes, whole or split into chunks, and adapts
 * the lane weights from measured completion throughput. It does not call
 * UCX; it only computes. The rules (placement by policy, water-fill, chunks,
 * weights and adaptation, starved-lane probe, clock, bad arguments) are in
 * docs/DESIGN.md §11. Narrow C facade over mp_sched.cc.
 */

#ifndef UCT_MP_SCHED_H_
#define UCT_MP_SCHED_H_

#include "mp_lanes.h"
#include "mp_stripe_table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UCT_MP_SCHED_ALIGN          64            /* share rounding, bytes */
#define UCT_MP_SCHED_SAMPLE_BYTES   (64u * 1024)  /* bytes per throughput sample */
#define UCT_MP_SCHED_TRUST_BYTES    (1024u * 1024) /* measured replaces configured */
#define UCT_MP_SCHED_BUDGET_MIN     (64u * 1024)  /* efficiency overflow floor */
#define UCT_MP_SCHED_PROBE_SHARE    0.05          /* starved below this weight share */
#define UCT_MP_SCHED_PROBE_INTERVAL 0.1           /* seconds between probes of a lane */
#define UCT_MP_SCHED_MAX_OVER_CONFIG 2.0          /* sample cap: x configured weight */

/* One piece of a split op: bytes [offset, offset + length) go to lane. */
typedef struct {
    unsigned lane;
    size_t   offset;
    size_t   length;
} uct_mp_chunk_t;

typedef struct uct_mp_sched uct_mp_sched_t; /* opaque, one per mp endpoint */

/*
 * lane_count in 1..UCT_MP_MAX_LANES. table NULL means the policy's default;
 * a table that uct_mp_stripe_table_valid() refuses is refused. min_chunk is
 * STRIPE_MIN_CHUNK in bytes (0: no minimum). New lanes are not usable, have
 * an unknown weight and no max_chunk; rtt is 0 (budget = 64 KiB).
 * NULL on bad arguments or no memory.
 */
uct_mp_sched_t *uct_mp_sched_create(unsigned lane_count,
                                    uct_mp_policy_t policy,
                                    const uct_mp_stripe_table_t *table,
                                    size_t min_chunk);
void uct_mp_sched_destroy(uct_mp_sched_t *sched);

/*
 * Describe a lane: usable for RMA (the lane is ACTIVE) or not, configured
 * weight in bytes/s (<= 0 or not finite: unknown; a positive value below 1
 * counts as 1), and the largest chunk it takes (its max_zcopy; 0: no
 * limit). May be called again at any time (lane state changes); outstanding
 * bytes and measurements are kept.
 */
void uct_mp_sched_set_lane(uct_mp_sched_t *sched, unsigned lane, int usable,
                           double bw_bytes_per_sec, size_t max_chunk);

/* Round-trip estimate in seconds for the efficiency budget (negative or not
 * finite: ignored). */
void uct_mp_sched_set_rtt(uct_mp_sched_t *sched, double rtt_sec);

/*
 * Split an op of length bytes at time now (used only for the probe
 * interval). Fills chunks[] (DESIGN §11) and returns the chunk count
 * (<= max_chunks). Returns 0, with chunks[] contents unspecified, when no lane
 * is usable, when chunks is NULL, or when the split needs more than
 * max_chunks chunks. The caller reports each chunk with
 * uct_mp_sched_posted() when it posts it.
 */
unsigned uct_mp_sched_split(uct_mp_sched_t *sched, size_t length, double now,
                            uct_mp_chunk_t *chunks, unsigned max_chunks);

/* Accounting: bytes were posted on lane at time now, and later completed.
 * Completing more than is outstanding clamps the outstanding count at 0;
 * the excess is not measured. */
void uct_mp_sched_posted(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                         double now);
void uct_mp_sched_completed(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                            double now);

/* bytes went over lane outside the scheduler's chunks at time now */
void uct_mp_sched_carried(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                          double now);

/* Forget a lane's outstanding bytes and its measurements (not the
 * configured weight): for a lane that failed, whose chunks are recovered
 * elsewhere. */
void uct_mp_sched_reset_lane(uct_mp_sched_t *sched, unsigned lane);

/* Weight the scheduler uses for lane now (bytes/s): the measured estimate
 * after 1 MiB completed, else the configured one, else the unknown-weight
 * mean; 0 for a bad lane. */
double uct_mp_sched_weight(const uct_mp_sched_t *sched, unsigned lane);

/* Bytes posted on lane and not completed yet; 0 for a bad lane. */
size_t uct_mp_sched_outstanding(const uct_mp_sched_t *sched, unsigned lane);

#ifdef __cplusplus
}
#endif

#endif
