/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Set-up shared by the module-level fuzz targets: two mp_rc ifaces (A, B) on
 * two loopback tcp lanes each, the way test/uct/test_mp_uct.cc opens them,
 * and a pair of eps connected endpoint to endpoint. The module's sources are
 * compiled into the target (with the sanitizers), UCX is not instrumented.
 *
 * Fuzzed addresses name arbitrary IPs and ports for the tcp lanes, so the
 * targets refuse to run unless the network namespace holds nothing but
 * loopback (contrib/fuzz.sh runs them under "unshare -n").
 */

#ifndef UCT_MP_FUZZ_MODULE_H_
#define UCT_MP_FUZZ_MODULE_H_

extern "C" {
#include <uct/api/uct.h>
#include <ucs/async/async_fwd.h>
#include <ucs/debug/log_def.h>
#include "mp_wire.h"
}

#include "fuzz_fixup.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <algorithm>
#include <vector>

namespace uct_mp_fuzz {

/* Abort unless every network device but lo is down (a new network
 * namespace: lo, and ifb or tunnel devices the kernel adds down) */
inline void require_loopback_only()
{
    DIR *dir = opendir("/sys/class/net");
    struct dirent *e;

    if (dir == nullptr) {
        fprintf(stderr, "fuzz: cannot list /sys/class/net\n");
        abort();
    }
    while ((e = readdir(dir)) != nullptr) {
        if ((e->d_name[0] == '.') || !strcmp(e->d_name, "lo")) {
            continue;
        }
        std::string path = std::string("/sys/class/net/") + e->d_name +
                           "/flags";
        unsigned long flags = 1;
        FILE *f = fopen(path.c_str(), "r");
        if ((f == nullptr) || (fscanf(f, "%lx", &flags) != 1) ||
            (flags & 1 /* IFF_UP */)) {
            fprintf(stderr, "fuzz: network device %s is up: run in a network "
                    "namespace with only lo (unshare -n, contrib/fuzz.sh)\n",
                    e->d_name);
            abort();
        }
        fclose(f);
    }
    closedir(dir);
}

#define FUZZ_CHECK(_expr) \
    do { \
        ucs_status_t _s = (_expr); \
        if (_s != UCS_OK) { \
            fprintf(stderr, "fuzz set-up: %s: %s\n", #_expr, \
                    ucs_status_string(_s)); \
            abort(); \
        } \
    } while (0)

inline uct_component_h find_component(const char *name)
{
    uct_component_h *components, found = nullptr;
    unsigned count;

    FUZZ_CHECK(uct_query_components(&components, &count));
    for (unsigned i = 0; i < count; ++i) {
        uct_component_attr_t attr;
        attr.field_mask = UCT_COMPONENT_ATTR_FIELD_NAME;
        if ((uct_component_query(components[i], &attr) == UCS_OK) &&
            !strcmp(attr.name, name)) {
            found = components[i];
        }
    }
    uct_release_component_list(components);
    return found;
}

/* One side: md, worker, the mp_rc iface */
struct side {
    uct_component_h      comp;
    uct_md_h             md;
    ucs_async_context_t  *async;
    uct_worker_h         worker;
    uct_iface_h          iface;
    uct_iface_attr_t     attr;
    uct_md_attr_t        md_attr;
    std::vector<uint8_t> dev_addr, iface_addr;

    void open() {
        uct_md_config_t *md_config;
        uct_iface_config_t *iface_config;
        uct_tl_resource_desc_t *rscs;
        uct_iface_params_t params;
        unsigned num_rscs;

        comp = find_component("mp");
        if (comp == nullptr) {
            fprintf(stderr, "fuzz set-up: no mp component\n");
            abort();
        }
        FUZZ_CHECK(uct_md_config_read(comp, NULL, NULL, &md_config));
        FUZZ_CHECK(uct_md_open(comp, "mp", md_config, &md));
        uct_config_release(md_config);
        FUZZ_CHECK(ucs_async_context_create(UCS_ASYNC_MODE_THREAD_SPINLOCK,
                                            &async));
        FUZZ_CHECK(uct_worker_create(async, UCS_THREAD_MODE_SINGLE, &worker));
        FUZZ_CHECK(uct_md_query_tl_resources(md, &rscs, &num_rscs));
        if (num_rscs != 1) {
            fprintf(stderr, "fuzz set-up: %u mp_rc devices\n", num_rscs);
            abort();
        }
        std::string dev = rscs[0].dev_name;
        uct_release_tl_resource_list(rscs);

        FUZZ_CHECK(uct_md_iface_config_read(md, "mp_rc", NULL, NULL,
                                            &iface_config));
        memset(&params, 0, sizeof(params));
        params.field_mask           = UCT_IFACE_PARAM_FIELD_OPEN_MODE |
                                      UCT_IFACE_PARAM_FIELD_DEVICE;
        params.open_mode            = UCT_IFACE_OPEN_MODE_DEVICE;
        params.mode.device.tl_name  = "mp_rc";
        params.mode.device.dev_name = dev.c_str();
        FUZZ_CHECK(uct_iface_open(md, worker, &params, iface_config, &iface));
        uct_config_release(iface_config);
        FUZZ_CHECK(uct_iface_query(iface, &attr));
        FUZZ_CHECK(uct_md_query(md, &md_attr));
        dev_addr.resize(std::max<size_t>(attr.device_addr_len, 1));
        iface_addr.resize(std::max<size_t>(attr.iface_addr_len, 1));
        FUZZ_CHECK(uct_iface_get_device_address(
                iface, (uct_device_addr_t*)dev_addr.data()));
        FUZZ_CHECK(uct_iface_get_address(
                iface, (uct_iface_addr_t*)iface_addr.data()));
        uct_iface_progress_enable(iface, UCT_PROGRESS_SEND |
                                         UCT_PROGRESS_RECV);
    }

    uct_ep_h create_ep() {
        uct_ep_params_t params;
        uct_ep_h ep;

        params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
        params.iface      = iface;
        FUZZ_CHECK(uct_ep_create(&params, &ep));
        return ep;
    }

    std::vector<uint8_t> ep_addr(uct_ep_h ep) {
        std::vector<uint8_t> addr(attr.ep_addr_len);
        FUZZ_CHECK(uct_ep_get_address(ep, (uct_ep_addr_t*)addr.data()));
        return addr;
    }

    /* the token an ep address names (mp_wire.h) */
    uint32_t token(uct_ep_h ep) {
        std::vector<uint8_t> addr = ep_addr(ep);
        uct_mp_wire_t msg;
        if (uct_mp_wire_unpack(addr.data(), addr.size(), UCT_MP_WIRE_EP_ADDR,
                               &msg, nullptr, 0) != 0) {
            fprintf(stderr, "fuzz set-up: own ep address does not decode\n");
            abort();
        }
        return msg.token;
    }
};

/* A and B with eps connected endpoint to endpoint */
struct module_env {
    side     a, b;
    uct_ep_h a_ep, b_ep;
    uint32_t a_token, b_token;

    void open() {
        require_loopback_only();
        setenv("UCX_MP_RC_LANE_TL", "tcp", 1);
        setenv("UCX_MP_RC_DEVICES", "lo,lo", 1);
        setenv("UCX_MP_RC_CONNECT_TO_IFACE", "n", 0);
        setenv("UCX_MP_RC_KEEPALIVE_INTERVAL", "0", 0);
        setenv("UCX_MP_RC_LINK_EVENTS", "n", 0);
        setenv("UCX_MEM_EVENTS", "no", 0);
        setenv("UCX_LOG_LEVEL", "fatal", 0);
        a.open();
        b.open();
        a_ep = a.create_ep();
        b_ep = b.create_ep();
        std::vector<uint8_t> a_addr = a.ep_addr(a_ep);
        std::vector<uint8_t> b_addr = b.ep_addr(b_ep);
        FUZZ_CHECK(uct_ep_connect_to_ep(a_ep,
                                        (uct_device_addr_t*)b.dev_addr.data(),
                                        (uct_ep_addr_t*)b_addr.data()));
        FUZZ_CHECK(uct_ep_connect_to_ep(b_ep,
                                        (uct_device_addr_t*)a.dev_addr.data(),
                                        (uct_ep_addr_t*)a_addr.data()));
        a_token = a.token(a_ep);
        b_token = b.token(b_ep);
        progress(100);
    }

    void progress(unsigned rounds) {
        for (unsigned i = 0; i < rounds; ++i) {
            uct_worker_progress(a.worker);
            uct_worker_progress(b.worker);
        }
    }
};

inline module_env &env()
{
    static module_env *e = nullptr;
    if (e == nullptr) {
        e = new module_env();
        e->open();
    }
    return *e;
}

} // namespace uct_mp_fuzz

#endif
