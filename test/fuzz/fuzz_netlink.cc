/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * libFuzzer target: uct_mp_netlink_parse() on a datagram as received.
 *
 * Input: [selector][datagram]. Unless selector bit 0 is set, the first
 * message's nlmsg_len is made to fit the datagram (the mutator rarely gets a
 * 32-bit length right), so attribute parsing is reached. The datagram is
 * parsed from an exact-size heap copy at an odd address when selector bit 1
 * is set (the kernel aligns, the parser must not rely on it). Every link
 * delivered must have a NUL-terminated name, and the counts must add up.
 */

#include "fuzz_fixup.h"
#include "mp_netlink.h"

#include <cstdio>
#include <linux/netlink.h>

using namespace uct_mp_fuzz;

namespace {

struct seen {
    unsigned links;
};

void on_link(void *arg, const uct_mp_netlink_link_t *link)
{
    static_cast<seen*>(arg)->links++;
    UCT_MP_FUZZ_ASSERT(memchr(link->name, '\0', sizeof(link->name)) !=
                       nullptr);
    UCT_MP_FUZZ_ASSERT(link->name[0] != '\0');
    UCT_MP_FUZZ_ASSERT(!link->up || !link->deleted);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[UCT_MP_NETLINK_ERRMSG_MAX];
    uct_mp_netlink_result_t res;
    seen s = {0};

    if (size < 1) {
        return 0;
    }

    const unsigned sel = data[0];
    const size_t len   = size - 1;
    const size_t odd   = (sel & 2) ? 1 : 0;
    /* exact size: the allocation ends where the datagram does */
    uint8_t *alloc = static_cast<uint8_t*>(malloc((len + odd) ? len + odd :
                                                  1));
    uint8_t *b     = alloc + odd;
    memcpy(b, data + 1, len);
    if (!(sel & 1) && (len >= sizeof(struct nlmsghdr))) {
        uint32_t first;
        memcpy(&first, b, sizeof(first));
        if ((first < sizeof(struct nlmsghdr)) || (first > len)) {
            first = static_cast<uint32_t>(len);
            memcpy(b, &first, sizeof(first));
        }
    }

    memset(errmsg, 0, sizeof(errmsg));
    int ret = uct_mp_netlink_parse(b, len, on_link, &s, &res, errmsg,
                                   sizeof(errmsg));
    free(alloc);
    UCT_MP_FUZZ_ASSERT(s.links == res.links);
    UCT_MP_FUZZ_ASSERT(res.messages <= len / sizeof(struct nlmsghdr));
    UCT_MP_FUZZ_ASSERT(res.links + res.ignored + res.malformed <=
                       res.messages);
    UCT_MP_FUZZ_ASSERT((ret == 0) || (errmsg[0] != '\0'));
    UCT_MP_FUZZ_ASSERT((ret != 0) || (!res.truncated && !res.malformed));
    return 0;
}
