/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * STRIPE_TABLE of an mp iface (DESIGN §11): which ops are kept whole on one
 * lane and which are striped, by op size. Parsing, the policies' defaults
 * and the lookup. Narrow C facade over mp_stripe_table.cc.
 */

#ifndef UCT_MP_STRIPE_TABLE_H_
#define UCT_MP_STRIPE_TABLE_H_

#include "mp_lanes.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UCT_MP_STRIPE_TABLE_MAX   8          /* entries in a stripe table */
#define UCT_MP_STRIPE_SIZE_INF    SIZE_MAX   /* max_size of the "inf" entry */
#define UCT_MP_STRIPE_ERRMSG_MAX  160        /* enough for any parse message */

typedef enum {
    UCT_MP_STRIPE_SINGLE, /* whole op on one lane */
    UCT_MP_STRIPE_STRIPE  /* water-fill over the usable lanes */
} uct_mp_stripe_mode_t;

/* One entry: the mode of ops of length <= max_size (and above the previous
 * entry's max_size). */
typedef struct {
    size_t               max_size; /* UCT_MP_STRIPE_SIZE_INF for "inf" */
    uct_mp_stripe_mode_t mode;
} uct_mp_stripe_entry_t;

/* STRIPE_TABLE: sizes strictly increasing, the last entry is "inf". */
typedef struct {
    unsigned              count; /* 1..UCT_MP_STRIPE_TABLE_MAX */
    uct_mp_stripe_entry_t entries[UCT_MP_STRIPE_TABLE_MAX];
} uct_mp_stripe_table_t;

const char *uct_mp_stripe_mode_str(uct_mp_stripe_mode_t mode);

/*
 * Parse "size:mode,...,inf:mode", e.g. "16k:single,inf:stripe". size is a
 * positive decimal number with an optional suffix k, m or g (powers of 1024,
 * case-insensitive), or "inf"; mode is "single" or "stripe"
 * (case-insensitive). Blanks around sizes and modes are allowed. At most
 * UCT_MP_STRIPE_TABLE_MAX entries, sizes strictly increasing, the last entry
 * (and only it) is inf. Returns 0 and fills table, or -1 with table unchanged
 * and a message naming the bad entry in errmsg (when errmsg is not NULL and
 * errmsg_len > 0; UCT_MP_STRIPE_ERRMSG_MAX is enough).
 */
int uct_mp_stripe_table_parse(const char *str, uct_mp_stripe_table_t *table,
                              char *errmsg, size_t errmsg_len);

/* The policy's default table: load_balance "16k:single,inf:stripe",
 * efficiency "256k:single,inf:stripe", active_backup "inf:single". */
void uct_mp_stripe_table_default(uct_mp_policy_t policy,
                                 uct_mp_stripe_table_t *table);

/* Whether table is one uct_mp_stripe_table_parse() could produce: count in
 * 1..UCT_MP_STRIPE_TABLE_MAX, known modes, sizes strictly increasing, the
 * last inf. 0 for NULL. */
int uct_mp_stripe_table_valid(const uct_mp_stripe_table_t *table);

/* Mode of an op of length bytes: the first entry with length <= max_size.
 * An invalid table (count 0) gives single. */
uct_mp_stripe_mode_t
uct_mp_stripe_table_mode(const uct_mp_stripe_table_t *table, size_t length);

#ifdef __cplusplus
}
#endif

#endif
