/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the MP control message codec (JOIN, KEEPALIVE).
 */

#include "mp_ctl.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

class test_mp_ctl : public ::testing::Test {
protected:
    /* A JOIN_REQ/ACK of lanes lanes: RoCE-like 18-byte devices, 4-byte eps */
    uct_mp_ctl_t make(uct_mp_ctl_type_t type, unsigned lanes = 3) {
        uct_mp_ctl_t msg;
        memset(&msg, 0, sizeof(msg));
        msg.type      = type;
        msg.lane      = 2;
        msg.dst_token = 0x11223344;
        msg.src_token = 0xa5a5f00d;
        msg.join_id   = 77;
        msg.probe_seq = 0xfffffffe;
        msg.reason    = UCT_MP_CTL_NAK_NO_LANE;
        m_dev.assign(lanes, std::string(18, '\0'));
        m_ep.assign(lanes, std::string(4, '\0'));
        msg.devs.kind        = UCT_MP_WIRE_LANE_DEVS;
        msg.devs.lane_tl     = UCT_MP_LANE_TL_RC_VERBS;
        msg.devs.lane_count  = lanes;
        msg.addrs.kind       = UCT_MP_WIRE_EP_ADDR;
        msg.addrs.lane_tl    = UCT_MP_LANE_TL_RC_VERBS;
        msg.addrs.token      = msg.src_token;
        msg.addrs.lane_count = lanes;
        for (unsigned i = 0; i < lanes; ++i) {
            for (size_t j = 0; j < m_dev[i].size(); ++j) {
                m_dev[i][j] = static_cast<char>(i * 13 + j);
            }
            for (size_t j = 0; j < m_ep[i].size(); ++j) {
                m_ep[i][j] = static_cast<char>(0x80 + i * 7 + j);
            }
            msg.devs.lanes[i]  = {static_cast<uint8_t>(i),
                                  static_cast<uint8_t>(6 + i), 18,
                                  m_dev[i].data()};
            msg.addrs.lanes[i] = {0, 0, 4, m_ep[i].data()};
        }
        if (type == UCT_MP_CTL_JOIN_ACK) {
            msg.pair_count = lanes;
            for (unsigned i = 0; i < lanes; ++i) {
                msg.pairs[i] = (i == 0) ? UCT_MP_CTL_NO_PAIR : lanes - i;
            }
        }
        return msg;
    }

    std::vector<uint8_t> pack(const uct_mp_ctl_t &msg) {
        std::vector<uint8_t> buf(UCT_MP_CTL_MAX_LEN);
        char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
        size_t len = uct_mp_ctl_pack(&msg, buf.data(), buf.size(), errmsg,
                                     sizeof(errmsg));
        EXPECT_GT(len, 0u) << errmsg;
        buf.resize(len);
        return buf;
    }

    std::string unpack(const std::vector<uint8_t> &buf, uct_mp_ctl_t *msg,
                       size_t len = SIZE_MAX) {
        char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
        if (uct_mp_ctl_unpack(buf.data(), std::min(len, buf.size()), msg,
                              errmsg, sizeof(errmsg)) == 0) {
            return "";
        }
        EXPECT_STRNE("", errmsg) << "refused without a message";
        return errmsg;
    }

    std::vector<std::string> m_dev, m_ep;
};

const uct_mp_ctl_type_t all_types[] = {
    UCT_MP_CTL_KEEPALIVE, UCT_MP_CTL_JOIN_REQ, UCT_MP_CTL_JOIN_ACK,
    UCT_MP_CTL_JOIN_NAK, UCT_MP_CTL_KEEPALIVE_ACK, UCT_MP_CTL_DATA_ACK,
    UCT_MP_CTL_DRAIN, UCT_MP_CTL_DRAIN_DONE
};

TEST_F(test_mp_ctl, round_trip_every_type) {
    for (uct_mp_ctl_type_t type : all_types) {
        for (unsigned lanes : {1u, 2u, 5u, 8u}) {
            uct_mp_ctl_t in = make(type, lanes), out;
            std::vector<uint8_t> buf = pack(in);
            ASSERT_EQ("", unpack(buf, &out)) << uct_mp_ctl_type_str(type);
            EXPECT_EQ(UCT_MP_PROTO_VERSION, out.version);
            EXPECT_EQ(type, out.type);
            EXPECT_EQ(in.lane, out.lane);
            EXPECT_EQ(in.dst_token, out.dst_token);
            EXPECT_EQ(in.src_token, out.src_token);
            if ((type == UCT_MP_CTL_KEEPALIVE) ||
                (type == UCT_MP_CTL_KEEPALIVE_ACK) ||
                (type == UCT_MP_CTL_DATA_ACK) || (type == UCT_MP_CTL_DRAIN) ||
                (type == UCT_MP_CTL_DRAIN_DONE)) {
                EXPECT_EQ(in.probe_seq, out.probe_seq);
                EXPECT_EQ(UCT_MP_CTL_HDR_LEN + 4u, buf.size());
                continue;
            }
            EXPECT_EQ(in.join_id, out.join_id);
            if (type == UCT_MP_CTL_JOIN_NAK) {
                EXPECT_EQ(in.reason, out.reason);
                continue;
            }
            ASSERT_EQ(lanes, out.devs.lane_count);
            ASSERT_EQ(lanes, out.addrs.lane_count);
            EXPECT_EQ(in.src_token, out.addrs.token);
            EXPECT_EQ(UCT_MP_LANE_TL_RC_VERBS, out.devs.lane_tl);
            for (unsigned i = 0; i < lanes; ++i) {
                EXPECT_EQ(in.devs.lanes[i].md_index, out.devs.lanes[i].md_index);
                EXPECT_EQ(in.devs.lanes[i].bw_class, out.devs.lanes[i].bw_class);
                ASSERT_EQ(18, out.devs.lanes[i].len);
                EXPECT_EQ(0, memcmp(m_dev[i].data(), out.devs.lanes[i].data, 18));
                ASSERT_EQ(4, out.addrs.lanes[i].len);
                EXPECT_EQ(0, memcmp(m_ep[i].data(), out.addrs.lanes[i].data, 4));
            }
            if (type == UCT_MP_CTL_JOIN_ACK) {
                ASSERT_EQ(lanes, out.pair_count);
                EXPECT_EQ(0, memcmp(in.pairs, out.pairs, lanes));
            }
        }
    }
}

TEST_F(test_mp_ctl, join_of_eight_roce_lanes_fits_one_bcopy_fragment) {
    /* rc_verbs and tcp lanes carry at least 8 KiB in one bcopy AM */
    std::vector<uint8_t> buf = pack(make(UCT_MP_CTL_JOIN_ACK, 8));
    EXPECT_LE(buf.size(), (size_t)UCT_MP_CTL_MAX_LEN);
    EXPECT_LT(buf.size(), 1024u);
}

TEST_F(test_mp_ctl, every_truncation_is_refused) {
    for (uct_mp_ctl_type_t type : all_types) {
        std::vector<uint8_t> buf = pack(make(type, 3));
        for (size_t len = 0; len < buf.size(); ++len) {
            uct_mp_ctl_t out;
            EXPECT_NE("", unpack(buf, &out, len))
                << uct_mp_ctl_type_str(type) << " length " << len;
        }
    }
}

TEST_F(test_mp_ctl, trailing_bytes_are_refused) {
    for (uct_mp_ctl_type_t type : all_types) {
        std::vector<uint8_t> buf = pack(make(type, 2));
        buf.push_back(0);
        uct_mp_ctl_t out;
        std::string err = unpack(buf, &out);
        EXPECT_NE(std::string::npos, err.find("unexpected bytes")) << err;
    }
}

TEST_F(test_mp_ctl, other_versions_and_unknown_types_are_refused) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_CTL_KEEPALIVE));
    uct_mp_ctl_t out;

    for (uint8_t version : {0, 1, 3, 255}) {
        std::vector<uint8_t> bad = buf;
        bad[0] = version;
        std::string err = unpack(bad, &out);
        EXPECT_NE(std::string::npos,
                  err.find("version " + std::to_string(version))) << err;
    }
    for (uint8_t type : {0, 1, 2, 11, 200}) {
        std::vector<uint8_t> bad = buf;
        bad[1] = type;
        std::string err = unpack(bad, &out);
        EXPECT_NE(std::string::npos, err.find("unknown type")) << err;
    }
}

TEST_F(test_mp_ctl, hostile_join_contents_are_refused) {
    uct_mp_ctl_t out;

    /* a pair naming a lane the responder did not list */
    uct_mp_ctl_t ack = make(UCT_MP_CTL_JOIN_ACK, 2);
    ack.pairs[1]     = 5;
    std::string err  = unpack(pack(ack), &out);
    EXPECT_NE(std::string::npos, err.find("names lane 5 of 2")) << err;

    /* more pairs than lanes exist */
    std::vector<uint8_t> buf = pack(make(UCT_MP_CTL_JOIN_ACK, 2));
    buf[16] = 200;
    err     = unpack(buf, &out);
    EXPECT_NE(std::string::npos, err.find("200 pairs")) << err;

    /* an ep address that belongs to another ep */
    uct_mp_ctl_t req = make(UCT_MP_CTL_JOIN_REQ, 2);
    req.addrs.token  = 1;
    err              = unpack(pack(req), &out);
    EXPECT_NE(std::string::npos, err.find("sent by ep")) << err;

    /* a corrupted embedded address (its check byte catches it) */
    buf = pack(make(UCT_MP_CTL_JOIN_REQ, 2));
    buf[UCT_MP_CTL_HDR_LEN + 4 + 8] ^= 0x10;
    err = unpack(buf, &out);
    EXPECT_NE(std::string::npos, err.find("corrupted")) << err;
}

TEST_F(test_mp_ctl, pack_refuses_inconsistent_messages) {
    std::vector<uint8_t> buf(UCT_MP_CTL_MAX_LEN);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";

    uct_mp_ctl_t req     = make(UCT_MP_CTL_JOIN_REQ, 3);
    req.addrs.lane_count = 2;
    EXPECT_EQ(0u, uct_mp_ctl_pack(&req, buf.data(), buf.size(), errmsg,
                                  sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("same lane count"));

    uct_mp_ctl_t ka = make(UCT_MP_CTL_KEEPALIVE);
    EXPECT_EQ(0u, uct_mp_ctl_pack(&ka, buf.data(), 10, errmsg, sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("buffer has 10"));

    uct_mp_ctl_t bad = make(UCT_MP_CTL_KEEPALIVE);
    bad.type         = 42;
    EXPECT_EQ(0u, uct_mp_ctl_pack(&bad, buf.data(), buf.size(), NULL, 0));
}

TEST_F(test_mp_ctl, random_garbage_never_crashes_and_is_refused) {
    std::mt19937 rng(4242);
    unsigned accepted_joins = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<uint8_t> buf(rng() % 300);
        for (auto &b : buf) {
            b = rng();
        }
        if (buf.size() > 2) {
            buf[0] = UCT_MP_PROTO_VERSION;
            buf[1] = all_types[1 + iter % 2]; /* JOIN_REQ or JOIN_ACK */
        }
        uct_mp_ctl_t out;
        accepted_joins += unpack(buf, &out).empty();
    }
    EXPECT_EQ(0u, accepted_joins);
}

} // namespace
