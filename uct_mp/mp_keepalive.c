/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Per-lane keepalive (see mp_keepalive.h and docs/DESIGN.md section 9).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_liveness.h"
#include "mp_keepalive.h"
#include "mp_ep.h"

#include <ucs/debug/log.h>
#include <ucs/sys/string.h>
#include <ucs/time/time.h>
#include <string.h>


void uct_mp_keepalive_ep_init(uct_mp_ep_t *ep)
{
    memset(&ep->ka, 0, sizeof(ep->ka));
}

void uct_mp_keepalive_restart(uct_mp_ep_t *ep, ucs_time_t now)
{
    unsigned lane;

    for (lane = 0; lane < UCT_MP_MAX_LANES; ++lane) {
        ep->ka.lanes[lane].last_rx = now;
    }
}

/* Listener: a lane that connected gets a grace period to start */
static void uct_mp_keepalive_lane_changed(uct_mp_ep_t *ep, unsigned lane,
                                          uct_mp_lane_state_t prev)
{
    uct_mp_lane_state_t state = uct_mp_lane_state(ep, lane);

    if ((prev == UCT_MP_LANE_CONNECTING) &&
        ((state == UCT_MP_LANE_ACTIVE) || (state == UCT_MP_LANE_STANDBY))) {
        ep->ka.lanes[lane].last_rx = ucs_get_time();
    }
}

void uct_mp_keepalive_send_probe(uct_mp_ep_t *ep, unsigned lane,
                                 ucs_time_t now)
{
    uct_mp_ka_lane_t *ka = &ep->ka.lanes[lane];
    uct_mp_ctl_t msg;

    memset(&msg, 0, sizeof(msg));
    msg.type                          = UCT_MP_CTL_KEEPALIVE;
    msg.lane                          = lane;
    msg.probe_seq                     = ++ka->probe_seq;
    ka->last_probe                    = now;
    ka->probe_sent[msg.probe_seq & 3] = now;
    uct_mp_ctrl_send(ep, lane, &msg);
}

/*
 * The peer answered probe probe_seq on lane: the path worked when the probe
 * was sent. The send time, not the arrival time, is the evidence: under load
 * the answer may sit in a socket buffer that was filled before the path died.
 */
void uct_mp_keepalive_probe_answered(uct_mp_ep_t *ep, unsigned lane,
                                     uint32_t probe_seq)
{
    uct_mp_ka_lane_t *ka;
    ucs_time_t sent;

    if (lane >= UCT_MP_MAX_LANES) {
        return;
    }

    ka = &ep->ka.lanes[lane];
    if ((uint32_t)(ka->probe_seq - probe_seq) >= 4) {
        return; /* older than the last 4 probes, or never sent */
    }

    sent = ka->probe_sent[probe_seq & 3];
    if ((sent != 0) && ((int64_t)(sent - ka->last_rx) > 0)) {
        ka->last_rx = sent;
    }
}

void uct_mp_keepalive_answer(uct_mp_ep_t *ep, unsigned lane, uint32_t probe_seq)
{
    uct_mp_ctl_t ack;

    if (ep->lane.slots[lane].ep == NULL) {
        return;
    }

    memset(&ack, 0, sizeof(ack));
    ack.type      = UCT_MP_CTL_KEEPALIVE_ACK;
    ack.lane      = lane;
    ack.probe_seq = probe_seq;
    uct_mp_ctrl_send(ep, lane, &ack);
}

/* The newest evidence on any connected lane (suspect ones included) */
static ucs_time_t uct_mp_keepalive_newest(uct_mp_ep_t *ep, unsigned num_lanes)
{
    ucs_time_t newest = 0;
    unsigned lane;

    for (lane = 0; lane < num_lanes; ++lane) {
        if (uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED) &&
            ((newest == 0) ||
             ((int64_t)(ep->ka.lanes[lane].last_rx - newest) > 0))) {
            newest = ep->ka.lanes[lane].last_rx;
        }
    }
    return newest;
}

/*
 * Apply the rule (src/mp_liveness.h) to lane: a silent lane becomes suspect,
 * evidence clears it, a suspect lane that stays silent fails. Returns 0 when
 * ep may have been released (its last lane failed).
 */
static int uct_mp_keepalive_judge(uct_mp_ep_t *ep, unsigned lane,
                                  uct_mp_liveness_input_t *in)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    uct_mp_ka_lane_t *ka  = &ep->ka.lanes[lane];
    uct_mp_liveness_action_t action;
    uct_mp_liveness_t verdict;
    char why[128];

    in->last_answered = ka->last_rx;
    in->last_arrival  = ep->lane.slots[lane].last_arrival;
    in->suspect_since = ep->lane.slots[lane].suspect_at;
    action            = uct_mp_liveness_decide(in, &verdict);
    switch (action) {
    case UCT_MP_LIVENESS_SUSPECT:
        ucs_snprintf_safe(why, sizeof(why), "no probe answered for %.0f ms "
                          "(keepalive %.0f ms x %u, %s)",
                          ucs_time_to_msec(in->now - ka->last_rx),
                          ucs_time_to_msec(iface->ka_interval),
                          iface->ka_misses, uct_mp_liveness_str(verdict));
        uct_mp_lane_suspect(ep, lane, in->now, why);
        return 1;
    case UCT_MP_LIVENESS_CLEAR:
        uct_mp_lane_evidence(ep, lane, "a probe was answered");
        return 1;
    case UCT_MP_LIVENESS_FAIL:
        ucs_diag("mp_rc: ep %p lane %u (%s): suspect and silent for %.0f ms "
                 "more, no probe answered for %.0f ms (%s)", ep, lane,
                 iface->lanes[lane].dev_name,
                 ucs_time_to_msec(in->now - in->suspect_since),
                 ucs_time_to_msec(in->now - ka->last_rx),
                 uct_mp_liveness_str(verdict));
        return (uct_mp_lane_fail(ep, lane, UCS_ERR_ENDPOINT_TIMEOUT) ==
                UCS_OK) && !ep->lane.peer_failed;
    default:
        return 1;
    }
}

int uct_mp_keepalive_check(uct_mp_ep_t *ep, ucs_time_t now)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    uct_mp_liveness_input_t in;
    uct_mp_ka_lane_t *ka;
    unsigned lane;

    in.now             = now;
    in.interval        = iface->ka_interval;
    in.misses          = iface->ka_misses;
    in.newest_answered = uct_mp_keepalive_newest(ep, iface->num_lanes);
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        ka = &ep->ka.lanes[lane];
        if (!uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED)) {
            continue;
        }

        if (!uct_mp_keepalive_judge(ep, lane, &in)) {
            return 0; /* reported to UCP, which may release ep */
        }

        /* a suspect lane is probed too: its answer brings it back */
        if (uct_mp_lane_usable(ep, lane, UCT_MP_LANE_USE_CONNECTED) &&
            ((now - ka->last_probe) >= iface->ka_interval)) {
            uct_mp_keepalive_send_probe(ep, lane, now);
        }
    }
    return 1;
}

const uct_mp_lane_listener_t uct_mp_keepalive_lane_listener = {
    .lane_changed = uct_mp_keepalive_lane_changed,
    .lane_ep_gone = NULL,
    .peer_failed  = NULL
};
