/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Striping scheduler of one mp endpoint (DESIGN §11): decides how one RMA
 * zcopy operation (put/get) of S bytes is split into chunks over the lanes,
 * and adapts the lane weights from measured completion throughput. It does
 * not call UCX; it only computes. Narrow C facade over the C++
 * implementation in mp_sched.cc.
 *
 * Placement rules, by policy (uct_mp_policy_t from mp_lanes.h):
 *
 *   active_backup  never splits across lanes: the whole op goes to the first
 *                  usable lane (lowest index). The stripe table is ignored.
 *
 *   load_balance   the stripe table (default "16k:single,inf:stripe") gives
 *                  the mode for S. single: the whole op goes to the usable
 *                  lane with the earliest expected finish time
 *                  (o_i + S) / bw_i (ties: lowest index). stripe: water-fill.
 *
 *   efficiency     the stripe table (default "256k:single,inf:stripe") gives
 *                  the mode. single: the whole op goes to the best usable
 *                  lane (highest weight, ties: lowest index), unless that
 *                  lane's outstanding bytes exceed the budget
 *                  max(64 KiB, bw_best * rtt); then it goes to the
 *                  earliest-finish lane as under load_balance. stripe:
 *                  water-fill.
 *
 * Water-fill (stripe mode), over usable lanes with weights bw_i and
 * outstanding bytes o_i: find T with sum_i max(0, T * bw_i - o_i) = S, so that
 * every lane that gets bytes finishes at about the same time T. Lane i gets
 * s_i = max(0, T * bw_i - o_i), rounded down to a multiple of 64 bytes; the
 * rounding remainder goes to the largest share (ties: lowest index), so the
 * shares sum to S exactly. A non-zero share smaller than min_chunk is merged
 * into the largest share. Then the starved-lane probe (below) may move
 * bytes. Finally each lane's share is cut into chunks of at most the lane's
 * max_chunk.
 *
 * Chunks: every split fills chunks[] in lane index order, the chunks of one
 * lane consecutive; offsets start at 0, are contiguous and increasing, and
 * the lengths sum to S exactly. A chunk is never longer than its lane's
 * max_chunk; when max_chunk is at least 64, cuts fall at multiples of
 * max_chunk rounded down to 64 bytes. A "single" op longer than its lane's
 * max_chunk is therefore also several chunks, all on that one lane.
 * Without max_chunk cutting a split has at most one chunk per lane
 * (UCT_MP_MAX_LANES). An op of length 0 is one chunk of length 0.
 *
 * Weights and adaptation: a lane starts with the weight given to
 * uct_mp_sched_set_lane() (bytes/s; from WEIGHTS or the lane's iface
 * attributes). A lane with an unknown weight (<= 0 or not finite) is weighted
 * as the mean weight of the usable lanes whose weight is known (1.0 if
 * none). The scheduler measures each lane's completion throughput = bytes
 * completed / busy time, where busy time is the time, on the caller's clock,
 * during which the lane had outstanding bytes (posted and not completed).
 * A sample is taken when at least 64 KiB completed since the last sample
 * (and busy time elapsed); the first sample seeds the estimate, later ones
 * are averaged in by an EWMA with alpha 1/4. The measured estimate replaces
 * the configured weight once the lane completed 1 MiB in total. Bytes the
 * lane carried besides chunks (AMs, operations not split), reported with
 * uct_mp_sched_carried() while the lane has outstanding bytes, count as
 * completed bytes: the lane served them during its busy time. A sample above
 * twice a known configured weight is taken as twice that weight: operations
 * that complete at once (into a socket buffer) would otherwise make a lane
 * look arbitrarily fast.
 *
 * Starved-lane probe: in a stripe-mode split at time now, a usable lane whose
 * weight is below 5% of the total weight of the usable lanes and whose share
 * after merging is zero gets one probe chunk of max(min_chunk, 64) bytes
 * (rounded up to 64, capped by its max_chunk), taken from the largest share,
 * if its last probe was at least 100 ms earlier (or it was never probed) and
 * the largest share stays at least max(min_chunk, probe size). So each lane is
 * probed at most once per 100 ms of the caller's clock, which lets the
 * scheduler re-measure it.
 *
 * Times are seconds on the caller's clock, assumed monotonic: a time earlier
 * than one already seen counts as no elapsed time.
 *
 * Bad arguments never crash: uct_mp_sched_create() returns NULL, lane indices
 * out of range are ignored by the setters and accounting (getters return 0),
 * and uct_mp_sched_split() returns 0. A NULL sched is accepted everywhere
 * (destroy does nothing, the rest as for a bad lane).
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
 * a table that uct_mp_stripe_table_parse() would not produce (count out of
 * range, sizes not increasing, last not inf) is refused. min_chunk is
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
 * interval). Fills chunks[] as described above and returns the chunk count
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
