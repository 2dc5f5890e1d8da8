/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 */

#ifndef UCT_MP_EP_H_
#define UCT_MP_EP_H_

#include "mp_iface.h"
#include "mp_pending.h"
#include "mp_join.h"
#include "mp_stripe.h"
#include "mp_keepalive.h"
#include "mp_am.h"
#include "mp_bounce.h"
#include "mp_fence.h"
#include "mp_sched.h"

#include <stdio.h>


/* iov entries of one operation, at most */
#define UCT_MP_MAX_IOV  16


/* One lane of an mp endpoint (opaque child handle). Slot i uses lane iface i. */
typedef struct uct_mp_lane_ep {
    uct_ep_h                 ep;              /* NULL when the slot has no peer */
    uint8_t                  remote_lane;     /* peer's lane index */
    uint8_t                  remote_md_index; /* peer's lane md, in its rkeys */
    uint8_t                  destroy_pending; /* failed: destroy from progress */
    uint32_t                 probe_seq;       /* last KEEPALIVE sent */
    ucs_time_t               last_probe;      /* when it was sent */
    ucs_time_t               last_rx;         /* evidence: when the path last
                                                 worked (an answered probe's
                                                 send time) */
    ucs_time_t               probe_sent[4];   /* send times of the last 4
                                                 probes, by probe_seq & 3 */
    ucs_time_t               last_arrival;    /* when anything last arrived
                                                 on this lane (a congested
                                                 path still delivers) */
    ucs_time_t               retry_at;        /* fail-back: next rejoin, 0: none */
    ucs_time_t               retry_backoff;   /* fail-back: current delay */
} uct_mp_lane_ep_t;


typedef struct uct_mp_ep {
    uct_base_ep_t            super;
    ucs_list_link_t          list;            /* in uct_mp_iface_t::eps */
    uint32_t                 token;           /* names this ep to the peer */
    uint32_t                 remote_token;    /* the peer ep's token */
    uct_mp_join_state_t      join_state;      /* joining non-primary lanes */
    uint32_t                 join_id;         /* last JOIN_REQ sent */
    ucs_queue_head_t         ctl_q;           /* control messages to send */
    uct_worker_cb_id_t       ctl_prog_id;     /* sends them from progress */
    uct_mp_sched_t           *sched;          /* splits zcopy RMA over lanes */
    uint32_t                 sched_usable;    /* lanes the scheduler was told
                                                 are usable (bit per lane) */
    ucs_queue_head_t         stripe_q;        /* stripes with unposted chunks */
    ucs_queue_head_t         replay_q;        /* chunks to post again */
    uint64_t                 replayed_chunks; /* chunks moved off a failed lane */
    ucs_list_link_t          bounce_ops;      /* tracked short/bcopy RMA in
                                                 flight, post order */
    uint64_t                 bounce_seq;      /* next one's sequence number */
    uint64_t                 bounce_lost;     /* failed on every lane */
    struct uct_mp_fence      *fence;          /* fence in force (mp_fence.c):
                                                 new operations wait */
    uct_worker_cb_id_t       fence_prog_id;   /* starts its flush */
    int                      closing;         /* being destroyed: no replays */
    uct_worker_cb_id_t       lane_gc_prog_id; /* destroys failed lane eps */
    int                      rejoin_lane;     /* fail-back JOIN in flight */
    ucs_time_t               rejoin_deadline;
    void                     *rejoin_req;     /* peer's REPLACE JOIN_REQ, copied */
    size_t                   rejoin_req_len;
    uct_worker_cb_id_t       rejoin_prog_id;  /* answers it from progress */
    /* AM channel (mp_am.c): exactly-once, in order, across lane failures */
    int                      am_seq;          /* sequence numbers in use */
    uint32_t                 am_tx_dsn;       /* next DSN to send */
    uint32_t                 am_rx_expected;  /* next DSN to deliver */
    uint32_t                 am_rx_acked;     /* last ack told to the peer */
    uint32_t                 am_probe_dsn;    /* ack asked for up to here */
    unsigned                 am_ring_len;
    ucs_queue_head_t         am_ring;         /* unacknowledged messages */
    ucs_queue_head_t         am_flush_q;      /* flushes waiting for acks */
    uint32_t                 am_replay_dsn;   /* replay resumes at this DSN */
    int                      am_lane;         /* lane AMs went on */
    int                      am_replay;       /* replay in progress */
    unsigned                 am_dups;         /* duplicates dropped */
    unsigned                 am_replayed;     /* messages sent again */
    uct_worker_cb_id_t       am_prog_id;      /* replays from progress */
    uct_worker_cb_id_t       stripe_prog_id;  /* posts them from progress */
    uct_mp_lanes_t           *lanes;          /* state machine and policy */
    int                      tx_lane;         /* lane for AMs and atomics */
    int                      busy_lane;       /* last lane out of resources */
    int                      peer_failed;     /* error reported to the user */
    uct_mp_lane_ep_t         lane_eps[UCT_MP_MAX_LANES];
    ucs_queue_head_t         pending_q;       /* user requests, in order */
    int                      in_pending;      /* pending_q is being run: its
                                                 requests may post */
    uct_mp_lane_wakeup_t     wakeups[UCT_MP_MAX_LANES];
    uct_worker_cb_id_t       pending_prog_id; /* retry from progress */
} uct_mp_ep_t;


/* Does status from a lane operation mean the lane itself is broken? */
static UCS_F_ALWAYS_INLINE int uct_mp_ep_lane_broken(ucs_status_t status)
{
    return (status == UCS_ERR_ENDPOINT_TIMEOUT) ||
           (status == UCS_ERR_CONNECTION_RESET) ||
           (status == UCS_ERR_NOT_CONNECTED) || (status == UCS_ERR_IO_ERROR) ||
           (status == UCS_ERR_UNREACHABLE) || (status == UCS_ERR_CANCELED);
}


/* Queued control messages (probe answers, ACKs, JOINs) take a lane's
 * resources before anything else the ep would post now */
static UCS_F_ALWAYS_INLINE void uct_mp_ep_send_ctl_first(uct_mp_ep_t *ep)
{
    if (ucs_unlikely(!ucs_queue_is_empty(&ep->ctl_q))) {
        uct_mp_ctl_send_queued(ep);
    }
}


UCS_CLASS_DECLARE_NEW_FUNC(uct_mp_ep_t, uct_ep_t, const uct_ep_params_t*);
UCS_CLASS_DECLARE_DELETE_FUNC(uct_mp_ep_t, uct_ep_t);

/* Print ep's state (lanes, queues, AM channel) to stream */
void uct_mp_ep_dump(uct_mp_ep_t *ep, FILE *stream);

/* Every mp ep of the process, to stderr (call it from a debugger) */
void uct_mp_debug_dump(void);

/* Called by the iface when lane ep of this mp ep failed. */
ucs_status_t uct_mp_ep_lane_failed(uct_mp_ep_t *ep, unsigned lane,
                                   ucs_status_t status);

/* Apply a lane state machine event and re-elect the AM lane */
void uct_mp_ep_lane_event(uct_mp_ep_t *ep, unsigned lane,
                          uct_mp_lane_event_t event);

/* Create an unconnected lane ep on lane and apply event (CREATE, or RETRY
 * for fail-back); on failure the lane has no ep */
ucs_status_t uct_mp_ep_create_lane_ep(uct_mp_ep_t *ep, unsigned lane,
                                      uct_mp_lane_event_t event);

/* Destroy what is left of a failed lane's ep (its operations come back
 * canceled); the lane state does not change */
void uct_mp_ep_drop_lane_ep(uct_mp_ep_t *ep, unsigned lane);

/* Destroy the lane ep of lane (if any); the lane becomes CLOSED */
void uct_mp_ep_destroy_lane(uct_mp_ep_t *ep, unsigned lane);

/*
 * Pair local lanes in local_mask with peer lanes >= first_remote of devs:
 * same index first, then the first free one that is reachable (with the
 * peer's iface address ifc, or an ep address of the right length in eps,
 * when given). Fills remote_of_local (-1: unpaired); returns the pair count.
 */
unsigned uct_mp_ep_pair_lanes(uct_mp_iface_t *iface, const uct_mp_wire_t *devs,
                              const uct_mp_wire_t *ifc,
                              const uct_mp_wire_t *eps, uint32_t local_mask,
                              unsigned first_remote, int *remote_of_local);

/* Find the mp ep and lane that own a lane ep; NULL if none. */
uct_mp_ep_t *uct_mp_ep_find_lane(uct_mp_iface_t *iface, uct_ep_h lane_ep,
                                 unsigned *lane_p);

ucs_status_t uct_mp_ep_get_address(uct_ep_h tl_ep, uct_ep_addr_t *addr);
ucs_status_t uct_mp_ep_connect_to_ep(uct_ep_h tl_ep,
                                     const uct_device_addr_t *dev_addr,
                                     const uct_ep_addr_t *ep_addr);

ucs_status_t uct_mp_ep_am_short(uct_ep_h tl_ep, uint8_t id, uint64_t header,
                                const void *payload, unsigned length);
ucs_status_t uct_mp_ep_am_short_iov(uct_ep_h tl_ep, uint8_t id,
                                    const uct_iov_t *iov, size_t iovcnt);
ssize_t uct_mp_ep_am_bcopy(uct_ep_h tl_ep, uint8_t id,
                           uct_pack_callback_t pack_cb, void *arg,
                           unsigned flags);
ucs_status_t uct_mp_ep_am_zcopy(uct_ep_h tl_ep, uint8_t id, const void *header,
                                unsigned header_length, const uct_iov_t *iov,
                                size_t iovcnt, unsigned flags,
                                uct_completion_t *comp);
ucs_status_t uct_mp_ep_put_short(uct_ep_h tl_ep, const void *buffer,
                                 unsigned length, uint64_t remote_addr,
                                 uct_rkey_t rkey);
ssize_t uct_mp_ep_put_bcopy(uct_ep_h tl_ep, uct_pack_callback_t pack_cb,
                            void *arg, uint64_t remote_addr, uct_rkey_t rkey);
ucs_status_t uct_mp_ep_put_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
ucs_status_t uct_mp_ep_get_short(uct_ep_h tl_ep, void *buffer, unsigned length,
                                 uint64_t remote_addr, uct_rkey_t rkey);
ucs_status_t uct_mp_ep_get_bcopy(uct_ep_h tl_ep, uct_unpack_callback_t unpack_cb,
                                 void *arg, size_t length, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
/* get_bcopy into buffer, posted again on another lane if its lane fails
 * (mp_bounce.c) */
ucs_status_t uct_mp_ep_get_bcopy_tracked(uct_mp_ep_t *ep, void *buffer,
                                         size_t length, uint64_t remote_addr,
                                         uct_rkey_t rkey,
                                         uct_completion_t *comp);
ucs_status_t uct_mp_ep_get_zcopy(uct_ep_h tl_ep, const uct_iov_t *iov,
                                 size_t iovcnt, uint64_t remote_addr,
                                 uct_rkey_t rkey, uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic_cswap64(uct_ep_h tl_ep, uint64_t compare,
                                      uint64_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint64_t *result,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic_cswap32(uct_ep_h tl_ep, uint32_t compare,
                                      uint32_t swap, uint64_t remote_addr,
                                      uct_rkey_t rkey, uint32_t *result,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic32_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint32_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey);
ucs_status_t uct_mp_ep_atomic64_post(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                     uint64_t value, uint64_t remote_addr,
                                     uct_rkey_t rkey);
ucs_status_t uct_mp_ep_atomic32_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint32_t value, uint32_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_atomic64_fetch(uct_ep_h tl_ep, uct_atomic_op_t opcode,
                                      uint64_t value, uint64_t *result,
                                      uint64_t remote_addr, uct_rkey_t rkey,
                                      uct_completion_t *comp);
ucs_status_t uct_mp_ep_flush(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp);
ucs_status_t uct_mp_ep_check(uct_ep_h tl_ep, unsigned flags,
                             uct_completion_t *comp);

#endif
