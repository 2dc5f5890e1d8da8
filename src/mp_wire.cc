/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * MP wire codec: see mp_wire.h for the formats.
 */

#include "mp_wire.h"
#include "mp_codec.h"

#include <cmath>
#include <cstring>

namespace uct_mp {
namespace {

const size_t HEADER_LEN         = 4;  /* version, kind, total_len, lanes */
const size_t TRAILER_LEN        = 1;  /* check byte */
const size_t LANE_DEVS_EXTRA    = 2;  /* per entry: md_index, bw_class */

bool valid_kind(unsigned kind)
{
    return (kind >= UCT_MP_WIRE_DEVICE_ADDR) && (kind <= UCT_MP_WIRE_LANE_DEVS);
}

const char *kind_name(unsigned kind)
{
    switch (kind) {
    case UCT_MP_WIRE_DEVICE_ADDR: return "device address";
    case UCT_MP_WIRE_IFACE_ADDR:  return "iface address";
    case UCT_MP_WIRE_EP_ADDR:     return "ep address";
    case UCT_MP_WIRE_RKEY:        return "remote key";
    case UCT_MP_WIRE_LANE_DEVS:   return "lane device list";
    default:                      return "unknown kind";
    }
}

/* Fixed fields after the header */
bool has_caps(unsigned kind)
{
    return (kind == UCT_MP_WIRE_DEVICE_ADDR) || (kind == UCT_MP_WIRE_EP_ADDR);
}

bool has_lane_tl(unsigned kind)
{
    return kind != UCT_MP_WIRE_IFACE_ADDR;
}

bool has_token(unsigned kind)
{
    return kind == UCT_MP_WIRE_EP_ADDR;
}

size_t extra_len(unsigned kind)
{
    return (has_caps(kind) ? 1 : 0) + (has_lane_tl(kind) ? 1 : 0) +
           (has_token(kind) ? 4 : 0);
}

size_t lane_extra_len(unsigned kind)
{
    return (kind == UCT_MP_WIRE_LANE_DEVS) ? LANE_DEVS_EXTRA : 0;
}

/* Check byte: makes the 8-bit sum of the whole buffer 0xff. */
uint8_t check_byte(const uint8_t *buf, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; ++i) {
        sum = static_cast<uint8_t>(sum + buf[i]);
    }
    return static_cast<uint8_t>(0xff - sum);
}

size_t packed_size(const uct_mp_wire_t *msg)
{
    size_t size = HEADER_LEN + extra_len(msg->kind) + TRAILER_LEN;

    for (unsigned i = 0; (i < msg->lane_count) && (i < UCT_MP_MAX_LANES); ++i) {
        size += lane_extra_len(msg->kind) + 1 + msg->lanes[i].len;
    }
    return size;
}

size_t pack(const uct_mp_wire_t *msg, void *buf, size_t buf_len, char *errmsg,
            size_t errmsg_len)
{
    if (!valid_kind(msg->kind)) {
        set_error(errmsg, errmsg_len, "mp wire: cannot pack kind %u",
                  msg->kind);
        return 0;
    }

    if ((msg->lane_count == 0) || (msg->lane_count > UCT_MP_MAX_LANES)) {
        set_error(errmsg, errmsg_len,
                  "mp %s: %u lanes, must be 1 to %d", kind_name(msg->kind),
                  msg->lane_count, UCT_MP_MAX_LANES);
        return 0;
    }

    for (unsigned i = 0; i < msg->lane_count; ++i) {
        if ((msg->lanes[i].len > 0) && (msg->lanes[i].data == nullptr)) {
            set_error(errmsg, errmsg_len,
                      "mp %s: lane %u has %u bytes but no data",
                      kind_name(msg->kind), i, msg->lanes[i].len);
            return 0;
        }
    }

    size_t size = packed_size(msg);
    if (size > UCT_MP_WIRE_MAX_LEN) {
        set_error(errmsg, errmsg_len,
                  "mp %s of %u lanes needs %zu bytes, maximum %d",
                  kind_name(msg->kind), msg->lane_count, size,
                  UCT_MP_WIRE_MAX_LEN);
        return 0;
    }
    if (size > buf_len) {
        set_error(errmsg, errmsg_len,
                  "mp %s needs %zu bytes, buffer has %zu",
                  kind_name(msg->kind), size, buf_len);
        return 0;
    }

    byte_writer w(static_cast<uint8_t*>(buf));
    w.u8(UCT_MP_PROTO_VERSION);
    w.u8(msg->kind);
    w.u8(static_cast<uint8_t>(size));
    w.u8(msg->lane_count);
    if (has_caps(msg->kind)) {
        w.u8(msg->caps);
    }
    if (has_lane_tl(msg->kind)) {
        w.u8(msg->lane_tl);
    }
    if (has_token(msg->kind)) {
        w.u32(msg->token);
    }

    for (unsigned i = 0; i < msg->lane_count; ++i) {
        if (msg->kind == UCT_MP_WIRE_LANE_DEVS) {
            w.u8(msg->lanes[i].md_index);
            w.u8(msg->lanes[i].bw_class);
        }
        w.u8(msg->lanes[i].len);
        w.bytes(msg->lanes[i].data, msg->lanes[i].len);
    }

    w.u8(check_byte(w.buf(), w.pos()));
    return w.pos();
}

/* The header, the lengths and the check byte of buf; -1 with a message */
int check_frame(const void *buf, size_t buf_len, uct_mp_wire_kind_t kind,
                char *errmsg, size_t errmsg_len)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);
    const char *what     = kind_name(kind);
    uint8_t version, got_kind, total_len, lane_count;

    if ((buf == nullptr) || (buf_len < HEADER_LEN)) {
        set_error(errmsg, errmsg_len,
                  "mp %s truncated: %zu bytes, the header alone has %zu",
                  what, (buf == nullptr) ? 0 : buf_len, HEADER_LEN);
        return -1;
    }

    version    = bytes[0];
    got_kind   = bytes[1];
    total_len  = bytes[2];
    lane_count = bytes[3];

    if (version != UCT_MP_PROTO_VERSION) {
        set_error(errmsg, errmsg_len,
                  "peer speaks MP protocol version %u, this build speaks %u",
                  version, UCT_MP_PROTO_VERSION);
        return -1;
    }

    if (got_kind != kind) {
        set_error(errmsg, errmsg_len, "expected an mp %s, got kind %u (%s)",
                  what, got_kind, kind_name(got_kind));
        return -1;
    }

    size_t min_len = HEADER_LEN + extra_len(kind) + TRAILER_LEN;
    if (total_len < min_len) {
        set_error(errmsg, errmsg_len,
                  "mp %s: total length %u is below the minimum %zu", what,
                  total_len, min_len);
        return -1;
    }
    if (total_len > buf_len) {
        set_error(errmsg, errmsg_len,
                  "mp %s truncated: total length %u > %zu bytes available",
                  what, total_len, buf_len);
        return -1;
    }

    if ((lane_count == 0) || (lane_count > UCT_MP_MAX_LANES)) {
        set_error(errmsg, errmsg_len, "mp %s: %u lanes, must be 1 to %d",
                  what, lane_count, UCT_MP_MAX_LANES);
        return -1;
    }

    uint8_t expected = check_byte(bytes, total_len - TRAILER_LEN);
    if (bytes[total_len - TRAILER_LEN] != expected) {
        set_error(errmsg, errmsg_len,
                  "mp %s corrupted: check byte 0x%02x, expected 0x%02x", what,
                  bytes[total_len - TRAILER_LEN], expected);
        return -1;
    }
    return 0;
}

/* The lane entries of out from r, which is past the fixed fields; -1 with a
 * message */
int unpack_lanes(byte_reader &r, uct_mp_wire_kind_t kind, uct_mp_wire_t *out,
                 char *errmsg, size_t errmsg_len)
{
    const char *what = kind_name(kind);
    unsigned lane_count = out->lane_count;

    for (unsigned i = 0; i < lane_count; ++i) {
        uct_mp_wire_lane_t *lane = &out->lanes[i];

        if (kind == UCT_MP_WIRE_LANE_DEVS) {
            if (!r.u8(&lane->md_index) || !r.u8(&lane->bw_class)) {
                set_error(errmsg, errmsg_len,
                          "mp %s: lane %u of %u truncated", what, i,
                          lane_count);
                return -1;
            }
        }
        if (!r.u8(&lane->len)) {
            set_error(errmsg, errmsg_len, "mp %s: lane %u of %u truncated",
                      what, i, lane_count);
            return -1;
        }
        if (!r.bytes(lane->len, &lane->data)) {
            set_error(errmsg, errmsg_len,
                      "mp %s: lane %u length %u runs past the end (%zu bytes "
                      "left)", what, i, lane->len, r.remaining());
            return -1;
        }
        if (lane->len == 0) {
            lane->data = nullptr;
        }
    }
    return 0;
}

int unpack(const void *buf, size_t buf_len, uct_mp_wire_kind_t kind,
           uct_mp_wire_t *msg, char *errmsg, size_t errmsg_len)
{
    if (check_frame(buf, buf_len, kind, errmsg, errmsg_len) != 0) {
        return -1;
    }

    const uint8_t *bytes = static_cast<const uint8_t*>(buf);
    const char *what     = kind_name(kind);
    uct_mp_wire_t out;
    memset(&out, 0, sizeof(out));
    out.version    = bytes[0];
    out.kind       = bytes[1];
    out.total_len  = bytes[2];
    out.lane_count = bytes[3];

    /* The reader stops before the check byte */
    byte_reader r(bytes + HEADER_LEN,
                  out.total_len - HEADER_LEN - TRAILER_LEN);
    if ((has_caps(kind) && !r.u8(&out.caps)) ||
        (has_lane_tl(kind) && !r.u8(&out.lane_tl)) ||
        (has_token(kind) && !r.u32(&out.token))) {
        set_error(errmsg, errmsg_len, "mp %s: header truncated", what);
        return -1;
    }

    if (unpack_lanes(r, kind, &out, errmsg, errmsg_len) != 0) {
        return -1;
    }

    if (r.remaining() != 0) {
        set_error(errmsg, errmsg_len,
                  "mp %s: %zu unexpected bytes after %u lanes", what,
                  r.remaining(), out.lane_count);
        return -1;
    }

    *msg = out;
    return 0;
}

bool len_allowed(uint8_t len, const uint8_t *lens, unsigned num_lens)
{
    for (unsigned i = 0; i < num_lens; ++i) {
        if (lens[i] == len) {
            return true;
        }
    }
    return false;
}

int unpack_exact(const void *buf, uct_mp_wire_kind_t kind,
                 const uint8_t *lens, unsigned num_lens, uct_mp_wire_t *msg,
                 char *errmsg, size_t errmsg_len)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);
    const char *what     = kind_name(kind);

    if (buf == nullptr) {
        return unpack(buf, 0, kind, msg, errmsg, errmsg_len);
    }

    /* version and kind first: another version's layout is unknown */
    if (bytes[0] != UCT_MP_PROTO_VERSION) {
        set_error(errmsg, errmsg_len,
                  "peer speaks MP protocol version %u, this build speaks %u",
                  bytes[0], UCT_MP_PROTO_VERSION);
        return -1;
    }
    if (bytes[1] != kind) {
        set_error(errmsg, errmsg_len, "expected an mp %s, got kind %u (%s)",
                  what, bytes[1], kind_name(bytes[1]));
        return -1;
    }

    uint8_t lane_count = bytes[3];
    if ((lane_count == 0) || (lane_count > UCT_MP_MAX_LANES)) {
        set_error(errmsg, errmsg_len, "mp %s: %u lanes, must be 1 to %d",
                  what, lane_count, UCT_MP_MAX_LANES);
        return -1;
    }

    /* walk the entries: each length byte is read only after the entries
     * before it had an allowed length */
    size_t pos = HEADER_LEN + extra_len(kind);
    for (unsigned i = 0; i < lane_count; ++i) {
        pos          += lane_extra_len(kind);
        uint8_t len   = bytes[pos];
        if (!len_allowed(len, lens, num_lens)) {
            set_error(errmsg, errmsg_len, "mp %s: lane %u of %u has %u bytes, "
                      "local lanes use %u", what, i, lane_count, len,
                      (num_lens > 0) ? lens[0] : 0);
            return -1;
        }
        pos += 1 + len;
    }
    pos += TRAILER_LEN;

    if (bytes[2] != pos) {
        set_error(errmsg, errmsg_len, "mp %s: total length %u, its %u lanes "
                  "make %zu", what, bytes[2], lane_count, pos);
        return -1;
    }
    return unpack(buf, pos, kind, msg, errmsg, errmsg_len);
}

int is_other_version(const void *buf, size_t max_len, uct_mp_wire_kind_t kind,
                     uint8_t *version_p)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);

    if ((bytes == nullptr) || (max_len < HEADER_LEN + TRAILER_LEN) ||
        (bytes[0] == UCT_MP_PROTO_VERSION) || (bytes[0] == 0) ||
        (bytes[1] != kind)) {
        return 0;
    }

    /* total length before the lane count: a short foreign address is read
     * no further than its plausible length */
    uint8_t total_len = bytes[2];
    if ((total_len < HEADER_LEN + TRAILER_LEN) || (total_len > max_len) ||
        (bytes[3] == 0) || (bytes[3] > UCT_MP_MAX_LANES) ||
        (check_byte(bytes, total_len) != 0)) {
        return 0;
    }

    *version_p = bytes[0];
    return 1;
}

} // namespace
} // namespace uct_mp


extern "C" {

size_t uct_mp_wire_packed_size(const uct_mp_wire_t *msg)
{
    return uct_mp::packed_size(msg);
}

size_t uct_mp_wire_pack(const uct_mp_wire_t *msg, void *buf, size_t buf_len,
                        char *errmsg, size_t errmsg_len)
{
    return uct_mp::pack(msg, buf, buf_len, errmsg, errmsg_len);
}

int uct_mp_wire_unpack(const void *buf, size_t buf_len, uct_mp_wire_kind_t kind,
                       uct_mp_wire_t *msg, char *errmsg, size_t errmsg_len)
{
    return uct_mp::unpack(buf, buf_len, kind, msg, errmsg, errmsg_len);
}

int uct_mp_wire_unpack_exact(const void *buf, uct_mp_wire_kind_t kind,
                             const uint8_t *entry_lens, unsigned num_lens,
                             uct_mp_wire_t *msg, char *errmsg,
                             size_t errmsg_len)
{
    return uct_mp::unpack_exact(buf, kind, entry_lens, num_lens, msg, errmsg,
                                errmsg_len);
}

int uct_mp_wire_is_other_version(const void *buf, size_t max_len,
                                 uct_mp_wire_kind_t kind, uint8_t *version_p)
{
    return uct_mp::is_other_version(buf, max_len, kind, version_p);
}

size_t uct_mp_lane_tl_rkey_len(uct_mp_lane_tl_t tl)
{
    switch (tl) {
    case UCT_MP_LANE_TL_RC_VERBS:
    case UCT_MP_LANE_TL_RC_MLX5:  return 8; /* ib md: u64 packed rkey */
    default:                      return 0; /* tcp md: no rkey bytes */
    }
}

int uct_mp_wire_unpack_rkey(const void *buf, uct_mp_wire_t *msg, char *errmsg,
                            size_t errmsg_len)
{
    static const uint8_t lens[] = {0, 8}; /* every uct_mp_lane_tl_rkey_len */
    uct_mp_wire_t out;

    if (uct_mp::unpack_exact(buf, UCT_MP_WIRE_RKEY, lens, 2, &out, errmsg,
                             errmsg_len) != 0) {
        return -1;
    }

    size_t len = uct_mp_lane_tl_rkey_len(
                     static_cast<uct_mp_lane_tl_t>(out.lane_tl));
    for (unsigned i = 0; i < out.lane_count; ++i) {
        if (out.lanes[i].len != len) {
            uct_mp::set_error(errmsg, errmsg_len, "mp remote key: lane %u has "
                              "%u bytes, lane transport %u uses %zu", i,
                              out.lanes[i].len, out.lane_tl, len);
            return -1;
        }
    }

    *msg = out;
    return 0;
}

int uct_mp_wire_is_kind(const void *buf, uct_mp_wire_kind_t kind)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);

    return (bytes != nullptr) && (bytes[0] == UCT_MP_PROTO_VERSION) &&
           (bytes[1] == kind);
}

uct_mp_lane_tl_t uct_mp_lane_tl_from_name(const char *tl_name)
{
    if (tl_name == nullptr) {
        return UCT_MP_LANE_TL_UNKNOWN;
    } else if (!strcmp(tl_name, "rc_verbs")) {
        return UCT_MP_LANE_TL_RC_VERBS;
    } else if (!strcmp(tl_name, "rc_mlx5")) {
        return UCT_MP_LANE_TL_RC_MLX5;
    } else if (!strcmp(tl_name, "tcp")) {
        return UCT_MP_LANE_TL_TCP;
    }
    return UCT_MP_LANE_TL_UNKNOWN;
}

const char *uct_mp_lane_tl_name(uct_mp_lane_tl_t tl)
{
    switch (tl) {
    case UCT_MP_LANE_TL_RC_VERBS: return "rc_verbs";
    case UCT_MP_LANE_TL_RC_MLX5:  return "rc_mlx5";
    case UCT_MP_LANE_TL_TCP:      return "tcp";
    default:                      return nullptr;
    }
}

const char *uct_mp_lane_tl_component(uct_mp_lane_tl_t tl)
{
    switch (tl) {
    case UCT_MP_LANE_TL_RC_VERBS:
    case UCT_MP_LANE_TL_RC_MLX5:  return "ib";
    case UCT_MP_LANE_TL_TCP:      return "tcp";
    default:                      return nullptr;
    }
}

uint8_t uct_mp_wire_bw_class(double bytes_per_sec)
{
    double mbytes = bytes_per_sec / 1e6;

    if (!(mbytes > 1.0)) { /* also NaN */
        return 0;
    }
    double cls = std::floor(std::log2(mbytes));
    return (cls >= 255.0) ? 255 : static_cast<uint8_t>(cls);
}

} // extern "C"
