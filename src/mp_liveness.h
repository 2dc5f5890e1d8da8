/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Liveness of one lane of an mp endpoint from its keepalive evidence: the
 * rule that turns "no probe answered" into "this path is suspect", and a
 * suspect path that stays silent into "this path is dead" (docs/DESIGN.md
 * 9.1). Narrow C facade over mp_liveness.cc; times are ticks of
 * any monotonic clock that may wrap (differences are taken signed).
 */

#ifndef UCT_MP_LIVENESS_H_
#define UCT_MP_LIVENESS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the keepalive concludes about a lane */
typedef enum {
    UCT_MP_LIVENESS_ALIVE,          /* a probe crossed recently, or it still
                                       delivers (congested, not dead) */
    UCT_MP_LIVENESS_DEAD_PATH,      /* silent while the peer answers on
                                       another lane: this path is dead */
    UCT_MP_LIVENESS_DEAD_ALL_SILENT /* every lane silent for twice the
                                       timeout: peer or all paths gone */
} uct_mp_liveness_t;

/*
 * How many timeouts (interval x misses) a suspect lane stays suspect before
 * it fails. tcp backs off its retransmissions: a path that lost a segment is
 * retried 200 ms later, then 400 ms after that, so a path dropped for 400 ms
 * is silent for about 600 ms. One further timeout of 300 ms (100 ms x 3)
 * would fail it just before it comes back.
 */
#define UCT_MP_LIVENESS_SUSPECT_TIMEOUTS 2

/* What the keepalive does with a lane (uct_mp_liveness_decide) */
typedef enum {
    UCT_MP_LIVENESS_KEEP,    /* nothing changes */
    UCT_MP_LIVENESS_SUSPECT, /* the first verdict: traffic leaves the lane,
                                which stays open and probed */
    UCT_MP_LIVENESS_CLEAR,   /* a suspect lane showed evidence: it is back */
    UCT_MP_LIVENESS_FAIL     /* suspect and still silent for
                                UCT_MP_LIVENESS_SUSPECT_TIMEOUTS further
                                timeouts: the lane fails */
} uct_mp_liveness_action_t;

/* Evidence of one lane, and of the endpoint's other lanes */
typedef struct {
    uint64_t now;
    uint64_t last_answered;  /* send time of the newest probe answered on it */
    uint64_t last_arrival;   /* when anything last arrived on it (or an RMA
                                the peer acknowledged over it); 0: never */
    uint64_t newest_answered;/* newest last_answered over all watched lanes,
                                this one included */
    uint64_t interval;       /* keepalive interval */
    unsigned misses;         /* intervals of silence that fail a lane */
    uint64_t suspect_since;  /* when the lane became suspect; 0: it is not
                                (uct_mp_liveness_decide only) */
} uct_mp_liveness_input_t;

/* Is the lane silent enough to be dead? (suspect_since is not used) */
uct_mp_liveness_t uct_mp_liveness_judge(const uct_mp_liveness_input_t *in);

/*
 * The keepalive's action for a lane. Not suspect: SUSPECT when the judge
 * says dead, else KEEP. Suspect: CLEAR when anything arrived on it (or a
 * probe sent) after suspect_since, else FAIL once now is more than
 * UCT_MP_LIVENESS_SUSPECT_TIMEOUTS x interval x misses after suspect_since,
 * else KEEP. *verdict_p (may be NULL) gets the
 * judge's verdict, for the log.
 */
uct_mp_liveness_action_t
uct_mp_liveness_decide(const uct_mp_liveness_input_t *in,
                       uct_mp_liveness_t *verdict_p);

const char *uct_mp_liveness_action_str(uct_mp_liveness_action_t action);

const char *uct_mp_liveness_str(uct_mp_liveness_t verdict);

#ifdef __cplusplus
}
#endif

#endif
