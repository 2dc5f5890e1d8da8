/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * UCT contract of flush and fence (UCX test/gtest/uct test_flush.cc,
 * test_fence.cc): a flush that returns UCS_OK, and a flush completion, come
 * after every operation posted before the flush completed; a fence orders
 * what comes after it behind what came before, for every kind of operation.
 */

#include "mp_contract.h"

namespace mp_contract {

/* One kind of operation that completes with a completion or at once */
enum op_kind { OP_AM_SHORT, OP_AM_BCOPY, OP_AM_ZCOPY, OP_PUT_ZCOPY, OP_LAST };

const char *op_name(op_kind k)
{
    static const char *names[] = {"am_short", "am_bcopy", "am_zcopy",
                                  "put_zcopy"};
    return names[k];
}

uint64_t op_cap(op_kind k)
{
    static const uint64_t caps[] = {UCT_IFACE_FLAG_AM_SHORT,
                                    UCT_IFACE_FLAG_AM_BCOPY,
                                    UCT_IFACE_FLAG_AM_ZCOPY,
                                    UCT_IFACE_FLAG_PUT_ZCOPY};
    return caps[k];
}

class contract_flush : public contract_test {
protected:
    void SetUp() override {
        contract_test::SetUp();
        open_pair();
        m_src.map(m_sender, 256 * 1024, 1);
        m_dst.map(m_receiver, 256 * 1024, 2);
        m_dst.unpack_rkey_for_peer();
        std::fill(m_dst.data.begin(), m_dst.data.end(), '\0');
    }

    void TearDown() override {
        m_src.unmap();
        m_dst.unmap();
        contract_test::TearDown();
    }

    static size_t pack_byte(void *dest, void *arg) {
        memset(dest, *static_cast<char*>(arg), 100);
        return 100;
    }

    /* post one operation of kind k (size bytes for zcopy), retried while
     * busy; comp is counted when the operation returned UCS_INPROGRESS */
    ucs_status_t post(op_kind k, size_t size, counted_completion *comp) {
        char fill = 'f';
        uct_iov_t iov = {&m_src.data[0], size, m_src.memh, 0, 1};
        switch (k) {
        case OP_AM_SHORT:
            return retry([&] {
                return uct_ep_am_short(m_ep, AM_ID, 1, "short", 5);
            });
        case OP_AM_BCOPY: {
            ssize_t packed = retry_bcopy([&] {
                return uct_ep_am_bcopy(m_ep, AM_ID, pack_byte, &fill, 0);
            });
            return (packed >= 0) ? UCS_OK : (ucs_status_t)packed;
        }
        case OP_AM_ZCOPY:
            iov.length = ucs_min(size, m_sender.m_attr.cap.am.max_zcopy - 8);
            return retry([&] {
                return uct_ep_am_zcopy(m_ep, AM_ID, "zcopyhdr", 8, &iov, 1, 0,
                                       &comp->comp);
            });
        case OP_PUT_ZCOPY:
            iov.length = ucs_min(size, m_sender.m_attr.cap.put.max_zcopy);
            return retry([&] {
                return uct_ep_put_zcopy(m_ep, &iov, 1, m_dst.addr(),
                                        m_dst.rkey.rkey, &comp->comp);
            });
        default:
            return UCS_ERR_INVALID_PARAM;
        }
    }

    /* what a completed operation of kind k left at the receiver */
    bool arrived(op_kind k, size_t size, size_t count_before) {
        if (k == OP_PUT_ZCOPY) {
            size_t len = ucs_min(size, m_sender.m_attr.cap.put.max_zcopy);
            return !memcmp(&m_dst.data[0], &m_src.data[0], len);
        }
        return m_sink.messages.size() > count_before;
    }

    /*
     * The flush contract for op k: for each way to flush, an operation is
     * posted just before; the flush's UCS_OK, or its completion, may come
     * only after the operation's completion.
     */
    void check_flush_after(op_kind k, int how);

    mapped_buffer      m_src, m_dst;
    counted_completion m_cancelled;
};

enum { FLUSH_EP_NO_COMP, FLUSH_EP_COMP, FLUSH_IFACE_NO_COMP, FLUSH_IFACE_COMP,
       FLUSH_LAST };

void contract_flush::check_flush_after(op_kind k, int how)
{
    const char *hows[] = {"uct_ep_flush(NULL)", "uct_ep_flush(comp)",
                          "uct_iface_flush(NULL)", "uct_iface_flush(comp)"};
    for (size_t size : {size_t(64), size_t(65536), size_t(256 * 1024)}) {
        counted_completion op_done, flush_done;
        size_t before       = m_sink.messages.size();
        std::fill(m_dst.data.begin(), m_dst.data.end(), '\0');
        m_src.data[0] = (char)(m_src.data[0] + 1); /* each put differs */
        ucs_status_t status = post(k, size, &op_done);
        ASSERT_TRUE((status == UCS_OK) || (status == UCS_INPROGRESS))
            << op_name(k) << ": " << ucs_status_string(status);
        const bool op_pending = (status == UCS_INPROGRESS);
        const bool with_comp  = (how == FLUSH_EP_COMP) ||
                                (how == FLUSH_IFACE_COMP);
        const bool on_iface   = (how >= FLUSH_IFACE_NO_COMP);
        auto flush = [&]() {
            uct_completion_t *c = with_comp ? &flush_done.comp : NULL;
            return on_iface ? uct_iface_flush(m_sender.m_iface, 0, c) :
                              uct_ep_flush(m_ep, 0, c);
        };
        auto deadline = ct_clock::now() + std::chrono::seconds(10);
        bool done     = false;
        while (!done && (ct_clock::now() < deadline)) {
            status = flush();
            if (status == UCS_OK) {
                done = true;
            } else if ((status == UCS_ERR_UNSUPPORTED) && on_iface &&
                       with_comp) {
                /* as UCX's tcp: iface flush without completion only */
                EXPECT_EQ(UCS_OK, flush_all(m_ep));
                return;
            } else if ((status == UCS_INPROGRESS) && with_comp) {
                ASSERT_TRUE(wait_for([&] { return flush_done.calls > 0; }));
                EXPECT_EQ(1u, flush_done.calls);
                EXPECT_EQ(UCS_OK, flush_done.comp.status);
                done = true;
            } else {
                ASSERT_TRUE((status == UCS_INPROGRESS) ||
                            (status == UCS_ERR_NO_RESOURCE))
                    << hows[how] << ": " << ucs_status_string(status);
                progress();
            }
            if (done && op_pending) {
                EXPECT_EQ(1u, op_done.calls)
                    << hows[how] << " completed before the " << op_name(k)
                    << " of " << size << " bytes posted before it";
            }
        }
        /* the operation's completion lives in this scope */
        ASSERT_TRUE(wait_for([&] { return !op_pending || op_done.calls; }))
            << op_name(k) << " never completed";
        ASSERT_TRUE(done) << hows[how] << " never completed";
        if (done && (k == OP_PUT_ZCOPY)) {
            EXPECT_TRUE(arrived(k, size, before))
                << "flushed put_zcopy of " << size << " bytes not visible";
        }
        ASSERT_TRUE(wait_for([&] { return arrived(k, size, before); }))
            << op_name(k) << " never arrived";
        EXPECT_EQ(op_pending ? 1u : 0u, op_done.calls);
    }
}

/* issue 12 (1): flush (ep, iface; with and without a completion) completes
 * only after the operations posted before it, for every kind */
TEST_P(contract_flush, flush_completes_after_every_kind_of_operation) {
    for (int k = 0; k < OP_LAST; ++k) {
        if (!m_sender.has(op_cap((op_kind)k))) {
            continue; /* not advertised: the capability test checks that */
        }
        for (int how = 0; how < FLUSH_LAST; ++how) {
            SCOPED_TRACE(std::string(op_name((op_kind)k)) + " flush " +
                         std::to_string(how));
            check_flush_after((op_kind)k, how);
        }
    }
}

/* Many zcopy operations in flight behind a full socket, then one flush
 * with a completion: it comes after all of them */
TEST_P(contract_flush, flush_completion_after_many_in_flight) {
    const unsigned count = 32;
    std::vector<counted_completion> done(count);
    unsigned pending = 0;
    for (unsigned i = 0; i < count; ++i) {
        op_kind k = (i % 2) ? OP_AM_ZCOPY : OP_PUT_ZCOPY;
        ucs_status_t status = post(k, 65536, &done[i]);
        ASSERT_TRUE((status == UCS_OK) || (status == UCS_INPROGRESS))
            << ucs_status_string(status);
        pending += (status == UCS_INPROGRESS);
        if (status == UCS_OK) {
            done[i].calls = 1; /* done at once */
        }
    }
    counted_completion flushed;
    ucs_status_t status = retry([&] {
        return uct_ep_flush(m_ep, 0, &flushed.comp);
    });
    unsigned completed_before = 0;
    if (status == UCS_INPROGRESS) {
        ASSERT_TRUE(wait_for([&] { return flushed.calls > 0; }));
    } else {
        ASSERT_EQ(UCS_OK, status);
    }
    for (counted_completion &d : done) {
        completed_before += d.calls;
    }
    EXPECT_EQ(count, completed_before) << pending << " returned INPROGRESS";
}

/* UCT_FLUSH_FLAG_CANCEL: outstanding completions end (any status), once */
TEST_P(contract_flush, flush_cancel_completes_outstanding_once) {
    /* the lane may still call it when the ep goes: it outlives the ep */
    counted_completion &op_done = m_cancelled;
    ucs_status_t status = post(OP_PUT_ZCOPY, 256 * 1024, &op_done);
    ASSERT_TRUE((status == UCS_OK) || (status == UCS_INPROGRESS));
    m_log.quiet = true;
    status = retry([&] {
        return uct_ep_flush(m_ep, UCT_FLUSH_FLAG_CANCEL, NULL);
    });
    EXPECT_TRUE((status == UCS_OK) || (status == UCS_INPROGRESS))
        << ucs_status_string(status);
    if (op_done.calls == 0 && (status == UCS_INPROGRESS)) {
        wait_for([&] { return op_done.calls > 0; }, 5);
    }
    m_log.quiet = false;
    EXPECT_LE(op_done.calls, 1u);
    m_log.quiet = true; /* lanes log the cancelled operation at close */
    close_and_check();
    EXPECT_LE(op_done.calls, 1u);
}

/*
 * Fence: after uct_ep_fence, what is posted later is seen by the peer only
 * after what was posted before, for each kind before and after: a put_zcopy
 * before the fence and an AM after it; the AM's handler checks the put.
 */
struct fence_checker {
    const mapped_buffer *dst;
    const mapped_buffer *src;
    size_t               len;
    unsigned             seen = 0, ordered = 0;

    static ucs_status_t handler(void *arg, void *data, size_t length,
                                unsigned flags) {
        fence_checker *f = static_cast<fence_checker*>(arg);
        ++f->seen;
        f->ordered += !memcmp(&f->dst->data[0], &f->src->data[0], f->len);
        return UCS_OK;
    }
};

TEST_P(contract_flush, fence_orders_put_before_every_am_kind) {
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_PUT_ZCOPY));
    const size_t len = ucs_min(m_src.data.size(),
                               m_sender.m_attr.cap.put.max_zcopy);
    fence_checker f = {&m_dst, &m_src, len};
    CT_ASSERT_UCS_OK(uct_iface_set_am_handler(m_receiver.m_iface, AM_ID,
                                              fence_checker::handler, &f, 0));
    unsigned sent = 0;
    for (int k = OP_AM_SHORT; k <= OP_AM_ZCOPY; ++k) {
        for (int iface_fence = 0; iface_fence < 2; ++iface_fence) {
            std::fill(m_dst.data.begin(), m_dst.data.end(), '\0');
            m_src.data[0] = (char)(k * 2 + iface_fence + 1);
            counted_completion put_done, am_done;
            CT_ASSERT_OK_OR_INPROGRESS(post(OP_PUT_ZCOPY, len, &put_done));
            CT_ASSERT_UCS_OK(iface_fence ?
                             uct_iface_fence(m_sender.m_iface, 0) :
                             uct_ep_fence(m_ep, 0));
            CT_ASSERT_OK_OR_INPROGRESS(post((op_kind)k, 64, &am_done));
            ++sent;
            ASSERT_EQ(UCS_OK, flush_all(m_ep));
            ASSERT_TRUE(wait_for([&] { return f.seen == sent; }));
        }
    }
    EXPECT_EQ(sent, f.ordered) << "AMs that overtook the put before the fence";
}

INSTANTIATE_TEST_SUITE_P(lanes, contract_flush,
                         ::testing::ValuesIn(k_variants), variant_name);

} // namespace mp_contract
