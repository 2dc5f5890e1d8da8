/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Fix-ups the fuzz targets apply to a mutated input so that it passes the
 * cheap gates (version, kind, total length, check byte) and reaches the deep
 * parsers: random bytes pass the check byte of mp_wire.h only 1 time in 256
 * after getting version, kind and length right, about 1 in 10^6 overall.
 * Each gate can be left alone by a selector bit of the input, so the
 * rejections stay covered too.
 */

#ifndef UCT_MP_FUZZ_FIXUP_H_
#define UCT_MP_FUZZ_FIXUP_H_

#include "mp_ctl.h"
#include "mp_wire.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace uct_mp_fuzz {

/* Which gates to leave as the fuzzer wrote them */
enum {
    KEEP_VERSION = 1u << 0,
    KEEP_KIND    = 1u << 1,
    KEEP_LENGTH  = 1u << 2,
    KEEP_CHECK   = 1u << 3
};

/* Check byte of mp_wire.h: the 8-bit sum of the whole buffer is 0xff */
inline uint8_t check_byte(const uint8_t *buf, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; ++i) {
        sum = static_cast<uint8_t>(sum + buf[i]);
    }
    return static_cast<uint8_t>(0xff - sum);
}

/* Fix up the wire message at buf[0..avail): version, kind, total_len (at
 * most avail; the fuzzer's value if it fits, else avail), check byte.
 * Returns the message's total length as fixed (0: no room for a header). */
inline size_t fixup_wire(uint8_t *buf, size_t avail, uint8_t kind,
                         unsigned keep)
{
    if (avail < 4) {
        return 0;
    }
    if (!(keep & KEEP_VERSION)) {
        buf[0] = UCT_MP_PROTO_VERSION;
    }
    if (!(keep & KEEP_KIND)) {
        buf[1] = kind;
    }
    size_t max = (avail < UCT_MP_WIRE_MAX_LEN) ? avail : UCT_MP_WIRE_MAX_LEN;
    if (!(keep & KEEP_LENGTH) && ((buf[2] < 5) || (buf[2] > max))) {
        buf[2] = static_cast<uint8_t>(max);
    }
    size_t total = buf[2];
    if (!(keep & KEEP_CHECK) && (total >= 1) && (total <= avail)) {
        buf[total - 1] = check_byte(buf, total - 1);
    }
    return total;
}

enum {
    KEEP_HEADER = 1u << 4, /* version, type */
    KEEP_PAIRS  = 1u << 5, /* pair count and pairs */
    KEEP_TOKEN  = 1u << 6, /* the ep address's token, lane counts */
};

/* The JOIN body after join_id (and the pairs): [lane devices][ep address] */
inline void fixup_join(uint8_t *buf, size_t len, unsigned keep)
{
    const bool ack = (buf[1] == UCT_MP_CTL_JOIN_ACK);
    size_t pos     = UCT_MP_CTL_HDR_LEN + 4;
    uint8_t *pairs = nullptr;
    uint8_t npairs = 0;

    if (ack) {
        if (pos >= len) {
            return;
        }
        if (!(keep & KEEP_PAIRS) && (buf[pos] > UCT_MP_MAX_LANES)) {
            buf[pos] %= UCT_MP_MAX_LANES + 1;
        }
        npairs = buf[pos];
        pairs  = &buf[pos + 1];
        pos   += 1 + npairs;
    }
    if (pos >= len) {
        return;
    }

    /* lane devices: kind and length; its check byte after the lane count */
    size_t devs = fixup_wire(buf + pos, len - pos, UCT_MP_WIRE_LANE_DEVS,
                             keep | KEEP_CHECK);
    if ((devs == 0) || (pos + devs > len)) {
        return;
    }
    size_t addr = pos + devs;
    uint8_t lanes = buf[pos + 3];
    if ((len - addr >= 4) && !(keep & KEEP_TOKEN)) {
        buf[addr + 3] = lanes;
        if (len - addr >= 10) {
            memcpy(buf + addr + 6, buf + 8, 4); /* token = src_token */
        }
    }
    if (!(keep & KEEP_CHECK)) {
        buf[pos + devs - 1] = check_byte(buf + pos, devs - 1);
    }
    fixup_wire(buf + addr, len - addr, UCT_MP_WIRE_EP_ADDR, keep);

    for (unsigned i = 0; (pairs != nullptr) && !(keep & KEEP_PAIRS) &&
                         (i < npairs) && (lanes > 0); ++i) {
        if ((pairs[i] != UCT_MP_CTL_NO_PAIR) && (pairs[i] >= lanes)) {
            pairs[i] %= lanes;
        }
    }
}

/* A control message of buf[0..len): version and type (unless KEEP_HEADER),
 * and the JOIN body */
inline void fixup_ctl(uint8_t *buf, size_t len, uint8_t type, unsigned keep)
{
    if ((len >= 2) && !(keep & KEEP_HEADER)) {
        buf[0] = UCT_MP_PROTO_VERSION;
        buf[1] = type;
    }
    if ((len > UCT_MP_CTL_HDR_LEN + 4) &&
        ((buf[1] == UCT_MP_CTL_JOIN_REQ) || (buf[1] == UCT_MP_CTL_JOIN_ACK))) {
        fixup_join(buf, len, keep);
    }
}

/* An exact-size heap copy: a read one byte past the end is an ASan report */
class exact_buf {
public:
    exact_buf(const uint8_t *data, size_t len) :
        m_buf(static_cast<uint8_t*>(malloc(len ? len : 1))), m_len(len) {
        if (len > 0) {
            memcpy(m_buf, data, len);
        }
    }
    ~exact_buf() { free(m_buf); }
    exact_buf(const exact_buf&) = delete;
    exact_buf &operator=(const exact_buf&) = delete;

    uint8_t *data() { return m_buf; }
    size_t size() const { return m_len; }

private:
    uint8_t *m_buf;
    size_t  m_len;
};

/* A finding: the decoder accepted something it must not have */
#define UCT_MP_FUZZ_ASSERT(_cond) \
    do { \
        if (!(_cond)) { \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
                    __LINE__, #_cond); \
            abort(); \
        } \
    } while (0)

} // namespace uct_mp_fuzz

#endif
