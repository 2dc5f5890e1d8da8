/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * MP control messages: what two mp endpoints tell each other over their lanes
 * (UCT AM id UCT_MP_CTL_AM_ID, never delivered to UCP). Narrow C facade over
 * the C++ codec in mp_ctl.cc.
 *
 * Every message is little-endian:
 *
 *   header (12 bytes):
 *     u8  version      UCT_MP_PROTO_VERSION of the writer
 *     u8  type         uct_mp_ctl_type_t
 *     u16 lane         the sender's lane index the message is about
 *     u32 dst_token    the receiving ep (its token from its ep address)
 *     u32 src_token    the sending ep
 *   body, by type:
 *     JOIN_REQ   u32 join_id, [lane devices][ep address]
 *     JOIN_ACK   u32 join_id, u8 pair_count, pair_count x u8 pair,
 *                [lane devices][ep address]
 *     JOIN_NAK   u32 join_id, u8 reason (uct_mp_ctl_nak_reason_t)
 *     KEEPALIVE  u32 probe_seq   (the first one on a joined lane confirms it)
 *     KEEPALIVE_ACK u32 probe_seq
 *     DATA_ACK   u32 ack (in probe_seq): the next AM DSN the sender expects
 *     DRAIN      u32 0 (in probe_seq, reserved): the sender drains its lane
 *                `lane`; the receiver drains the lane paired with it
 *     DRAIN_DONE u32 0: nothing of the sender's is left on its lane
 *                `lane`; with both sides done, each closes its side
 *
 * [lane devices][ep address] are two mp wire messages (mp_wire.h) with the
 * same lane count: every lane's device and lane ep address; the ep address's
 * token is src_token. pair[i] of a JOIN_ACK is the responder's lane entry
 * (index into its [lane devices]) paired with the initiator's lane i, or
 * UCT_MP_CTL_NO_PAIR.
 *
 * A decoder checks everything (version, type, lengths, the embedded wire
 * messages and their consistency) and reports what is wrong in the caller's
 * error buffer; it never reads past the given length.
 */

#ifndef UCT_MP_CTL_H_
#define UCT_MP_CTL_H_

#include "mp_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UCT_MP_CTL_AM_ID      31    /* reserved by mp; UCP 1.13 uses 1..26 */
#define UCT_MP_CTL_HDR_LEN    12
#define UCT_MP_CTL_MAX_LEN    (UCT_MP_CTL_HDR_LEN + 5 + UCT_MP_MAX_LANES + \
                               2 * UCT_MP_WIRE_MAX_LEN)
#define UCT_MP_CTL_NO_PAIR    0xff

typedef enum {
    UCT_MP_CTL_KEEPALIVE = 3,  /* probe; first message on a joined lane */
    UCT_MP_CTL_KEEPALIVE_ACK = 4, /* answer to a probe, on the same lane */
    UCT_MP_CTL_DATA_ACK  = 5,  /* next AM sequence number expected */
    UCT_MP_CTL_JOIN_REQ  = 6,  /* initiator: add these lanes */
    UCT_MP_CTL_JOIN_ACK  = 7,  /* responder: paired and connected these */
    UCT_MP_CTL_JOIN_NAK  = 8,  /* responder: cannot join */
    UCT_MP_CTL_DRAIN     = 9,  /* the sender drains a lane (migration) */
    UCT_MP_CTL_DRAIN_DONE = 10  /* the sender has nothing left on it */
} uct_mp_ctl_type_t;

typedef enum {
    UCT_MP_CTL_NAK_NO_LANE     = 1, /* no free reachable lane */
    UCT_MP_CTL_NAK_UNREACHABLE = 2, /* lane addresses refused */
    UCT_MP_CTL_NAK_BUSY        = 3  /* a join is already in progress */
} uct_mp_ctl_nak_reason_t;

typedef struct {
    uint8_t        version;
    uint8_t        type;        /* uct_mp_ctl_type_t */
    uint16_t       lane;
    uint32_t       dst_token;
    uint32_t       src_token;
    uint32_t       join_id;     /* JOIN_* */
    uint32_t       probe_seq;   /* KEEPALIVE, KEEPALIVE_ACK, DATA_ACK,
                                   DRAIN* (0) */
    uint8_t        reason;      /* JOIN_NAK */
    uint8_t        pair_count;  /* JOIN_ACK */
    uint8_t        pairs[UCT_MP_MAX_LANES];
    uct_mp_wire_t  devs;        /* JOIN_REQ/ACK: lane devices */
    uct_mp_wire_t  addrs;       /* JOIN_REQ/ACK: lane ep addresses */
} uct_mp_ctl_t;

/* Pack msg (for JOIN_REQ/ACK, devs and addrs describe the lanes) into buf.
 * Returns bytes written, or 0 with errmsg set. */
size_t uct_mp_ctl_pack(const uct_mp_ctl_t *msg, void *buf, size_t buf_len,
                       char *errmsg, size_t errmsg_len);

/* Decode a control message of length bytes. Returns 0, or -1 with errmsg set.
 * devs/addrs lanes point into buf. */
int uct_mp_ctl_unpack(const void *buf, size_t length, uct_mp_ctl_t *msg,
                      char *errmsg, size_t errmsg_len);

const char *uct_mp_ctl_type_str(unsigned type);

#ifdef __cplusplus
}
#endif

#endif
