/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Module-level libFuzzer target: what arrives on a lane, handed to the AM
 * handler mp set on that lane iface (the real receive path), from an
 * exact-size heap buffer: data AMs (UCP's ids: the 12-byte data header of
 * mp_am.h, then UCP's bytes) and control messages (UCT_MP_CTL_AM_ID).
 *
 * Input: [selector][keep][message]. selector bit 0: lane; bit 1: control
 * message, else data AM on id 7; bits 2..4: the control type. Unless kept,
 * a data AM's conn is A's ep token, and a control message gets its version,
 * type, tokens (dst = A's ep, src = B's ep) and JOIN body fixed up.
 */

#ifdef HAVE_CONFIG_H
#  include "config.h" /* UCX's: its internal headers need it first */
#endif

extern "C" {
#include <uct/base/uct_iface.h>
#include "mp_iface.h"
}

#include "fuzz_module.h"
#include "mp_ctl.h"

using namespace uct_mp_fuzz;

namespace {

const uint8_t k_am_id = 7;
const uint8_t k_types[] = {
    UCT_MP_CTL_KEEPALIVE, UCT_MP_CTL_KEEPALIVE_ACK, UCT_MP_CTL_DATA_ACK,
    UCT_MP_CTL_JOIN_REQ, UCT_MP_CTL_JOIN_ACK, UCT_MP_CTL_JOIN_NAK
};

ucs_status_t sink(void *arg, void *data, size_t length, unsigned flags)
{
    ++*static_cast<unsigned long*>(arg);
    return UCS_OK;
}

/* The handler mp set on lane's iface for id */
uct_am_handler_t *lane_handler(module_env &e, unsigned lane, uint8_t id)
{
    uct_mp_iface_t *mp = ucs_derived_of(e.a.iface, uct_mp_iface_t);
    uct_base_iface_t *li = ucs_derived_of(mp->lanes[lane % mp->num_lanes].iface,
                                          uct_base_iface_t);
    return &li->am[id];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long delivered = 0;
    static bool set = false;
    module_env &e = env();

    if (!set) {
        FUZZ_CHECK(uct_iface_set_am_handler(e.a.iface, k_am_id, sink,
                                            &delivered, 0));
        set = true;
    }
    if (size < 2) {
        return 0;
    }
    const unsigned sel  = data[0];
    const unsigned keep = data[1];
    const bool ctl      = sel & 2;
    exact_buf buf(data + 2, size - 2);
    uint8_t *b = buf.data();

    if (ctl) {
        fixup_ctl(b, buf.size(), k_types[(sel >> 2) % sizeof(k_types)], keep);
        if ((buf.size() >= UCT_MP_CTL_HDR_LEN) && !(keep & KEEP_TOKEN)) {
            memcpy(b + 4, &e.a_token, 4);
            memcpy(b + 8, &e.b_token, 4);
            if (buf.size() > UCT_MP_CTL_HDR_LEN + 4) {
                fixup_ctl(b, buf.size(), b[1], keep | KEEP_HEADER);
            }
        }
    } else if ((buf.size() >= 4) && !(keep & KEEP_HEADER)) {
        memcpy(b, &e.a_token, 4);
    }

    uct_am_handler_t *h = lane_handler(e, sel & 1,
                                       ctl ? UCT_MP_CTL_AM_ID : k_am_id);
    h->cb(h->arg, b, buf.size(), 0);
    e.progress(2);
    return 0;
}
