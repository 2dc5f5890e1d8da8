/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * libFuzzer target: uct_mp_wire_unpack() for every message kind.
 *
 * Input: [selector][buffer]. selector % 5 picks the kind, selector / 5
 * (bits of KEEP_*) which gates to leave unfixed; the rest is the buffer, fixed
 * up (fuzz_fixup.h) and decoded from an exact-size heap copy as every kind.
 * What decodes must lie within the buffer and pack back to the same bytes.
 */

#include "fuzz_fixup.h"
#include "mp_wire.h"

#include <cstdio>

using namespace uct_mp_fuzz;

namespace {

void check_decoded(const uint8_t *buf, size_t len, const uct_mp_wire_t &msg,
                   uct_mp_wire_kind_t kind)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uint8_t packed[UCT_MP_WIRE_MAX_LEN];

    UCT_MP_FUZZ_ASSERT(msg.total_len <= len);
    UCT_MP_FUZZ_ASSERT(msg.kind == kind);
    UCT_MP_FUZZ_ASSERT((msg.lane_count >= 1) &&
                       (msg.lane_count <= UCT_MP_MAX_LANES));
    for (unsigned i = 0; i < msg.lane_count; ++i) {
        const uint8_t *d = static_cast<const uint8_t*>(msg.lanes[i].data);
        UCT_MP_FUZZ_ASSERT((msg.lanes[i].len == 0) == (d == nullptr));
        UCT_MP_FUZZ_ASSERT((d == nullptr) ||
                           ((d >= buf) &&
                            (d + msg.lanes[i].len <= buf + msg.total_len)));
    }

    size_t n = uct_mp_wire_pack(&msg, packed, sizeof(packed), errmsg,
                                sizeof(errmsg));
    UCT_MP_FUZZ_ASSERT(n == msg.total_len);
    UCT_MP_FUZZ_ASSERT(uct_mp_wire_packed_size(&msg) == n);
    UCT_MP_FUZZ_ASSERT(memcmp(packed, buf, n) == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uct_mp_wire_t msg;

    if (size < 1) {
        return 0;
    }

    const uint8_t kind = static_cast<uint8_t>(1 + data[0] % 5);
    const unsigned keep = (data[0] / 5) & 0xf;
    exact_buf buf(data + 1, size - 1);
    fixup_wire(buf.data(), buf.size(), kind, keep);

    for (unsigned k = UCT_MP_WIRE_DEVICE_ADDR; k <= UCT_MP_WIRE_LANE_DEVS;
         ++k) {
        auto wkind = static_cast<uct_mp_wire_kind_t>(k);
        if (uct_mp_wire_unpack(buf.data(), buf.size(), wkind, &msg, errmsg,
                               sizeof(errmsg)) == 0) {
            check_decoded(buf.data(), buf.size(), msg, wkind);
        } else {
            UCT_MP_FUZZ_ASSERT(errmsg[0] != '\0');
        }
        if (buf.size() >= 2) {
            (void)uct_mp_wire_is_kind(buf.data(), wkind);
        }
    }
    return 0;
}
