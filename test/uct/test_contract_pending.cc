/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * UCT contract of pending requests and of peer failure (UCX test/gtest/uct
 * test_pending.cc, test_peer_failure.cc): pending_add answers UCS_OK or
 * UCS_ERR_BUSY, queued requests are dispatched in order once resources free
 * up, pending_purge hands every queued request to the purge callback once,
 * also after the peer failed, and the error handler reports the failure.
 */

#include "mp_contract.h"

#include <algorithm>

namespace mp_contract {

class contract_pending : public contract_test {
protected:
    struct request {
        uct_pending_req_t  uct;
        contract_pending   *test;
        unsigned           index;
        unsigned           calls = 0;
        bool               sent  = false;
    };

    /* sends one AM with its index; NO_RESOURCE keeps it queued */
    static ucs_status_t send_cb(uct_pending_req_t *self) {
        request *r = ucs_container_of(self, request, uct);
        ++r->calls;
        ucs_status_t status = uct_ep_am_short(r->test->m_ep, AM_ID, r->index,
                                              NULL, 0);
        r->sent = (status == UCS_OK);
        if (r->sent) {
            r->test->m_dispatch_order.push_back(r->index);
        }
        return status;
    }

    /* never ready: stays queued until purged */
    static ucs_status_t busy_cb(uct_pending_req_t *self) {
        ++ucs_container_of(self, request, uct)->calls;
        return UCS_ERR_NO_RESOURCE;
    }

    static void purge_cb(uct_pending_req_t *self, void *arg) {
        contract_pending *test = static_cast<contract_pending*>(arg);
        test->m_purged.push_back(ucs_container_of(self, request, uct)->index);
    }

    static ucs_status_t err_cb(void *arg, uct_ep_h ep, ucs_status_t status) {
        contract_pending *test = static_cast<contract_pending*>(arg);
        ++test->m_errors;
        test->m_err_status = status;
        /* what UCP does: purge at once, every request still queued */
        uct_ep_pending_purge(ep, purge_cb, test);
        test->m_purged_in_err = test->m_purged.size();
        return UCS_OK;
    }

    void open_with_err_handler() {
        open_pair(NULL, [this](uct_iface_params_t *p) {
            p->field_mask       |= UCT_IFACE_PARAM_FIELD_ERR_HANDLER |
                                   UCT_IFACE_PARAM_FIELD_ERR_HANDLER_ARG |
                                   UCT_IFACE_PARAM_FIELD_ERR_HANDLER_FLAGS;
            p->err_handler       = err_cb;
            p->err_handler_arg   = this;
            p->err_handler_flags = 0;
        });
    }

    /* queue count requests of func behind a full lane */
    void add_behind_full_lane(std::vector<request> &reqs,
                              uct_pending_callback_t func) {
        ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_PENDING));
        /* as UCX's test_peer_failure: traffic first, so every lane has
         * joined before the primary lane fills */
        CT_ASSERT_UCS_OK(retry([&] {
            return uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0);
        }));
        ASSERT_EQ(UCS_OK, flush_all(m_ep));
        ASSERT_TRUE(wait_for([&] { return !m_sink.messages.empty(); }));
        wait_for([] { return false; }, 0.2);
        fill_with_put();
        for (unsigned i = 0; i < reqs.size(); ++i) {
            reqs[i].uct.func = func;
            reqs[i].test     = this;
            reqs[i].index    = i;
            ASSERT_EQ(UCS_OK, uct_ep_pending_add(m_ep, &reqs[i].uct, 0))
                << "request " << i << " behind a full lane";
        }
    }

    /* a put bigger than the socket takes keeps the lane busy (not AMs:
     * with sequencing a full replay ring refuses AMs while pending_add
     * answers UCS_ERR_BUSY, see the report of issue 12) */
    void fill_with_put() {
        ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_PUT_ZCOPY));
        size_t size = ucs_min(m_sender.m_attr.cap.put.max_zcopy,
                              32ul * 1024 * 1024);
        m_src.map(m_sender, size, 1);
        m_dst.map(m_receiver, size, 2);
        m_dst.unpack_rkey_for_peer();
        uct_iov_t iov = {&m_src.data[0], size, m_src.memh, 0, 1};
        ucs_status_t status = retry([&] {
            return uct_ep_put_zcopy(m_ep, &iov, 1, m_dst.addr(),
                                    m_dst.rkey.rkey, &m_put_done.comp);
        });
        ASSERT_EQ(UCS_INPROGRESS, status) << ucs_status_string(status);
        ASSERT_EQ(UCS_ERR_NO_RESOURCE,
                  uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0));
    }

    void TearDown() override {
        if (m_src.owner != NULL) {
            wait_for([&] { return m_put_done.calls > 0; }, 10);
        }
        m_src.unmap();
        m_dst.unmap();
        contract_test::TearDown();
    }

    mapped_buffer         m_src, m_dst;
    counted_completion    m_put_done;
    std::vector<unsigned> m_dispatch_order, m_purged;
    unsigned              m_errors        = 0;
    size_t                m_purged_in_err = 0;
    ucs_status_t          m_err_status    = UCS_OK;
};

/* UCT_IFACE_FLAG_PENDING: pending_add while resources exist is UCS_ERR_BUSY */
TEST_P(contract_pending, add_with_resources_is_busy) {
    open_pair();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_PENDING));
    CT_ASSERT_UCS_OK(retry([&] {
        return uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0);
    }));
    ASSERT_EQ(UCS_OK, flush_all(m_ep));
    request r;
    r.uct.func = send_cb;
    r.test     = this;
    r.index    = 0;
    EXPECT_EQ(UCS_ERR_BUSY, uct_ep_pending_add(m_ep, &r.uct, 0));
    EXPECT_EQ(0u, r.calls);
}

/* queued requests run in order, each until it returns UCS_OK */
TEST_P(contract_pending, dispatch_in_order_once_resources_free) {
    open_pair();
    std::vector<request> reqs(16);
    add_behind_full_lane(reqs, send_cb);
    ASSERT_TRUE(wait_for([&] { return m_dispatch_order.size() == 16; }))
        << "dispatched " << m_dispatch_order.size() << " of 16";
    for (unsigned i = 0; i < 16; ++i) {
        EXPECT_EQ(i, m_dispatch_order[i]);
    }
    ASSERT_EQ(UCS_OK, flush_all(m_ep));
    uct_ep_pending_purge(m_ep, purge_cb, this);
    EXPECT_TRUE(m_purged.empty()) << "a dispatched request was purged";
}

/* pending_purge hands each queued request to the callback exactly once */
TEST_P(contract_pending, purge_every_queued_request_once) {
    open_pair();
    std::vector<request> reqs(8);
    add_behind_full_lane(reqs, busy_cb);
    for (int i = 0; i < 50; ++i) {
        progress();
    }
    uct_ep_pending_purge(m_ep, purge_cb, this);
    ASSERT_EQ(8u, m_purged.size());
    for (unsigned i = 0; i < 8; ++i) {
        EXPECT_EQ(i, m_purged[i]);
    }
    uct_ep_pending_purge(m_ep, purge_cb, this);
    EXPECT_EQ(8u, m_purged.size()) << "purged twice";
    for (int i = 0; i < 50; ++i) {
        progress();
    }
    unsigned calls_after = reqs[0].calls;
    for (int i = 0; i < 50; ++i) {
        progress();
    }
    EXPECT_EQ(calls_after, reqs[0].calls) << "a purged request still runs";
}

/* An op refused with NO_RESOURCE for mp's own reason (ep to ep: 1024 AMs
 * the peer has not acknowledged fill the replay ring) is one pending_add
 * accepts: UCS_ERR_BUSY would tell the caller to retry an op that fails
 * again until the peer answers. The request runs once the acks come. */
TEST_P(contract_pending, am_refused_for_unacknowledged_messages_is_queued) {
    open_pair();
    CT_ASSERT_UCS_OK(retry([&] {
        return uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0);
    }));
    ASSERT_EQ(UCS_OK, flush_all(m_ep));
    unsigned sent = fill_am_short() + 1;
    ASSERT_GT(sent, 1u);
    request r;
    r.uct.func = send_cb;
    r.test     = this;
    r.index    = 7;
    ASSERT_EQ(UCS_OK, uct_ep_pending_add(m_ep, &r.uct, 0))
        << "after " << sent << " AMs the ep refuses another, but pending_add "
        << "says a retry would go";
    ASSERT_TRUE(wait_for([&] { return r.sent; }))
        << "the queued request never ran (" << r.calls << " calls)";
    ASSERT_TRUE(wait_for([&] { return m_sink.messages.size() == sent + 1; }))
        << m_sink.messages.size() << " of " << (sent + 1) << " AMs arrived";
}

/*
 * UCT_IFACE_FLAG_ERRHANDLE_PEER_FAILURE, issue 12 (4): requests added before
 * the peer failed are handed to the purge callback (in the error handler,
 * as UCP does, or after it); the error handler is called once with a
 * peer-failure status; the ep then only fails or flushes.
 */
TEST_P(contract_pending, purge_after_peer_failure) {
    open_with_err_handler();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_ERRHANDLE_PEER_FAILURE));
    std::vector<request> reqs(8);
    add_behind_full_lane(reqs, send_cb);
    m_log.quiet = true;
    kill_receiver();
    ASSERT_TRUE(wait_for([&] { return m_errors > 0; }, 20))
        << "no error handler call after the peer closed";
    uct_ep_pending_purge(m_ep, purge_cb, this);
    m_log.quiet = false;
    EXPECT_EQ(1u, m_errors);
    EXPECT_TRUE((m_err_status == UCS_ERR_ENDPOINT_TIMEOUT) ||
                (m_err_status == UCS_ERR_CONNECTION_RESET) ||
                (m_err_status == UCS_ERR_CANCELED))
        << ucs_status_string(m_err_status);
    size_t sent = 0;
    for (const request &r : reqs) {
        sent += r.sent;
    }
    EXPECT_EQ(reqs.size(), m_purged.size() + sent)
        << "requests neither sent nor purged; purged in the error handler "
        << m_purged_in_err << ", sent " << sent;
    EXPECT_EQ(reqs.size() - sent, m_purged_in_err)
        << "the error handler's purge missed queued requests";
    for (const request &r : reqs) {
        EXPECT_FALSE(!r.sent && (r.calls > 0) &&
                     std::find(m_purged.begin(), m_purged.end(), r.index) ==
                     m_purged.end()) << "request " << r.index << " lost";
    }
    /* after the failure: operations fail, flush ends, pending_add busy */
    m_log.quiet = true;
    ucs_status_t status = uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0);
    EXPECT_TRUE(UCS_STATUS_IS_ERR(status) && (status != UCS_ERR_NO_RESOURCE))
        << ucs_status_string(status);
    status = uct_ep_flush(m_ep, 0, NULL);
    EXPECT_TRUE((status == UCS_OK) || UCS_STATUS_IS_ERR(status))
        << ucs_status_string(status);
    m_log.quiet = false;
}

/* UCT_IFACE_FLAG_EP_CHECK: a live ep checks OK and reports nothing; a peer
 * that went away is reported through the error handler */
TEST_P(contract_pending, ep_check_reports_a_dead_peer) {
    open_with_err_handler();
    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_EP_CHECK));
    CT_ASSERT_UCS_OK(retry([&] {
        return uct_ep_am_short(m_ep, AM_ID, 0, NULL, 0);
    }));
    ASSERT_EQ(UCS_OK, flush_all(m_ep));
    EXPECT_EQ(UCS_OK, uct_ep_check(m_ep, 0, NULL));
    for (int i = 0; i < 100; ++i) {
        progress();
    }
    EXPECT_EQ(0u, m_errors);
    m_log.quiet = true;
    kill_receiver();
    ASSERT_TRUE(wait_for([&] {
        uct_ep_check(m_ep, 0, NULL);
        return m_errors > 0;
    }, 20)) << "ep_check never reported the closed peer";
    m_log.quiet = false;
    EXPECT_EQ(1u, m_errors);
}

INSTANTIATE_TEST_SUITE_P(lanes, contract_pending,
                         ::testing::ValuesIn(k_variants), variant_name);

} // namespace mp_contract
