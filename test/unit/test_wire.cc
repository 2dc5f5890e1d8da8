/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the MP wire codec: round trips, and truncated, corrupted,
 * hostile and garbage input that must be refused with a clear message.
 */

#include "mp_wire.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

const uct_mp_wire_kind_t all_kinds[] = {
    UCT_MP_WIRE_DEVICE_ADDR, UCT_MP_WIRE_IFACE_ADDR, UCT_MP_WIRE_EP_ADDR,
    UCT_MP_WIRE_RKEY, UCT_MP_WIRE_LANE_DEVS
};

class test_mp_wire : public ::testing::Test {
protected:
    /* A message of kind with lane_count lanes of lane_len bytes each */
    uct_mp_wire_t make(uct_mp_wire_kind_t kind, unsigned lane_count,
                       unsigned lane_len) {
        uct_mp_wire_t msg;
        memset(&msg, 0, sizeof(msg));
        msg.kind       = kind;
        msg.caps       = UCT_MP_CAP_STRIPE | UCT_MP_CAP_JOIN;
        msg.lane_tl    = UCT_MP_LANE_TL_RC_VERBS;
        msg.token      = 0xdeadbeef;
        msg.lane_count = lane_count;
        m_payload.assign(UCT_MP_MAX_LANES, std::string());
        for (unsigned i = 0; i < lane_count; ++i) {
            m_payload[i].resize(lane_len);
            for (unsigned j = 0; j < lane_len; ++j) {
                m_payload[i][j] = static_cast<char>(i * 37 + j);
            }
            msg.lanes[i].md_index = i;
            msg.lanes[i].bw_class = 10 + i;
            msg.lanes[i].len      = lane_len;
            msg.lanes[i].data     = m_payload[i].data();
        }
        return msg;
    }

    std::vector<uint8_t> pack(const uct_mp_wire_t &msg) {
        std::vector<uint8_t> buf(UCT_MP_WIRE_MAX_LEN);
        char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
        size_t len = uct_mp_wire_pack(&msg, buf.data(), buf.size(), errmsg,
                                      sizeof(errmsg));
        EXPECT_GT(len, 0u) << errmsg;
        buf.resize(len);
        return buf;
    }

    /* Unpack; returns the error message, "" on success */
    std::string unpack(const std::vector<uint8_t> &buf, uct_mp_wire_kind_t kind,
                       uct_mp_wire_t *msg, size_t buf_len = SIZE_MAX) {
        char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
        int ret = uct_mp_wire_unpack(buf.data(),
                                     std::min(buf_len, buf.size()), kind, msg,
                                     errmsg, sizeof(errmsg));
        if (ret == 0) {
            return "";
        }
        EXPECT_STRNE("", errmsg) << "refused without a message";
        return errmsg;
    }

    /* Recompute the check byte after deliberate tampering */
    static void fix_check(std::vector<uint8_t> *buf) {
        uint8_t sum = 0;
        for (size_t i = 0; i + 1 < buf->size(); ++i) {
            sum = static_cast<uint8_t>(sum + (*buf)[i]);
        }
        buf->back() = static_cast<uint8_t>(0xff - sum);
    }

    std::vector<std::string> m_payload;
};

TEST_F(test_mp_wire, round_trip_every_kind_and_lane_count) {
    for (uct_mp_wire_kind_t kind : all_kinds) {
        for (unsigned lanes : {1u, 2u, 4u, 8u}) {
            for (unsigned lane_len : {0u, 1u, 7u, 16u}) {
                uct_mp_wire_t in = make(kind, lanes, lane_len), out;
                std::vector<uint8_t> buf = pack(in);
                ASSERT_EQ(uct_mp_wire_packed_size(&in), buf.size());
                ASSERT_EQ("", unpack(buf, kind, &out))
                    << "kind " << kind << " lanes " << lanes;
                EXPECT_EQ(UCT_MP_PROTO_VERSION, out.version);
                EXPECT_EQ(kind, out.kind);
                EXPECT_EQ(lanes, out.lane_count);
                EXPECT_EQ(buf.size(), (size_t)out.total_len);
                EXPECT_TRUE(uct_mp_wire_is_kind(buf.data(), kind));
                if ((kind == UCT_MP_WIRE_DEVICE_ADDR) ||
                    (kind == UCT_MP_WIRE_EP_ADDR)) {
                    EXPECT_EQ(in.caps, out.caps);
                }
                EXPECT_EQ((kind == UCT_MP_WIRE_EP_ADDR) ? in.token : 0u,
                          out.token);
                EXPECT_EQ((kind == UCT_MP_WIRE_IFACE_ADDR) ? 0 : in.lane_tl,
                          out.lane_tl);
                for (unsigned i = 0; i < lanes; ++i) {
                    ASSERT_EQ(lane_len, out.lanes[i].len);
                    if (kind == UCT_MP_WIRE_LANE_DEVS) {
                        EXPECT_EQ(in.lanes[i].md_index, out.lanes[i].md_index);
                        EXPECT_EQ(in.lanes[i].bw_class, out.lanes[i].bw_class);
                    }
                    if (lane_len > 0) {
                        EXPECT_EQ(0, memcmp(in.lanes[i].data, out.lanes[i].data,
                                            lane_len));
                        /* lane data points into the decoded buffer */
                        EXPECT_GE((const uint8_t*)out.lanes[i].data,
                                  buf.data());
                        EXPECT_LT((const uint8_t*)out.lanes[i].data,
                                  buf.data() + buf.size());
                    }
                }
            }
        }
    }
}

TEST_F(test_mp_wire, packed_size_follows_the_documented_layout) {
    /* header 4 + trailer 1; device +2 (caps, lane_tl); ep +6 (caps, lane_tl,
     * token); rkey and lane devices +1 (lane_tl); +1 per entry and +2 more
     * per lane device entry (md_index, bw_class) */
    uct_mp_wire_t dev = make(UCT_MP_WIRE_DEVICE_ADDR, 1, 18);
    EXPECT_EQ(4u + 2 + (1 + 18) + 1, uct_mp_wire_packed_size(&dev));
    uct_mp_wire_t devs = make(UCT_MP_WIRE_LANE_DEVS, 3, 5);
    EXPECT_EQ(4u + 1 + 3 * (2 + 1 + 5) + 1, uct_mp_wire_packed_size(&devs));
    uct_mp_wire_t ifc = make(UCT_MP_WIRE_IFACE_ADDR, 2, 0);
    EXPECT_EQ(4u + 2 * 1 + 1, uct_mp_wire_packed_size(&ifc));
    uct_mp_wire_t ep = make(UCT_MP_WIRE_EP_ADDR, 4, 7);
    EXPECT_EQ(4u + 6 + 4 * (1 + 7) + 1, uct_mp_wire_packed_size(&ep));
    uct_mp_wire_t rkey = make(UCT_MP_WIRE_RKEY, 2, 9);
    EXPECT_EQ(4u + 1 + 2 * (1 + 9) + 1, uct_mp_wire_packed_size(&rkey));
}

TEST_F(test_mp_wire, largest_message_fits_the_one_byte_length) {
    /* 8 iface entries of 29 bytes: 4 + 8 * 30 + 1 = 245 <= 255 */
    uct_mp_wire_t in = make(UCT_MP_WIRE_IFACE_ADDR, 8, 29), out;
    std::vector<uint8_t> buf = pack(in);
    EXPECT_EQ(245u, buf.size());
    EXPECT_EQ("", unpack(buf, UCT_MP_WIRE_IFACE_ADDR, &out));
}

TEST_F(test_mp_wire, pack_refuses_bad_messages) {
    std::vector<uint8_t> buf(UCT_MP_WIRE_MAX_LEN);
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX];

    uct_mp_wire_t none = make(UCT_MP_WIRE_EP_ADDR, 1, 4);
    none.lane_count    = 0;
    EXPECT_EQ(0u, uct_mp_wire_pack(&none, buf.data(), buf.size(), errmsg,
                                   sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("0 lanes"));

    uct_mp_wire_t nine = make(UCT_MP_WIRE_EP_ADDR, 8, 4);
    nine.lane_count    = 9;
    EXPECT_EQ(0u, uct_mp_wire_pack(&nine, buf.data(), buf.size(), errmsg,
                                   sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("9 lanes"));

    uct_mp_wire_t big = make(UCT_MP_WIRE_LANE_DEVS, 8, 40);
    EXPECT_EQ(0u, uct_mp_wire_pack(&big, buf.data(), buf.size(), errmsg,
                                   sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("maximum 255"))
        << errmsg;

    uct_mp_wire_t ok = make(UCT_MP_WIRE_IFACE_ADDR, 2, 8);
    EXPECT_EQ(0u, uct_mp_wire_pack(&ok, buf.data(), 10, errmsg,
                                   sizeof(errmsg)));
    EXPECT_NE(std::string::npos, std::string(errmsg).find("buffer has 10"));

    uct_mp_wire_t bad_kind = make(UCT_MP_WIRE_IFACE_ADDR, 1, 1);
    bad_kind.kind          = 9;
    EXPECT_EQ(0u, uct_mp_wire_pack(&bad_kind, buf.data(), buf.size(), errmsg,
                                   sizeof(errmsg)));

    uct_mp_wire_t no_data  = make(UCT_MP_WIRE_IFACE_ADDR, 1, 3);
    no_data.lanes[0].data  = nullptr;
    EXPECT_EQ(0u, uct_mp_wire_pack(&no_data, buf.data(), buf.size(), NULL, 0));
}

TEST_F(test_mp_wire, every_truncation_is_refused) {
    for (uct_mp_wire_kind_t kind : all_kinds) {
        std::vector<uint8_t> buf = pack(make(kind, 3, 6));
        for (size_t len = 0; len < buf.size(); ++len) {
            uct_mp_wire_t out;
            std::string err = unpack(buf, kind, &out, len);
            EXPECT_NE("", err) << "kind " << kind << " length " << len;
        }
    }
}

TEST_F(test_mp_wire, truncation_message_names_the_lengths) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_EP_ADDR, 2, 16));
    uct_mp_wire_t out;
    std::string err = unpack(buf, UCT_MP_WIRE_EP_ADDR, &out, 12);
    EXPECT_NE(std::string::npos, err.find(std::to_string(buf.size())))
        << err;
    EXPECT_NE(std::string::npos, err.find("12")) << err;
}

TEST_F(test_mp_wire, every_single_byte_corruption_is_refused) {
    for (uct_mp_wire_kind_t kind : all_kinds) {
        std::vector<uint8_t> good = pack(make(kind, 4, 5));
        for (size_t i = 0; i < good.size(); ++i) {
            for (uint8_t flip : {0x01, 0x80, 0xff}) {
                std::vector<uint8_t> bad = good;
                bad[i] ^= flip;
                uct_mp_wire_t out;
                EXPECT_NE("", unpack(bad, kind, &out))
                    << "kind " << kind << " byte " << i << " ^ " << int(flip);
            }
        }
    }
}

TEST_F(test_mp_wire, wrong_kind_is_refused) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_IFACE_ADDR, 2, 3));
    uct_mp_wire_t out;
    std::string err = unpack(buf, UCT_MP_WIRE_EP_ADDR, &out);
    EXPECT_NE(std::string::npos, err.find("expected an mp ep address")) << err;
}

TEST_F(test_mp_wire, other_protocol_versions_are_refused_by_name) {
    for (unsigned version : {0u, 1u, 3u, 255u}) {
        std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_DEVICE_ADDR, 2, 5));
        buf[0] = version;
        fix_check(&buf);
        uct_mp_wire_t out;
        std::string err = unpack(buf, UCT_MP_WIRE_DEVICE_ADDR, &out);
        EXPECT_NE(std::string::npos,
                  err.find("MP protocol version " + std::to_string(version)))
            << err;
        EXPECT_NE(std::string::npos, err.find("this build speaks 2")) << err;
    }
}

TEST_F(test_mp_wire, lane_count_out_of_range_is_refused) {
    for (unsigned lanes : {0u, 9u, 200u}) {
        std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_EP_ADDR, 1, 2));
        buf[3] = lanes;
        fix_check(&buf);
        uct_mp_wire_t out;
        std::string err = unpack(buf, UCT_MP_WIRE_EP_ADDR, &out);
        EXPECT_NE(std::string::npos,
                  err.find(std::to_string(lanes) + " lanes")) << err;
    }
}

TEST_F(test_mp_wire, hostile_lane_length_past_the_end_is_refused) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_IFACE_ADDR, 2, 4));
    buf[4] = 200; /* first lane claims 200 bytes */
    fix_check(&buf);
    uct_mp_wire_t out;
    std::string err = unpack(buf, UCT_MP_WIRE_IFACE_ADDR, &out);
    EXPECT_NE(std::string::npos, err.find("past the end")) << err;
}

TEST_F(test_mp_wire, trailing_garbage_inside_total_length_is_refused) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_EP_ADDR, 1, 4));
    buf.insert(buf.end() - 1, 0x42); /* extra byte before the check byte */
    buf[2] = buf.size();
    fix_check(&buf);
    uct_mp_wire_t out;
    std::string err = unpack(buf, UCT_MP_WIRE_EP_ADDR, &out);
    EXPECT_NE(std::string::npos, err.find("unexpected bytes")) << err;
}

TEST_F(test_mp_wire, bytes_beyond_total_length_are_ignored) {
    /* UCT gives no remote address length: the glue passes the maximum */
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_EP_ADDR, 2, 4));
    size_t len = buf.size();
    buf.resize(UCT_MP_WIRE_MAX_LEN, 0xee);
    uct_mp_wire_t out;
    EXPECT_EQ("", unpack(buf, UCT_MP_WIRE_EP_ADDR, &out));
    EXPECT_EQ(2, out.lane_count);
    EXPECT_EQ(len, (size_t)buf[2]);
}

/* Decode with the local lane lengths; returns the error message, "" */
static std::string unpack_exact(const std::vector<uint8_t> &buf,
                                uct_mp_wire_kind_t kind,
                                std::vector<uint8_t> lens, uct_mp_wire_t *msg)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
    if (uct_mp_wire_unpack_exact(buf.data(), kind, lens.data(), lens.size(),
                                 msg, errmsg, sizeof(errmsg)) == 0) {
        return "";
    }
    EXPECT_STRNE("", errmsg) << "refused without a message";
    return errmsg;
}

TEST_F(test_mp_wire, exact_decode_of_every_kind_needs_no_length) {
    for (uct_mp_wire_kind_t kind : all_kinds) {
        for (unsigned lanes : {1u, 3u, 8u}) {
            for (unsigned lane_len : {0u, 6u, 17u}) {
                std::vector<uint8_t> buf = pack(make(kind, lanes, lane_len));
                uct_mp_wire_t out;
                EXPECT_EQ("", unpack_exact(buf, kind, {3, (uint8_t)lane_len},
                                           &out));
                EXPECT_EQ(lanes, out.lane_count);
                EXPECT_EQ(buf.size(), (size_t)out.total_len);
            }
        }
    }
}

TEST_F(test_mp_wire, exact_decode_refuses_lengths_local_lanes_do_not_use) {
    /* exact-size heap buffers: a read past them is a real over-read */
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_EP_ADDR, 1, 10));
    uct_mp_wire_t out;
    std::string err = unpack_exact(buf, UCT_MP_WIRE_EP_ADDR, {4}, &out);
    EXPECT_NE(std::string::npos, err.find("has 10 bytes, local lanes use 4"))
        << err;

    /* an empty entry is refused too where the local lanes have bytes */
    buf = pack(make(UCT_MP_WIRE_DEVICE_ADDR, 1, 0));
    err = unpack_exact(buf, UCT_MP_WIRE_DEVICE_ADDR, {6}, &out);
    EXPECT_NE(std::string::npos, err.find("has 0 bytes")) << err;
}

TEST_F(test_mp_wire, exact_decode_never_trusts_a_forged_length_byte) {
    for (uint8_t forged : {(uint8_t)30, (uint8_t)200, (uint8_t)255}) {
        /* forged entry length: refused before anything past it is read */
        std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_RKEY, 2, 8));
        buf[5] = forged;
        uct_mp_wire_t out;
        std::string err = unpack_exact(buf, UCT_MP_WIRE_RKEY, {8}, &out);
        EXPECT_NE(std::string::npos, err.find("lane 0 of 2 has")) << err;

        /* forged total length with entries of the right length */
        buf    = pack(make(UCT_MP_WIRE_RKEY, 2, 8));
        buf[2] = forged;
        err    = unpack_exact(buf, UCT_MP_WIRE_RKEY, {8}, &out);
        EXPECT_NE(std::string::npos, err.find("make " +
                                              std::to_string(buf.size())))
            << err;
    }
}

TEST_F(test_mp_wire, exact_decode_reads_only_the_header_of_another_version) {
    std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_DEVICE_ADDR, 1, 6));
    buf[0] = 3;
    buf.resize(2); /* nothing past version and kind is read */
    uct_mp_wire_t out;
    std::string err = unpack_exact(buf, UCT_MP_WIRE_DEVICE_ADDR, {6}, &out);
    EXPECT_NE(std::string::npos, err.find("MP protocol version 3")) << err;
}

TEST_F(test_mp_wire, other_version_is_told_from_lane_addresses) {
    uint8_t version = 0;
    for (unsigned v : {1u, 3u, 17u}) {
        std::vector<uint8_t> buf = pack(make(UCT_MP_WIRE_DEVICE_ADDR, 1, 6));
        buf[0] = v;
        fix_check(&buf);
        EXPECT_TRUE(uct_mp_wire_is_other_version(buf.data(), 31,
                                                 UCT_MP_WIRE_DEVICE_ADDR,
                                                 &version));
        EXPECT_EQ(v, version);
        /* longer than UCP allows a device address: not an address */
        EXPECT_FALSE(uct_mp_wire_is_other_version(buf.data(), buf.size() - 1,
                                                  UCT_MP_WIRE_DEVICE_ADDR,
                                                  &version));
    }

    /* this version, a tcp device address, a RoCE GID address */
    std::vector<uint8_t> own = pack(make(UCT_MP_WIRE_DEVICE_ADDR, 1, 6));
    std::vector<uint8_t> tcp = {0x00, 0x02, 198, 18, 0, 1};
    std::vector<uint8_t> roce(17, 0);
    roce[0] = 0x08;
    roce[1] = 0x01;
    roce[2] = 0xfe;
    for (const auto &buf : {own, tcp, roce}) {
        EXPECT_FALSE(uct_mp_wire_is_other_version(buf.data(), buf.size(),
                                                  UCT_MP_WIRE_DEVICE_ADDR,
                                                  &version));
    }
}

TEST_F(test_mp_wire, lane_rkey_lengths_are_the_lane_components) {
    EXPECT_EQ(8u, uct_mp_lane_tl_rkey_len(UCT_MP_LANE_TL_RC_VERBS));
    EXPECT_EQ(8u, uct_mp_lane_tl_rkey_len(UCT_MP_LANE_TL_RC_MLX5));
    EXPECT_EQ(0u, uct_mp_lane_tl_rkey_len(UCT_MP_LANE_TL_TCP));
}

TEST_F(test_mp_wire, random_garbage_never_crashes_and_is_refused) {
    std::mt19937 rng(12345);
    unsigned accepted = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<uint8_t> buf(rng() % (UCT_MP_WIRE_MAX_LEN + 1));
        for (auto &b : buf) {
            b = rng();
        }
        if (!buf.empty() && (iter % 2)) {
            buf[0] = UCT_MP_PROTO_VERSION; /* get past the first check */
        }
        for (uct_mp_wire_kind_t kind : all_kinds) {
            uct_mp_wire_t out;
            accepted += unpack(buf, kind, &out).empty();
        }
    }
    /* Accepting random bytes needs version, kind, lengths and check byte to
     * line up: 1 in ~2^24 per buffer at most */
    EXPECT_EQ(0u, accepted);
}

TEST_F(test_mp_wire, null_error_buffer_is_allowed) {
    std::vector<uint8_t> buf(3, 0);
    uct_mp_wire_t out;
    EXPECT_EQ(-1, uct_mp_wire_unpack(buf.data(), buf.size(),
                                     UCT_MP_WIRE_EP_ADDR, &out, NULL, 0));
    EXPECT_EQ(-1, uct_mp_wire_unpack(NULL, 100, UCT_MP_WIRE_EP_ADDR, &out,
                                     NULL, 0));
}

TEST_F(test_mp_wire, lane_transport_names) {
    EXPECT_EQ(UCT_MP_LANE_TL_RC_VERBS, uct_mp_lane_tl_from_name("rc_verbs"));
    EXPECT_EQ(UCT_MP_LANE_TL_RC_MLX5, uct_mp_lane_tl_from_name("rc_mlx5"));
    EXPECT_EQ(UCT_MP_LANE_TL_TCP, uct_mp_lane_tl_from_name("tcp"));
    EXPECT_EQ(UCT_MP_LANE_TL_UNKNOWN, uct_mp_lane_tl_from_name("udp"));
    EXPECT_EQ(UCT_MP_LANE_TL_UNKNOWN, uct_mp_lane_tl_from_name(NULL));
    EXPECT_STREQ("ib", uct_mp_lane_tl_component(UCT_MP_LANE_TL_RC_VERBS));
    EXPECT_STREQ("tcp", uct_mp_lane_tl_component(UCT_MP_LANE_TL_TCP));
    EXPECT_EQ(NULL, uct_mp_lane_tl_component(UCT_MP_LANE_TL_UNKNOWN));
    EXPECT_STREQ("tcp", uct_mp_lane_tl_name(UCT_MP_LANE_TL_TCP));
    EXPECT_EQ(NULL, uct_mp_lane_tl_name((uct_mp_lane_tl_t)77));
}

TEST_F(test_mp_wire, bandwidth_class_is_log2_of_megabytes) {
    EXPECT_EQ(0, uct_mp_wire_bw_class(0));
    EXPECT_EQ(0, uct_mp_wire_bw_class(1e6));
    EXPECT_EQ(0, uct_mp_wire_bw_class(-5));
    EXPECT_EQ(1, uct_mp_wire_bw_class(2e6));
    EXPECT_EQ(6, uct_mp_wire_bw_class(125e6));   /* 1 Gbit/s */
    EXPECT_EQ(13, uct_mp_wire_bw_class(12.5e9)); /* 100 Gbit/s */
    EXPECT_EQ(255, uct_mp_wire_bw_class(1e300));
}

/*
 * RDMA-CM private data budget of UCP's client-server flow (docs/DESIGN.md
 * 7.7): 54 bytes, of which UCP's own part takes 35, so mp's iface + ep address
 * get 19. RoCE v2 rc_verbs lane: device address 18 B (flags, GID, path MTU),
 * no iface address, ep address 4 B (5 with an atomic MR id).
 * v1 carried [lane devices][lane eps] in the ep address and could not fit
 * even one lane; v2 carries the primary lane only, so 1, 2, 4 and 8 lanes all
 * take the same 16 (17) bytes, and the further lanes JOIN over the primary.
 */
TEST_F(test_mp_wire, rdma_cm_private_data_budget) {
    const size_t dev_len = 18, budget = 54 - 35;
    for (size_t ep_len : {4u, 5u}) {
        for (unsigned lanes : {1u, 2u, 4u, 8u}) {
            /* what v1 would have needed for these lanes */
            uct_mp_wire_t devs = make(UCT_MP_WIRE_LANE_DEVS, lanes, dev_len);
            uct_mp_wire_t all  = make(UCT_MP_WIRE_IFACE_ADDR, lanes, ep_len);
            size_t v1 = uct_mp_wire_packed_size(&devs) +
                        uct_mp_wire_packed_size(&all);
            /* v2: the primary lane's ep address whatever the lane count */
            uct_mp_wire_t ep = make(UCT_MP_WIRE_EP_ADDR, 1, ep_len);
            size_t v2 = uct_mp_wire_packed_size(&ep);
            std::cout << "[ budget ] " << lanes << " RoCE lanes, lane ep "
                      << ep_len << " B: v2 ep address " << v2 << " B (v1 "
                      << v1 << " B), RDMA-CM leaves mp " << budget << " B"
                      << std::endl;
            EXPECT_EQ(12 + ep_len, v2);
            EXPECT_LE(v2, budget) << lanes << " lanes must fit";
            EXPECT_GT(v1, budget);
        }
    }
    /* the v2 device address (p2p flow) fits UCP's 31-byte device limit */
    uct_mp_wire_t dev = make(UCT_MP_WIRE_DEVICE_ADDR, 1, dev_len);
    EXPECT_LE(uct_mp_wire_packed_size(&dev), 31u);
}

} // namespace
