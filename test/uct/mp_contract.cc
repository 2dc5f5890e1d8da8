/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The shared fixture of the UCT contract suite (see mp_contract.h).
 */

#include "mp_contract.h"

#include <algorithm>

#include <dlfcn.h>

namespace mp_contract {

const variant k_variants[5] = {
    {1, false}, {1, true}, {2, false}, {2, true}, {4, true}
};

std::string variant_name(const ::testing::TestParamInfo<variant> &info)
{
    return std::to_string(info.param.lanes) + "_lanes_" +
           (info.param.ep_to_ep ? "ep" : "iface");
}

log_recorder *log_recorder::s_current = NULL;

log_recorder::log_recorder()
{
    s_current = this;
    ucs_log_push_handler(handler);
}

log_recorder::~log_recorder()
{
    ucs_log_pop_handler();
    s_current = NULL;
}

size_t log_recorder::count(const std::string &text) const
{
    return std::count_if(m_messages.begin(), m_messages.end(),
                         [&](const std::string &m) {
                             return m.find(text) != std::string::npos;
                         });
}

std::string log_recorder::all() const
{
    std::string s;
    for (const std::string &m : m_messages) {
        s += m + "\n";
    }
    return s;
}

ucs_log_func_rc_t log_recorder::handler(const char *file, unsigned line,
                                        const char *function,
                                        ucs_log_level_t level,
                                        const ucs_log_component_config_t *conf,
                                        const char *message, va_list ap)
{
    char buf[1024];
    va_list aq;

    if ((s_current == NULL) || (level > UCS_LOG_LEVEL_WARN)) {
        return UCS_LOG_FUNC_RC_CONTINUE;
    }

    va_copy(aq, ap);
    vsnprintf(buf, sizeof(buf), message, aq);
    va_end(aq);
    s_current->m_messages.push_back(buf);
    return s_current->quiet ? UCS_LOG_FUNC_RC_STOP : UCS_LOG_FUNC_RC_CONTINUE;
}

std::vector<std::string> scoped_env::s_set;

scoped_env::scoped_env(const variant &v, const char *policy)
{
    std::string devices = "lo";
    for (unsigned i = 1; i < v.lanes; ++i) {
        devices += ",lo";
    }
    set("UCX_MP_RC_LANE_TL", "tcp");
    set("UCX_MP_RC_DEVICES", devices.c_str());
    set("UCX_MP_RC_CONNECT_TO_IFACE", v.ep_to_ep ? "n" : "y");
    if (policy != NULL) {
        set("UCX_MP_RC_POLICY", policy);
    }
}

scoped_env::~scoped_env()
{
    for (const std::string &name : s_set) {
        unsetenv(name.c_str());
    }
    s_set.clear();
}

void scoped_env::set(const char *name, const char *value)
{
    setenv(name, value, 1);
    s_set.push_back(name);
}

namespace {
struct callback_count {
    unsigned       count = 0;
    std::string    names;
    ucs_callback_t proxy = NULL;
};
}

/* the symbol of a callback, for the failure message */
static std::string callback_name(void *cb)
{
    Dl_info info;
    if ((dladdr(cb, &info) != 0) && (info.dli_sname != NULL)) {
        return info.dli_sname;
    } else if (info.dli_fname != NULL) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s+0x%lx", info.dli_fname,
                 (unsigned long)((uintptr_t)cb - (uintptr_t)info.dli_fbase));
        return buf;
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%p", cb);
    return buf;
}

static unsigned dummy_progress(void *arg)
{
    return 0;
}

/*
 * UCS's proxy element, which the fast path keeps for the slow-path
 * callbacks and removes only lazily: learnt from a scratch worker with one
 * slow-path callback of ours.
 */
static ucs_callback_t slow_path_proxy()
{
    static ucs_callback_t proxy = NULL;
    ucs_async_context_t *async;
    uct_worker_h worker;
    uct_worker_cb_id_t id = UCS_CALLBACKQ_ID_NULL;

    if ((proxy != NULL) ||
        (ucs_async_context_create(UCS_ASYNC_MODE_POLL, &async) != UCS_OK)) {
        return proxy;
    }
    if (uct_worker_create(async, UCS_THREAD_MODE_SINGLE, &worker) == UCS_OK) {
        uct_worker_progress_register_safe(worker, dummy_progress, NULL, 0, &id);
        ucs_callbackq_remove_if(&worker->progress_q,
                                [](const ucs_callbackq_elem_t *elem,
                                   void *arg) {
                                    if ((elem->cb != NULL) &&
                                        (elem->cb != dummy_progress)) {
                                        *static_cast<ucs_callback_t*>(arg) =
                                                elem->cb;
                                    }
                                    return 0;
                                }, &proxy);
        uct_worker_progress_unregister_safe(worker, &id);
        uct_worker_progress(worker);
        uct_worker_destroy(worker);
    }
    ucs_async_context_destroy(async);
    return proxy;
}

unsigned worker_callbacks(uct_worker_h worker, std::string *names)
{
    callback_count c;

    c.proxy = slow_path_proxy();

    ucs_callbackq_remove_if(&worker->progress_q,
                            [](const ucs_callbackq_elem_t *elem, void *arg) {
                                callback_count *c =
                                        static_cast<callback_count*>(arg);
                                if ((elem->cb != NULL) &&
                                    (elem->cb != c->proxy)) {
                                    ++c->count;
                                    c->names += callback_name((void*)elem->cb)
                                                + " ";
                                }
                                return 0; /* count, never remove */
                            }, &c);
    if (names != NULL) {
        *names = c.names;
    }
    return c.count;
}

uct_component_h find_mp_component()
{
    uct_component_h *components, found = NULL;
    unsigned count;

    if (uct_query_components(&components, &count) != UCS_OK) {
        return NULL;
    }
    for (unsigned i = 0; i < count; ++i) {
        uct_component_attr_t attr;
        attr.field_mask = UCT_COMPONENT_ATTR_FIELD_NAME;
        if ((uct_component_query(components[i], &attr) == UCS_OK) &&
            !strcmp(attr.name, "mp")) {
            found = components[i];
        }
    }
    uct_release_component_list(components);
    return found;
}

ucs_status_t entity::open_worker()
{
    uct_component_h comp = find_mp_component();
    uct_md_config_t *md_config;
    uct_tl_resource_desc_t *rscs;
    unsigned num_rscs;
    ucs_status_t status;

    if (comp == NULL) {
        return UCS_ERR_NO_DEVICE;
    }
    status = uct_md_config_read(comp, NULL, NULL, &md_config);
    if (status != UCS_OK) {
        return status;
    }
    status = uct_md_open(comp, "mp", md_config, &m_md);
    uct_config_release(md_config);
    if (status != UCS_OK) {
        return status;
    }
    status = uct_md_query(m_md, &m_md_attr);
    if (status != UCS_OK) {
        return status;
    }
    status = ucs_async_context_create(UCS_ASYNC_MODE_THREAD_SPINLOCK,
                                      &m_async);
    if (status != UCS_OK) {
        return status;
    }
    status = uct_worker_create(m_async, UCS_THREAD_MODE_SINGLE, &m_worker);
    if (status != UCS_OK) {
        return status;
    }
    m_base_callbacks = worker_callbacks(m_worker);
    m_base_handlers  = async_handlers();

    status = uct_md_query_tl_resources(m_md, &rscs, &num_rscs);
    if (status != UCS_OK) {
        return status;
    }
    if (num_rscs != 1) {
        uct_release_tl_resource_list(rscs);
        return UCS_ERR_NO_DEVICE;
    }
    m_dev_name = rscs[0].dev_name;
    uct_release_tl_resource_list(rscs);

    return uct_md_iface_config_read(m_md, "mp_rc", NULL, NULL,
                                    &m_iface_config);
}

void entity::fill_base_params(uct_iface_params_t *params) const
{
    memset(params, 0, sizeof(*params));
    params->field_mask           = UCT_IFACE_PARAM_FIELD_OPEN_MODE |
                                   UCT_IFACE_PARAM_FIELD_DEVICE;
    params->open_mode            = UCT_IFACE_OPEN_MODE_DEVICE;
    params->mode.device.tl_name  = "mp_rc";
    params->mode.device.dev_name = m_dev_name.c_str();
}

ucs_status_t entity::open_iface(uct_iface_params_t *params,
                                uct_iface_h *iface_p)
{
    return uct_iface_open(m_md, m_worker, params, m_iface_config, iface_p);
}

ucs_status_t entity::open(std::function<void(uct_iface_params_t*)> params_hook)
{
    uct_iface_params_t params;
    ucs_status_t status;

    status = open_worker();
    if (status != UCS_OK) {
        return status;
    }

    fill_base_params(&params);
    if (params_hook) {
        params_hook(&params);
    }
    status = open_iface(&params, &m_iface);
    if (status != UCS_OK) {
        m_iface = NULL;
        return status;
    }
    status = uct_iface_query(m_iface, &m_attr);
    if (status != UCS_OK) {
        return status;
    }

    m_dev_addr.resize(m_attr.device_addr_len);
    m_iface_addr.resize(m_attr.iface_addr_len);
    status = uct_iface_get_device_address(
            m_iface, (uct_device_addr_t*)m_dev_addr.data());
    if (status != UCS_OK) {
        return status;
    }
    if (m_attr.iface_addr_len > 0) {
        status = uct_iface_get_address(m_iface,
                                       (uct_iface_addr_t*)m_iface_addr.data());
        if (status != UCS_OK) {
            return status;
        }
    }
    uct_iface_progress_enable(m_iface, UCT_PROGRESS_SEND | UCT_PROGRESS_RECV);
    return UCS_OK;
}

void entity::close_iface()
{
    for (uct_ep_h ep : m_eps) {
        uct_ep_destroy(ep);
    }
    m_eps.clear();
    if (m_iface != NULL) {
        uct_iface_close(m_iface);
        m_iface = NULL;
    }
}

void entity::close()
{
    close_iface();
    if (m_iface_config != NULL) {
        uct_config_release(m_iface_config);
        m_iface_config = NULL;
    }
    if (m_worker != NULL) {
        uct_worker_destroy(m_worker);
        m_worker = NULL;
    }
    if (m_async != NULL) {
        ucs_async_context_destroy(m_async);
        m_async = NULL;
    }
    if (m_md != NULL) {
        for (uct_mem_h memh : m_memhs) {
            uct_md_mem_dereg(m_md, memh);
        }
        m_memhs.clear();
        uct_md_close(m_md);
        m_md = NULL;
    }
}

ucs_status_t am_sink::handler(void *arg, void *data, size_t length,
                              unsigned flags)
{
    am_sink *self = static_cast<am_sink*>(arg);

    self->messages.push_back({std::string(static_cast<const char*>(data),
                                          length),
                              flags, (uintptr_t)data});
    if ((self->in_progress != NULL) && *self->in_progress) {
        ++self->in_progress_calls;
    }
    return UCS_OK;
}

counted_completion::counted_completion(int count)
{
    reset(count);
}

void counted_completion::reset(int count)
{
    comp.func   = func;
    comp.count  = count;
    comp.status = UCS_OK;
    calls       = 0;
}

void counted_completion::func(uct_completion_t *self)
{
    ++ucs_container_of(self, counted_completion, comp)->calls;
}

std::string pattern(size_t length, unsigned seed)
{
    std::string s(length, '\0');
    for (size_t i = 0; i < length; ++i) {
        s[i] = static_cast<char>((i * 31 + seed * 7 + (i >> 8)) & 0xff);
    }
    return s;
}

void mapped_buffer::map(entity &e, size_t size, unsigned seed)
{
    owner = &e;
    data  = pattern(size, seed);
    ASSERT_EQ(UCS_OK, uct_md_mem_reg(e.m_md, &data[0], ucs_max(size, 1ul),
                                     UCT_MD_MEM_ACCESS_ALL, &memh));
    e.m_memhs.insert(memh);
}

void mapped_buffer::unpack_rkey_for_peer()
{
    std::vector<uint8_t> packed(owner->m_md_attr.rkey_packed_size);
    ASSERT_EQ(UCS_OK, uct_md_mkey_pack(owner->m_md, memh, packed.data()));
    ASSERT_EQ(UCS_OK, uct_rkey_unpack(find_mp_component(), packed.data(),
                                      &rkey));
    has_rkey = true;
}

void mapped_buffer::unmap()
{
    if (has_rkey) {
        uct_rkey_release(find_mp_component(), &rkey);
        has_rkey = false;
    }
    /* not when the owner's close() deregistered it already */
    if ((owner != NULL) && (memh != UCT_MEM_HANDLE_NULL) &&
        (owner->m_memhs.erase(memh) > 0)) {
        uct_md_mem_dereg(owner->m_md, memh);
    }
    memh = UCT_MEM_HANDLE_NULL;
}

void contract_test::SetUp()
{
    m_sink.in_progress = &m_in_progress;
}

void contract_test::TearDown()
{
    if (!m_closed) {
        close_and_check();
    }
}

void contract_test::open_pair(const char *policy,
                              std::function<void(uct_iface_params_t*)> hook)
{
    scoped_env env(var(), policy);
    ucs_status_t status = m_sender.open(hook);
    /* no mp_rc device over loopback tcp: that is a failure, not a skip */
    ASSERT_EQ(UCS_OK, status) << "mp_rc over " << var().lanes << " tcp lanes "
                              << "on lo: " << ucs_status_string(status);
    CT_ASSERT_UCS_OK(m_receiver.open(hook));
    CT_ASSERT_UCS_OK(uct_iface_set_am_handler(m_receiver.m_iface, AM_ID,
                                              am_sink::handler, &m_sink, 0));
    connect();
}

void contract_test::connect()
{
    uct_ep_params_t params;

    if (!var().ep_to_ep) {
        ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_CONNECT_TO_IFACE))
            << var().lanes << " lanes should connect iface to iface";
        params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                            UCT_EP_PARAM_FIELD_DEV_ADDR |
                            UCT_EP_PARAM_FIELD_IFACE_ADDR;
        params.iface      = m_sender.m_iface;
        params.dev_addr   = (const uct_device_addr_t*)
                            m_receiver.m_dev_addr.data();
        params.iface_addr = (const uct_iface_addr_t*)
                            m_receiver.m_iface_addr.data();
        CT_ASSERT_UCS_OK(uct_ep_create(&params, &m_ep));
        m_sender.m_eps.push_back(m_ep);
        return;
    }

    ASSERT_TRUE(m_sender.has(UCT_IFACE_FLAG_CONNECT_TO_EP));
    ASSERT_FALSE(m_sender.has(UCT_IFACE_FLAG_CONNECT_TO_IFACE))
        << "UCX_MP_RC_CONNECT_TO_IFACE=n still connects to ifaces";
    params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
    params.iface      = m_sender.m_iface;
    CT_ASSERT_UCS_OK(uct_ep_create(&params, &m_ep));
    m_sender.m_eps.push_back(m_ep);
    params.iface = m_receiver.m_iface;
    CT_ASSERT_UCS_OK(uct_ep_create(&params, &m_back_ep));
    m_receiver.m_eps.push_back(m_back_ep);

    std::vector<uint8_t> a(m_sender.m_attr.ep_addr_len);
    std::vector<uint8_t> b(m_receiver.m_attr.ep_addr_len);
    CT_ASSERT_UCS_OK(uct_ep_get_address(m_ep, (uct_ep_addr_t*)a.data()));
    CT_ASSERT_UCS_OK(uct_ep_get_address(m_back_ep, (uct_ep_addr_t*)b.data()));
    CT_ASSERT_UCS_OK(uct_ep_connect_to_ep(
            m_ep, (const uct_device_addr_t*)m_receiver.m_dev_addr.data(),
            (const uct_ep_addr_t*)b.data()));
    CT_ASSERT_UCS_OK(uct_ep_connect_to_ep(
            m_back_ep, (const uct_device_addr_t*)m_sender.m_dev_addr.data(),
            (const uct_ep_addr_t*)a.data()));
}

static void check_closed_entity(entity &e, const char *who)
{
    if (e.m_worker == NULL) {
        return;
    }
    e.close_iface();
    std::string names;
    EXPECT_EQ(e.m_base_callbacks, worker_callbacks(e.m_worker, &names))
        << who << ": progress callbacks left on the worker after iface "
        << "close: " << names;
    EXPECT_EQ(e.m_base_handlers, e.async_handlers())
        << who << ": async handlers left after iface close";
    e.close();
}

void contract_test::close_and_check()
{
    m_closed = true;
    check_closed_entity(m_sender, "sender");
    check_closed_entity(m_receiver, "receiver");
    EXPECT_EQ(0u, m_log.count("not released")) << m_log.all();
    EXPECT_EQ(0u, m_log.count("callbacks remain")) << m_log.all();
    EXPECT_EQ(0u, m_log.count("releasing async context")) << m_log.all();
    EXPECT_EQ(0u, m_log.count("endpoints still open")) << m_log.all();
}

void contract_test::kill_receiver()
{
    m_back_ep = NULL;
    check_closed_entity(m_receiver, "receiver");
}

void contract_test::progress()
{
    m_in_progress = true;
    if (m_sender.m_worker != NULL) {
        uct_worker_progress(m_sender.m_worker);
    }
    if (m_receiver.m_worker != NULL) {
        uct_worker_progress(m_receiver.m_worker);
    }
    m_in_progress = false;
}

bool contract_test::wait_for(std::function<bool()> cond, double seconds)
{
    auto deadline = ct_clock::now() +
                    std::chrono::milliseconds((long)(seconds * 1000));
    while (!cond()) {
        if (ct_clock::now() > deadline) {
            return false;
        }
        progress();
    }
    return true;
}

ucs_status_t contract_test::retry(std::function<ucs_status_t()> op)
{
    auto deadline = ct_clock::now() + std::chrono::seconds(10);
    ucs_status_t status;

    while (((status = op()) == UCS_ERR_NO_RESOURCE) &&
           (ct_clock::now() < deadline)) {
        progress();
    }
    return status;
}

ssize_t contract_test::retry_bcopy(std::function<ssize_t()> op)
{
    auto deadline = ct_clock::now() + std::chrono::seconds(10);
    ssize_t packed;

    while (((packed = op()) == UCS_ERR_NO_RESOURCE) &&
           (ct_clock::now() < deadline)) {
        progress();
    }
    return packed;
}

ucs_status_t contract_test::flush_all(uct_ep_h ep)
{
    counted_completion done;
    ucs_status_t status = retry([&] {
        return (ep == NULL) ? uct_iface_flush(m_sender.m_iface, 0, &done.comp) :
                              uct_ep_flush(ep, 0, &done.comp);
    });

    if (status != UCS_INPROGRESS) {
        EXPECT_EQ(0u, done.calls) << "a flush that returned "
                                  << ucs_status_string(status)
                                  << " called its completion";
        return status;
    }
    if (!wait_for([&] { return done.calls > 0; })) {
        return UCS_ERR_TIMED_OUT;
    }
    EXPECT_EQ(1u, done.calls);
    return done.comp.status;
}

unsigned contract_test::fill_am_short()
{
    const uint64_t word = 0;
    unsigned sent = 0;
    ucs_status_t status;

    /* the receiver does not progress: the lane's socket buffers fill */
    do {
        status = uct_ep_am_short(m_ep, AM_ID, 0, &word, sizeof(word));
        sent  += (status == UCS_OK);
    } while ((status == UCS_OK) && (sent < 10000000));
    EXPECT_EQ(UCS_ERR_NO_RESOURCE, status);
    return sent;
}

} // namespace mp_contract
