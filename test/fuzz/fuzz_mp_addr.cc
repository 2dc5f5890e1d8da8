/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Module-level libFuzzer target: the addresses UCP hands to mp_rc, each in an
 * exact-size heap buffer, through uct_iface_is_reachable(), uct_ep_create()
 * (device + iface address) and uct_ep_connect_to_ep() (device + ep address).
 *
 * Input: [selector][keep][device address len][device address][the other
 * address]. selector % 3: is_reachable, ep_create, connect_to_ep. The
 * addresses are fixed up (fuzz_fixup.h): the device address as DEVICE_ADDR,
 * the iface address as [LANE_DEVS][IFACE_ADDR], the ep address as EP_ADDR.
 */

#include "fuzz_module.h"

using namespace uct_mp_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    module_env &e = env();

    if (size < 3) {
        return 0;
    }
    const unsigned what = data[0] % 3;
    const unsigned keep = data[1];
    size_t dev_len      = data[2];
    data += 3;
    size -= 3;
    if (dev_len > size) {
        dev_len = size;
    }

    exact_buf dev(data, dev_len);
    exact_buf other(data + dev_len, size - dev_len);
    fixup_wire(dev.data(), dev.size(), UCT_MP_WIRE_DEVICE_ADDR, keep);
    if (what == 1) {
        size_t l = fixup_wire(other.data(), other.size(),
                              UCT_MP_WIRE_LANE_DEVS, keep);
        if ((l > 0) && (l < other.size())) {
            fixup_wire(other.data() + l, other.size() - l,
                       UCT_MP_WIRE_IFACE_ADDR, keep >> 4);
        }
    } else if (what == 2) {
        fixup_wire(other.data(), other.size(), UCT_MP_WIRE_EP_ADDR, keep);
    }

    if (what == 0) {
        uct_iface_is_reachable(e.a.iface, (uct_device_addr_t*)dev.data(),
                               (uct_iface_addr_t*)other.data());
    } else if (what == 1) {
        uct_ep_params_t params;
        uct_ep_h ep;
        params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                            UCT_EP_PARAM_FIELD_DEV_ADDR |
                            UCT_EP_PARAM_FIELD_IFACE_ADDR;
        params.iface      = e.a.iface;
        params.dev_addr   = (uct_device_addr_t*)dev.data();
        params.iface_addr = (uct_iface_addr_t*)other.data();
        if (uct_ep_create(&params, &ep) == UCS_OK) {
            e.progress(4);
            uct_ep_destroy(ep);
        }
    } else {
        uct_ep_h ep = e.a.create_ep();
        if (uct_ep_connect_to_ep(ep, (uct_device_addr_t*)dev.data(),
                                 (uct_ep_addr_t*)other.data()) == UCS_OK) {
            e.progress(4);
        }
        uct_ep_destroy(ep);
    }
    e.progress(2);
    return 0;
}
