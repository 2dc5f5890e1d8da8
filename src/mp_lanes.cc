/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lane state machine, per-lane counters and lane selection: see mp_lanes.h.
 */

#include "mp_lanes.h"
#include "mp_wire.h"

#include <array>
#include <new>

namespace uct_mp {
namespace {

const int X = -1; /* transition not allowed */

/*
 * Next state for (state, event). Rows: states in enum order; columns: events
 * CREATE, CONNECTED, PROMOTE, DEMOTE, DRAIN, SUSPECT, EVIDENCE, ERROR, RETRY,
 * CLOSE.
 */
const int transitions[UCT_MP_LANE_STATE_LAST][UCT_MP_LANE_EV_LAST] = {
    /* IDLE: only a lane ep creation or a close */
    {UCT_MP_LANE_CONNECTING, X, X, X, X, X, X, X, X, UCT_MP_LANE_CLOSED},
    /* CONNECTING: the peer side connects, or the attempt fails */
    {X, UCT_MP_LANE_STANDBY, X, X, X, X, X, UCT_MP_LANE_FAILED, X,
     UCT_MP_LANE_CLOSED},
    /* ACTIVE: carries traffic until demoted, drained, suspected or failed */
    {X, X, X, UCT_MP_LANE_STANDBY, UCT_MP_LANE_DRAINING, UCT_MP_LANE_SUSPECT,
     X, UCT_MP_LANE_FAILED, X, UCT_MP_LANE_CLOSED},
    /* STANDBY: connected and idle, ready to be promoted */
    {X, X, UCT_MP_LANE_ACTIVE, X, UCT_MP_LANE_DRAINING, UCT_MP_LANE_SUSPECT,
     X, UCT_MP_LANE_FAILED, X, UCT_MP_LANE_CLOSED},
    /* SUSPECT: silent; evidence brings it back, a further silence or a
     * transport error fails it */
    {X, X, X, X, UCT_MP_LANE_DRAINING, X, UCT_MP_LANE_STANDBY,
     UCT_MP_LANE_FAILED, X, UCT_MP_LANE_CLOSED},
    /* DRAINING: no new work; ends closed, or failed if the path dies first */
    {X, X, X, X, X, X, X, UCT_MP_LANE_FAILED, X, UCT_MP_LANE_CLOSED},
    /* FAILED: further errors change nothing; fail-back retries the lane */
    {X, X, X, X, X, X, X, UCT_MP_LANE_FAILED, UCT_MP_LANE_CONNECTING,
     UCT_MP_LANE_CLOSED},
    /* CLOSED: final, except that undrain reopens a drained lane */
    {X, X, X, X, X, X, X, X, UCT_MP_LANE_CONNECTING, X},
};

bool usable(uct_mp_lane_state_t state)
{
    return (state == UCT_MP_LANE_ACTIVE) || (state == UCT_MP_LANE_STANDBY);
}

/* The lanes of one mp endpoint */
class lane_set {
public:
    lane_set(unsigned count, uct_mp_policy_t policy) :
        m_count(count), m_policy(policy) {
        m_states.fill(UCT_MP_LANE_IDLE);
        m_counters.fill(uct_mp_lane_counters_t());
    }

    unsigned count() const { return m_count; }

    uct_mp_lane_state_t state(unsigned lane) const {
        return (lane < m_count) ? m_states[lane] : UCT_MP_LANE_IDLE;
    }

    int event(unsigned lane, uct_mp_lane_event_t event) {
        if ((lane >= m_count) || (event >= UCT_MP_LANE_EV_LAST)) {
            return -1;
        }

        int next = uct_mp_lane_transition(m_states[lane], event);
        if (next < 0) {
            return -1;
        }

        m_states[lane] = static_cast<uct_mp_lane_state_t>(next);
        if (event == UCT_MP_LANE_EV_ERROR) {
            ++m_counters[lane].errors;
        }
        elect();
        return 0;
    }

    int select(uct_mp_op_class_t op) const {
        int best = -1;

        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (m_states[lane] != UCT_MP_LANE_ACTIVE) {
                continue;
            }
            /* AMs and atomics keep one lane: UCT ordering holds per lane */
            if ((op != UCT_MP_OP_RMA) ||
                (m_policy != UCT_MP_POLICY_LOAD_BALANCE)) {
                return lane;
            }
            if ((best < 0) ||
                (m_counters[lane].tx_bytes < m_counters[best].tx_bytes)) {
                best = lane;
            }
        }
        return best;
    }

    void account(unsigned lane, size_t length) {
        if (lane < m_count) {
            ++m_counters[lane].tx_ops;
            m_counters[lane].tx_bytes += length;
        }
    }

    const uct_mp_lane_counters_t *counters(unsigned lane) const {
        return (lane < m_count) ? &m_counters[lane] : nullptr;
    }

    unsigned num_usable() const {
        unsigned n = 0;
        for (unsigned lane = 0; lane < m_count; ++lane) {
            n += usable(m_states[lane]);
        }
        return n;
    }

private:
    /*
     * Policy election over the connected lanes. load_balance: all of them
     * carry traffic. active_backup (and efficiency, for now): the first in
     * preference order carries traffic, the others stand by. With none left,
     * the suspect lanes are taken back: a lane that went silent may only be
     * congested, and failing the endpoint would lose what it still carries.
     */
    void elect() {
        bool primary_taken = false;

        if (num_usable() == 0) {
            for (unsigned lane = 0; lane < m_count; ++lane) {
                if (m_states[lane] == UCT_MP_LANE_SUSPECT) {
                    m_states[lane] = UCT_MP_LANE_STANDBY;
                }
            }
        }

        for (unsigned lane = 0; lane < m_count; ++lane) {
            if (!usable(m_states[lane])) {
                continue;
            }
            /* load_balance and efficiency keep every lane ACTIVE (the
             * striping scheduler decides how much each carries); under
             * active_backup only the first connected lane is */
            bool active = (m_policy != UCT_MP_POLICY_ACTIVE_BACKUP) ||
                          !primary_taken;
            m_states[lane] = active ? UCT_MP_LANE_ACTIVE : UCT_MP_LANE_STANDBY;
            primary_taken  = true;
        }
    }

    unsigned                                                m_count;
    uct_mp_policy_t                                         m_policy;
    std::array<uct_mp_lane_state_t, UCT_MP_MAX_LANES>       m_states;
    std::array<uct_mp_lane_counters_t, UCT_MP_MAX_LANES>    m_counters;
};

} // namespace
} // namespace uct_mp


struct uct_mp_lanes {
    uct_mp::lane_set set;
};


extern "C" {

const char *uct_mp_lane_state_str(uct_mp_lane_state_t state)
{
    static const char *names[] = {"idle",     "connecting", "active",
                                  "standby",  "suspect",    "draining",
                                  "failed",   "closed"};
    static_assert(sizeof(names) / sizeof(names[0]) == UCT_MP_LANE_STATE_LAST,
                  "a name for every lane state");
    return (state < UCT_MP_LANE_STATE_LAST) ? names[state] : "invalid";
}

const char *uct_mp_lane_event_str(uct_mp_lane_event_t event)
{
    static const char *names[] = {"create",   "connected", "promote",
                                  "demote",   "drain",     "suspect",
                                  "evidence", "error",     "retry",
                                  "close"};
    static_assert(sizeof(names) / sizeof(names[0]) == UCT_MP_LANE_EV_LAST,
                  "a name for every lane event");
    return (event < UCT_MP_LANE_EV_LAST) ? names[event] : "invalid";
}

const char *uct_mp_policy_str(uct_mp_policy_t policy)
{
    static const char *names[] = {"active_backup", "load_balance",
                                  "efficiency"};
    return (policy < UCT_MP_POLICY_LAST) ? names[policy] : "invalid";
}

int uct_mp_lane_transition(uct_mp_lane_state_t state, uct_mp_lane_event_t event)
{
    if ((state >= UCT_MP_LANE_STATE_LAST) || (event >= UCT_MP_LANE_EV_LAST)) {
        return -1;
    }
    return uct_mp::transitions[state][event];
}

uct_mp_lanes_t *uct_mp_lanes_create(unsigned lane_count, uct_mp_policy_t policy)
{
    if ((lane_count == 0) || (lane_count > UCT_MP_MAX_LANES) ||
        (policy >= UCT_MP_POLICY_LAST)) {
        return nullptr;
    }
    return new (std::nothrow) uct_mp_lanes{uct_mp::lane_set(lane_count, policy)};
}

void uct_mp_lanes_destroy(uct_mp_lanes_t *lanes)
{
    delete lanes;
}

unsigned uct_mp_lanes_count(const uct_mp_lanes_t *lanes)
{
    return lanes->set.count();
}

uct_mp_lane_state_t uct_mp_lanes_state(const uct_mp_lanes_t *lanes,
                                       unsigned lane)
{
    return lanes->set.state(lane);
}

int uct_mp_lanes_event(uct_mp_lanes_t *lanes, unsigned lane,
                       uct_mp_lane_event_t event)
{
    return lanes->set.event(lane, event);
}

int uct_mp_lanes_select(const uct_mp_lanes_t *lanes, uct_mp_op_class_t op,
                        size_t length)
{
    (void)length; /* size thresholds come with striping */
    return lanes->set.select(op);
}

void uct_mp_lanes_account(uct_mp_lanes_t *lanes, unsigned lane, size_t length)
{
    lanes->set.account(lane, length);
}

const uct_mp_lane_counters_t *
uct_mp_lanes_counters(const uct_mp_lanes_t *lanes, unsigned lane)
{
    return lanes->set.counters(lane);
}

unsigned uct_mp_lanes_usable(const uct_mp_lanes_t *lanes)
{
    return lanes->set.num_usable();
}

} // extern "C"
