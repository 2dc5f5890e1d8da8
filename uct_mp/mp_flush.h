/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * One flush over several lanes: the user's completion fires once, when every
 * lane that had work in flight has completed its own flush.
 */

#ifndef UCT_MP_FLUSH_H_
#define UCT_MP_FLUSH_H_

#include <uct/api/uct.h>

/* Flush one lane object (ep or iface) with the given completion. */
typedef ucs_status_t (*uct_mp_flush_lane_func_t)(void *lane_obj, unsigned flags,
                                                 uct_completion_t *comp);

/* Flush lane_objs[0..count) (NULL entries are skipped) and aggregate:
 * UCS_OK if all were flushed, UCS_ERR_NO_RESOURCE if any lane cannot start a
 * flush now (its index is stored in *busy_lane_p if not NULL; nothing is left
 * in flight for the caller to undo), otherwise UCS_INPROGRESS and comp (if not
 * NULL) completes once all lanes completed. A lane whose flush failed at
 * once (a broken lane) makes it return that error, with the lane's index in
 * *failed_lane_p if not NULL. */
ucs_status_t uct_mp_flush_lanes(void *const *lane_objs, unsigned count,
                                uct_mp_flush_lane_func_t flush_func,
                                unsigned flags, uct_completion_t *comp,
                                int *busy_lane_p, int *failed_lane_p);

#endif
