/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * MP control message codec: see mp_ctl.h for the formats.
 */

#include "mp_ctl.h"
#include "mp_codec.h"

#include <cstring>
#include <initializer_list>

namespace uct_mp {
namespace {

bool is_join_with_lanes(unsigned type)
{
    return (type == UCT_MP_CTL_JOIN_REQ) || (type == UCT_MP_CTL_JOIN_ACK);
}

bool valid_type(unsigned type)
{
    return is_join_with_lanes(type) || (type == UCT_MP_CTL_JOIN_NAK) ||
           (type == UCT_MP_CTL_KEEPALIVE) || (type == UCT_MP_CTL_KEEPALIVE_ACK) ||
           (type == UCT_MP_CTL_DATA_ACK) || (type == UCT_MP_CTL_DRAIN) ||
           (type == UCT_MP_CTL_DRAIN_DONE);
}

size_t body_len(const uct_mp_ctl_t *msg)
{
    switch (msg->type) {
    case UCT_MP_CTL_KEEPALIVE:
    case UCT_MP_CTL_KEEPALIVE_ACK:
    case UCT_MP_CTL_DATA_ACK:
    case UCT_MP_CTL_DRAIN:
    case UCT_MP_CTL_DRAIN_DONE:
        return 4;
    case UCT_MP_CTL_JOIN_NAK:
        return 5;
    case UCT_MP_CTL_JOIN_REQ:
        return 4 + uct_mp_wire_packed_size(&msg->devs) +
               uct_mp_wire_packed_size(&msg->addrs);
    case UCT_MP_CTL_JOIN_ACK:
        return 5 + msg->pair_count + uct_mp_wire_packed_size(&msg->devs) +
               uct_mp_wire_packed_size(&msg->addrs);
    default:
        return 0;
    }
}

size_t pack(const uct_mp_ctl_t *msg, void *buf, size_t buf_len, char *errmsg,
            size_t errmsg_len)
{
    if (!valid_type(msg->type)) {
        set_error(errmsg, errmsg_len, "mp control: cannot pack type %u",
                  msg->type);
        return 0;
    }

    if (is_join_with_lanes(msg->type)) {
        if ((msg->devs.kind != UCT_MP_WIRE_LANE_DEVS) ||
            (msg->addrs.kind != UCT_MP_WIRE_EP_ADDR) ||
            (msg->devs.lane_count != msg->addrs.lane_count)) {
            set_error(errmsg, errmsg_len,
                      "mp control %s: needs lane devices and ep addresses of "
                      "the same lane count", uct_mp_ctl_type_str(msg->type));
            return 0;
        }
        if ((msg->type == UCT_MP_CTL_JOIN_ACK) &&
            (msg->pair_count > UCT_MP_MAX_LANES)) {
            set_error(errmsg, errmsg_len, "mp control %s: %u pairs, maximum "
                      "%d", uct_mp_ctl_type_str(msg->type), msg->pair_count,
                      UCT_MP_MAX_LANES);
            return 0;
        }
    }

    size_t size = UCT_MP_CTL_HDR_LEN + body_len(msg);
    if (size > buf_len) {
        set_error(errmsg, errmsg_len, "mp control %s needs %zu bytes, buffer "
                  "has %zu", uct_mp_ctl_type_str(msg->type), size, buf_len);
        return 0;
    }

    byte_writer w(static_cast<uint8_t*>(buf));
    w.u8(UCT_MP_PROTO_VERSION);
    w.u8(msg->type);
    w.u16(msg->lane);
    w.u32(msg->dst_token);
    w.u32(msg->src_token);

    switch (msg->type) {
    case UCT_MP_CTL_KEEPALIVE:
    case UCT_MP_CTL_KEEPALIVE_ACK:
    case UCT_MP_CTL_DATA_ACK:
    case UCT_MP_CTL_DRAIN:
    case UCT_MP_CTL_DRAIN_DONE:
        w.u32(msg->probe_seq);
        break;
    case UCT_MP_CTL_JOIN_NAK:
        w.u32(msg->join_id);
        w.u8(msg->reason);
        break;
    default: /* JOIN_REQ, JOIN_ACK */
        w.u32(msg->join_id);
        if (msg->type == UCT_MP_CTL_JOIN_ACK) {
            w.u8(msg->pair_count);
            w.bytes(msg->pairs, msg->pair_count);
        }
        for (const uct_mp_wire_t *wire : {&msg->devs, &msg->addrs}) {
            size_t len = uct_mp_wire_pack(wire, w.cur(), size - w.pos(),
                                          errmsg, errmsg_len);
            if (len == 0) {
                return 0;
            }
            w.skip(len);
        }
        break;
    }

    return w.pos();
}

/* The type's fixed fields of out from r, which is past the header; -1 with
 * a message */
int unpack_fields(byte_reader &r, size_t length, uct_mp_ctl_t *out,
                  char *errmsg, size_t errmsg_len)
{
    const char *what = uct_mp_ctl_type_str(out->type);
    bool ok;

    switch (out->type) {
    case UCT_MP_CTL_KEEPALIVE:
    case UCT_MP_CTL_KEEPALIVE_ACK:
    case UCT_MP_CTL_DATA_ACK:
    case UCT_MP_CTL_DRAIN:
    case UCT_MP_CTL_DRAIN_DONE:
        ok = r.u32(&out->probe_seq);
        break;
    case UCT_MP_CTL_JOIN_NAK:
        ok = r.u32(&out->join_id) && r.u8(&out->reason);
        break;
    default:
        ok = r.u32(&out->join_id);
        if (ok && (out->type == UCT_MP_CTL_JOIN_ACK)) {
            ok = r.u8(&out->pair_count);
            if (ok && (out->pair_count > UCT_MP_MAX_LANES)) {
                set_error(errmsg, errmsg_len, "mp control %s: %u pairs, "
                          "maximum %d", what, out->pair_count,
                          UCT_MP_MAX_LANES);
                return -1;
            }
            ok = ok && (r.remaining() >= out->pair_count);
            if (ok) {
                memcpy(out->pairs, r.cur(), out->pair_count);
                r.skip(out->pair_count);
            }
        }
        break;
    }
    if (!ok) {
        set_error(errmsg, errmsg_len, "mp control %s truncated: %zu bytes",
                  what, length);
        return -1;
    }
    return 0;
}

/* The lane devices and addresses of a JOIN_REQ/JOIN_ACK from r, checked
 * against each other and the header; -1 with a message */
int unpack_join_lanes(byte_reader &r, uct_mp_ctl_t *out, char *errmsg,
                      size_t errmsg_len)
{
    const char *what = uct_mp_ctl_type_str(out->type);
    char wire_err[UCT_MP_WIRE_ERRMSG_MAX];

    if (uct_mp_wire_unpack(r.cur(), r.remaining(), UCT_MP_WIRE_LANE_DEVS,
                           &out->devs, wire_err, sizeof(wire_err)) != 0) {
        set_error(errmsg, errmsg_len, "mp control %s: %s", what, wire_err);
        return -1;
    }
    r.skip(out->devs.total_len);
    if (uct_mp_wire_unpack(r.cur(), r.remaining(), UCT_MP_WIRE_EP_ADDR,
                           &out->addrs, wire_err, sizeof(wire_err)) != 0) {
        set_error(errmsg, errmsg_len, "mp control %s: %s", what, wire_err);
        return -1;
    }
    r.skip(out->addrs.total_len);
    if (out->devs.lane_count != out->addrs.lane_count) {
        set_error(errmsg, errmsg_len, "mp control %s: %u lane devices but "
                  "%u lane addresses", what, out->devs.lane_count,
                  out->addrs.lane_count);
        return -1;
    }
    if (out->addrs.token != out->src_token) {
        set_error(errmsg, errmsg_len, "mp control %s: ep address of ep "
                  "0x%x sent by ep 0x%x", what, out->addrs.token,
                  out->src_token);
        return -1;
    }
    for (unsigned i = 0; i < out->pair_count; ++i) {
        if ((out->pairs[i] != UCT_MP_CTL_NO_PAIR) &&
            (out->pairs[i] >= out->devs.lane_count)) {
            set_error(errmsg, errmsg_len, "mp control %s: pair %u names "
                      "lane %u of %u", what, i, out->pairs[i],
                      out->devs.lane_count);
            return -1;
        }
    }
    return 0;
}

int unpack(const void *buf, size_t length, uct_mp_ctl_t *msg, char *errmsg,
           size_t errmsg_len)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);
    uct_mp_ctl_t out;

    if ((buf == nullptr) || (length < UCT_MP_CTL_HDR_LEN)) {
        set_error(errmsg, errmsg_len, "mp control message truncated: %zu "
                  "bytes, the header alone has %d",
                  (buf == nullptr) ? 0 : length, UCT_MP_CTL_HDR_LEN);
        return -1;
    }

    memset(&out, 0, sizeof(out));
    byte_reader r(bytes, length);
    r.u8(&out.version);
    r.u8(&out.type);
    r.u16(&out.lane);
    r.u32(&out.dst_token);
    r.u32(&out.src_token);

    if (out.version != UCT_MP_PROTO_VERSION) {
        set_error(errmsg, errmsg_len, "peer speaks MP protocol version %u, "
                  "this build speaks %u", out.version, UCT_MP_PROTO_VERSION);
        return -1;
    }

    if (!valid_type(out.type)) {
        set_error(errmsg, errmsg_len, "mp control message of unknown type %u",
                  out.type);
        return -1;
    }

    if (unpack_fields(r, length, &out, errmsg, errmsg_len) != 0) {
        return -1;
    }

    if (is_join_with_lanes(out.type) &&
        (unpack_join_lanes(r, &out, errmsg, errmsg_len) != 0)) {
        return -1;
    }

    if (r.remaining() != 0) {
        set_error(errmsg, errmsg_len, "mp control %s: %zu unexpected bytes at "
                  "the end", uct_mp_ctl_type_str(out.type), r.remaining());
        return -1;
    }

    *msg = out;
    return 0;
}

} // namespace
} // namespace uct_mp


extern "C" {

size_t uct_mp_ctl_pack(const uct_mp_ctl_t *msg, void *buf, size_t buf_len,
                       char *errmsg, size_t errmsg_len)
{
    return uct_mp::pack(msg, buf, buf_len, errmsg, errmsg_len);
}

int uct_mp_ctl_unpack(const void *buf, size_t length, uct_mp_ctl_t *msg,
                      char *errmsg, size_t errmsg_len)
{
    return uct_mp::unpack(buf, length, msg, errmsg, errmsg_len);
}

const char *uct_mp_ctl_type_str(unsigned type)
{
    switch (type) {
    case UCT_MP_CTL_KEEPALIVE: return "KEEPALIVE";
    case UCT_MP_CTL_KEEPALIVE_ACK: return "KEEPALIVE_ACK";
    case UCT_MP_CTL_DATA_ACK:  return "DATA_ACK";
    case UCT_MP_CTL_JOIN_REQ:  return "JOIN_REQ";
    case UCT_MP_CTL_JOIN_ACK:  return "JOIN_ACK";
    case UCT_MP_CTL_JOIN_NAK:  return "JOIN_NAK";
    case UCT_MP_CTL_DRAIN:     return "DRAIN";
    case UCT_MP_CTL_DRAIN_DONE: return "DRAIN_DONE";
    default:                   return "unknown";
    }
}

} // extern "C"
