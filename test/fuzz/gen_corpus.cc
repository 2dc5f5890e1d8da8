/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Writes the seed corpora of the fuzz targets: valid messages packed by the
 * codecs themselves, each behind the selector bytes its target expects.
 *   gen_corpus DIR   creates DIR/{fuzz_wire,fuzz_ctl,fuzz_netlink}/<name>
 */

#include "mp_ctl.h"
#include "mp_netlink.h"
#include "mp_wire.h"

#include <cstdio>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace {

typedef std::vector<uint8_t> bytes_t;

std::string g_dir;
const char lane_data[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";

bool write(const std::string &target, const std::string &name,
           const bytes_t &b)
{
    std::string path = g_dir + "/" + target + "/" + name;
    FILE *f = fopen(path.c_str(), "wb");
    if ((f == nullptr) || (fwrite(b.data(), 1, b.size(), f) != b.size())) {
        perror(path.c_str());
        return false;
    }
    return fclose(f) == 0;
}

uct_mp_wire_t make_wire(uct_mp_wire_kind_t kind, unsigned lanes,
                        unsigned len, uint32_t token)
{
    uct_mp_wire_t w;
    memset(&w, 0, sizeof(w));
    w.kind       = kind;
    w.caps       = UCT_MP_CAP_STRIPE | UCT_MP_CAP_SEQ | UCT_MP_CAP_JOIN;
    w.lane_tl    = UCT_MP_LANE_TL_TCP;
    w.token      = token;
    w.lane_count = lanes;
    for (unsigned i = 0; i < lanes; ++i) {
        w.lanes[i].md_index = i;
        w.lanes[i].bw_class = 7;
        w.lanes[i].len      = len;
        w.lanes[i].data     = lane_data + i;
    }
    return w;
}

bool gen_wire()
{
    const char *names[] = {"", "device", "iface", "ep", "rkey", "lane_devs"};
    bool ok = true;

    for (unsigned k = UCT_MP_WIRE_DEVICE_ADDR; k <= UCT_MP_WIRE_LANE_DEVS;
         ++k) {
        for (unsigned lanes : {1u, 3u, 8u}) {
            for (unsigned len : {0u, 4u, 16u}) {
                uct_mp_wire_t w = make_wire(static_cast<uct_mp_wire_kind_t>(k),
                                            lanes, len, 0x1234);
                bytes_t b(1 + UCT_MP_WIRE_MAX_LEN);
                b[0] = static_cast<uint8_t>(k - 1); /* selector: fix all */
                size_t n = uct_mp_wire_pack(&w, &b[1], b.size() - 1, nullptr,
                                            0);
                b.resize(1 + n);
                ok = ok && (n > 0) &&
                     write("fuzz_wire", std::string(names[k]) + "_" +
                           std::to_string(lanes) + "x" + std::to_string(len),
                           b);
            }
        }
    }
    return ok;
}

bool gen_ctl()
{
    const uint8_t types[] = {
        UCT_MP_CTL_KEEPALIVE, UCT_MP_CTL_KEEPALIVE_ACK, UCT_MP_CTL_DATA_ACK,
        UCT_MP_CTL_JOIN_REQ, UCT_MP_CTL_JOIN_ACK, UCT_MP_CTL_JOIN_NAK
    };
    bool ok = true;

    for (unsigned t = 0; t < sizeof(types); ++t) {
        for (unsigned lanes : {1u, 2u, 4u}) {
            uct_mp_ctl_t c;
            memset(&c, 0, sizeof(c));
            c.type       = types[t];
            c.lane       = 1;
            c.dst_token  = 0xabcd;
            c.src_token  = 0x5678;
            c.join_id    = 9;
            c.probe_seq  = 42;
            c.reason     = UCT_MP_CTL_NAK_BUSY;
            c.pair_count = lanes;
            for (unsigned i = 0; i < lanes; ++i) {
                c.pairs[i] = (i == 1) ? UCT_MP_CTL_NO_PAIR : i;
            }
            c.devs  = make_wire(UCT_MP_WIRE_LANE_DEVS, lanes, 6, 0);
            c.addrs = make_wire(UCT_MP_WIRE_EP_ADDR, lanes, 12, c.src_token);
            bytes_t b(2 + UCT_MP_CTL_MAX_LEN);
            b[0] = static_cast<uint8_t>(t); /* selector: type, fix all */
            b[1] = 0;
            size_t n = uct_mp_ctl_pack(&c, &b[2], b.size() - 2, nullptr, 0);
            b.resize(2 + n);
            ok = ok && (n > 0) &&
                 write("fuzz_ctl", std::string(uct_mp_ctl_type_str(types[t])) +
                       "_" + std::to_string(lanes), b);
            if ((types[t] != UCT_MP_CTL_JOIN_REQ) &&
                (types[t] != UCT_MP_CTL_JOIN_ACK)) {
                break; /* no lanes in it */
            }
        }
    }
    return ok;
}

/* netlink: messages the way the kernel lays them out */
void nl_msg(bytes_t &b, uint16_t type, uint32_t seq, const void *body,
            size_t body_len)
{
    struct nlmsghdr nlh;
    b.resize(NLMSG_ALIGN(b.size()), 0);
    memset(&nlh, 0, sizeof(nlh));
    nlh.nlmsg_len  = static_cast<uint32_t>(NLMSG_LENGTH(body_len));
    nlh.nlmsg_type = type;
    nlh.nlmsg_seq  = seq;
    const uint8_t *h = reinterpret_cast<const uint8_t*>(&nlh);
    const uint8_t *p = static_cast<const uint8_t*>(body);
    b.insert(b.end(), h, h + sizeof(nlh));
    b.insert(b.end(), p, p + body_len);
}

bytes_t nl_link_body(int index, unsigned flags, const char *name)
{
    struct ifinfomsg ifi;
    memset(&ifi, 0, sizeof(ifi));
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    bytes_t body(reinterpret_cast<uint8_t*>(&ifi),
                 reinterpret_cast<uint8_t*>(&ifi) + sizeof(ifi));
    auto attr = [&body](uint16_t type, const void *d, size_t len) {
        struct rtattr rta;
        body.resize(RTA_ALIGN(body.size()), 0);
        rta.rta_type = type;
        rta.rta_len  = static_cast<uint16_t>(RTA_LENGTH(len));
        const uint8_t *r = reinterpret_cast<const uint8_t*>(&rta);
        body.insert(body.end(), r, r + sizeof(rta));
        body.insert(body.end(), static_cast<const uint8_t*>(d),
                    static_cast<const uint8_t*>(d) + len);
    };
    uint32_t mtu = 1500;
    attr(IFLA_MTU, &mtu, sizeof(mtu));
    attr(IFLA_IFNAME, name, strlen(name) + 1);
    attr(IFLA_OPERSTATE, "\x06", 1);
    return body;
}

bool gen_netlink()
{
    bytes_t b = {0}, body;
    bool ok;

    body = nl_link_body(3, IFF_UP | IFF_RUNNING, "path1");
    nl_msg(b, RTM_NEWLINK, 0, body.data(), body.size());
    ok = write("fuzz_netlink", "newlink_up", b);

    b    = {0};
    body = nl_link_body(4, IFF_UP, "path2");
    nl_msg(b, RTM_NEWLINK, 0, body.data(), body.size());
    body = nl_link_body(5, 0, "eth7");
    nl_msg(b, RTM_DELLINK, 0, body.data(), body.size());
    ok = ok && write("fuzz_netlink", "newlink_dellink", b);

    b = {0};
    for (int i = 0; i < 4; ++i) {
        std::string n = "veth" + std::to_string(i);
        body = nl_link_body(10 + i, IFF_UP | IFF_RUNNING, n.c_str());
        nl_msg(b, RTM_NEWLINK, 0x6d700001u, body.data(), body.size());
    }
    int32_t zero = 0;
    nl_msg(b, NLMSG_DONE, 0x6d700001u, &zero, sizeof(zero));
    ok = ok && write("fuzz_netlink", "dump", b);

    b = {0};
    struct nlmsgerr err;
    memset(&err, 0, sizeof(err));
    err.error = -16; /* EBUSY */
    nl_msg(b, NLMSG_ERROR, 0x6d700001u, &err, sizeof(err));
    nl_msg(b, NLMSG_OVERRUN, 0, nullptr, 0);
    ok = ok && write("fuzz_netlink", "error_overrun", b);

    b.assign(1 + UCT_MP_NETLINK_DUMP_LEN, 0);
    uct_mp_netlink_pack_dump(&b[1], UCT_MP_NETLINK_DUMP_LEN, 1);
    return ok && write("fuzz_netlink", "getlink_request", b);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    return (gen_wire() && gen_ctl() && gen_netlink()) ? 0 : 1;
}
