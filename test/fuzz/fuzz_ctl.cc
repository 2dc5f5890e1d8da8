/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * libFuzzer target: uct_mp_ctl_unpack(), every control message type.
 *
 * Input: [type selector][keep bits][message]. The header's version and type
 * are set (unless kept), and for JOIN_REQ/JOIN_ACK the pair count is bounded
 * and both embedded wire messages (lane devices, ep address) are fixed up:
 * version, kind, length, check byte, the ep address's token = src_token, the
 * same lane count, pairs that name existing lanes. The message is decoded from
 * an exact-size heap copy; what decodes must pack back to the same bytes.
 */

#include "fuzz_fixup.h"
#include "mp_ctl.h"

#include <cstdio>

using namespace uct_mp_fuzz;

namespace {

const uint8_t types[] = {
    UCT_MP_CTL_KEEPALIVE, UCT_MP_CTL_KEEPALIVE_ACK, UCT_MP_CTL_DATA_ACK,
    UCT_MP_CTL_JOIN_REQ, UCT_MP_CTL_JOIN_ACK, UCT_MP_CTL_JOIN_NAK
};

void check_decoded(const uint8_t *buf, size_t len, const uct_mp_ctl_t &msg)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];
    uint8_t packed[UCT_MP_CTL_MAX_LEN];

    size_t n = uct_mp_ctl_pack(&msg, packed, sizeof(packed), errmsg,
                               sizeof(errmsg));
    if (n != len) {
        fprintf(stderr, "ctl repack: %zu bytes of %zu: %s\n", n, len, errmsg);
    }
    UCT_MP_FUZZ_ASSERT(n == len);
    UCT_MP_FUZZ_ASSERT(memcmp(packed, buf, n) == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX * 2];
    uct_mp_ctl_t msg;

    if (size < 2) {
        return 0;
    }

    const uint8_t type  = types[data[0] % sizeof(types)];
    const unsigned keep = data[1];
    exact_buf buf(data + 2, size - 2);
    uint8_t *b = buf.data();

    fixup_ctl(b, buf.size(), type, keep);

    if (uct_mp_ctl_unpack(b, buf.size(), &msg, errmsg, sizeof(errmsg)) == 0) {
        check_decoded(b, buf.size(), msg);
    } else {
        UCT_MP_FUZZ_ASSERT(errmsg[0] != '\0');
    }
    return 0;
}
