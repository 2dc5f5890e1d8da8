/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The AM channel of an mp endpoint: exactly-once, in-order active messages
 * across lane failures (docs/DESIGN.md sections 7.5 and 8).
 *
 * Every AM an mp_rc iface sends carries a 12-byte data header in front of
 * UCP's bytes:  u32 conn | u32 dsn | u32 ack
 *   conn  the receiving ep's token; 0 when the sender has no peer ep (lanes
 *         connected iface to iface): delivered as is, no sequencing
 *   dsn   data sequence number of this message (bits 0..30), per ep pair and
 *         direction; bit 31 asks the receiver to acknowledge at once
 *   ack   the next DSN the sender expects from the receiver (piggy-backed
 *         cumulative acknowledgement)
 * The receiver delivers DSN n only after n - 1 and drops duplicates. The
 * sender keeps every message (short and bcopy: a copy; zcopy: the user's
 * iov, whose completion it holds back) until the peer acknowledges it; when
 * the AM lane fails, the unacknowledged messages are sent again, in order, on
 * the new AM lane before anything new. Receivers acknowledge every
 * UCT_MP_AM_ACK_EVERY messages, at once when asked, and on the keepalive tick.
 *
 * The 12 bytes stand in for part of UCP's receive headroom: the lanes get a
 * headroom 12 bytes smaller, so descriptors UCP keeps are released at the
 * address the lane expects.
 */

#ifndef UCT_MP_AM_H_
#define UCT_MP_AM_H_

#include <uct/api/uct.h>
#include <ucs/datastruct/queue_types.h>
#include <ucs/sys/math.h>

struct uct_mp_ep;
struct uct_mp_iface;
struct uct_mp_lane_listener;

#define UCT_MP_AM_HDR_LEN     12
#define UCT_MP_AM_DSN_MASK    0x7fffffffu
#define UCT_MP_AM_ACK_NOW     0x80000000u
#define UCT_MP_AM_ACK_EVERY   16     /* messages between acknowledgements */
#define UCT_MP_AM_RING_MAX    1024   /* unacknowledged messages per ep */

typedef struct uct_mp_am_hdr {
    uint32_t                 conn;
    uint32_t                 dsn;
    uint32_t                 ack;
} UCS_S_PACKED uct_mp_am_hdr_t;


/* The endpoint's slice owned by mp_am.c */
typedef struct uct_mp_am_ep {
    int                      seq;         /* sequence numbers in use */
    uint32_t                 tx_dsn;      /* next DSN to send */
    uint32_t                 rx_expected; /* next DSN to deliver */
    uint32_t                 rx_acked;    /* last ack told to the peer */
    uint32_t                 probe_dsn;   /* ack asked for up to here */
    unsigned                 ring_len;
    ucs_queue_head_t         ring;        /* unacknowledged messages */
    uint32_t                 replay_dsn;  /* replay resumes at this DSN */
    int                      lane;        /* lane AMs went on */
    int                      replay;      /* replay in progress */
    unsigned                 dups;        /* duplicates dropped */
    unsigned                 replayed;    /* messages sent again */
    unsigned                 refused;     /* out of the DSN window, or an
                                             ack beyond what was sent */
    uint8_t                  bad_logged;  /* UCT_MP_AM_BAD_* etc. logged */
} uct_mp_am_ep_t;


/* Serial-number comparison of 31-bit DSNs: is a before b? */
#define UCT_MP_AM_DSN_BEFORE(_a, _b) \
    UCS_CIRCULAR_COMPARE32((uint32_t)(_a) << 1, <, (uint32_t)(_b) << 1)

/* Replays the AM lane's messages when it changes; ends what waits for
 * acknowledgements when the peer fails */
extern const struct uct_mp_lane_listener uct_mp_am_lane_listener;

void uct_mp_am_ep_init(struct uct_mp_ep *ep);
void uct_mp_am_ep_cleanup(struct uct_mp_ep *ep);

/* Sequencing starts once the peer ep is known and both sides offer SEQ */
void uct_mp_am_ep_connected(struct uct_mp_ep *ep, uint8_t peer_caps);

/* Work step: send unacknowledged messages again after a lane change */
void uct_mp_am_progress(struct uct_mp_ep *ep);

/* Messages wait for replay: nothing new may overtake them (tries first) */
int uct_mp_am_blocked(struct uct_mp_ep *ep);

/* DATA_ACK from the peer, or the ack field of its data header */
void uct_mp_am_handle_ack(struct uct_mp_ep *ep, uint32_t ack);

/* Send a DATA_ACK if the peer is owed one (force: even if recently sent) */
void uct_mp_am_send_ack(struct uct_mp_ep *ep, int force);

/* Ask the peer to acknowledge everything sent so far (a KEEPALIVE, which it
 * answers with a DATA_ACK), unless asked already */
void uct_mp_am_request_ack(struct uct_mp_ep *ep);

/* Is the replay ring full: no new AM until the peer acknowledges? */
int uct_mp_am_ring_full(struct uct_mp_ep *ep);

/* Messages the peer has not acknowledged yet? */
int uct_mp_am_unacked(struct uct_mp_ep *ep);

/* DSN the next message will get */
uint32_t uct_mp_am_next_dsn(struct uct_mp_ep *ep);

/* Has the peer acknowledged every message sent before dsn? */
int uct_mp_am_acked_before(struct uct_mp_ep *ep, uint32_t dsn);

/* Every AM of lane's iface, for UCP's handler of id */
ucs_status_t uct_mp_am_rx(struct uct_mp_iface *iface, unsigned lane, uint8_t id,
                          void *data, size_t length, unsigned flags);

/* Send on lane (the AM lane chosen by the caller) */
ucs_status_t uct_mp_am_short(struct uct_mp_ep *ep, int lane, uint8_t id,
                             uint64_t header, const void *payload,
                             unsigned length);
ucs_status_t uct_mp_am_short_iov(struct uct_mp_ep *ep, int lane, uint8_t id,
                                 const uct_iov_t *iov, size_t iovcnt);
ssize_t uct_mp_am_bcopy(struct uct_mp_ep *ep, int lane, uint8_t id,
                        uct_pack_callback_t pack_cb, void *arg, unsigned flags);
ucs_status_t uct_mp_am_zcopy(struct uct_mp_ep *ep, int lane, uint8_t id,
                             const void *header, unsigned header_length,
                             const uct_iov_t *iov, size_t iovcnt,
                             unsigned flags, uct_completion_t *comp);

#endif
