/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of the rtnetlink link message parser: real kernel layouts, and
 * hostile input (short headers, lengths past the buffer, bad attributes, a
 * name without NUL, many messages, a truncated datagram) that must be
 * refused without reading past the buffer.
 */

#include "mp_netlink.h"

#include <gtest/gtest.h>

#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace {

/* Writes netlink datagrams the way the kernel lays them out */
class nl_builder {
public:
    /* start a message; returns its offset */
    size_t begin(uint16_t type, uint32_t seq = 0) {
        align();
        size_t off = m_buf.size();
        struct nlmsghdr nlh;
        memset(&nlh, 0, sizeof(nlh));
        nlh.nlmsg_type = type;
        nlh.nlmsg_seq  = seq;
        append(&nlh, sizeof(nlh));
        m_msg = off;
        return off;
    }

    void ifinfo(int index, unsigned flags) {
        struct ifinfomsg ifi;
        memset(&ifi, 0, sizeof(ifi));
        ifi.ifi_family = AF_UNSPEC;
        ifi.ifi_index  = index;
        ifi.ifi_flags  = flags;
        append(&ifi, sizeof(ifi));
    }

    void attr(uint16_t type, const void *data, size_t len) {
        align();
        struct rtattr rta;
        rta.rta_type = type;
        rta.rta_len  = static_cast<uint16_t>(RTA_LENGTH(len));
        append(&rta, sizeof(rta));
        append(data, len);
    }

    void name(const char *name) { attr(IFLA_IFNAME, name, strlen(name) + 1); }

    /* set nlmsg_len of the current message to what was written (or len) */
    void end(int64_t len = -1) {
        uint32_t l = (len >= 0) ? static_cast<uint32_t>(len) :
                     static_cast<uint32_t>(m_buf.size() - m_msg);
        memcpy(&m_buf[m_msg], &l, sizeof(l));
    }

    void link(uint16_t type, int index, unsigned flags, const char *n) {
        begin(type);
        ifinfo(index, flags);
        name(n);
        end();
    }

    void done() {
        begin(NLMSG_DONE);
        int32_t zero = 0;
        append(&zero, sizeof(zero));
        end();
    }

    void error(int32_t code) {
        begin(NLMSG_ERROR);
        struct nlmsgerr err;
        memset(&err, 0, sizeof(err));
        err.error = code;
        append(&err, sizeof(err));
        end();
    }

    void append(const void *data, size_t len) {
        const uint8_t *p = static_cast<const uint8_t*>(data);
        m_buf.insert(m_buf.end(), p, p + len);
    }

    void align() { m_buf.resize(NLMSG_ALIGN(m_buf.size()), 0); }

    std::vector<uint8_t> &buf() { return m_buf; }

private:
    std::vector<uint8_t> m_buf;
    size_t               m_msg = 0;
};

class test_mp_netlink : public ::testing::Test {
protected:
    /* Parse an exact-size heap copy of buf[0..len) */
    int parse(const std::vector<uint8_t> &buf, size_t len = SIZE_MAX) {
        len = std::min(len, buf.size());
        std::vector<uint8_t> copy(buf.begin(), buf.begin() + len);
        m_links.clear();
        m_errmsg[0] = '\0';
        return uct_mp_netlink_parse(copy.empty() ? nullptr : copy.data(),
                                    copy.size(), on_link, this, &m_result,
                                    m_errmsg, sizeof(m_errmsg));
    }

    static void on_link(void *arg, const uct_mp_netlink_link_t *link) {
        static_cast<test_mp_netlink*>(arg)->m_links.push_back(*link);
    }

    std::string error() const { return m_errmsg; }

    nl_builder                         m_nl;
    std::vector<uct_mp_netlink_link_t> m_links;
    uct_mp_netlink_result_t            m_result;
    char                               m_errmsg[UCT_MP_NETLINK_ERRMSG_MAX];
};

TEST_F(test_mp_netlink, newlink_up_down_and_dellink) {
    m_nl.link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING, "path1");
    m_nl.link(RTM_NEWLINK, 4, IFF_UP, "path2");
    m_nl.link(RTM_DELLINK, 5, IFF_UP | IFF_RUNNING, "eth7");

    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    ASSERT_EQ(3u, m_links.size());
    EXPECT_EQ(3, m_links[0].ifindex);
    EXPECT_STREQ("path1", m_links[0].name);
    EXPECT_TRUE(m_links[0].up);
    EXPECT_FALSE(m_links[0].deleted);
    EXPECT_STREQ("path2", m_links[1].name);
    EXPECT_FALSE(m_links[1].up); /* up but not running: no carrier */
    EXPECT_EQ(unsigned(IFF_UP), m_links[1].flags);
    EXPECT_STREQ("eth7", m_links[2].name);
    EXPECT_TRUE(m_links[2].deleted);
    EXPECT_FALSE(m_links[2].up);
    EXPECT_EQ(3u, m_result.messages);
    EXPECT_EQ(3u, m_result.links);
    EXPECT_EQ(0u, m_result.malformed);
    EXPECT_FALSE(m_result.truncated);
}

TEST_F(test_mp_netlink, other_attributes_and_types_are_skipped) {
    uint32_t mtu = 1500;
    m_nl.begin(RTM_NEWADDR);
    m_nl.ifinfo(1, 0);
    m_nl.end();
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(2, IFF_UP | IFF_RUNNING);
    m_nl.attr(IFLA_MTU, &m_nl, 0); /* empty attribute */
    m_nl.attr(IFLA_MTU, &mtu, sizeof(mtu));
    m_nl.attr(IFLA_ADDRESS, "\x02\x00\x00\x00\x00\x01", 6); /* padded */
    m_nl.name("eth0");
    m_nl.attr(IFLA_QDISC, "noqueue", 8);
    m_nl.end();
    m_nl.begin(RTM_NEWLINK); /* no name: not a link event */
    m_nl.ifinfo(9, 0);
    m_nl.attr(IFLA_MTU, &mtu, sizeof(mtu));
    m_nl.end();

    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    ASSERT_EQ(1u, m_links.size());
    EXPECT_STREQ("eth0", m_links[0].name);
    EXPECT_EQ(2u, m_result.ignored);
}

TEST_F(test_mp_netlink, name_of_ifnamsiz_bytes) {
    m_nl.link(RTM_NEWLINK, 1, 0, "abcdefghijklmno"); /* 15 + NUL */
    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    ASSERT_EQ(1u, m_links.size());
    EXPECT_STREQ("abcdefghijklmno", m_links[0].name);
}

TEST_F(test_mp_netlink, name_nul_inside_payload) {
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, 0);
    m_nl.attr(IFLA_IFNAME, "ab\0cd", 5);
    m_nl.end();
    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    ASSERT_EQ(1u, m_links.size());
    EXPECT_STREQ("ab", m_links[0].name);
}

TEST_F(test_mp_netlink, name_without_nul_is_refused) {
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, IFF_UP | IFF_RUNNING);
    m_nl.attr(IFLA_IFNAME, "path1", 5); /* no NUL */
    m_nl.end();
    m_nl.link(RTM_NEWLINK, 2, 0, "path2"); /* the next one still counts */

    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_NE(std::string::npos, error().find("without NUL")) << error();
    ASSERT_EQ(1u, m_links.size());
    EXPECT_STREQ("path2", m_links[0].name);
    EXPECT_EQ(1u, m_result.malformed);
}

TEST_F(test_mp_netlink, name_longer_than_ifnamsiz_is_refused) {
    const char longname[] = "abcdefghijklmnopqrstuvwxyz";
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, 0);
    m_nl.attr(IFLA_IFNAME, longname, sizeof(longname));
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_NE(std::string::npos, error().find("longer than IFNAMSIZ"))
            << error();
    EXPECT_TRUE(m_links.empty());
}

TEST_F(test_mp_netlink, empty_name_is_refused) {
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, 0);
    m_nl.attr(IFLA_IFNAME, "", 1);
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_NE(std::string::npos, error().find("empty")) << error();
    m_nl.buf().clear();
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, 0);
    m_nl.attr(IFLA_IFNAME, "", 0);
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_TRUE(m_links.empty());
}

TEST_F(test_mp_netlink, short_headers) {
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    for (size_t len = 1; len < sizeof(struct nlmsghdr); ++len) {
        EXPECT_EQ(-1, parse(m_nl.buf(), len)) << len;
        EXPECT_TRUE(m_result.truncated) << len;
        EXPECT_TRUE(m_links.empty());
    }
    EXPECT_EQ(0, parse(m_nl.buf(), 0));
    EXPECT_EQ(0u, m_result.messages);
}

TEST_F(test_mp_netlink, nlmsg_len_below_header) {
    for (uint32_t len : {0u, 1u, 15u}) {
        m_nl.buf().clear();
        m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
        m_nl.end(len);
        EXPECT_EQ(-1, parse(m_nl.buf())) << len;
        EXPECT_TRUE(m_result.truncated);
        EXPECT_TRUE(m_links.empty());
    }
}

TEST_F(test_mp_netlink, nlmsg_len_past_the_buffer) {
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    m_nl.begin(RTM_NEWLINK, 77);
    m_nl.ifinfo(2, 0);
    m_nl.name("eth1");
    m_nl.end(0xffffffffu);
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_TRUE(m_result.truncated);
    EXPECT_EQ(77u, m_result.truncated_seq);
    ASSERT_EQ(1u, m_links.size()); /* the complete one before it */
    EXPECT_STREQ("eth0", m_links[0].name);
    EXPECT_NE(std::string::npos, error().find("length 4294967295"))
            << error();
}

TEST_F(test_mp_netlink, body_shorter_than_ifinfomsg) {
    m_nl.begin(RTM_NEWLINK);
    m_nl.append("\0\0\0\0\0\0\0", 8);
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_EQ(1u, m_result.malformed);
    EXPECT_FALSE(m_result.truncated);
    EXPECT_NE(std::string::npos, error().find("ifinfomsg")) << error();
}

TEST_F(test_mp_netlink, attribute_lengths) {
    /* rta_len below the attribute header, and past the message */
    for (uint16_t rta_len : {0, 1, 3, 10, 200, 0xffff}) {
        m_nl.buf().clear();
        m_nl.begin(RTM_NEWLINK);
        m_nl.ifinfo(1, 0);
        m_nl.name("eth0");
        m_nl.end();
        size_t attr = sizeof(struct nlmsghdr) + sizeof(struct ifinfomsg);
        memcpy(&m_nl.buf()[attr], &rta_len, sizeof(rta_len));
        EXPECT_EQ(-1, parse(m_nl.buf())) << rta_len;
        EXPECT_EQ(1u, m_result.malformed) << rta_len;
        EXPECT_TRUE(m_links.empty());
    }
}

TEST_F(test_mp_netlink, truncated_attribute_header) {
    m_nl.begin(RTM_NEWLINK);
    m_nl.ifinfo(1, 0);
    m_nl.name("eth0");
    m_nl.align();
    m_nl.append("\x08\x00", 2); /* half an attribute header */
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_NE(std::string::npos, error().find("after the last attribute"))
            << error();
    EXPECT_TRUE(m_links.empty());
}

TEST_F(test_mp_netlink, truncated_datagram) {
    /* what recv() leaves when MSG_TRUNC cut the datagram: every prefix */
    m_nl.link(RTM_NEWLINK, 1, IFF_UP | IFF_RUNNING, "eth0");
    size_t first = m_nl.buf().size();
    m_nl.link(RTM_NEWLINK, 2, IFF_UP | IFF_RUNNING, "eth1");
    std::vector<uint8_t> full = m_nl.buf();

    for (size_t len = 0; len <= full.size(); ++len) {
        int ret = parse(full, len);
        size_t expect = (len >= full.size()) ? 2 : (len >= first) ? 1 : 0;
        EXPECT_EQ(expect, m_links.size()) << len;
        /* up to the first message's padding it is whole */
        bool whole = (len == 0) ||
                     ((len >= first) && (len <= NLMSG_ALIGN(first))) ||
                     (len == full.size());
        EXPECT_EQ(whole ? 0 : -1, ret) << len << " " << error();
        EXPECT_EQ(!whole, !!m_result.truncated) << len;
    }
}

TEST_F(test_mp_netlink, many_messages) {
    const unsigned count = 2000;
    for (unsigned i = 0; i < count; ++i) {
        std::string n = "v" + std::to_string(i);
        m_nl.link(RTM_NEWLINK, i, (i % 2) ? IFF_UP | IFF_RUNNING : 0,
                  n.c_str());
    }
    m_nl.done();
    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    ASSERT_EQ(count, m_links.size());
    EXPECT_STREQ("v1999", m_links[count - 1].name);
    EXPECT_TRUE(m_links[count - 1].up);
    EXPECT_FALSE(m_links[count - 2].up);
    EXPECT_TRUE(m_result.done);
    EXPECT_EQ(count + 1, m_result.messages);
}

TEST_F(test_mp_netlink, done_ends_the_dump) {
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    m_nl.done();
    m_nl.link(RTM_NEWLINK, 2, 0, "eth1"); /* after DONE: not read */
    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    EXPECT_EQ(1u, m_links.size());
    EXPECT_TRUE(m_result.done);
}

TEST_F(test_mp_netlink, error_and_overrun) {
    m_nl.error(0); /* an acknowledgement */
    m_nl.error(-EBUSY);
    m_nl.error(-ENOBUFS);
    m_nl.begin(NLMSG_OVERRUN);
    m_nl.end();
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    ASSERT_EQ(0, parse(m_nl.buf())) << error();
    EXPECT_EQ(-EBUSY, m_result.error);
    EXPECT_TRUE(m_result.overrun);
    EXPECT_EQ(1u, m_links.size());

    m_nl.buf().clear();
    m_nl.begin(NLMSG_ERROR);
    m_nl.append("\1\2", 2); /* no room for the code */
    m_nl.end();
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_EQ(0, m_result.error);
    EXPECT_EQ(1u, m_result.malformed);
}

TEST_F(test_mp_netlink, bytes_after_the_last_message) {
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    m_nl.align();
    m_nl.append("\x10\0\0", 3);
    EXPECT_EQ(-1, parse(m_nl.buf()));
    EXPECT_TRUE(m_result.truncated);
    EXPECT_EQ(1u, m_links.size());
}

TEST_F(test_mp_netlink, unaligned_buffer) {
    m_nl.link(RTM_NEWLINK, 6, IFF_UP | IFF_RUNNING, "path2");
    std::vector<uint8_t> shifted(m_nl.buf().size() + 1);
    memcpy(&shifted[1], m_nl.buf().data(), m_nl.buf().size());
    uct_mp_netlink_result_t res;
    ASSERT_EQ(0, uct_mp_netlink_parse(&shifted[1], m_nl.buf().size(), on_link,
                                      this, &res, nullptr, 0));
    ASSERT_EQ(1u, m_links.size());
    EXPECT_EQ(6, m_links[0].ifindex);
}

TEST_F(test_mp_netlink, null_buffer_and_no_callback) {
    uct_mp_netlink_result_t res;
    EXPECT_EQ(0, uct_mp_netlink_parse(nullptr, 100, nullptr, nullptr, &res,
                                      nullptr, 0));
    EXPECT_EQ(0u, res.messages);
    m_nl.link(RTM_NEWLINK, 1, 0, "eth0");
    EXPECT_EQ(0, uct_mp_netlink_parse(m_nl.buf().data(), m_nl.buf().size(),
                                      nullptr, nullptr, &res, nullptr, 0));
    EXPECT_EQ(1u, res.links);
}

TEST_F(test_mp_netlink, dump_request) {
    uint8_t buf[64];
    struct nlmsghdr nlh;
    struct ifinfomsg ifi;

    EXPECT_EQ(0u, uct_mp_netlink_pack_dump(buf, UCT_MP_NETLINK_DUMP_LEN - 1,
                                           1));
    ASSERT_EQ(size_t(UCT_MP_NETLINK_DUMP_LEN),
              uct_mp_netlink_pack_dump(buf, sizeof(buf), 0x6d70));
    memcpy(&nlh, buf, sizeof(nlh));
    memcpy(&ifi, buf + NLMSG_HDRLEN, sizeof(ifi));
    EXPECT_EQ(uint32_t(UCT_MP_NETLINK_DUMP_LEN), nlh.nlmsg_len);
    EXPECT_EQ(RTM_GETLINK, nlh.nlmsg_type);
    EXPECT_EQ(NLM_F_REQUEST | NLM_F_DUMP, nlh.nlmsg_flags);
    EXPECT_EQ(0x6d70u, nlh.nlmsg_seq);
    EXPECT_EQ(AF_UNSPEC, ifi.ifi_family);
}

} // namespace
