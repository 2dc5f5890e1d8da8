/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lane liveness rule: see mp_liveness.h.
 */

#include "mp_liveness.h"

namespace uct_mp {
namespace {

/* a - b on a wrapping clock */
int64_t since(uint64_t a, uint64_t b) {
    return static_cast<int64_t>(a - b);
}

} // namespace

/*
 * A lane is silent when no probe sent in the last interval x misses was
 * answered on it AND nothing at all arrived on it for an interval: a path that
 * still delivers is congested (answers queue behind bulk data in the same
 * byte stream or send queue), not dead. A silent lane is dead:
 * - when the peer answered on another lane at least an interval later than
 *   on this one: the peer is alive and this path is not;
 * - otherwise (every lane silent: the peer may just not be progressing, or
 *   every path is gone) after twice the timeout.
 */
uct_mp_liveness_t judge(const uct_mp_liveness_input_t &in) {
    const int64_t timeout = static_cast<int64_t>(in.interval * in.misses);
    const int64_t interval = static_cast<int64_t>(in.interval);

    if ((since(in.now, in.last_answered) <= timeout) ||
        (since(in.now, in.last_arrival) <= interval)) {
        return UCT_MP_LIVENESS_ALIVE;
    }

    if (since(in.newest_answered, in.last_answered) > interval) {
        return UCT_MP_LIVENESS_DEAD_PATH;
    }

    return (since(in.now, in.last_answered) > 2 * timeout) ?
           UCT_MP_LIVENESS_DEAD_ALL_SILENT : UCT_MP_LIVENESS_ALIVE;
}

/*
 * A lane condemned by the rule above is only suspect: a congested path (tcp
 * backing off its retransmissions) goes silent for as long as a dead one.
 * It fails when nothing at all arrives on it for further timeouts; any
 * arrival, or an answer to a probe sent after the verdict, clears it.
 */
uct_mp_liveness_action_t decide(const uct_mp_liveness_input_t &in,
                                uct_mp_liveness_t *verdict_p) {
    const int64_t timeout  = static_cast<int64_t>(in.interval * in.misses);
    uct_mp_liveness_t verdict = judge(in);

    if (verdict_p != nullptr) {
        *verdict_p = verdict;
    }

    if (in.suspect_since == 0) {
        return (verdict == UCT_MP_LIVENESS_ALIVE) ? UCT_MP_LIVENESS_KEEP :
                                                    UCT_MP_LIVENESS_SUSPECT;
    }

    if (((in.last_arrival != 0) &&
         (since(in.last_arrival, in.suspect_since) > 0)) ||
        (since(in.last_answered, in.suspect_since) > 0)) {
        return UCT_MP_LIVENESS_CLEAR;
    }

    return (since(in.now, in.suspect_since) >
            UCT_MP_LIVENESS_SUSPECT_TIMEOUTS * timeout) ?
           UCT_MP_LIVENESS_FAIL : UCT_MP_LIVENESS_KEEP;
}

} // namespace uct_mp

extern "C" {

uct_mp_liveness_action_t
uct_mp_liveness_decide(const uct_mp_liveness_input_t *in,
                       uct_mp_liveness_t *verdict_p) {
    return uct_mp::decide(*in, verdict_p);
}

const char *uct_mp_liveness_action_str(uct_mp_liveness_action_t action) {
    switch (action) {
    case UCT_MP_LIVENESS_KEEP:
        return "keep";
    case UCT_MP_LIVENESS_SUSPECT:
        return "suspect";
    case UCT_MP_LIVENESS_CLEAR:
        return "clear";
    case UCT_MP_LIVENESS_FAIL:
        return "fail";
    }
    return "?";
}

uct_mp_liveness_t uct_mp_liveness_judge(const uct_mp_liveness_input_t *in) {
    return uct_mp::judge(*in);
}

const char *uct_mp_liveness_str(uct_mp_liveness_t verdict) {
    switch (verdict) {
    case UCT_MP_LIVENESS_ALIVE:
        return "alive";
    case UCT_MP_LIVENESS_DEAD_PATH:
        return "the peer answers on another lane";
    case UCT_MP_LIVENESS_DEAD_ALL_SILENT:
        return "no lane answers";
    }
    return "?";
}

}
