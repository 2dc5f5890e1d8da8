/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Shared fixture of the UCT contract suite (test_contract_*.cc): what UCX's
 * own transports promise through the UCT API (test/gtest/uct of UCX), checked
 * against mp_rc over 1, 2 and 4 loopback tcp lanes ("lo" named once per
 * lane), with the lanes connected iface to iface or ep to ep.
 *
 * Every test ends by closing both sides and checking what UCS reports at
 * close: no async handler and no worker progress callback may be left once
 * the ifaces are closed, and UCS logs no "not released" / "callbacks remain"
 * warning when the worker and async context go.
 */

#ifndef MP_CONTRACT_H_
#define MP_CONTRACT_H_

#include <gtest/gtest.h>

extern "C" {
#include <uct/api/uct.h>
#include <ucs/async/async.h>
#include <ucs/config/global_opts.h>
#include <ucs/datastruct/callbackq.h>
#include <ucs/debug/log_def.h>
#include <ucs/sys/math.h>
}

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace mp_contract {

#define CT_ASSERT_UCS_OK(_expr) \
    do { \
        ucs_status_t _s = (_expr); \
        ASSERT_EQ(UCS_OK, _s) << #_expr << ": " << ucs_status_string(_s); \
    } while (0)

#define CT_ASSERT_OK_OR_INPROGRESS(_expr) \
    do { \
        ucs_status_t _s = (_expr); \
        ASSERT_TRUE((_s == UCS_OK) || (_s == UCS_INPROGRESS)) \
            << #_expr << ": " << ucs_status_string(_s); \
    } while (0)

typedef std::chrono::steady_clock ct_clock;

/* One variant of the suite: lane count and connection mode */
struct variant {
    unsigned    lanes;
    bool        ep_to_ep;   /* UCX_MP_RC_CONNECT_TO_IFACE=n */
};

std::string variant_name(const ::testing::TestParamInfo<variant> &info);
extern const variant k_variants[5];

/*
 * Records every message UCS logs at warning level or above while it exists
 * (and keeps printing them). Tests look for the messages they expect and the
 * fixture for the ones a clean close must not produce.
 */
class log_recorder {
public:
    log_recorder();
    ~log_recorder();

    /* messages that contain text */
    size_t count(const std::string &text) const;
    std::string all() const;
    void clear() { m_messages.clear(); }

    /* expected errors: recorded, not printed */
    bool quiet = false;

private:
    static ucs_log_func_rc_t handler(const char *file, unsigned line,
                                     const char *function,
                                     ucs_log_level_t level,
                                     const ucs_log_component_config_t *conf,
                                     const char *message, va_list ap);

    std::vector<std::string> m_messages;
    static log_recorder      *s_current;
};

/* Environment of one entity: tcp lanes on "lo" times lanes, and options */
class scoped_env {
public:
    scoped_env(const variant &v, const char *policy = NULL);
    ~scoped_env();
    static void set(const char *name, const char *value);

private:
    static std::vector<std::string> s_set;
};

/* Callbacks on a worker's progress queue (fast and slow path) */
unsigned worker_callbacks(uct_worker_h worker, std::string *names = NULL);

/* One side: md, async, worker, the mp_rc iface and its eps */
class entity {
public:
    entity() {}
    ~entity() { close(); }

    /* params_hook may add fields to the iface params before the open */
    ucs_status_t open(std::function<void(uct_iface_params_t*)> params_hook =
                      nullptr);
    /* only the md, async and worker: an iface opened by the test */
    ucs_status_t open_worker();
    ucs_status_t open_iface(uct_iface_params_t *params, uct_iface_h *iface_p);
    void fill_base_params(uct_iface_params_t *params) const;

    /* destroy eps and close the iface; the worker and async stay */
    void close_iface();
    /* everything */
    void close();

    bool has(uint64_t flag) const { return m_attr.cap.flags & flag; }
    unsigned async_handlers() const {
        return (m_async == NULL) ? 0 : m_async->num_handlers;
    }

    uct_md_h                    m_md = NULL;
    uct_md_attr_t               m_md_attr;
    ucs_async_context_t         *m_async = NULL;
    uct_worker_h                m_worker = NULL;
    uct_iface_h                 m_iface = NULL;
    uct_iface_config_t          *m_iface_config = NULL;
    uct_iface_attr_t            m_attr;
    std::string                 m_dev_name;
    std::vector<uint8_t>        m_dev_addr;
    std::vector<uint8_t>        m_iface_addr;
    std::vector<uct_ep_h>       m_eps;
    /* memory of mapped_buffers still registered, deregistered by close()
     * when a test closes the entity before it unmaps them */
    std::set<uct_mem_h>         m_memhs;
    unsigned                    m_base_callbacks = 0;
    unsigned                    m_base_handlers  = 0;
};

uct_component_h find_mp_component();

/* Received AMs, copied, with the flags and data address they came with */
struct am_sink {
    struct msg {
        std::string  data;
        unsigned     flags;
        uintptr_t    address;
    };
    std::vector<msg> messages;
    unsigned         in_progress_calls = 0; /* handler ran inside progress */
    bool             *in_progress      = NULL;

    static ucs_status_t handler(void *arg, void *data, size_t length,
                                unsigned flags);
};

/* A completion that counts its calls and keeps the status */
struct counted_completion {
    uct_completion_t  comp;
    unsigned          calls = 0;

    counted_completion(int count = 1);
    void reset(int count = 1);
    static void func(uct_completion_t *self);
};

/* Registered memory on one side, and its packed and unpacked rkey */
struct mapped_buffer {
    entity              *owner = NULL;
    std::string         data;
    uct_mem_h           memh = UCT_MEM_HANDLE_NULL;
    uct_rkey_bundle_t   rkey;
    bool                has_rkey = false;

    void map(entity &e, size_t size, unsigned seed);
    void unpack_rkey_for_peer();
    void unmap();
    uintptr_t addr(size_t offset = 0) { return (uintptr_t)&data[offset]; }
};

std::string pattern(size_t length, unsigned seed);

/*
 * The fixture: a sender and a receiver entity connected by m_ep (and, ep to
 * ep, m_back_ep), AM id AM_ID delivered into m_sink at the receiver.
 */
class contract_test : public ::testing::TestWithParam<variant> {
protected:
    static const uint8_t AM_ID = 5;

    void SetUp() override;
    void TearDown() override;

    /* open both sides (params_hook for both ifaces) and connect */
    void open_pair(const char *policy = NULL,
                   std::function<void(uct_iface_params_t*)> params_hook =
                   nullptr);
    void connect();

    /* close both sides and check what was left behind */
    void close_and_check();
    /* close the receiver alone: the sender's peer fails */
    void kill_receiver();

    void progress();
    void progress_sender() { uct_worker_progress(m_sender.m_worker); }
    bool wait_for(std::function<bool()> cond, double seconds = 10);
    ucs_status_t retry(std::function<ucs_status_t()> op);
    ssize_t retry_bcopy(std::function<ssize_t()> op);
    /* flush ep (NULL: the iface) to the end; the final status */
    ucs_status_t flush_all(uct_ep_h ep);

    /* am_short until NO_RESOURCE without progress; how many went */
    unsigned fill_am_short();

    const variant &var() const { return GetParam(); }

    log_recorder        m_log;
    entity              m_sender, m_receiver;
    am_sink             m_sink;
    uct_ep_h            m_ep      = NULL;
    uct_ep_h            m_back_ep = NULL;
    bool                m_closed  = false;
    bool                m_in_progress = false;
};

} // namespace mp_contract

#endif
