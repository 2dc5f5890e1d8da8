/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Liveness of one lane of an mp endpoint from its keepalive evidence: the
 * rule that turns "no probe answered" into "this path is dead" (docs/
 * DESIGN.md 9.1). Narrow C facade over mp_liveness.cc; times are ticks of
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
} uct_mp_liveness_input_t;

uct_mp_liveness_t uct_mp_liveness_judge(const uct_mp_liveness_input_t *in);

const char *uct_mp_liveness_str(uct_mp_liveness_t verdict);

#ifdef __cplusplus
}
#endif

#endif
