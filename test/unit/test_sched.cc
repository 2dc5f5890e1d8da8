/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the striping scheduler: split invariants, water-fill
 * shares, policies, throughput adaptation and starved-lane probes, with
 * fake lanes and a fake clock (the stripe table: test_stripe_table.cc).
 */

#include "mp_sched.h"
#include "mp_wire.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

const size_t KiB = 1024;
const size_t MiB = 1024 * 1024;

class test_mp_sched : public ::testing::Test {
protected:
    enum { MAX_CHUNKS = 4096 };

    void TearDown() override {
        uct_mp_sched_destroy(m_sched);
    }

    void create(unsigned count, uct_mp_policy_t policy,
                const char *table_str = NULL, size_t min_chunk = 8 * KiB) {
        uct_mp_stripe_table_t table;
        if (table_str != NULL) {
            ASSERT_EQ(0, uct_mp_stripe_table_parse(table_str, &table, NULL,
                                                   0));
        }
        m_sched = uct_mp_sched_create(count, policy,
                                      table_str ? &table : NULL, min_chunk);
        ASSERT_TRUE(m_sched != NULL);
        m_count = count;
        m_max_chunk.assign(count, 0);
        m_usable.assign(count, false);
    }

    /* A fake lane: usable, bw bytes/s, max_chunk */
    void lane(unsigned index, double bw, size_t max_chunk = 0,
              bool usable = true) {
        uct_mp_sched_set_lane(m_sched, index, usable, bw, max_chunk);
        m_max_chunk[index] = max_chunk;
        m_usable[index]    = usable;
    }

    /* Split and check the invariants every split must hold */
    std::vector<uct_mp_chunk_t> split(size_t length, double now = 0) {
        std::vector<uct_mp_chunk_t> chunks(MAX_CHUNKS);
        unsigned n = uct_mp_sched_split(m_sched, length, now, chunks.data(),
                                        MAX_CHUNKS);
        chunks.resize(n);
        check(chunks, length);
        return chunks;
    }

    void check(const std::vector<uct_mp_chunk_t> &chunks, size_t length) {
        if (chunks.empty()) {
            return;
        }
        size_t offset = 0;
        for (const auto &c : chunks) {
            ASSERT_LT(c.lane, m_count);
            EXPECT_TRUE(m_usable[c.lane]) << "chunk on unusable lane " << c.lane;
            EXPECT_EQ(offset, c.offset) << "length " << length;
            if (length > 0) {
                EXPECT_GT(c.length, 0u) << "length " << length;
            }
            if (m_max_chunk[c.lane] > 0) {
                EXPECT_LE(c.length, m_max_chunk[c.lane]);
            }
            offset += c.length;
        }
        EXPECT_EQ(length, offset) << "lengths must sum to the op length";
        if (length == 0) {
            EXPECT_EQ(1u, chunks.size());
        }
    }

    /* Bytes per lane of a split */
    std::vector<size_t> shares(const std::vector<uct_mp_chunk_t> &chunks) {
        std::vector<size_t> s(m_count, 0);
        for (const auto &c : chunks) {
            s[c.lane] += c.length;
        }
        return s;
    }

    /* Lanes a split uses */
    unsigned lanes_used(const std::vector<uct_mp_chunk_t> &chunks) {
        unsigned n = 0;
        for (size_t b : shares(chunks)) {
            n += (b > 0);
        }
        return n;
    }

    void post(const std::vector<uct_mp_chunk_t> &chunks, double now) {
        for (const auto &c : chunks) {
            uct_mp_sched_posted(m_sched, c.lane, c.length, now);
        }
    }

    /*
     * Fake network: post the chunks of one op of length bytes at now; each
     * lane serves its chunks in order at its true rate; completions are
     * reported in time order. now advances to the last completion.
     */
    std::vector<uct_mp_chunk_t> run_op(size_t length, double &now,
                                       const std::vector<double> &true_bw) {
        std::vector<uct_mp_chunk_t> chunks = split(length, now);
        std::vector<double> lane_free(m_count, now);
        std::vector<std::tuple<double, unsigned, size_t>> done;

        post(chunks, now);
        for (const auto &c : chunks) {
            lane_free[c.lane] += c.length / true_bw[c.lane];
            done.emplace_back(lane_free[c.lane], c.lane, c.length);
        }
        std::sort(done.begin(), done.end());
        for (const auto &d : done) {
            uct_mp_sched_completed(m_sched, std::get<1>(d), std::get<2>(d),
                                   std::get<0>(d));
            now = std::max(now, std::get<0>(d));
        }
        return chunks;
    }

    uct_mp_sched_t   *m_sched = NULL;
    unsigned          m_count = 0;
    std::vector<size_t> m_max_chunk;
    std::vector<bool>   m_usable;
};

TEST_F(test_mp_sched, create_refuses_bad_arguments) {
    EXPECT_EQ(NULL, uct_mp_sched_create(0, UCT_MP_POLICY_LOAD_BALANCE, NULL,
                                        0));
    EXPECT_EQ(NULL, uct_mp_sched_create(UCT_MP_MAX_LANES + 1,
                                        UCT_MP_POLICY_LOAD_BALANCE, NULL, 0));
    EXPECT_EQ(NULL, uct_mp_sched_create(2, UCT_MP_POLICY_LAST, NULL, 0));

    uct_mp_stripe_table_t t;
    memset(&t, 0, sizeof(t));
    EXPECT_EQ(NULL, uct_mp_sched_create(2, UCT_MP_POLICY_LOAD_BALANCE, &t, 0));
    t.count            = 1;
    t.entries[0].max_size = 16 * KiB; /* last entry not inf */
    EXPECT_EQ(NULL, uct_mp_sched_create(2, UCT_MP_POLICY_LOAD_BALANCE, &t, 0));
    t.count = UCT_MP_STRIPE_TABLE_MAX + 1;
    EXPECT_EQ(NULL, uct_mp_sched_create(2, UCT_MP_POLICY_LOAD_BALANCE, &t, 0));

    uct_mp_sched_t *s = uct_mp_sched_create(UCT_MP_MAX_LANES,
                                            UCT_MP_POLICY_EFFICIENCY, NULL, 0);
    EXPECT_TRUE(s != NULL);
    uct_mp_sched_destroy(s);
}

TEST_F(test_mp_sched, bad_lanes_and_null_are_harmless) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    uct_mp_sched_set_lane(m_sched, 2, 1, 1e9, 0);   /* ignored */
    uct_mp_sched_set_lane(m_sched, 1000, 1, 1e9, 0);
    uct_mp_sched_posted(m_sched, 2, 100, 0);
    uct_mp_sched_completed(m_sched, UINT32_MAX, 100, 0);
    uct_mp_sched_reset_lane(m_sched, 5);
    EXPECT_EQ(0.0, uct_mp_sched_weight(m_sched, 2));
    EXPECT_EQ(0u, uct_mp_sched_outstanding(m_sched, 2));

    /* only lane 0 is usable: everything goes there */
    auto chunks = split(4 * MiB);
    EXPECT_EQ(1u, lanes_used(chunks));
    EXPECT_EQ(0u, chunks[0].lane);

    uct_mp_chunk_t c;
    EXPECT_EQ(0u, uct_mp_sched_split(m_sched, 100, 0, NULL, 4));
    EXPECT_EQ(0u, uct_mp_sched_split(m_sched, 100, 0, &c, 0));

    uct_mp_sched_destroy(NULL);
    uct_mp_sched_set_lane(NULL, 0, 1, 1e9, 0);
    uct_mp_sched_set_rtt(NULL, 1e-3);
    uct_mp_sched_posted(NULL, 0, 1, 0);
    uct_mp_sched_completed(NULL, 0, 1, 0);
    uct_mp_sched_reset_lane(NULL, 0);
    EXPECT_EQ(0u, uct_mp_sched_split(NULL, 100, 0, &c, 1));
    EXPECT_EQ(0.0, uct_mp_sched_weight(NULL, 0));
    EXPECT_EQ(0u, uct_mp_sched_outstanding(NULL, 0));
}

TEST_F(test_mp_sched, no_usable_lane_gives_no_chunk) {
    for (int p = 0; p < UCT_MP_POLICY_LAST; ++p) {
        uct_mp_sched_destroy(m_sched);
        create(3, (uct_mp_policy_t)p);
        for (size_t len : {(size_t)0, (size_t)8, 64 * KiB, 8 * MiB}) {
            EXPECT_EQ(0u, split(len).size()) << uct_mp_policy_str(
                                                    (uct_mp_policy_t)p);
        }
        /* lanes described, then all taken out of service */
        for (unsigned i = 0; i < 3; ++i) {
            lane(i, 1e9);
        }
        EXPECT_FALSE(split(8 * MiB).empty());
        for (unsigned i = 0; i < 3; ++i) {
            lane(i, 1e9, 0, false);
        }
        EXPECT_EQ(0u, split(8 * MiB).size());
        EXPECT_EQ(0u, split(8).size());
    }
}

TEST_F(test_mp_sched, zero_length_is_one_empty_chunk) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE, "inf:stripe");
    lane(0, 1e9);
    lane(1, 1e9);
    auto chunks = split(0);
    ASSERT_EQ(1u, chunks.size());
    EXPECT_EQ(0u, chunks[0].length);
}

TEST_F(test_mp_sched, sums_and_contiguity_at_odd_sizes) {
    const size_t sizes[] = {1, 63, 64, 65, 4095, MiB + 7};

    for (int p = 0; p < UCT_MP_POLICY_LAST; ++p) {
        for (size_t min_chunk : {(size_t)0, 8 * KiB}) {
            uct_mp_sched_destroy(m_sched);
            /* stripe everything, so that small sizes are water-filled too */
            create(3, (uct_mp_policy_t)p, "inf:stripe", min_chunk);
            lane(0, 1e9);
            lane(1, 2e9, 1000); /* odd max_chunk */
            lane(2, 3e9);
            for (size_t len : sizes) {
                SCOPED_TRACE(std::string(uct_mp_policy_str((uct_mp_policy_t)p)) +
                             " min_chunk " + std::to_string(min_chunk) +
                             " length " + std::to_string(len));
                auto chunks = split(len);
                ASSERT_FALSE(chunks.empty());
                if ((p != UCT_MP_POLICY_ACTIVE_BACKUP) && (len >= MiB) &&
                    (min_chunk == 0)) {
                    EXPECT_EQ(3u, lanes_used(chunks));
                }
            }
        }
    }
}

TEST_F(test_mp_sched, sums_and_contiguity_at_random_sizes) {
    std::mt19937_64 rng(20260301);
    std::uniform_int_distribution<size_t> big(1, 16 * MiB);
    std::uniform_int_distribution<size_t> small(1, 70 * KiB);
    std::uniform_int_distribution<size_t> pending(0, 2 * MiB);

    for (int p = 0; p < UCT_MP_POLICY_LAST; ++p) {
        uct_mp_sched_destroy(m_sched);
        create(4, (uct_mp_policy_t)p);
        lane(0, 1.0e9);
        lane(1, 2.5e9, 64 * KiB + 100);
        lane(2, 0.3e9, 1 * MiB);
        lane(3, 0); /* unknown weight */
        double now = 0;
        for (int i = 0; i < 500; ++i) {
            size_t len = (i % 2) ? big(rng) : small(rng);
            SCOPED_TRACE(std::string(uct_mp_policy_str((uct_mp_policy_t)p)) +
                         " op " + std::to_string(i) + " length " +
                         std::to_string(len));
            now += 0.001;
            auto chunks = split(len, now);
            ASSERT_FALSE(chunks.empty());
            /* random outstanding bytes shift the next shares */
            unsigned l = (unsigned)(rng() % 4);
            uct_mp_sched_posted(m_sched, l, pending(rng), now);
            uct_mp_sched_completed(m_sched, (unsigned)(rng() % 4),
                                   pending(rng), now + 0.0005);
        }
    }
}

TEST_F(test_mp_sched, equal_weights_give_halves) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1.25e9);
    lane(1, 1.25e9);
    for (size_t len : {MiB, MiB + 7, 10 * MiB + 1, 64 * KiB, 64 * KiB + 63}) {
        auto s = shares(split(len));
        EXPECT_LE(std::max(s[0], s[1]) - std::min(s[0], s[1]), 64u)
            << "length " << len;
        EXPECT_EQ(0u, std::min(s[0], s[1]) % 64) << "length " << len;
    }
}

TEST_F(test_mp_sched, weights_two_to_one) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 2e9);
    lane(1, 1e9);
    for (size_t len : {MiB, 3 * MiB + 5, 100 * MiB}) {
        auto s = shares(split(len));
        EXPECT_NEAR(len * 2.0 / 3, (double)s[0], 64.0) << "length " << len;
        EXPECT_NEAR(len * 1.0 / 3, (double)s[1], 64.0) << "length " << len;
    }
}

TEST_F(test_mp_sched, outstanding_bytes_shift_shares) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    lane(1, 1e9);

    /* lane 0 is 256 KiB behind: T*bw - o equalizes finish times */
    uct_mp_sched_posted(m_sched, 0, 256 * KiB, 0);
    EXPECT_EQ(256 * KiB, uct_mp_sched_outstanding(m_sched, 0));
    auto s = shares(split(MiB));
    EXPECT_NEAR(384.0 * KiB, (double)s[0], 64.0);
    EXPECT_NEAR(640.0 * KiB, (double)s[1], 64.0);

    /* lane 0 is further behind than the whole op: all of it to lane 1 */
    uct_mp_sched_posted(m_sched, 0, 2 * MiB, 0);
    s = shares(split(MiB));
    EXPECT_EQ(0u, s[0]);
    EXPECT_EQ(MiB, s[1]);

    /* completions bring it back; over-completion clamps at 0 (on the same
     * clock tick: no busy time, so no throughput sample either) */
    uct_mp_sched_completed(m_sched, 0, 100 * MiB, 0);
    EXPECT_EQ(0u, uct_mp_sched_outstanding(m_sched, 0));
    EXPECT_EQ(1e9, uct_mp_sched_weight(m_sched, 0));
    s = shares(split(MiB));
    EXPECT_EQ(s[0], s[1]);
}

TEST_F(test_mp_sched, small_shares_merge_into_the_largest) {
    create(3, UCT_MP_POLICY_LOAD_BALANCE, NULL, 64 * KiB);
    lane(0, 1e9);
    lane(1, 60e6); /* 1 MiB * 60/1120 = 56 KiB < 64 KiB, but not starved */
    lane(2, 60e6);
    auto s = shares(split(MiB));
    EXPECT_EQ(MiB, s[0]);
    EXPECT_EQ(0u, s[1]);
    EXPECT_EQ(0u, s[2]);

    /* a larger op gives them shares above min_chunk */
    s = shares(split(4 * MiB));
    EXPECT_GE(s[1], 64 * KiB);
    EXPECT_GE(s[2], 64 * KiB);
    EXPECT_NEAR(4.0 * MiB * 60 / 1120, (double)s[1], 64.0);

    /* below 2 x min_chunk nothing can be split */
    uct_mp_sched_destroy(m_sched);
    create(2, UCT_MP_POLICY_LOAD_BALANCE, NULL, 64 * KiB);
    lane(0, 1e9);
    lane(1, 1e9);
    auto chunks = split(100 * KiB);
    EXPECT_EQ(1u, lanes_used(chunks));
    EXPECT_EQ(2u, lanes_used(split(128 * KiB)));
}

TEST_F(test_mp_sched, max_chunk_cuts_shares) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9, 100000);  /* cut at 99968, a multiple of 64 */
    lane(1, 1e9, 64 * KiB);
    auto chunks = split(MiB + 3);
    auto s      = shares(chunks);
    size_t n0 = 0, n1 = 0;
    for (const auto &c : chunks) {
        if (c.lane == 0) {
            ++n0;
            if (c.offset + c.length < s[0]) {
                EXPECT_EQ(99968u, c.length); /* all but the last piece */
            }
        } else {
            ++n1;
        }
    }
    EXPECT_EQ((s[0] + 99967) / 99968, n0);
    EXPECT_EQ((s[1] + 64 * KiB - 1) / (64 * KiB), n1);

    /* a single op longer than max_chunk: several chunks on one lane */
    chunks = split(10 * KiB);
    EXPECT_EQ(1u, lanes_used(chunks));
    uct_mp_sched_set_lane(m_sched, 0, 1, 1e9, 4 * KiB);
    uct_mp_sched_set_lane(m_sched, 1, 1, 1e9, 4 * KiB);
    m_max_chunk = {4 * KiB, 4 * KiB};
    chunks = split(10 * KiB);
    EXPECT_EQ(1u, lanes_used(chunks));
    EXPECT_EQ(3u, chunks.size());

    /* a chunk array too small for the cut gives 0 chunks */
    std::vector<uct_mp_chunk_t> few(4);
    EXPECT_EQ(0u, uct_mp_sched_split(m_sched, MiB, 0, few.data(), 4));
    EXPECT_EQ(3u, uct_mp_sched_split(m_sched, 10 * KiB, 0, few.data(), 3));
}

TEST_F(test_mp_sched, active_backup_never_splits) {
    /* even with a table that says stripe */
    create(3, UCT_MP_POLICY_ACTIVE_BACKUP, "inf:stripe", 0);
    lane(0, 1e9, 0, false);
    lane(1, 1e9);
    lane(2, 10e9);
    uct_mp_sched_posted(m_sched, 1, 100 * MiB, 0);
    for (size_t len : {(size_t)1, 4 * KiB, MiB, 64 * MiB + 1}) {
        auto chunks = split(len);
        ASSERT_EQ(1u, chunks.size());
        EXPECT_EQ(1u, chunks[0].lane) << "the first usable lane";
    }
    lane(0, 1e9);
    EXPECT_EQ(0u, split(64 * MiB)[0].lane);
}

TEST_F(test_mp_sched, load_balance_small_ops_go_to_earliest_finish) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    lane(1, 2e9);

    /* 4k/1G > 4k/2G: lane 1 */
    auto chunks = split(4 * KiB);
    ASSERT_EQ(1u, chunks.size());
    EXPECT_EQ(1u, chunks[0].lane);
    post(chunks, 0);
    /* (4k + 4k)/2G == 4k/1G: tie, lowest index */
    chunks = split(4 * KiB);
    EXPECT_EQ(0u, chunks[0].lane);
    post(chunks, 0);
    /* (4k + 4k)/1G > (4k + 4k)/2G */
    EXPECT_EQ(1u, split(4 * KiB)[0].lane);
    /* 16k is still single; above it the op is water-filled */
    EXPECT_EQ(1u, split(16 * KiB).size());
    EXPECT_EQ(2u, lanes_used(split(256 * KiB)));
}

TEST_F(test_mp_sched, efficiency_keeps_small_ops_on_the_best_lane) {
    create(2, UCT_MP_POLICY_EFFICIENCY);
    lane(0, 1e9);
    lane(1, 2e9); /* best: highest weight */

    /* budget max(64 KiB, 2e9 * 0) = 64 KiB: lane 1 until more is outstanding */
    double now = 0;
    unsigned on_best = 0;
    for (int i = 0; i < 100; ++i) {
        auto chunks = split(4 * KiB, now);
        ASSERT_EQ(1u, chunks.size());
        if (chunks[0].lane != 1) {
            break;
        }
        post(chunks, now);
        ++on_best;
    }
    EXPECT_EQ(17u, on_best); /* 16 x 4 KiB = 64 KiB is not above budget */
    EXPECT_EQ(68 * KiB, uct_mp_sched_outstanding(m_sched, 1));
    /* overflow goes to the earliest finish: lane 0 */
    EXPECT_EQ(0u, split(4 * KiB)[0].lane);

    /* completions on the best lane bring the ops back */
    uct_mp_sched_completed(m_sched, 1, 68 * KiB, 0.001);
    EXPECT_EQ(1u, split(4 * KiB)[0].lane);

    /* rtt 100 us: budget 2e9 * 1e-4 = 200000 bytes */
    uct_mp_sched_set_rtt(m_sched, 100e-6);
    on_best = 0;
    for (int i = 0; i < 100; ++i) {
        auto chunks = split(4 * KiB, now);
        if (chunks[0].lane != 1) {
            break;
        }
        post(chunks, now);
        ++on_best;
    }
    EXPECT_EQ(49u, on_best); /* 48 x 4 KiB <= 200000 < 49 x 4 KiB */

    /* load_balance would have spread them: the first two differ */
    uct_mp_sched_t *lb = uct_mp_sched_create(2, UCT_MP_POLICY_LOAD_BALANCE,
                                             NULL, 8 * KiB);
    ASSERT_TRUE(lb != NULL);
    uct_mp_sched_set_lane(lb, 0, 1, 1e9, 0);
    uct_mp_sched_set_lane(lb, 1, 1, 2e9, 0);
    uct_mp_chunk_t c[2], d[2];
    ASSERT_EQ(1u, uct_mp_sched_split(lb, 4 * KiB, 0, c, 2));
    uct_mp_sched_posted(lb, c[0].lane, 4 * KiB, 0);
    ASSERT_EQ(1u, uct_mp_sched_split(lb, 4 * KiB, 0, d, 2));
    EXPECT_NE(c[0].lane, d[0].lane);
    uct_mp_sched_destroy(lb);
}

TEST_F(test_mp_sched, efficiency_stripes_large_ops) {
    create(2, UCT_MP_POLICY_EFFICIENCY);
    lane(0, 1e9);
    lane(1, 1e9);
    EXPECT_EQ(1u, lanes_used(split(256 * KiB)));
    auto s = shares(split(256 * KiB + 64));
    EXPECT_NEAR(128.0 * KiB, (double)s[0], 64.0);
    EXPECT_NEAR(128.0 * KiB, (double)s[1], 64.0);
}

TEST_F(test_mp_sched, unknown_weight_is_the_mean_of_known_ones) {
    create(3, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    lane(1, 3e9);
    lane(2, -1); /* unknown */
    EXPECT_DOUBLE_EQ(2e9, uct_mp_sched_weight(m_sched, 2));
    auto s = shares(split(6 * MiB));
    EXPECT_NEAR(2.0 * MiB, (double)s[2], 64.0);

    uct_mp_sched_destroy(m_sched);
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 0);
    lane(1, NAN);
    EXPECT_DOUBLE_EQ(1.0, uct_mp_sched_weight(m_sched, 0));
    s = shares(split(MiB));
    EXPECT_EQ(s[0], s[1]);
}

TEST_F(test_mp_sched, adaptation_follows_measured_throughput) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9); /* configured 1 GB/s, actually 62.5 MB/s */
    lane(1, 1e9);
    const std::vector<double> true_bw = {62.5e6, 1e9};
    double now = 0;

    /* before 1 MiB completed on lane 0 the configured weight stays */
    run_op(MiB, now, true_bw);
    EXPECT_EQ(1e9, uct_mp_sched_weight(m_sched, 0));
    EXPECT_EQ(0u, uct_mp_sched_outstanding(m_sched, 0));

    for (int i = 0; i < 30; ++i) {
        run_op(MiB, now, true_bw);
    }
    EXPECT_NEAR(62.5e6, uct_mp_sched_weight(m_sched, 0), 6.25e6);
    EXPECT_NEAR(1e9, uct_mp_sched_weight(m_sched, 1), 1e8);

    /* the split follows: lane 0 gets about 62.5/1062.5 of an op */
    auto s = shares(split(MiB, now));
    double want = MiB * 62.5 / 1062.5;
    EXPECT_NEAR(want, (double)s[0], want * 0.1 + 64);

    /* idle time between ops is not busy time: the estimate holds */
    for (int i = 0; i < 10; ++i) {
        now += 1.0;
        run_op(MiB, now, true_bw);
    }
    EXPECT_NEAR(62.5e6, uct_mp_sched_weight(m_sched, 0), 6.25e6);

    /* reset forgets the measurement: back to the configured weight */
    uct_mp_sched_reset_lane(m_sched, 0);
    EXPECT_EQ(1e9, uct_mp_sched_weight(m_sched, 0));
}

TEST_F(test_mp_sched, adaptation_averages_noisy_samples) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE, NULL, 8 * KiB);
    lane(0, 1e9);
    lane(1, 1e9);
    double now = 0;
    /* lane 0 alternates between 50 and 75 MB/s, mean 62.5 */
    for (int i = 0; i < 60; ++i) {
        run_op(MiB, now, {(i % 2) ? 75e6 : 50e6, 1e9});
    }
    EXPECT_NEAR(62.5e6, uct_mp_sched_weight(m_sched, 0), 6.25e6);
}

TEST_F(test_mp_sched, ops_completing_at_once_do_not_look_infinitely_fast) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    lane(1, 1e9);
    double now = 0;
    /* lane 1's chunks complete 1 ns after they are posted (a socket buffer
     * took them): the estimate is capped at twice the configured 1 GB/s */
    for (int i = 0; i < 40; ++i) {
        run_op(MiB, now, {1e9, 1e15});
        now += 0.01;
    }
    EXPECT_LE(uct_mp_sched_weight(m_sched, 1), 2e9);
    EXPECT_GE(uct_mp_sched_weight(m_sched, 1), 1e9);
    /* so lane 0 keeps about a third, not nothing */
    auto s = shares(split(MiB, now));
    EXPECT_GT(s[0], MiB / 5);
}

TEST_F(test_mp_sched, bytes_carried_besides_chunks_count_as_throughput) {
    create(1, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    double now = 0;
    /* 64 KiB chunks, each completing after 1 ms because 192 KiB of other
     * traffic (AMs) went first: the lane moved 256 KiB per ms */
    for (int i = 0; i < 40; ++i) {
        uct_mp_sched_posted(m_sched, 0, 64 * KiB, now);
        uct_mp_sched_carried(m_sched, 0, 192 * KiB, now + 0.0005);
        now += 0.001;
        uct_mp_sched_completed(m_sched, 0, 64 * KiB, now);
        now += 0.001; /* idle */
    }
    EXPECT_NEAR(256.0 * KiB / 0.001, uct_mp_sched_weight(m_sched, 0),
                0.1 * 256.0 * KiB / 0.001);
    /* carried bytes while nothing is outstanding measure nothing */
    uct_mp_sched_reset_lane(m_sched, 0);
    for (int i = 0; i < 40; ++i) {
        uct_mp_sched_carried(m_sched, 0, MiB, now);
        now += 0.001;
    }
    EXPECT_EQ(1e9, uct_mp_sched_weight(m_sched, 0));
}

TEST_F(test_mp_sched, small_completions_are_batched_into_samples) {
    create(1, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    /* 4 KiB ops at 100 MB/s, one after the other, with idle gaps */
    double now = 0;
    for (int i = 0; i < 256; ++i) { /* 1 MiB */
        uct_mp_sched_posted(m_sched, 0, 4 * KiB, now);
        now += 4096 / 100e6;
        uct_mp_sched_completed(m_sched, 0, 4 * KiB, now);
        now += 0.5; /* idle, not busy */
    }
    double w = uct_mp_sched_weight(m_sched, 0);
    EXPECT_NEAR(100e6, w, 1e6);

    /* 60 KiB at 10 MB/s: no sample yet, the weight does not move */
    for (int i = 0; i < 15; ++i) {
        uct_mp_sched_posted(m_sched, 0, 4 * KiB, now);
        now += 4096 / 10e6;
        uct_mp_sched_completed(m_sched, 0, 4 * KiB, now);
    }
    EXPECT_EQ(w, uct_mp_sched_weight(m_sched, 0));

    /* the 64th KiB completes a sample: w + (10 MB/s - w) / 4 */
    uct_mp_sched_posted(m_sched, 0, 4 * KiB, now);
    now += 4096 / 10e6;
    uct_mp_sched_completed(m_sched, 0, 4 * KiB, now);
    EXPECT_NEAR(w + (10e6 - w) / 4, uct_mp_sched_weight(m_sched, 0), 1e3);
}

TEST_F(test_mp_sched, starved_lane_is_probed_at_most_every_100ms) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    lane(0, 1e9);
    lane(1, 5e6); /* 0.5 % of the weight: its share merges away */

    std::vector<double> probes;
    for (int ms = 0; ms <= 1000; ms += 10) {
        double now  = ms / 1000.0;
        auto chunks = split(MiB, now);
        auto s      = shares(chunks);
        if (s[1] > 0) {
            EXPECT_EQ(8 * KiB, s[1]) << "one min_chunk piece";
            probes.push_back(now);
        }
        /* single-mode ops are never probes */
        EXPECT_EQ(0u, shares(split(4 * KiB, now))[1]);
    }
    ASSERT_FALSE(probes.empty());
    EXPECT_EQ(0.0, probes[0]) << "a never-probed lane is probed at once";
    for (size_t i = 1; i < probes.size(); ++i) {
        EXPECT_GE(probes[i] - probes[i - 1], 0.1 - 1e-9);
        EXPECT_LE(probes[i] - probes[i - 1], 0.11 + 1e-9);
    }
    EXPECT_GE(probes.size(), 10u);
    EXPECT_LE(probes.size(), 11u);

    /* a lane above 5 % is not starved: no probe, its share merges away */
    uct_mp_sched_destroy(m_sched);
    create(2, UCT_MP_POLICY_LOAD_BALANCE, NULL, 64 * KiB);
    lane(0, 1e9);
    lane(1, 60e6);
    EXPECT_EQ(0u, shares(split(MiB, 0))[1]);
    EXPECT_EQ(0u, shares(split(MiB, 10))[1]);
}

TEST_F(test_mp_sched, probe_needs_room_in_the_largest_share) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE, NULL, 8 * KiB);
    lane(0, 1e9);
    lane(1, 1e6);
    /* 16k + 64: the largest share keeps 8k + 64 >= min_chunk: probe */
    EXPECT_EQ(8 * KiB, shares(split(16 * KiB + 64, 0))[1]);
    /* t = 0.05: too soon after the last probe */
    EXPECT_EQ(0u, shares(split(20 * KiB, 0.05))[1]);
    /* t = 0.2: probed again */
    EXPECT_EQ(8 * KiB, shares(split(16 * KiB + 1, 0.2))[1]);
    uct_mp_sched_destroy(m_sched);

    create(2, UCT_MP_POLICY_LOAD_BALANCE, "1k:single,inf:stripe", 8 * KiB);
    lane(0, 1e9);
    lane(1, 1e6);
    /* 12 KiB: the largest share would drop below min_chunk: no probe */
    EXPECT_EQ(0u, shares(split(12 * KiB, 0))[1]);
    /* and that split did not use up the probe */
    EXPECT_EQ(8 * KiB, shares(split(16 * KiB, 0.001))[1]);
}

} // namespace
