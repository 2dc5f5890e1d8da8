/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the lane state machine and lane bookkeeping.
 */

#include "mp_lanes.h"
#include "mp_wire.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace {

typedef std::pair<uct_mp_lane_state_t, uct_mp_lane_event_t> transition_key;

/* The allowed transitions, written out independently of the implementation */
std::map<transition_key, uct_mp_lane_state_t> expected_transitions() {
    std::map<transition_key, uct_mp_lane_state_t> t;
    t[{UCT_MP_LANE_IDLE, UCT_MP_LANE_EV_CREATE}]          = UCT_MP_LANE_CONNECTING;
    t[{UCT_MP_LANE_CONNECTING, UCT_MP_LANE_EV_CONNECTED}] = UCT_MP_LANE_STANDBY;
    t[{UCT_MP_LANE_STANDBY, UCT_MP_LANE_EV_PROMOTE}]      = UCT_MP_LANE_ACTIVE;
    t[{UCT_MP_LANE_ACTIVE, UCT_MP_LANE_EV_DEMOTE}]        = UCT_MP_LANE_STANDBY;
    t[{UCT_MP_LANE_ACTIVE, UCT_MP_LANE_EV_DRAIN}]         = UCT_MP_LANE_DRAINING;
    t[{UCT_MP_LANE_STANDBY, UCT_MP_LANE_EV_DRAIN}]        = UCT_MP_LANE_DRAINING;
    t[{UCT_MP_LANE_SUSPECT, UCT_MP_LANE_EV_DRAIN}]        = UCT_MP_LANE_DRAINING;
    t[{UCT_MP_LANE_ACTIVE, UCT_MP_LANE_EV_SUSPECT}]       = UCT_MP_LANE_SUSPECT;
    t[{UCT_MP_LANE_STANDBY, UCT_MP_LANE_EV_SUSPECT}]      = UCT_MP_LANE_SUSPECT;
    t[{UCT_MP_LANE_SUSPECT, UCT_MP_LANE_EV_EVIDENCE}]     = UCT_MP_LANE_STANDBY;
    for (auto s : {UCT_MP_LANE_CONNECTING, UCT_MP_LANE_ACTIVE,
                   UCT_MP_LANE_STANDBY, UCT_MP_LANE_SUSPECT,
                   UCT_MP_LANE_DRAINING, UCT_MP_LANE_FAILED}) {
        t[{s, UCT_MP_LANE_EV_ERROR}] = UCT_MP_LANE_FAILED;
    }
    t[{UCT_MP_LANE_FAILED, UCT_MP_LANE_EV_RETRY}]         = UCT_MP_LANE_CONNECTING;
    t[{UCT_MP_LANE_CLOSED, UCT_MP_LANE_EV_RETRY}]         = UCT_MP_LANE_CONNECTING;
    for (int s = 0; s < UCT_MP_LANE_STATE_LAST; ++s) {
        if (s != UCT_MP_LANE_CLOSED) {
            t[{(uct_mp_lane_state_t)s, UCT_MP_LANE_EV_CLOSE}] = UCT_MP_LANE_CLOSED;
        }
    }
    return t;
}

TEST(test_mp_lane_transition, table_matches_the_design) {
    auto expected = expected_transitions();
    for (int s = 0; s < UCT_MP_LANE_STATE_LAST; ++s) {
        for (int e = 0; e < UCT_MP_LANE_EV_LAST; ++e) {
            auto key = transition_key((uct_mp_lane_state_t)s,
                                      (uct_mp_lane_event_t)e);
            int want = expected.count(key) ? (int)expected[key] : -1;
            EXPECT_EQ(want, uct_mp_lane_transition(key.first, key.second))
                << uct_mp_lane_state_str(key.first) << " + "
                << uct_mp_lane_event_str(key.second);
        }
    }
}

TEST(test_mp_lane_transition, out_of_range_is_refused) {
    EXPECT_EQ(-1, uct_mp_lane_transition(UCT_MP_LANE_STATE_LAST,
                                         UCT_MP_LANE_EV_CLOSE));
    EXPECT_EQ(-1, uct_mp_lane_transition(UCT_MP_LANE_IDLE,
                                         UCT_MP_LANE_EV_LAST));
    EXPECT_STREQ("invalid", uct_mp_lane_state_str(UCT_MP_LANE_STATE_LAST));
    EXPECT_STREQ("invalid", uct_mp_lane_event_str(UCT_MP_LANE_EV_LAST));
    EXPECT_STREQ("invalid", uct_mp_policy_str(UCT_MP_POLICY_LAST));
}

TEST(test_mp_lane_transition, names) {
    EXPECT_STREQ("standby", uct_mp_lane_state_str(UCT_MP_LANE_STANDBY));
    EXPECT_STREQ("retry", uct_mp_lane_event_str(UCT_MP_LANE_EV_RETRY));
    EXPECT_STREQ("suspect", uct_mp_lane_state_str(UCT_MP_LANE_SUSPECT));
    EXPECT_STREQ("suspect", uct_mp_lane_event_str(UCT_MP_LANE_EV_SUSPECT));
    EXPECT_STREQ("evidence", uct_mp_lane_event_str(UCT_MP_LANE_EV_EVIDENCE));
    EXPECT_STREQ("close", uct_mp_lane_event_str(UCT_MP_LANE_EV_CLOSE));
    EXPECT_STREQ("closed", uct_mp_lane_state_str(UCT_MP_LANE_CLOSED));
    EXPECT_STREQ("load_balance", uct_mp_policy_str(UCT_MP_POLICY_LOAD_BALANCE));
}

class test_mp_lanes : public ::testing::Test {
protected:
    void TearDown() override {
        if (m_lanes != NULL) {
            uct_mp_lanes_destroy(m_lanes);
        }
    }

    void create(unsigned count, uct_mp_policy_t policy) {
        m_lanes = uct_mp_lanes_create(count, policy);
        ASSERT_TRUE(m_lanes != NULL);
    }

    void connect(unsigned lane) {
        ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, lane, UCT_MP_LANE_EV_CREATE));
        ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, lane,
                                        UCT_MP_LANE_EV_CONNECTED));
    }

    uct_mp_lane_state_t state(unsigned lane) {
        return uct_mp_lanes_state(m_lanes, lane);
    }

    int am_lane() { return uct_mp_lanes_select(m_lanes, UCT_MP_OP_AM, 8); }

    uct_mp_lanes_t *m_lanes = NULL;
};

TEST_F(test_mp_lanes, create_refuses_bad_counts) {
    EXPECT_EQ(NULL, uct_mp_lanes_create(0, UCT_MP_POLICY_ACTIVE_BACKUP));
    EXPECT_EQ(NULL, uct_mp_lanes_create(UCT_MP_MAX_LANES + 1,
                                        UCT_MP_POLICY_ACTIVE_BACKUP));
    EXPECT_EQ(NULL, uct_mp_lanes_create(2, UCT_MP_POLICY_LAST));
}

TEST_F(test_mp_lanes, new_lanes_are_idle_and_carry_nothing) {
    create(3, UCT_MP_POLICY_ACTIVE_BACKUP);
    EXPECT_EQ(3u, uct_mp_lanes_count(m_lanes));
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(UCT_MP_LANE_IDLE, state(i));
    }
    EXPECT_EQ(-1, am_lane());
    EXPECT_EQ(0u, uct_mp_lanes_usable(m_lanes));
}

TEST_F(test_mp_lanes, connecting_lane_carries_nothing) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CREATE));
    EXPECT_EQ(UCT_MP_LANE_CONNECTING, state(0));
    EXPECT_EQ(-1, am_lane());
}

TEST_F(test_mp_lanes, active_backup_lifecycle_with_failover_and_failback) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    connect(1);
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(1));
    EXPECT_EQ(0, am_lane());
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 1 << 20));
    EXPECT_EQ(2u, uct_mp_lanes_usable(m_lanes));

    /* primary fails: the backup takes over */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(UCT_MP_LANE_FAILED, state(0));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(1));
    EXPECT_EQ(1, am_lane());
    EXPECT_EQ(1u, uct_mp_lanes_counters(m_lanes, 0)->errors);

    /* a second error report changes nothing but the count */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(2u, uct_mp_lanes_counters(m_lanes, 0)->errors);

    /* fail-back: the primary returns and is preferred again */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_RETRY));
    EXPECT_EQ(UCT_MP_LANE_CONNECTING, state(0));
    EXPECT_EQ(1, am_lane());
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CONNECTED));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(1));
    EXPECT_EQ(0, am_lane());
}

TEST_F(test_mp_lanes, all_lanes_failed_leaves_no_lane) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    connect(1);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(0, am_lane());
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(-1, am_lane());
    EXPECT_EQ(-1, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 100));
    EXPECT_EQ(-1, uct_mp_lanes_select(m_lanes, UCT_MP_OP_ATOMIC, 8));
    EXPECT_EQ(0u, uct_mp_lanes_usable(m_lanes));
}

TEST_F(test_mp_lanes, draining_the_active_lane_moves_traffic) {
    create(3, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    connect(1);
    connect(2);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_DRAIN));
    EXPECT_EQ(UCT_MP_LANE_DRAINING, state(0));
    EXPECT_EQ(1, am_lane());
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(2));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CLOSE));
    EXPECT_EQ(UCT_MP_LANE_CLOSED, state(0));
    /* closed takes no more traffic events; only an undrain reopens it */
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CLOSE));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_DRAIN));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_RETRY));
    EXPECT_EQ(UCT_MP_LANE_CONNECTING, state(0));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CONNECTED));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(0, am_lane());
}

TEST_F(test_mp_lanes, load_balance_activates_every_lane) {
    create(3, UCT_MP_POLICY_LOAD_BALANCE);
    connect(0);
    connect(1);
    connect(2);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(i));
    }
    /* AMs and atomics stay on one lane */
    EXPECT_EQ(0, am_lane());
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_ATOMIC, 8));
}

TEST_F(test_mp_lanes, load_balance_rma_follows_byte_counters) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    connect(0);
    connect(1);
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 4096));
    uct_mp_lanes_account(m_lanes, 0, 4096);
    EXPECT_EQ(1, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 4096));
    uct_mp_lanes_account(m_lanes, 1, 10000);
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 4096));

    /* alternate 100 equal operations: bytes end up split evenly */
    for (int i = 0; i < 100; ++i) {
        int lane = uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 65536);
        ASSERT_GE(lane, 0);
        uct_mp_lanes_account(m_lanes, lane, 65536);
    }
    uint64_t b0 = uct_mp_lanes_counters(m_lanes, 0)->tx_bytes;
    uint64_t b1 = uct_mp_lanes_counters(m_lanes, 1)->tx_bytes;
    EXPECT_LE(std::max(b0, b1) - std::min(b0, b1), 65536u);
    EXPECT_EQ(100u + 2, uct_mp_lanes_counters(m_lanes, 0)->tx_ops +
                        uct_mp_lanes_counters(m_lanes, 1)->tx_ops);
}

TEST_F(test_mp_lanes, efficiency_keeps_lanes_active_but_prefers_the_first) {
    create(2, UCT_MP_POLICY_EFFICIENCY);
    connect(0);
    connect(1);
    /* every lane can take striped RMA; whole ops prefer the best lane */
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(1));
    uct_mp_lanes_account(m_lanes, 0, 1 << 20);
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 1 << 22));
    EXPECT_EQ(0, uct_mp_lanes_select(m_lanes, UCT_MP_OP_AM, 8));
}

TEST_F(test_mp_lanes, refused_event_leaves_state_unchanged) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CONNECTED));
    EXPECT_EQ(UCT_MP_LANE_IDLE, state(0));
    connect(0);
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CREATE));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_RETRY));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(0u, uct_mp_lanes_counters(m_lanes, 0)->errors);
}

TEST_F(test_mp_lanes, out_of_range_lanes_are_harmless) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 2, UCT_MP_LANE_EV_CREATE));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 1000, UCT_MP_LANE_EV_CREATE));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_LAST));
    EXPECT_EQ(UCT_MP_LANE_IDLE, uct_mp_lanes_state(m_lanes, 7));
    EXPECT_EQ(NULL, uct_mp_lanes_counters(m_lanes, 2));
    uct_mp_lanes_account(m_lanes, 5, 100); /* ignored */
    EXPECT_EQ(0u, uct_mp_lanes_counters(m_lanes, 0)->tx_bytes);
}

TEST_F(test_mp_lanes, suspect_lane_takes_no_traffic_and_returns_on_evidence) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    connect(0);
    connect(1);

    /* the AM lane goes silent: AMs and RMA move to the other lane */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(UCT_MP_LANE_SUSPECT, state(0));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(1));
    EXPECT_EQ(1, am_lane());
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(1, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 65536));
        uct_mp_lanes_account(m_lanes, 1, 65536);
    }
    EXPECT_EQ(1u, uct_mp_lanes_usable(m_lanes));
    EXPECT_EQ(0u, uct_mp_lanes_counters(m_lanes, 0)->errors);

    /* suspected again, or promoted: nothing changes */
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_PROMOTE));
    EXPECT_EQ(UCT_MP_LANE_SUSPECT, state(0));

    /* it answers: the election makes it ACTIVE and the AM lane again */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_EVIDENCE));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(0, am_lane());
    EXPECT_EQ(2u, uct_mp_lanes_usable(m_lanes));

    /* evidence on a healthy lane is no event */
    EXPECT_EQ(-1, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_EVIDENCE));
}

TEST_F(test_mp_lanes, suspect_backup_returns_as_backup) {
    create(3, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    connect(1);
    connect(2);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(UCT_MP_LANE_SUSPECT, state(1));
    EXPECT_EQ(0, am_lane());
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_EVIDENCE));
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(1));
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(2));
    EXPECT_EQ(0, am_lane());
}

TEST_F(test_mp_lanes, last_lane_failing_takes_the_suspect_lane_back) {
    create(2, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    connect(1);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(0, am_lane());

    /* the other path is cut for real: the endpoint keeps a lane */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(UCT_MP_LANE_FAILED, state(0));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(1));
    EXPECT_EQ(1, am_lane());
    EXPECT_EQ(1, uct_mp_lanes_select(m_lanes, UCT_MP_OP_RMA, 1 << 20));

    /* the lane that fails over to it comes back: preferred again */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_RETRY));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_CONNECTED));
    EXPECT_EQ(0, am_lane());
    EXPECT_EQ(UCT_MP_LANE_STANDBY, state(1));
}

TEST_F(test_mp_lanes, suspecting_the_only_lane_keeps_it_carrying) {
    create(2, UCT_MP_POLICY_LOAD_BALANCE);
    connect(0);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_CREATE));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(0));
    EXPECT_EQ(0, am_lane());
    EXPECT_EQ(UCT_MP_LANE_CONNECTING, state(1));
}

TEST_F(test_mp_lanes, every_lane_suspect_keeps_them_all) {
    create(3, UCT_MP_POLICY_LOAD_BALANCE);
    connect(0);
    connect(1);
    connect(2);
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_SUSPECT));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_SUSPECT));
    EXPECT_EQ(2, am_lane());
    EXPECT_EQ(UCT_MP_LANE_SUSPECT, state(0));
    EXPECT_EQ(UCT_MP_LANE_SUSPECT, state(1));

    /* the last one suspected too: all of them carry again */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 2, UCT_MP_LANE_EV_SUSPECT));
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(UCT_MP_LANE_ACTIVE, state(i)) << i;
    }
    EXPECT_EQ(0, am_lane());

    /* a suspect lane that fails is gone for good; no lane: none */
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_SUSPECT));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 1, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(UCT_MP_LANE_FAILED, state(1));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 0, UCT_MP_LANE_EV_ERROR));
    ASSERT_EQ(0, uct_mp_lanes_event(m_lanes, 2, UCT_MP_LANE_EV_ERROR));
    EXPECT_EQ(-1, am_lane());
    EXPECT_EQ(0u, uct_mp_lanes_usable(m_lanes));
}

TEST_F(test_mp_lanes, random_events_keep_the_invariants) {
    /* invariant 1 (DESIGN 6): the AM lane is ACTIVE or there is none; and
     * a SUSPECT lane exists only while another lane is ACTIVE */
    unsigned seed = 12345;
    for (auto policy : {UCT_MP_POLICY_ACTIVE_BACKUP,
                        UCT_MP_POLICY_LOAD_BALANCE}) {
        create(4, policy);
        for (int i = 0; i < 20000; ++i) {
            seed = seed * 1103515245u + 12345u;
            unsigned lane = (seed >> 8) % 4;
            auto ev = (uct_mp_lane_event_t)((seed >> 16) %
                                            UCT_MP_LANE_EV_LAST);
            uct_mp_lane_state_t prev = state(lane);
            int rc = uct_mp_lanes_event(m_lanes, lane, ev);
            if (ev == UCT_MP_LANE_EV_CLOSE && prev != UCT_MP_LANE_CLOSED) {
                ASSERT_EQ(0, rc);
            }
            int am = am_lane();
            bool suspect = false;
            for (unsigned l = 0; l < 4; ++l) {
                suspect |= (state(l) == UCT_MP_LANE_SUSPECT);
            }
            if (am >= 0) {
                ASSERT_EQ(UCT_MP_LANE_ACTIVE, state(am));
            }
            ASSERT_TRUE(!suspect || (uct_mp_lanes_usable(m_lanes) > 0))
                << "a suspect lane while no lane carries, event " << i;
            if (uct_mp_lanes_usable(m_lanes) > 0) {
                ASSERT_GE(am, 0);
            }
            if (i % 1000 == 999) { /* start over now and then */
                uct_mp_lanes_destroy(m_lanes);
                m_lanes = uct_mp_lanes_create(4, policy);
                ASSERT_TRUE(m_lanes != NULL);
            }
        }
        uct_mp_lanes_destroy(m_lanes);
        m_lanes = NULL;
    }
}

TEST_F(test_mp_lanes, counters_accumulate) {
    create(1, UCT_MP_POLICY_ACTIVE_BACKUP);
    connect(0);
    uct_mp_lanes_account(m_lanes, 0, 10);
    uct_mp_lanes_account(m_lanes, 0, 32);
    EXPECT_EQ(2u, uct_mp_lanes_counters(m_lanes, 0)->tx_ops);
    EXPECT_EQ(42u, uct_mp_lanes_counters(m_lanes, 0)->tx_bytes);
}

} // namespace
