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
    in.suspect_since   = 0;
    return in;
}

/* The same lane, suspect since suspect */
uct_mp_liveness_input_t suspect_lane(uint64_t now, uint64_t answered,
                                     uint64_t arrival, uint64_t newest,
                                     uint64_t suspect) {
    uct_mp_liveness_input_t in = lane(now, answered, arrival, newest);
    in.suspect_since           = suspect;
    return in;
}

uct_mp_liveness_action_t decide(const uct_mp_liveness_input_t &in) {
    return uct_mp_liveness_decide(&in, NULL);
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

TEST(liveness_decide, healthy_lane_is_kept) {
    uint64_t t0 = 1000000 * ms;
    uct_mp_liveness_t verdict = UCT_MP_LIVENESS_DEAD_PATH;
    auto in = lane(t0 + 300 * ms, t0, 0, t0);
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP, uct_mp_liveness_decide(&in, &verdict));
    EXPECT_EQ(UCT_MP_LIVENESS_ALIVE, verdict);
}

TEST(liveness_decide, first_verdict_makes_the_lane_suspect_not_failed) {
    uint64_t t0 = 1000000 * ms;
    uct_mp_liveness_t verdict = UCT_MP_LIVENESS_ALIVE;
    auto in = lane(t0 + 301 * ms, t0, t0 + 5 * ms, t0 + 250 * ms);
    EXPECT_EQ(UCT_MP_LIVENESS_SUSPECT, uct_mp_liveness_decide(&in, &verdict));
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_PATH, verdict);

    /* every lane silent: suspect after twice the timeout, as the judge */
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP, decide(lane(t0 + 600 * ms, t0, t0, t0)));
    in = lane(t0 + 601 * ms, t0, t0, t0);
    EXPECT_EQ(UCT_MP_LIVENESS_SUSPECT, uct_mp_liveness_decide(&in, &verdict));
    EXPECT_EQ(UCT_MP_LIVENESS_DEAD_ALL_SILENT, verdict);
}

TEST(liveness_decide, suspect_lane_fails_after_further_timeouts) {
    /* suspect at t0+301; silent since: kept up to 600 ms later, then fails */
    uint64_t t0 = 1000000 * ms, s = t0 + 301 * ms;
    ASSERT_EQ(2, UCT_MP_LIVENESS_SUSPECT_TIMEOUTS);
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP,
              decide(suspect_lane(s, t0, t0 + 5 * ms, t0 + 250 * ms, s)));
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP,
              decide(suspect_lane(s + 600 * ms, t0, t0 + 5 * ms,
                                  t0 + 850 * ms, s)));
    EXPECT_EQ(UCT_MP_LIVENESS_FAIL,
              decide(suspect_lane(s + 601 * ms, t0, t0 + 5 * ms,
                                  t0 + 850 * ms, s)));
}

TEST(liveness_decide, path_dropped_400ms_is_back_before_it_fails) {
    /* tcp retries a segment lost at t0 200 ms and 600 ms later: the first
     * arrival after a 400 ms drop comes ~600 ms after t0, when the lane is
     * suspect (last probe answered at t0) but not failed */
    uint64_t t0 = 1000000 * ms;
    uct_mp_liveness_input_t in = lane(t0 + 301 * ms, t0, t0, t0 + 250 * ms);
    ASSERT_EQ(UCT_MP_LIVENESS_SUSPECT, decide(in));
    uint64_t s = in.now;
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP,
              decide(suspect_lane(t0 + 640 * ms, t0, t0, t0 + 550 * ms, s)));
    EXPECT_EQ(UCT_MP_LIVENESS_CLEAR,
              decide(suspect_lane(t0 + 650 * ms, t0, t0 + 645 * ms,
                                  t0 + 550 * ms, s)));
}

TEST(liveness_decide, suspect_lane_fails_even_when_it_is_the_last) {
    /* the other lane died too, so no lane answers: a lane that stayed
     * suspect that long still fails (then the endpoint reports) */
    uint64_t t0 = 1000000 * ms, s = t0 + 301 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_FAIL,
              decide(suspect_lane(s + 601 * ms, t0, t0, t0, s)));
}

TEST(liveness_decide, arrival_after_the_verdict_clears_a_suspect_lane) {
    /* a congested path: tcp's retransmission timer silenced it ~300 ms */
    uint64_t t0 = 1000000 * ms, s = t0 + 301 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_CLEAR,
              decide(suspect_lane(s + 40 * ms, t0, s + 1, t0 + 300 * ms, s)));
    /* even after the deadline: evidence wins over it */
    EXPECT_EQ(UCT_MP_LIVENESS_CLEAR,
              decide(suspect_lane(s + 700 * ms, t0, s + 690 * ms,
                                  t0 + 950 * ms, s)));
    /* what arrived before the verdict is no evidence of after it */
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP,
              decide(suspect_lane(s + 40 * ms, t0, s, t0 + 300 * ms, s)));
}

TEST(liveness_decide, probe_answered_after_the_verdict_clears) {
    uint64_t t0 = 1000000 * ms, s = t0 + 301 * ms;
    EXPECT_EQ(UCT_MP_LIVENESS_CLEAR,
              decide(suspect_lane(s + 150 * ms, s + 100 * ms, 0,
                                  s + 100 * ms, s)));
}

TEST(liveness_decide, clock_wrap_is_handled) {
    uint64_t t0 = UINT64_MAX - 350 * ms, s = t0 + 301 * ms; /* wraps at +350 */
    EXPECT_EQ(UCT_MP_LIVENESS_SUSPECT,
              decide(lane(s, t0, t0, t0 + 201 * ms)));
    EXPECT_EQ(UCT_MP_LIVENESS_KEEP,
              decide(suspect_lane(s + 599 * ms, t0, t0, t0 + 201 * ms, s)));
    EXPECT_EQ(UCT_MP_LIVENESS_CLEAR,
              decide(suspect_lane(s + 599 * ms, t0, s + 100 * ms,
                                  t0 + 201 * ms, s)));
    EXPECT_EQ(UCT_MP_LIVENESS_FAIL,
              decide(suspect_lane(s + 601 * ms, t0, t0, t0 + 201 * ms, s)));
}

TEST(liveness_decide, actions_have_names) {
    EXPECT_STREQ("suspect", uct_mp_liveness_action_str(UCT_MP_LIVENESS_SUSPECT));
    EXPECT_STREQ("fail", uct_mp_liveness_action_str(UCT_MP_LIVENESS_FAIL));
}
