/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * MP wire formats: the addresses UCP exchanges (device, iface, ep) and the
 * packed remote key. Narrow C facade over the C++ codec in mp_wire.cc.
 *
 * Every buffer is little-endian and self-delimiting:
 *
 *   header (every kind):
 *     u8  version      UCT_MP_PROTO_VERSION of the writer
 *     u8  kind         uct_mp_wire_kind_t
 *     u8  total_len    whole buffer, header and trailer included
 *     u8  lane_count   1..UCT_MP_MAX_LANES entries that follow
 *   fixed fields after the header, by kind:
 *     device address:  u8 caps, u8 lane_tl
 *     ep address:      u8 caps, u8 lane_tl, u32 token (the writer's ep)
 *     remote key:      u8 lane_tl (names the component that unpacks)
 *     lane devices:    u8 lane_tl
 *     iface address:   none
 *   per entry:
 *     lane devices:    u8 md_index, u8 bw_class, u8 len, len bytes
 *     other kinds:     u8 len, len bytes
 *   trailer:
 *     u8  check        0xff minus the 8-bit sum of all preceding bytes, so
 *                      the 8-bit sum of the whole buffer is 0xff: any single
 *                      corrupted byte changes the sum and is detected
 *
 * Protocol version 2: the device and ep addresses that UCP exchanges carry
 * only the primary lane (one entry), whatever the number of lanes, so they
 * fit RDMA-CM private data; the other lanes join over the primary lane with
 * control messages (mp_ctl.h) that carry [lane devices][ep address] pairs.
 *
 * A decoder never reads past min(buf_len, total_len) and reports what is wrong
 * in a message written to the caller's error buffer.
 */

#ifndef UCT_MP_WIRE_H_
#define UCT_MP_WIRE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UCT_MP_PROTO_VERSION    2     /* version this build writes and reads */
#define UCT_MP_MAX_LANES        8     /* lanes per iface, mds per rkey */
#define UCT_MP_WIRE_MAX_LEN     255   /* total_len is one byte */
#define UCT_MP_WIRE_ERRMSG_MAX  160

/* What a buffer holds; a decoder rejects a buffer of another kind. */
typedef enum {
    UCT_MP_WIRE_DEVICE_ADDR = 1,
    UCT_MP_WIRE_IFACE_ADDR  = 2,
    UCT_MP_WIRE_EP_ADDR     = 3,
    UCT_MP_WIRE_RKEY        = 4,
    UCT_MP_WIRE_LANE_DEVS   = 5   /* every lane's device: iface address, JOIN */
} uct_mp_wire_kind_t;

/* Capabilities negotiated in the device address (both sides use the AND). */
enum {
    UCT_MP_CAP_STRIPE    = 1u << 0, /* may split one RMA over lanes */
    UCT_MP_CAP_SEQ       = 1u << 1, /* AMs carry MP sequence numbers */
    UCT_MP_CAP_KEEPALIVE = 1u << 2, /* answers MP keepalive probes */
    UCT_MP_CAP_JOIN      = 1u << 3, /* lanes may join after creation */
    UCT_MP_CAP_DRAIN     = 1u << 4  /* answers DRAIN with DRAIN_DONE */
};

/* Lane transports both sides must agree on. */
typedef enum {
    UCT_MP_LANE_TL_UNKNOWN  = 0,
    UCT_MP_LANE_TL_RC_VERBS = 1,
    UCT_MP_LANE_TL_RC_MLX5  = 2,
    UCT_MP_LANE_TL_TCP      = 3
} uct_mp_lane_tl_t;

/* One lane's entry: pointers refer into the decoded buffer. */
typedef struct {
    uint8_t     md_index;  /* lane devices: lane md's index in the rkey */
    uint8_t     bw_class;  /* lane devices: log2 of bandwidth in MB/s */
    uint8_t     len;
    const void *data;
} uct_mp_wire_lane_t;

typedef struct {
    uint8_t            version;
    uint8_t            kind;       /* uct_mp_wire_kind_t */
    uint8_t            total_len;  /* decoded: bytes the buffer took */
    uint8_t            caps;       /* device and ep address */
    uint8_t            lane_tl;    /* every kind but the iface address */
    uint32_t           token;      /* ep address: names the writer's ep */
    uint8_t            lane_count;
    uct_mp_wire_lane_t lanes[UCT_MP_MAX_LANES];
} uct_mp_wire_t;

/* Bytes uct_mp_wire_pack() writes for this message. */
size_t uct_mp_wire_packed_size(const uct_mp_wire_t *msg);

/* Pack msg into buf (size buf_len). Returns bytes written, or 0 with errmsg
 * set when lane_count or a lane length is out of range or buf is too small. */
size_t uct_mp_wire_pack(const uct_mp_wire_t *msg, void *buf, size_t buf_len,
                        char *errmsg, size_t errmsg_len);

/* Decode buf as kind. Returns 0 on success, -1 with errmsg set otherwise:
 * truncated, bad total length, wrong kind, unknown version, zero or too many
 * lanes, lane length past the end, bad check byte, trailing garbage. */
int uct_mp_wire_unpack(const void *buf, size_t buf_len, uct_mp_wire_kind_t kind,
                       uct_mp_wire_t *msg, char *errmsg, size_t errmsg_len);

/* Decode buf as kind when its real length is unknown (UCT 1.13 passes no
 * address lengths): every lane entry must be one of the num_lens lengths in
 * entry_lens (the lengths the local lanes use), so the buffer's length follows
 * from its header and entry lengths and no byte past it is read. The header's
 * version and kind are checked before anything else is read. Returns 0, or -1
 * with errmsg set (as uct_mp_wire_unpack, and an entry of another length, or
 * a total length that its entries do not make). */
int uct_mp_wire_unpack_exact(const void *buf, uct_mp_wire_kind_t kind,
                             const uint8_t *entry_lens, unsigned num_lens,
                             uct_mp_wire_t *msg, char *errmsg,
                             size_t errmsg_len);

/* Is buf (max_len readable bytes at most) an mp buffer of this kind written
 * by another protocol version? Its header, total length (at most max_len)
 * and check byte follow the common rules of every version; *version_p is set
 * to the writer's version. */
int uct_mp_wire_is_other_version(const void *buf, size_t max_len,
                                 uct_mp_wire_kind_t kind, uint8_t *version_p);

/* Bytes of one lane's packed rkey for a lane transport (what the lane
 * component's rkey_unpack reads) */
size_t uct_mp_lane_tl_rkey_len(uct_mp_lane_tl_t tl);

/* Decode a remote key whose length UCT does not pass: every lane entry must
 * have the rkey length of its lane transport, nothing past them is read */
int uct_mp_wire_unpack_rkey(const void *buf, uct_mp_wire_t *msg, char *errmsg,
                            size_t errmsg_len);

/* Does buf (at least 2 readable bytes) start like an mp buffer of this kind
 * and version? A cheap test to tell an mp address from another transport's;
 * uct_mp_wire_unpack() still validates everything. */
int uct_mp_wire_is_kind(const void *buf, uct_mp_wire_kind_t kind);

/* Lane transport code for a UCT transport name, UNKNOWN if not supported. */
uct_mp_lane_tl_t uct_mp_lane_tl_from_name(const char *tl_name);
const char *uct_mp_lane_tl_name(uct_mp_lane_tl_t tl);
/* Name of the UCT component that provides the lane transport ("ib", "tcp"). */
const char *uct_mp_lane_tl_component(uct_mp_lane_tl_t tl);

/* log2 bandwidth class for bytes/second (0 for <= 1 MB/s, saturates). */
uint8_t uct_mp_wire_bw_class(double bytes_per_sec);

#ifdef __cplusplus
}
#endif

#endif
