/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Per-lane keepalive and the removal of failed lane endpoints
 * (see mp_keepalive.h and docs/DESIGN.md section 9).
 */

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#include "mp_liveness.h"
#include "mp_keepalive.h"
#include "mp_ep.h"
#include "mp_ctl.h"

#include <uct/base/uct_iface.h>
#include <ucs/debug/log.h>
#include <ucs/time/time.h>
#include <string.h>


static unsigned uct_mp_keepalive_progress(void *arg);

void uct_mp_keepalive_iface_init(uct_mp_iface_t *iface)
{
    iface->ka_prog_id    = UCS_CALLBACKQ_ID_NULL;
    iface->ka_next_check = ucs_get_time();
    if (iface->ka_interval == 0) {
        return;
    }

    /* persistent: runs on every worker progress, cheap until a check is due */
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_keepalive_progress, iface, 0,
                                      &iface->ka_prog_id);
}

void uct_mp_keepalive_iface_cleanup(uct_mp_iface_t *iface)
{
    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &iface->ka_prog_id);
}

void uct_mp_keepalive_lane_alive(uct_mp_ep_t *ep, unsigned lane)
{
    if (lane < UCT_MP_MAX_LANES) {
        ep->lane_eps[lane].last_rx = ucs_get_time();
    }
}

void uct_mp_keepalive_send_probe(uct_mp_ep_t *ep, unsigned lane,
                                 ucs_time_t now)
{
    uct_mp_lane_ep_t *lane_ep = &ep->lane_eps[lane];
    uct_mp_ctl_t msg;

    memset(&msg, 0, sizeof(msg));
    msg.type                                = UCT_MP_CTL_KEEPALIVE;
    msg.lane                                = lane;
    msg.probe_seq                           = ++lane_ep->probe_seq;
    lane_ep->last_probe                     = now;
    lane_ep->probe_sent[msg.probe_seq & 3] = now;
    uct_mp_ctl_send(ep, lane, &msg);
}

void uct_mp_keepalive_lane_arrival(uct_mp_ep_t *ep, unsigned lane)
{
    if (ucs_likely(lane < UCT_MP_MAX_LANES)) {
        ep->lane_eps[lane].last_arrival = ucs_get_time();
    }
}

/*
 * The peer answered probe probe_seq on lane: the path worked when the probe
 * was sent. The send time, not the arrival time, is the evidence: under load
 * the answer may sit in a socket buffer that was filled before the path died.
 */
void uct_mp_keepalive_probe_answered(uct_mp_ep_t *ep, unsigned lane,
                                     uint32_t probe_seq)
{
    uct_mp_lane_ep_t *lane_ep;
    ucs_time_t sent;

    if (lane >= UCT_MP_MAX_LANES) {
        return;
    }

    lane_ep = &ep->lane_eps[lane];
    if ((uint32_t)(lane_ep->probe_seq - probe_seq) >= 4) {
        return; /* older than the last 4 probes, or never sent */
    }

    sent = lane_ep->probe_sent[probe_seq & 3];
    if ((sent != 0) && ((int64_t)(sent - lane_ep->last_rx) > 0)) {
        lane_ep->last_rx = sent;
    }
}

/* Destroy failed lane eps: their outstanding operations come back through
 * their completions (canceled) and are re-posted on the other lanes */
static unsigned uct_mp_keepalive_lane_gc(void *arg)
{
    uct_mp_ep_t *ep       = arg;
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);
    unsigned lane, count = 0;

    ep->lane_gc_prog_id = UCS_CALLBACKQ_ID_NULL;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (!ep->lane_eps[lane].destroy_pending) {
            continue;
        }

        if (ep->lane_eps[lane].ep == NULL) {
            ep->lane_eps[lane].destroy_pending = 0;
            continue;
        }

        uct_mp_ep_drop_lane_ep(ep, lane);
        ucs_debug("mp_rc: ep %p lane %u (%s): failed lane ep destroyed", ep,
                  lane, iface->lanes[lane].dev_name);
        ++count;
    }
    return count;
}

void uct_mp_keepalive_schedule_lane_destroy(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);

    ep->lane_eps[lane].destroy_pending = 1;
    uct_worker_progress_register_safe(&iface->super.worker->super,
                                      uct_mp_keepalive_lane_gc, ep,
                                      UCS_CALLBACKQ_FLAG_ONESHOT,
                                      &ep->lane_gc_prog_id);
}

void uct_mp_keepalive_ep_cleanup(uct_mp_ep_t *ep)
{
    uct_mp_iface_t *iface = ucs_derived_of(ep->super.super.iface,
                                           uct_mp_iface_t);

    uct_worker_progress_unregister_safe(&iface->super.worker->super,
                                        &ep->lane_gc_prog_id);
}

/* Does the keepalive watch lane of ep (a connected lane carrying traffic)? */
static int uct_mp_keepalive_lane_watched(uct_mp_ep_t *ep, unsigned lane)
{
    uct_mp_lane_state_t state = uct_mp_lanes_state(ep->lanes, lane);

    return (ep->lane_eps[lane].ep != NULL) &&
           !ep->lane_eps[lane].destroy_pending &&
           ((state == UCT_MP_LANE_ACTIVE) || (state == UCT_MP_LANE_STANDBY));
}

/* Probe the lanes of ep; fail those that stayed silent too long. Returns 0
 * when ep may have been released (the last lane failed). */
static int uct_mp_keepalive_check_ep(uct_mp_iface_t *iface, uct_mp_ep_t *ep,
                                     ucs_time_t now)
{
    uct_mp_liveness_input_t in;
    uct_mp_liveness_t verdict;
    uct_mp_lane_ep_t *lane_ep;
    ucs_time_t newest;
    unsigned lane;

    if ((ep->remote_token == 0) || ep->peer_failed || ep->closing) {
        return 1; /* connect-to-iface eps have no peer ep to answer */
    }

    in.interval = iface->ka_interval;
    in.misses   = iface->ka_misses;
    uct_mp_am_send_ack(ep, 0); /* what a quiet receiver still owes */
    uct_mp_join_failback_tick(ep, now);

    /* the newest evidence on any lane that carries traffic */
    newest = 0;
    for (lane = 0; lane < iface->num_lanes; ++lane) {
        if (uct_mp_keepalive_lane_watched(ep, lane) &&
            ((newest == 0) ||
             ((int64_t)(ep->lane_eps[lane].last_rx - newest) > 0))) {
            newest = ep->lane_eps[lane].last_rx;
        }
    }

    for (lane = 0; lane < iface->num_lanes; ++lane) {
        lane_ep = &ep->lane_eps[lane];
        if (!uct_mp_keepalive_lane_watched(ep, lane)) {
            continue;
        }

        /* the rule (src/mp_liveness.h): silent, and the peer answers on
         * another lane, or every lane silent for twice the timeout */
        in.now             = now;
        in.last_answered   = lane_ep->last_rx;
        in.last_arrival    = lane_ep->last_arrival;
        in.newest_answered = newest;
        verdict            = uct_mp_liveness_judge(&in);
        if (verdict != UCT_MP_LIVENESS_ALIVE) {
            ucs_diag("mp_rc: ep %p lane %u (%s): no probe answered for "
                     "%.0f ms (keepalive %.0f ms x %u, %s)", ep, lane,
                     iface->lanes[lane].dev_name,
                     ucs_time_to_msec(now - lane_ep->last_rx),
                     ucs_time_to_msec(iface->ka_interval), iface->ka_misses,
                     uct_mp_liveness_str(verdict));
            if (uct_mp_ep_lane_failed(ep, lane, UCS_ERR_ENDPOINT_TIMEOUT) !=
                UCS_OK) {
                return 0;
            }
            if (ep->peer_failed) {
                return 0; /* reported to UCP, which may release ep */
            }
            continue;
        }

        if ((now - lane_ep->last_probe) >= iface->ka_interval) {
            uct_mp_keepalive_send_probe(ep, lane, now);
        }
    }
    return 1;
}

static unsigned uct_mp_keepalive_progress(void *arg)
{
    uct_mp_iface_t *iface = arg;
    ucs_time_t now        = ucs_get_time();
    uct_mp_ep_t *ep, *tmp;

    if ((int64_t)(now - iface->ka_next_check) < 0) {
        return 0;
    }

    /* check 8 times per interval: a silent lane fails within interval x
     * misses of the last thing heard from it, plus an eighth of an interval */
    iface->ka_next_check = now + (iface->ka_interval / 8);
    ucs_list_for_each_safe(ep, tmp, &iface->eps, list) {
        if (!uct_mp_keepalive_check_ep(iface, ep, now)) {
            break; /* the list may have changed under us */
        }
    }
    return 0;
}
