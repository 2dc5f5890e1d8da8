/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Workarounds for bugs of lane transports that a lane failure exposes and
 * mp cannot avoid from the outside. Each one names the transport, the UCX
 * code it works around, and why it keeps mp's delivery guarantees.
 */

#ifndef UCT_MP_LANE_QUIRK_H_
#define UCT_MP_LANE_QUIRK_H_

#include <uct/api/uct.h>

/*
 * A lane ep of transport lane_tl reported an error (its iface error
 * handler, called synchronously from inside the transport). Puts the lane ep
 * in a state its transport can leave safely. Call before anything else in
 * the handler.
 */
void uct_mp_lane_quirk_ep_failed(const char *lane_tl, uct_ep_h lane_ep);

/*
 * The lane ep of a failed lane of transport lane_tl is about to be
 * destroyed: nothing it still holds may reach the peer later. Call right
 * before uct_ep_destroy().
 */
void uct_mp_lane_quirk_ep_drop(const char *lane_tl, uct_ep_h lane_ep);

#endif
