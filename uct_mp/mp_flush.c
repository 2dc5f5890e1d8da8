/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_flush.h"
#include "mp_wire.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/debug/memtrack_int.h>


typedef struct uct_mp_flush {
    uct_completion_t lanes_comp;  /* counts lanes still flushing, plus a guard */
    uct_completion_t *user_comp;
} uct_mp_flush_t;


static void uct_mp_flush_completed(uct_completion_t *self)
{
    uct_mp_flush_t *flush = ucs_container_of(self, uct_mp_flush_t, lanes_comp);

    uct_invoke_completion(flush->user_comp, self->status);
    ucs_free(flush);
}

ucs_status_t uct_mp_flush_lanes(void *const *lane_objs, unsigned count,
                                uct_mp_flush_lane_func_t flush_func,
                                unsigned flags, uct_completion_t *comp,
                                int *busy_lane_p, int *failed_lane_p)
{
    int in_progress[UCT_MP_MAX_LANES] = {0};
    unsigned i, num_in_progress = 0;
    uct_mp_flush_t *flush;
    ucs_status_t status;

    /* First pass without completions: nothing to undo if a lane is busy */
    for (i = 0; i < count; ++i) {
        if (lane_objs[i] == NULL) {
            continue;
        }

        status = flush_func(lane_objs[i], flags, NULL);
        if (status == UCS_INPROGRESS) {
            in_progress[i] = 1;
            ++num_in_progress;
        } else if (status != UCS_OK) {
            if (status == UCS_ERR_NO_RESOURCE) {
                if (busy_lane_p != NULL) {
                    *busy_lane_p = i;
                }
            } else if (failed_lane_p != NULL) {
                *failed_lane_p = i;
            }
            return status;
        }
    }

    if (num_in_progress == 0) {
        return UCS_OK;
    } else if (comp == NULL) {
        return UCS_INPROGRESS;
    }

    flush = ucs_malloc(sizeof(*flush), "uct_mp_flush");
    if (flush == NULL) {
        return UCS_ERR_NO_MEMORY;
    }

    flush->user_comp         = comp;
    flush->lanes_comp.func   = uct_mp_flush_completed;
    flush->lanes_comp.count  = num_in_progress + 1; /* guard until we return */
    flush->lanes_comp.status = UCS_OK;

    for (i = 0; i < count; ++i) {
        if (!in_progress[i]) {
            continue;
        }

        status = flush_func(lane_objs[i], flags, &flush->lanes_comp);
        if (status == UCS_ERR_NO_RESOURCE) {
            /* The lane ran out of resources between the two passes. Its
             * operations are still in flight and complete on their own; the
             * flush completion does not wait for them (known limitation until
             * mp keeps its own per-lane flush queue). */
            ucs_diag("mp: lane %u cannot post a flush completion now", i);
            uct_invoke_completion(&flush->lanes_comp, UCS_OK);
        } else if (status != UCS_INPROGRESS) {
            /* Done meanwhile, or failed: this lane will not call back */
            if ((status != UCS_OK) && (failed_lane_p != NULL)) {
                *failed_lane_p = i;
            }
            uct_invoke_completion(&flush->lanes_comp, status);
        }
    }

    if (flush->lanes_comp.count == 1) {
        /* Every lane finished inside this call: complete synchronously */
        status = flush->lanes_comp.status;
        ucs_free(flush);
        return status;
    }

    uct_invoke_completion(&flush->lanes_comp, UCS_OK); /* drop the guard */
    return UCS_INPROGRESS;
}
