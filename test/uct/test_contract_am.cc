/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * UCT contract of the active message operations (UCX test/gtest/uct
 * test_p2p_am.cc, test_uct_ep.cc): what each kind delivers, its completion
 * count, its limits and the errors beyond them, and AM alignment.
 */

#include "mp_contract.h"

namespace mp_contract {

class contract_am : public contract_test {
protected:
    /* am_zcopy of header + payload from a registered buffer */
    ucs_status_t am_zcopy(const std::string &header, mapped_buffer &buf,
                          size_t offset, size_t length, uct_completion_t *comp,
                          size_t iovcnt = 1)
    {
        std::vector<uct_iov_t> iov(iovcnt);
        size_t per = length / iovcnt;
        for (size_t i = 0; i < iovcnt; ++i) {
            iov[i].buffer = &buf.data[offset + i * per];
            iov[i].length = (i + 1 == iovcnt) ? (length - i * per) : per;
            iov[i].memh   = buf.memh;
            iov[i].stride = 0;
            iov[i].count  = 1;
        }
        return uct_ep_am_zcopy(m_ep, AM_ID, header.data(), header.size(),
                               iov.data(), iovcnt, 0, comp);
    }

    /* the message at index i is header + payload, in order */
    void expect_delivered(size_t count)
    {
        ASSERT_TRUE(wait_for([&] { return m_sink.messages.size() >= count; }))
            << "delivered " << m_sink.messages.size() << " of " << count;
        EXPECT_EQ(count, m_sink.messages.size());
    }
};

struct packer {
    const std::string *payload;
    unsigned          calls = 0;

    static size_t pack(void *dest, void *arg) {
        packer *p = static_cast<packer*>(arg);
        ++p->calls;
        memcpy(dest, p->payload->data(), p->payload->size());
        return p->payload->size();
    }
};

/* UCT_IFACE_FLAG_AM_SHORT: sizes 0..max_short in order, never INPROGRESS */
TEST_P(contract_am, am_short_every_size_in_order) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_SHORT));
    const size_t max = m_sender.m_attr.cap.am.max_short;
    ASSERT_GE(max, 8u);
    std::vector<std::string> sent;
    for (size_t len : {size_t(0), size_t(1), size_t(7), max / 2, max - 8}) {
        uint64_t hdr = 0x1122334455667788ull + len;
        std::string payload = pattern(len, len);
        ucs_status_t status = retry([&] {
            return uct_ep_am_short(m_ep, AM_ID, hdr, payload.data(), len);
        });
        ASSERT_EQ(UCS_OK, status) << "length " << len << ": "
                                  << ucs_status_string(status);
        sent.push_back(std::string((const char*)&hdr, 8) + payload);
    }
    expect_delivered(sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i], m_sink.messages[i].data) << "message " << i;
    }
}

TEST_P(contract_am, am_short_beyond_max_short_is_invalid) {
    open_pair();
    const size_t max = m_sender.m_attr.cap.am.max_short;
    std::string payload(max, 'x'); /* + 8 header bytes: too long */
    m_log.quiet = true;
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              uct_ep_am_short(m_ep, AM_ID, 0, payload.data(), max - 7));
    m_log.quiet = false;
    EXPECT_GE(m_log.count("length"), 1u) << "no error names the length";
}

TEST_P(contract_am, am_short_iov_concatenates) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_SHORT));
    std::string a = pattern(5, 1), b = pattern(11, 2);
    uct_iov_t iov[2] = {{&a[0], a.size(), UCT_MEM_HANDLE_NULL, 0, 1},
                        {&b[0], b.size(), UCT_MEM_HANDLE_NULL, 0, 1}};
    CT_ASSERT_UCS_OK(retry([&] {
        return uct_ep_am_short_iov(m_ep, AM_ID, iov, 2);
    }));
    expect_delivered(1);
    EXPECT_EQ(a + b, m_sink.messages[0].data);
}

/* UCT_IFACE_FLAG_AM_BCOPY: the pack callback runs once per message and its
 * length is returned; sizes up to max_bcopy */
TEST_P(contract_am, am_bcopy_every_size_packs_once) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_BCOPY));
    const size_t max = m_sender.m_attr.cap.am.max_bcopy;
    std::vector<std::string> sent;
    for (size_t len : {size_t(0), size_t(1), size_t(64), max / 2, max}) {
        std::string payload = pattern(len, len + 3);
        packer p = {&payload};
        ssize_t packed = retry_bcopy([&] {
            return uct_ep_am_bcopy(m_ep, AM_ID, packer::pack, &p, 0);
        });
        ASSERT_EQ((ssize_t)len, packed) << "length " << len;
        EXPECT_EQ(1u, p.calls) << "pack callback calls for length " << len;
        sent.push_back(payload);
    }
    expect_delivered(sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i], m_sink.messages[i].data) << "message " << i;
    }
}

/* UCT_IFACE_FLAG_AM_ZCOPY: OK without calling the completion, or INPROGRESS
 * and the completion is called exactly once; header + every iov arrive */
TEST_P(contract_am, am_zcopy_completes_once_every_iov_count) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_ZCOPY));
    const uct_iface_attr_t &attr = m_sender.m_attr;
    ASSERT_GE(attr.cap.am.max_iov, 1u);
    ASSERT_GE(attr.cap.am.max_hdr, 8u);
    mapped_buffer buf;
    buf.map(m_sender, attr.cap.am.max_zcopy, 7);
    std::string header = pattern(attr.cap.am.max_hdr, 9);
    std::vector<std::string> sent;
    for (size_t iovcnt = 1; iovcnt <= attr.cap.am.max_iov; ++iovcnt) {
        for (size_t len : {iovcnt, size_t(4096),
                           attr.cap.am.max_zcopy - header.size()}) {
            counted_completion done;
            ucs_status_t status = retry([&] {
                return am_zcopy(header, buf, 0, len, &done.comp, iovcnt);
            });
            ASSERT_TRUE((status == UCS_OK) || (status == UCS_INPROGRESS))
                << ucs_status_string(status);
            if (status == UCS_INPROGRESS) {
                ASSERT_TRUE(wait_for([&] { return done.calls > 0; }));
                EXPECT_EQ(UCS_OK, done.comp.status);
            }
            EXPECT_EQ((status == UCS_OK) ? 0u : 1u, done.calls)
                << "iovcnt " << iovcnt << " length " << len;
            sent.push_back(header + buf.data.substr(0, len));
        }
    }
    expect_delivered(sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_TRUE(sent[i] == m_sink.messages[i].data) << "message " << i;
    }
    buf.unmap();
}

/* issue 12 (3): a header above max_hdr is refused with an error that says
 * how long it was */
TEST_P(contract_am, am_zcopy_header_beyond_max_hdr_names_length) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_ZCOPY));
    mapped_buffer buf;
    buf.map(m_sender, 64, 1);
    const size_t too_long = m_sender.m_attr.cap.am.max_hdr + 1;
    std::string header = pattern(too_long, 2);
    m_log.quiet = true;
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              am_zcopy(header, buf, 0, 16, NULL));
    m_log.quiet = false;
    EXPECT_GE(m_log.count(std::to_string(too_long)), 1u)
        << "no error names the header length " << too_long << ": "
        << m_log.all();
    buf.unmap();
}

TEST_P(contract_am, am_zcopy_beyond_max_zcopy_or_max_iov_is_invalid) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_AM_ZCOPY));
    const uct_iface_attr_t &attr = m_sender.m_attr;
    mapped_buffer buf;
    buf.map(m_sender, attr.cap.am.max_zcopy + 64, 1);
    m_log.quiet = true;
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              am_zcopy("", buf, 0, attr.cap.am.max_zcopy + 1, NULL));
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              am_zcopy("", buf, 0, 64, NULL, attr.cap.am.max_iov + 1));
    m_log.quiet = false;
    buf.unmap();
}

TEST_P(contract_am, am_id_beyond_max_is_invalid) {
    open_pair();
    m_log.quiet = true;
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              uct_ep_am_short(m_ep, UCT_AM_ID_MAX, 0, NULL, 0));
    EXPECT_NE(UCS_OK, uct_iface_set_am_handler(m_receiver.m_iface,
                                               UCT_AM_ID_MAX,
                                               am_sink::handler, &m_sink, 0));
    m_log.quiet = false;
}

/* UCT_IFACE_FLAG_CB_SYNC: AM callbacks run from uct_worker_progress on the
 * calling thread, never from an async thread */
TEST_P(contract_am, am_callbacks_run_inside_progress) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_CB_SYNC));
    for (unsigned i = 0; i < 20; ++i) {
        CT_ASSERT_UCS_OK(retry([&] {
            return uct_ep_am_short(m_ep, AM_ID, i, NULL, 0);
        }));
    }
    expect_delivered(20);
    EXPECT_EQ(20u, m_sink.in_progress_calls);
}

INSTANTIATE_TEST_SUITE_P(lanes, contract_am, ::testing::ValuesIn(k_variants),
                         variant_name);

/*
 * UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT / AM_ALIGN_OFFSET (issue 12 (2)): an
 * invalid alignment is refused at open; with a valid one every AM kind
 * arrives with (data + offset) aligned.
 */
class contract_am_align : public contract_am {
protected:
    void open_aligned(size_t align, size_t offset) {
        open_pair(NULL, [=](uct_iface_params_t *p) {
            p->field_mask     |= UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT |
                                 UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET;
            p->am_alignment    = align;
            p->am_align_offset = offset;
        });
    }

    void send_every_kind() {
        uint64_t hdr = 42;
        std::string payload = pattern(100, 3);
        packer p = {&payload};
        mapped_buffer buf;
        counted_completion done;
        CT_ASSERT_UCS_OK(retry([&] {
            return uct_ep_am_short(m_ep, AM_ID, hdr, payload.data(), 33);
        }));
        ASSERT_EQ(100, retry_bcopy([&] {
            return uct_ep_am_bcopy(m_ep, AM_ID, packer::pack, &p, 0);
        }));
        buf.map(m_sender, 1000, 4);
        CT_ASSERT_OK_OR_INPROGRESS(retry([&] {
            return am_zcopy("hdr", buf, 0, 1000, &done.comp);
        }));
        expect_delivered(3);
        ASSERT_EQ(UCS_OK, flush_all(m_ep));
        buf.unmap();
    }

    ucs_status_t try_open(uint64_t fields, size_t align, size_t offset) {
        scoped_env env(var());
        entity e;
        uct_iface_h iface = NULL;
        uct_iface_params_t params;
        ucs_status_t status = e.open_worker();
        if (status != UCS_OK) {
            return status;
        }
        e.fill_base_params(&params);
        params.field_mask     |= fields;
        params.am_alignment    = align;
        params.am_align_offset = offset;
        status = e.open_iface(&params, &iface);
        if (status == UCS_OK) {
            uct_iface_close(iface);
        }
        return status;
    }
};

TEST_P(contract_am_align, invalid_alignment_is_refused) {
    const uint64_t both = UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT |
                          UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET;
    m_log.quiet = true;
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              try_open(UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT, 0, 0));
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              try_open(UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT, 3, 0));
    EXPECT_EQ(UCS_ERR_INVALID_PARAM,
              try_open(UCT_IFACE_PARAM_FIELD_AM_ALIGN_OFFSET, 0, 11));
    EXPECT_EQ(UCS_ERR_INVALID_PARAM, try_open(both, 8, 8));
    EXPECT_EQ(UCS_ERR_INVALID_PARAM, try_open(both, 8, 11));
    m_log.quiet = false;
    EXPECT_EQ(UCS_OK, try_open(both, 8, 7));
    EXPECT_EQ(UCS_OK, try_open(UCT_IFACE_PARAM_FIELD_AM_ALIGNMENT, 1, 0));
}

TEST_P(contract_am_align, every_am_kind_arrives_aligned) {
    for (size_t align : {size_t(1), size_t(8), size_t(64), size_t(4096)}) {
        for (size_t offset : {size_t(0), size_t(3), ucs_min(align - 1, 100ul)}) {
            if (offset >= align) {
                continue;
            }
            open_aligned(align, offset);
            send_every_kind();
            for (const am_sink::msg &m : m_sink.messages) {
                EXPECT_EQ(0u, (m.address + offset) % align)
                    << "alignment " << align << " offset " << offset
                    << ": data at " << (void*)m.address << ", flags "
                    << m.flags;
            }
            m_sink.messages.clear();
            close_and_check();
            m_closed = false;
            m_ep     = NULL;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(lanes, contract_am_align,
                         ::testing::ValuesIn(k_variants), variant_name);

} // namespace mp_contract

namespace mp_contract {

/*
 * Every capability mp_rc advertises is checked by a contract test: a flag
 * missing from this map fails, so a new capability cannot go unchecked.
 */
class contract_caps : public contract_test {};

TEST_P(contract_caps, every_advertised_capability_has_a_contract_test) {
    open_pair();
    const std::pair<uint64_t, const char*> checked[] = {
        {UCT_IFACE_FLAG_AM_SHORT,   "contract_am.am_short_*"},
        {UCT_IFACE_FLAG_AM_BCOPY,   "contract_am.am_bcopy_*"},
        {UCT_IFACE_FLAG_AM_ZCOPY,   "contract_am.am_zcopy_*"},
        {UCT_IFACE_FLAG_PUT_ZCOPY,  "contract_flush.*, contract_pending.*"},
        {UCT_IFACE_FLAG_PENDING,    "contract_pending.*"},
        {UCT_IFACE_FLAG_CB_SYNC,    "contract_am.am_callbacks_run_inside_progress"},
        {UCT_IFACE_FLAG_CONNECT_TO_IFACE, "contract_test::connect (iface)"},
        {UCT_IFACE_FLAG_CONNECT_TO_EP,    "contract_test::connect (ep)"},
        {UCT_IFACE_FLAG_ERRHANDLE_PEER_FAILURE,
         "contract_pending.purge_after_peer_failure"},
        {UCT_IFACE_FLAG_EP_CHECK,   "contract_pending.ep_check_reports_a_dead_peer"},
    };
    uint64_t flags = m_sender.m_attr.cap.flags;
    for (const auto &c : checked) {
        if (flags & c.first) {
            std::cout << "[ caps ] 0x" << std::hex << c.first << std::dec
                      << " checked by " << c.second << std::endl;
        }
        flags &= ~c.first;
    }
    EXPECT_EQ(0u, flags) << "advertised capabilities without a contract test";
    EXPECT_EQ(0u, m_sender.m_attr.cap.event_flags) << "no wakeup support";
}

INSTANTIATE_TEST_SUITE_P(lanes, contract_caps, ::testing::ValuesIn(k_variants),
                         variant_name);

} // namespace mp_contract
