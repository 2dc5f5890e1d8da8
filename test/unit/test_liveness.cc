/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the lane liveness rule (keepalive evidence to a verdict).
 */

#include "mp_liveness.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

const uint64_t ms = 1000; /* ticks per ms in these tests */

/* A lane probed every 100 ms, failing after 3 silent intervals */
uct_mp_liveness_input_t lane(uint64_t now, uint64_t answered,
                             uint64_t arrival, uint64_t newest) {
    uct_mp_liveness_input_t in;
    in.now             = now;
    in.last_answered   = answered;
    in.last_arrival    = arrival;
    in.newest_answered = newest;
    in.interval        = 100 * ms;
    in.misses          = 3;
    return in;
}

uct_mp_liveness_t judge(const uct_mp_liveness_input_t &in) {
    return uct_mp_liveness_judge(&in);
}

} // namespace

TEST(liveness, answered_within_the_timeout_is_alive) {
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE, judge(lane(t0 + 300 * ms, t0, 0, t0)));
}

TEST(liveness, dropped_path_fails_when_the_peer_answers_elsewhere) {
    /* path dead since t0; the other lane answered a probe sent at t0+250 */
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_PATH,
              judge(lane(t0 + 301 * ms, t0, t0 + 5 * ms, t0 + 250 * ms)));
}

TEST(liveness, congested_path_that_still_delivers_is_alive) {
    /* answers queued for a second behind bulk data, but data arrives */
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE,
              judge(lane(t0 + 1000 * ms, t0, t0 + 990 * ms, t0 + 950 * ms)));
}

TEST(liveness, delivery_that_stopped_an_interval_ago_no_longer_counts) {
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_PATH,
              judge(lane(t0 + 400 * ms, t0, t0 + 299 * ms, t0 + 350 * ms)));
}

TEST(liveness, peer_that_stalls_fails_no_lane_before_twice_the_timeout) {
    /* every lane silent: the newest answer is no later than this lane's */
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE,
              judge(lane(t0 + 450 * ms, t0, t0, t0 + 60 * ms)));
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE,
              judge(lane(t0 + 600 * ms, t0, t0, t0)));
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_ALL_SILENT,
              judge(lane(t0 + 601 * ms, t0, t0, t0 + 90 * ms)));
}

TEST(liveness, other_lane_answer_within_an_interval_is_not_proof) {
    /* probes of the two lanes are out of phase by up to an interval */
    uint64_t t0 = 1000000 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE,
              judge(lane(t0 + 350 * ms, t0, t0, t0 + 100 * ms)));
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_PATH,
              judge(lane(t0 + 350 * ms, t0, t0, t0 + 101 * ms)));
}

TEST(liveness, clock_wrap_is_handled) {
    uint64_t t0 = UINT64_MAX - 50 * ms; /* the clock wraps 50 ms later */
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE, judge(lane(t0 + 200 * ms, t0, 0, t0)));
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_PATH,
              judge(lane(t0 + 301 * ms, t0, t0, t0 + 201 * ms)));
}

TEST(liveness, verdicts_have_names) {
    EXPECT_STREQ("alive", uct_mp_liveness_str(UCT_MP_LIVENESS_ALIVE));
    EXPECT_STREQ("no lane answers",
                 uct_mp_liveness_str(UCT_MP_LIVENESS_DEAD_ALL_SILENT));
}
