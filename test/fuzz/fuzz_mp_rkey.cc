/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Module-level libFuzzer target: packed remote keys, in an exact-size heap
 * buffer, through uct_rkey_unpack() of the mp component (and release).
 *
 * Input: [keep][packed rkey], fixed up as an mp RKEY wire message.
 */

#include "fuzz_module.h"

using namespace uct_mp_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    module_env &e = env();
    uct_rkey_bundle_t rkey;

    if (size < 1) {
        return 0;
    }
    exact_buf buf(data + 1, size - 1);
    fixup_wire(buf.data(), buf.size(), UCT_MP_WIRE_RKEY, data[0]);
    if (uct_rkey_unpack(e.a.comp, buf.data(), &rkey) == UCS_OK) {
        uct_rkey_release(e.a.comp, &rkey);
    }
    return 0;
}
