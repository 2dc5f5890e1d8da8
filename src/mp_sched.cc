/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Striping scheduler: lane choice, water-fill split, throughput adaptation
 * and starved-lane probes: see mp_sched.h and docs/DESIGN.md §11.
 */

#include "mp_sched.h"
#include "mp_wire.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <new>

namespace uct_mp {
namespace {

const size_t align = UCT_MP_SCHED_ALIGN;

/* What the scheduler knows about one lane */
struct lane_info {
    bool   usable      = false;
    double bw_config   = 0;      /* <= 0: unknown */
    size_t max_chunk   = 0;      /* 0: no limit */
    size_t outstanding = 0;      /* posted, not completed */

    /* measurement */
    double last_time       = 0;  /* caller's clock at the last post/completion */
    bool   time_seen       = false;
    double busy_time       = 0;  /* busy seconds since the last sample */
    size_t sample_bytes    = 0;  /* bytes completed since the last sample */
    size_t completed_total = 0;
    double bw_measured     = 0;  /* EWMA of samples */
    bool   measured        = false;

    /* probe */
    double last_probe = 0;
    bool   probed     = false;
};

class scheduler {
public:
    scheduler(unsigned count, uct_mp_policy_t policy,
              const uct_mp_stripe_table_t &table, size_t min_chunk) :
        m_count(count), m_policy(policy), m_table(table),
        m_min_chunk(min_chunk) {
    }

    bool valid_lane(unsigned lane) const { return lane < m_count; }

    void set_lane(unsigned lane, bool usable, double bw, size_t max_chunk) {
        if (!valid_lane(lane)) {
            return;
        }
        m_lanes[lane].usable    = usable;
        /* unknown: 0; a known weight is at least 1 byte/s */
        m_lanes[lane].bw_config = (std::isfinite(bw) && (bw > 0)) ?
                                  std::max(bw, 1.0) : 0;
        m_lanes[lane].max_chunk = max_chunk;
    }

    void set_rtt(double rtt) {
        if (std::isfinite(rtt) && (rtt >= 0)) {
            m_rtt = rtt;
        }
    }

    void reset_lane(unsigned lane) {
        if (!valid_lane(lane)) {
            return;
        }
        lane_info &l = m_lanes[lane];
        lane_info fresh;
        fresh.usable    = l.usable;
        fresh.bw_config = l.bw_config;
        fresh.max_chunk = l.max_chunk;
        l               = fresh;
    }

    void posted(unsigned lane, size_t bytes, double now) {
        if (!valid_lane(lane)) {
            return;
        }
        lane_info &l = m_lanes[lane];
        advance(l, now);
        l.outstanding += bytes;
    }

    void completed(unsigned lane, size_t bytes, double now) {
        if (!valid_lane(lane)) {
            return;
        }
        lane_info &l = m_lanes[lane];
        advance(l, now);
        /* bytes beyond the outstanding count were never posted: they are
         * not counted, neither in the outstanding count nor measured */
        size_t done        = std::min(bytes, l.outstanding);
        l.outstanding     -= done;
        l.sample_bytes    += done;
        l.completed_total += done;

        take_sample(l);
    }

    void carried(unsigned lane, size_t bytes, double now) {
        if (!valid_lane(lane)) {
            return;
        }
        lane_info &l = m_lanes[lane];
        advance(l, now);
        if (l.outstanding == 0) {
            return; /* no busy time runs: nothing to measure against */
        }
        l.sample_bytes    += bytes;
        l.completed_total += bytes;
        take_sample(l);
    }

    /* A sample per batch of at least 64 KiB, once busy time was seen */
    static void take_sample(lane_info &l) {
        if ((l.sample_bytes >= UCT_MP_SCHED_SAMPLE_BYTES) &&
            (l.busy_time > 0)) {
            double sample = (double)l.sample_bytes / l.busy_time;
            if (!std::isfinite(sample)) {
                return; /* busy time too small to divide by: keep counting */
            }
            if (l.bw_config > 0) {
                /* ops that complete at once (into a socket buffer) make a
                 * lane look faster than it can be */
                sample = std::min(sample,
                                  UCT_MP_SCHED_MAX_OVER_CONFIG * l.bw_config);
            }
            if (l.measured) {
                l.bw_measured += (sample - l.bw_measured) / 4;
            } else {
                l.bw_measured = sample;
                l.measured    = true;
            }
            l.sample_bytes = 0;
            l.busy_time    = 0;
        }
    }

    size_t outstanding(unsigned lane) const {
        return valid_lane(lane) ? m_lanes[lane].outstanding : 0;
    }

    double weight(unsigned lane) const {
        if (!valid_lane(lane)) {
            return 0;
        }
        double w = known_weight(lane);
        return (w > 0) ? w : unknown_weight();
    }

    unsigned split(size_t length, double now, uct_mp_chunk_t *chunks,
                   unsigned max_chunks) {
        if ((chunks == nullptr) || (max_chunks == 0)) {
            return 0;
        }

        std::array<size_t, UCT_MP_MAX_LANES> shares;
        shares.fill(0);

        int lane;
        if ((m_policy != UCT_MP_POLICY_ACTIVE_BACKUP) &&
            (uct_mp_stripe_table_mode(&m_table, length) ==
             UCT_MP_STRIPE_STRIPE)) {
            lane = water_fill(length, now, shares);
        } else {
            if (m_policy == UCT_MP_POLICY_ACTIVE_BACKUP) {
                lane = first_usable();
            } else if (m_policy == UCT_MP_POLICY_EFFICIENCY) {
                lane = best_within_budget(length);
            } else {
                lane = earliest_finish(length);
            }
            if (lane >= 0) {
                shares[lane] = length;
            }
        }
        if (lane < 0) {
            return 0;
        }
        return cut(length, shares, lane, chunks, max_chunks);
    }

private:
    /* Busy time: the lane had outstanding bytes since its last event */
    static void advance(lane_info &l, double now) {
        if (l.time_seen && (l.outstanding > 0) && (now > l.last_time)) {
            l.busy_time += now - l.last_time;
        }
        if (!l.time_seen || (now > l.last_time)) {
            l.last_time = now;
            l.time_seen = true;
        }
    }

    /* Measured after 1 MiB, else configured, else 0 (unknown) */
    double known_weight(unsigned lane) const {
        const lane_info &l = m_lanes[lane];
        if (l.measured && (l.bw_measured > 0) &&
            (l.completed_total >= UCT_MP_SCHED_TRUST_BYTES)) {
            return l.bw_measured;
        }
        return l.bw_config;
    }

    /* Mean known weight of the usable lanes, 1.0 if none is known */
    double unknown_weight() const {
        double sum = 0;
        unsigned n = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            double w = known_weight(lane);
            if (m_lanes[lane].usable && (w > 0)) {
                sum += w;
                ++n;
            }
        }
        return (n > 0) ? (sum / n) : 1.0;
    }

    int first_usable() const {
        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (m_lanes[lane].usable) {
                return lane;
            }
        }
        return -1;
    }

    /* Usable lane with the smallest (o_i + S) / bw_i; ties: lowest index */
    int earliest_finish(size_t length) const {
        int best         = -1;
        double best_time = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (!m_lanes[lane].usable) {
                continue;
            }
            double t = ((double)m_lanes[lane].outstanding + (double)length) /
                       weight(lane);
            if ((best < 0) || (t < best_time)) {
                best      = lane;
                best_time = t;
            }
        }
        return best;
    }

    /* efficiency: the best lane (highest weight, ties: lowest index), unless
     * its outstanding bytes exceed max(64 KiB, bw_best * rtt) */
    int best_within_budget(size_t length) const {
        int best       = -1;
        double best_bw = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (!m_lanes[lane].usable) {
                continue;
            }
            double w = weight(lane);
            if ((best < 0) || (w > best_bw)) {
                best    = lane;
                best_bw = w;
            }
        }
        if (best < 0) {
            return -1;
        }
        double budget = std::max((double)UCT_MP_SCHED_BUDGET_MIN,
                                 best_bw * m_rtt);
        if ((double)m_lanes[best].outstanding > budget) {
            return earliest_finish(length);
        }
        return best;
    }

    /*
     * Water-fill length bytes over the usable lanes into shares (see
     * DESIGN §11). Returns the lane holding the largest share, -1 if none.
     */
    int water_fill(size_t length, double now,
                   std::array<size_t, UCT_MP_MAX_LANES> &shares) {
        struct cand {
            unsigned lane;
            double   bw;
            double   o;
            double   start; /* T at which the lane starts getting bytes */
        };
        std::array<cand, UCT_MP_MAX_LANES> cands;
        unsigned n      = 0;
        double total_bw = 0;

        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (!m_lanes[lane].usable) {
                continue;
            }
            double bw = weight(lane);
            double o  = (double)m_lanes[lane].outstanding;
            cands[n++] = {lane, bw, o, o / bw};
            total_bw += bw;
        }
        if (n == 0) {
            return -1;
        }
        std::stable_sort(cands.begin(), cands.begin() + n,
                         [](const cand &a, const cand &b) {
                             return a.start < b.start;
                         });

        /* T with sum over the first k lanes of (T * bw_i - o_i) = S, for the
         * smallest k where T does not reach lane k+1's start */
        double sum_bw = 0, sum_o = 0, T = 0;
        for (unsigned k = 0; k < n; ++k) {
            sum_bw += cands[k].bw;
            sum_o  += cands[k].o;
            T       = ((double)length + sum_o) / sum_bw;
            if ((k + 1 == n) || (T <= cands[k + 1].start)) {
                break;
            }
        }

        /* shares rounded down to 64 B; the largest raw share gets the rest */
        int largest        = -1;
        double largest_raw = -1;
        size_t sum         = 0;
        for (unsigned k = 0; k < n; ++k) {
            unsigned lane = cands[k].lane;
            double raw    = std::max(0.0, (T * cands[k].bw) - cands[k].o);
            size_t share  = (raw >= (double)length) ? length : (size_t)raw;
            share        -= share % align;
            shares[lane]  = share;
            sum          += share;
            if ((raw > largest_raw) ||
                ((raw == largest_raw) && ((int)lane < largest))) {
                largest     = lane;
                largest_raw = raw;
            }
        }

        /* floating point may overshoot by a few 64 B units: take them back */
        for (unsigned lane = 0; (sum > length) && (lane < m_count); ++lane) {
            size_t take   = std::min(sum - length, shares[lane]);
            shares[lane] -= take;
            sum          -= take;
        }
        shares[largest] += length - sum;

        /* shares below min_chunk are merged into the largest */
        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (((int)lane != largest) && (shares[lane] > 0) &&
                (shares[lane] < m_min_chunk)) {
                shares[largest] += shares[lane];
                shares[lane]     = 0;
            }
        }

        probe(now, total_bw, largest, shares);
        return largest;
    }

    /* One probe chunk for starved lanes, at most once per interval each */
    void probe(double now, double total_bw, int largest,
               std::array<size_t, UCT_MP_MAX_LANES> &shares) {
        size_t base = std::max<size_t>(m_min_chunk, align);
        if (base > std::numeric_limits<size_t>::max() / 2) {
            return;
        }
        base = (base + align - 1) / align * align;

        for (unsigned lane = 0; lane < m_count; ++lane) {
            lane_info &l = m_lanes[lane];
            if (!l.usable || ((int)lane == largest) || (shares[lane] > 0) ||
                (weight(lane) >= UCT_MP_SCHED_PROBE_SHARE * total_bw)) {
                continue;
            }
            if (l.probed && (now - l.last_probe < UCT_MP_SCHED_PROBE_INTERVAL)) {
                continue;
            }
            size_t piece = base;
            if ((l.max_chunk > 0) && (l.max_chunk < piece)) {
                piece = l.max_chunk;
            }
            if (shares[largest] < piece + std::max(m_min_chunk, piece)) {
                continue;
            }
            shares[largest] -= piece;
            shares[lane]     = piece;
            l.last_probe     = now;
            l.probed         = true;
        }
    }

    /* Largest piece a chunk on lane may have */
    size_t piece_size(unsigned lane) const {
        size_t max_chunk = m_lanes[lane].max_chunk;
        if (max_chunk == 0) {
            return std::numeric_limits<size_t>::max();
        }
        return (max_chunk >= align) ? (max_chunk - (max_chunk % align)) :
                                      max_chunk;
    }

    /* Shares to chunks in lane order, cut to each lane's max_chunk */
    unsigned cut(size_t length, const std::array<size_t, UCT_MP_MAX_LANES> &shares,
                 int only_lane, uct_mp_chunk_t *chunks,
                 unsigned max_chunks) const {
        if (length == 0) {
            chunks[0] = {(unsigned)only_lane, 0, 0};
            return 1;
        }

        /* count first, so that a too small array leaves nothing half done */
        size_t needed = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (shares[lane] > 0) {
                size_t piece = piece_size(lane);
                needed += (shares[lane] / piece) +
                          ((shares[lane] % piece) != 0);
            }
        }
        if (needed > max_chunks) {
            return 0;
        }

        unsigned count = 0;
        size_t offset  = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            size_t left  = shares[lane];
            size_t piece = piece_size(lane);
            while (left > 0) { /* bounded by needed <= max_chunks */
                size_t len      = std::min(left, piece);
                chunks[count++] = {lane, offset, len};
                offset         += len;
                left           -= len;
            }
        }
        return count;
    }

    unsigned                                  m_count;
    uct_mp_policy_t                           m_policy;
    uct_mp_stripe_table_t                     m_table;
    size_t                                    m_min_chunk;
    double                                    m_rtt = 0;
    std::array<lane_info, UCT_MP_MAX_LANES>   m_lanes;
};

} // namespace
} // namespace uct_mp


struct uct_mp_sched {
    uct_mp::scheduler s;
};


extern "C" {

uct_mp_sched_t *uct_mp_sched_create(unsigned lane_count,
                                    uct_mp_policy_t policy,
                                    const uct_mp_stripe_table_t *table,
                                    size_t min_chunk)
{
    if ((lane_count == 0) || (lane_count > UCT_MP_MAX_LANES) ||
        (policy >= UCT_MP_POLICY_LAST)) {
        return nullptr;
    }
    uct_mp_stripe_table_t t;
    if (table != nullptr) {
        t = *table;
    } else {
        uct_mp_stripe_table_default(policy, &t);
    }
    if (!uct_mp_stripe_table_valid(&t)) {
        return nullptr;
    }
    return new (std::nothrow)
        uct_mp_sched{uct_mp::scheduler(lane_count, policy, t, min_chunk)};
}

void uct_mp_sched_destroy(uct_mp_sched_t *sched)
{
    delete sched;
}

void uct_mp_sched_set_lane(uct_mp_sched_t *sched, unsigned lane, int usable,
                           double bw_bytes_per_sec, size_t max_chunk)
{
    if (sched != nullptr) {
        sched->s.set_lane(lane, usable != 0, bw_bytes_per_sec, max_chunk);
    }
}

void uct_mp_sched_set_rtt(uct_mp_sched_t *sched, double rtt_sec)
{
    if (sched != nullptr) {
        sched->s.set_rtt(rtt_sec);
    }
}

unsigned uct_mp_sched_split(uct_mp_sched_t *sched, size_t length, double now,
                            uct_mp_chunk_t *chunks, unsigned max_chunks)
{
    return (sched != nullptr) ?
           sched->s.split(length, now, chunks, max_chunks) : 0;
}

void uct_mp_sched_posted(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                         double now)
{
    if (sched != nullptr) {
        sched->s.posted(lane, bytes, now);
    }
}

void uct_mp_sched_completed(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                            double now)
{
    if (sched != nullptr) {
        sched->s.completed(lane, bytes, now);
    }
}

void uct_mp_sched_carried(uct_mp_sched_t *sched, unsigned lane, size_t bytes,
                          double now)
{
    if (sched != nullptr) {
        sched->s.carried(lane, bytes, now);
    }
}

void uct_mp_sched_reset_lane(uct_mp_sched_t *sched, unsigned lane)
{
    if (sched != nullptr) {
        sched->s.reset_lane(lane);
    }
}

double uct_mp_sched_weight(const uct_mp_sched_t *sched, unsigned lane)
{
    return (sched != nullptr) ? sched->s.weight(lane) : 0;
}

size_t uct_mp_sched_outstanding(const uct_mp_sched_t *sched, unsigned lane)
{
    return (sched != nullptr) ? sched->s.outstanding(lane) : 0;
}

} // extern "C"
