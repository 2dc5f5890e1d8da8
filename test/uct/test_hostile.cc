/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * A hostile or broken peer (issue 13): forged addresses, remote keys and
 * control messages are refused, never crash mp_rc or the lane transport and
 * never make it read past what the peer sent. Addresses and keys are handed
 * over in exact-size buffers that end at an inaccessible page, so a read
 * past them is a crash, not a silent over-read.
 */

#include "mp_contract.h"

#include "mp_ctl.h"
#include "mp_wire.h"

#include <cerrno>
#include <climits>
#include <sys/mman.h>
#include <unistd.h>

extern "C" {
/* the control channel of an mp endpoint (uct_mp/mp_ctrl.h): the sender's
 * endpoint plays the hostile peer and sends what it is told to */
struct uct_mp_ep;
ucs_status_t uct_mp_ctrl_send(struct uct_mp_ep *ep, unsigned lane,
                              uct_mp_ctl_t *msg);
/* the endpoint's state, as uct_mp_ep_dump prints it (uct_mp/mp_ep.h) */
void uct_mp_ep_dump(struct uct_mp_ep *ep, FILE *stream);
}

/* malloc that fails, while armed, for sizes in [min, max]: the test binary's
 * malloc is the one libuct_mp uses */
static struct {
    bool     armed;
    size_t   min, max;
    unsigned failed;
} g_fail_malloc;

#ifdef __SANITIZE_ADDRESS__
/* under ASan its allocator is the real one: memory it did not hand out
 * must not reach its free() */
extern "C" void *__interceptor_malloc(size_t size);
#  define UCT_MP_TEST_REAL_MALLOC __interceptor_malloc
#else
extern "C" void *__libc_malloc(size_t size);
#  define UCT_MP_TEST_REAL_MALLOC __libc_malloc
#endif

extern "C" void *malloc(size_t size)
{
    if (g_fail_malloc.armed && (size >= g_fail_malloc.min) &&
        (size <= g_fail_malloc.max)) {
        ++g_fail_malloc.failed;
        errno = ENOMEM;
        return NULL;
    }
    return UCT_MP_TEST_REAL_MALLOC(size);
}

namespace mp_contract {

/* bytes at the very end of a readable page, an inaccessible page after it */
class guarded_buffer {
public:
    explicit guarded_buffer(const std::vector<uint8_t> &bytes) {
        m_page = sysconf(_SC_PAGESIZE);
        m_map  = mmap(NULL, 2 * m_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        EXPECT_NE(MAP_FAILED, m_map);
        EXPECT_EQ(0, mprotect((char*)m_map + m_page, m_page, PROT_NONE));
        m_data = (char*)m_map + m_page - bytes.size();
        memcpy(m_data, bytes.data(), bytes.size());
    }
    ~guarded_buffer() { munmap(m_map, 2 * m_page); }

    template <typename T> const T *as() const { return (const T*)m_data; }

private:
    size_t m_page;
    void   *m_map;
    char   *m_data;
};

/* msg packed into an exact-size buffer */
static std::vector<uint8_t> pack(const uct_mp_wire_t &msg)
{
    std::vector<uint8_t> buf(uct_mp_wire_packed_size(&msg));
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
    EXPECT_EQ(buf.size(), uct_mp_wire_pack(&msg, buf.data(), buf.size(),
                                           errmsg, sizeof(errmsg)))
        << errmsg;
    return buf;
}

static uct_mp_wire_t unpack(const void *buf, uct_mp_wire_kind_t kind)
{
    char errmsg[UCT_MP_WIRE_ERRMSG_MAX] = "";
    uct_mp_wire_t msg;
    EXPECT_EQ(0, uct_mp_wire_unpack(buf, UCT_MP_WIRE_MAX_LEN, kind, &msg,
                                    errmsg, sizeof(errmsg)))
        << errmsg;
    return msg;
}

/* the check byte again, after tampering */
static void fix_check(std::vector<uint8_t> *buf)
{
    size_t last = buf->size() - 1;
    uint8_t sum = 0;
    for (size_t i = 0; i < last; ++i) {
        sum += (*buf)[i];
    }
    buf->at(last) = 0xff - sum;
}

class hostile : public contract_test {
protected:
    void SetUp() override {
        contract_test::SetUp();
        m_log.quiet = true; /* the refusals are logged at error level */
        open_pair();
    }

    /* forms of the receiver's device address with the primary entry of
     * another length, and with a forged total length */
    std::vector<std::vector<uint8_t>> forged_device_addresses() {
        uct_mp_wire_t dev = unpack(m_receiver.m_dev_addr.data(),
                                   UCT_MP_WIRE_DEVICE_ADDR);
        std::string bytes((const char*)dev.lanes[0].data, dev.lanes[0].len);
        std::vector<std::vector<uint8_t>> forms;
        for (int delta : {-(int)bytes.size(), -1, 1}) {
            std::string entry = bytes;
            entry.resize(bytes.size() + delta, '\x11');
            dev.lanes[0].len  = entry.size();
            dev.lanes[0].data = entry.data();
            forms.push_back(pack(dev));
        }
        for (uint8_t total : {(uint8_t)(m_receiver.m_dev_addr.size() + 1),
                              (uint8_t)31, (uint8_t)255}) {
            std::vector<uint8_t> buf = m_receiver.m_dev_addr;
            buf[2] = total;
            fix_check(&buf);
            forms.push_back(buf);
        }
        return forms;
    }

    /* the device address may not connect the primary lane either */
    void expect_connect_refused(const uct_device_addr_t *dev) {
        uct_ep_params_t params;
        uct_ep_h ep;

        if (!var().ep_to_ep) {
            params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                                UCT_EP_PARAM_FIELD_DEV_ADDR |
                                UCT_EP_PARAM_FIELD_IFACE_ADDR;
            params.iface      = m_sender.m_iface;
            params.dev_addr   = dev;
            params.iface_addr = (const uct_iface_addr_t*)
                                m_receiver.m_iface_addr.data();
            EXPECT_EQ(UCS_ERR_UNREACHABLE, uct_ep_create(&params, &ep));
            return;
        }

        params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
        params.iface      = m_sender.m_iface;
        CT_ASSERT_UCS_OK(uct_ep_create(&params, &ep));
        std::vector<uint8_t> addr(m_receiver.m_attr.ep_addr_len);
        EXPECT_EQ(UCS_OK, uct_ep_get_address(m_back_ep,
                                             (uct_ep_addr_t*)addr.data()));
        EXPECT_EQ(UCS_ERR_UNREACHABLE,
                  uct_ep_connect_to_ep(ep, dev, (uct_ep_addr_t*)addr.data()));
        uct_ep_destroy(ep);
    }

    /* traffic still flows on m_ep */
    void expect_am_delivered() {
        size_t before = m_sink.messages.size();
        CT_ASSERT_UCS_OK(retry([&] {
            return uct_ep_am_short(m_ep, AM_ID, 0x1234, "alive", 5);
        }));
        EXPECT_TRUE(wait_for([&] {
            return m_sink.messages.size() > before;
        }));
    }
};

/* variants whose lanes connect iface to iface */
class hostile_iface : public hostile {};

/* lanes ep to ep: they JOIN over the primary lane, and the sender's
 * endpoint forges the control messages of a hostile peer */
class hostile_ep : public hostile {
protected:
    void SetUp() override {
        hostile::SetUp();
        /* AMs back from the receiver */
        CT_ASSERT_UCS_OK(uct_iface_set_am_handler(m_sender.m_iface, AM_ID,
                                                  am_sink::handler,
                                                  &m_back_sink, 0));
    }

    static std::string dump(uct_ep_h ep) {
        char *text    = NULL;
        size_t size   = 0;
        FILE *stream  = open_memstream(&text, &size);
        uct_mp_ep_dump((struct uct_mp_ep*)ep, stream);
        fclose(stream);
        std::string result(text, size);
        free(text);
        return result;
    }

    /* "lane N (dev): state ep 0x..." of the dump */
    static std::string lane_line(uct_ep_h ep, unsigned lane) {
        std::string d   = dump(ep);
        std::string key = "  lane " + std::to_string(lane) + " (";
        size_t pos      = d.find(key);
        return (pos == std::string::npos) ? "" :
               d.substr(pos, d.find('\n', pos) - pos);
    }

    bool joined(uct_ep_h ep) {
        for (unsigned lane = 0; lane < var().lanes; ++lane) {
            std::string line = lane_line(ep, lane);
            if ((line.find(": active") == std::string::npos) &&
                (line.find(": standby") == std::string::npos)) {
                return false;
            }
        }
        return true;
    }

    /* A JOIN message of the sender's ep with its real lane 0 and forged
     * entries for the other lanes: device addresses of dev_len bytes and
     * ep addresses of ep_len bytes */
    void forge_join(uct_mp_ctl_type_t type, uint32_t join_id, unsigned lane,
                    size_t dev_len, size_t ep_len, uct_mp_ctl_t *msg,
                    bool from_receiver = false) {
        entity &from  = from_receiver ? m_receiver : m_sender;
        uct_ep_h ep   = from_receiver ? m_back_ep : m_ep;
        /* msg points into the ep address: it outlives this call */
        m_forged_epa.assign(from.m_attr.ep_addr_len, 0);
        CT_ASSERT_UCS_OK(uct_ep_get_address(ep,
                                            (uct_ep_addr_t*)
                                            m_forged_epa.data()));
        uct_mp_wire_t epa = unpack(m_forged_epa.data(), UCT_MP_WIRE_EP_ADDR);
        uct_mp_wire_t dev = unpack(from.m_dev_addr.data(),
                                   UCT_MP_WIRE_DEVICE_ADDR);
        /* device bytes of the real lane 0 where the length allows: a
         * lane that connects anyway connects to loopback */
        m_forged_dev.assign(dev_len, '\x55');
        if (dev_len == dev.lanes[0].len) {
            m_forged_dev.assign((const char*)dev.lanes[0].data, dev_len);
        }
        m_forged_ep.assign(ep_len, '\x66');

        memset(msg, 0, sizeof(*msg));
        msg->type              = type;
        msg->lane              = lane;
        msg->join_id           = join_id;
        msg->pair_count        = var().lanes;
        memset(msg->pairs, UCT_MP_CTL_NO_PAIR, sizeof(msg->pairs));
        msg->devs.kind         = UCT_MP_WIRE_LANE_DEVS;
        msg->devs.lane_tl      = dev.lane_tl;
        msg->devs.lane_count   = var().lanes;
        msg->addrs             = epa;
        msg->addrs.lane_count  = var().lanes;
        msg->devs.lanes[0]     = dev.lanes[0];
        for (unsigned i = 1; i < var().lanes; ++i) {
            msg->pairs[i]              = i;
            msg->devs.lanes[i].md_index = i;
            msg->devs.lanes[i].len     = dev_len;
            msg->devs.lanes[i].data    = dev_len ? m_forged_dev.data() : NULL;
            msg->addrs.lanes[i].len    = ep_len;
            msg->addrs.lanes[i].data   = ep_len ? m_forged_ep.data() : NULL;
        }
    }

    am_sink              m_back_sink;
    std::string          m_forged_dev, m_forged_ep;
    std::vector<uint8_t> m_forged_epa;
};

TEST_P(hostile, device_address_of_other_lengths_is_unreachable) {
    const uct_iface_addr_t *ifc = (const uct_iface_addr_t*)
                                  m_receiver.m_iface_addr.data();
    for (const auto &form : forged_device_addresses()) {
        guarded_buffer buf(form);
        EXPECT_FALSE(uct_iface_is_reachable(m_sender.m_iface,
                                            buf.as<uct_device_addr_t>(), ifc));
        expect_connect_refused(buf.as<uct_device_addr_t>());
    }
    EXPECT_GE(m_log.count("rejecting peer device address"), 1u) << m_log.all();

    /* the real one, exact size, still is reachable */
    guarded_buffer real(m_receiver.m_dev_addr);
    EXPECT_TRUE(uct_iface_is_reachable(m_sender.m_iface,
                                       real.as<uct_device_addr_t>(), ifc));
    expect_am_delivered();
    close_and_check();
}

TEST_P(hostile, other_version_device_address_is_refused_by_its_version) {
    std::vector<uint8_t> other = m_receiver.m_dev_addr;
    other[0] = UCT_MP_PROTO_VERSION + 1;
    fix_check(&other);
    guarded_buffer buf(other);

    EXPECT_FALSE(uct_iface_is_reachable(m_sender.m_iface,
                                        buf.as<uct_device_addr_t>(),
                                        (const uct_iface_addr_t*)
                                        m_receiver.m_iface_addr.data()));
    expect_connect_refused(buf.as<uct_device_addr_t>());
    EXPECT_GE(m_log.count("peer speaks MP protocol version 3, this build "
                          "speaks 2"), 1u) << m_log.all();
    close_and_check();
}

TEST_P(hostile_ep, ep_address_of_other_lengths_is_refused) {
    std::vector<uint8_t> real(m_receiver.m_attr.ep_addr_len);
    CT_ASSERT_UCS_OK(uct_ep_get_address(m_back_ep,
                                        (uct_ep_addr_t*)real.data()));
    uct_mp_wire_t epa = unpack(real.data(), UCT_MP_WIRE_EP_ADDR);
    std::string bytes((const char*)epa.lanes[0].data, epa.lanes[0].len);

    std::vector<std::vector<uint8_t>> forms;
    for (int delta : {-(int)bytes.size(), -1, 1}) {
        std::string entry = bytes;
        entry.resize(bytes.size() + delta, '\x22');
        epa.lanes[0].len  = entry.size();
        epa.lanes[0].data = entry.data();
        forms.push_back(pack(epa));
    }
    for (uint8_t total : {(uint8_t)(real.size() + 1), (uint8_t)255}) {
        std::vector<uint8_t> buf = real;
        buf[2] = total;
        fix_check(&buf);
        forms.push_back(buf);
    }

    for (const auto &form : forms) {
        guarded_buffer buf(form);
        uct_ep_params_t params;
        uct_ep_h ep;
        params.field_mask = UCT_EP_PARAM_FIELD_IFACE;
        params.iface      = m_sender.m_iface;
        CT_ASSERT_UCS_OK(uct_ep_create(&params, &ep));
        EXPECT_EQ(UCS_ERR_UNREACHABLE,
                  uct_ep_connect_to_ep(ep, (const uct_device_addr_t*)
                                       m_receiver.m_dev_addr.data(),
                                       buf.as<uct_ep_addr_t>()));
        uct_ep_destroy(ep);
    }
    EXPECT_GE(m_log.count("rejecting peer ep address"), 1u) << m_log.all();
    close_and_check();
}

TEST_P(hostile_iface, iface_address_with_an_entry_of_another_length_is_refused) {
    const uint8_t *addr = m_receiver.m_iface_addr.data();
    uct_mp_wire_t lanes = unpack(addr, UCT_MP_WIRE_LANE_DEVS);
    uct_mp_wire_t ifc   = unpack(addr + lanes.total_len,
                                 UCT_MP_WIRE_IFACE_ADDR);
    std::vector<uint8_t> lanes_buf(addr, addr + lanes.total_len);
    guarded_buffer dev(m_receiver.m_dev_addr);

    for (size_t len : {(size_t)0, (size_t)1, (size_t)ifc.lanes[0].len + 1}) {
        uct_mp_wire_t bad   = ifc;
        std::string entry(len, '\x33');
        for (unsigned i = 0; i < bad.lane_count; ++i) {
            bad.lanes[i].len  = len;
            bad.lanes[i].data = len ? entry.data() : NULL;
        }
        std::vector<uint8_t> form = lanes_buf;
        std::vector<uint8_t> tail = pack(bad);
        form.insert(form.end(), tail.begin(), tail.end());
        guarded_buffer buf(form);

        EXPECT_FALSE(uct_iface_is_reachable(m_sender.m_iface,
                                            dev.as<uct_device_addr_t>(),
                                            buf.as<uct_iface_addr_t>()))
            << "iface entries of " << len << " bytes";
        uct_ep_params_t params;
        uct_ep_h ep;
        params.field_mask = UCT_EP_PARAM_FIELD_IFACE |
                            UCT_EP_PARAM_FIELD_DEV_ADDR |
                            UCT_EP_PARAM_FIELD_IFACE_ADDR;
        params.iface      = m_sender.m_iface;
        params.dev_addr   = dev.as<uct_device_addr_t>();
        params.iface_addr = buf.as<uct_iface_addr_t>();
        EXPECT_EQ(UCS_ERR_UNREACHABLE, uct_ep_create(&params, &ep))
            << "iface entries of " << len << " bytes";
    }
    expect_am_delivered();
    close_and_check();
}

TEST_P(hostile, remote_key_with_an_empty_or_short_lane_is_refused) {
    /* rc_verbs lane keys (the ib component reads 8 bytes of each) and tcp
     * lane keys (none) of other lengths */
    struct form {
        uct_mp_lane_tl_t tl;
        size_t           len;
    };
    for (form f : {form{UCT_MP_LANE_TL_RC_VERBS, 0},
                   form{UCT_MP_LANE_TL_RC_VERBS, 4},
                   form{UCT_MP_LANE_TL_TCP, 3}}) {
        std::string key(f.len, '\x44');
        uct_mp_wire_t msg = {};
        msg.kind       = UCT_MP_WIRE_RKEY;
        msg.lane_tl    = f.tl;
        msg.lane_count = 2;
        for (unsigned i = 0; i < 2; ++i) {
            msg.lanes[i].len  = f.len;
            msg.lanes[i].data = f.len ? key.data() : NULL;
        }
        guarded_buffer buf(pack(msg));
        uct_rkey_bundle_t rkey;
        EXPECT_EQ(UCS_ERR_INVALID_PARAM,
                  uct_rkey_unpack(find_mp_component(), buf.as<void>(), &rkey))
            << "lane keys of " << f.len << " bytes";
    }

    /* a forged total length is not followed past the key */
    mapped_buffer target;
    target.map(m_receiver, 64, 1);
    std::vector<uint8_t> packed(m_receiver.m_md_attr.rkey_packed_size);
    CT_ASSERT_UCS_OK(uct_md_mkey_pack(m_receiver.m_md, target.memh,
                                      packed.data()));
    for (uint8_t total : {(uint8_t)(packed.size() + 1), (uint8_t)255}) {
        std::vector<uint8_t> bad = packed;
        bad[2] = total;
        fix_check(&bad);
        guarded_buffer buf(bad);
        uct_rkey_bundle_t rkey;
        EXPECT_EQ(UCS_ERR_INVALID_PARAM,
                  uct_rkey_unpack(find_mp_component(), buf.as<void>(), &rkey));
    }
    guarded_buffer real(packed);
    uct_rkey_bundle_t rkey;
    CT_ASSERT_UCS_OK(uct_rkey_unpack(find_mp_component(), real.as<void>(),
                                     &rkey));
    uct_rkey_release(find_mp_component(), &rkey);
    target.unmap();
    close_and_check();
}

TEST_P(hostile_ep, join_ack_with_an_empty_lane_device_is_refused) {
    /* the receiver starts the join (JOIN 1); the forged answer arrives
     * before the sender's real one */
    uct_ep_am_short(m_back_ep, AM_ID, 1, "join", 4); /* may find no room */
    EXPECT_NE(std::string::npos, dump(m_back_ep).find("join 2"));
    uct_mp_ctl_t ack;
    forge_join(UCT_MP_CTL_JOIN_ACK, 1, 0, 0, m_sender.m_attr.ep_addr_len - 12,
               &ack);
    CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_ep, 0, &ack));
    wait_for([&] { return dump(m_back_ep).find("join 3") !=
                          std::string::npos; }, 2);
    EXPECT_NE(std::string::npos, dump(m_back_ep).find("join 3"))
        << dump(m_back_ep);
    EXPECT_GE(m_log.count("has device/iface/ep addresses of 0/-1/"), 1u)
        << m_log.all();
    expect_am_delivered();
    close_and_check();
}

TEST_P(hostile_ep, rejoin_request_with_an_empty_lane_device_is_refused) {
    expect_am_delivered();
    ASSERT_TRUE(wait_for([&] { return joined(m_ep) && joined(m_back_ep); }))
        << dump(m_ep) << dump(m_back_ep);
    std::string lane1 = lane_line(m_back_ep, 1);

    uct_mp_ctl_t req;
    forge_join(UCT_MP_CTL_JOIN_REQ, 77, 1, 0, m_sender.m_attr.ep_addr_len - 12,
               &req);
    CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_ep, 0, &req));
    for (int i = 0; i < 100; ++i) {
        progress();
    }

    /* nothing torn down, nothing connected to the forged lane */
    EXPECT_EQ(lane1, lane_line(m_back_ep, 1)) << dump(m_back_ep);
    expect_am_delivered();
    close_and_check();
}

TEST_P(hostile_ep, repeated_or_unfounded_rejoin_tears_nothing_down) {
    expect_am_delivered(); /* the sender joins, JOIN 1 */
    ASSERT_TRUE(wait_for([&] { return joined(m_ep) && joined(m_back_ep); }))
        << dump(m_ep) << dump(m_back_ep);
    std::string lanes;
    for (unsigned lane = 1; lane < var().lanes; ++lane) {
        lanes += lane_line(m_back_ep, lane) + "\n";
    }

    /* JOIN 1 again, then new ids naming working lanes, with entries that
     * fit: a lane replaced would connect to them */
    size_t dev_len = unpack(m_sender.m_dev_addr.data(),
                            UCT_MP_WIRE_DEVICE_ADDR).lanes[0].len;
    for (uint32_t id : {1u, 1u, 50u, 51u}) {
        uct_mp_ctl_t req;
        forge_join(UCT_MP_CTL_JOIN_REQ, id, 1, dev_len,
                   m_sender.m_attr.ep_addr_len - 12, &req);
        for (unsigned i = 0; i < var().lanes; ++i) {
            if (i != 1) {
                req.addrs.lanes[i].len = 0; /* a rejoin offers one lane */
            }
        }
        CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_ep, 0, &req));
        for (int i = 0; i < 50; ++i) {
            progress();
        }
    }

    std::string after;
    for (unsigned lane = 1; lane < var().lanes; ++lane) {
        after += lane_line(m_back_ep, lane) + "\n";
    }
    EXPECT_EQ(lanes, after) << dump(m_back_ep);
    expect_am_delivered();
    close_and_check();
}

/* "name N" of an endpoint's dump */
static unsigned dump_field(const std::string &dump, const std::string &name)
{
    size_t pos = dump.find(" " + name + " ");
    return (pos == std::string::npos) ? UINT_MAX :
           std::stoul(dump.substr(pos + name.size() + 2));
}

TEST_P(hostile_ep, am_without_memory_for_its_copy_is_not_sent) {
    expect_am_delivered(); /* sequence numbers in use */
    unsigned tx_dsn  = dump_field(dump(m_ep), "tx_dsn");
    size_t delivered = m_sink.messages.size();
    std::string payload(3000, 'm');
    ASSERT_GE(m_sender.m_attr.cap.am.max_short, payload.size() + 8);

    /* the copy kept for replay is the only allocation of this size */
    g_fail_malloc = {true, payload.size() + 8, payload.size() + 8 + 2048, 0};
    ucs_status_t status = uct_ep_am_short(m_ep, AM_ID, 1, payload.data(),
                                          payload.size());
    g_fail_malloc.armed = false;
    EXPECT_EQ(UCS_ERR_NO_RESOURCE, status);
    EXPECT_EQ(1u, g_fail_malloc.failed);

    /* bcopy: the copy is made, for the largest message, before packing */
    size_t max_bcopy = m_sender.m_attr.cap.am.max_bcopy;
    g_fail_malloc    = {true, max_bcopy, max_bcopy + 2048, 0};
    ssize_t packed   = uct_ep_am_bcopy(m_ep, AM_ID, [](void *dest, void *arg) {
        memcpy(dest, "bcopy", 5);
        return (size_t)5;
    }, NULL, 0);
    g_fail_malloc.armed = false;
    EXPECT_EQ(UCS_ERR_NO_RESOURCE, packed);
    EXPECT_EQ(1u, g_fail_malloc.failed);

    /* nothing went, no sequence number was used */
    for (int i = 0; i < 100; ++i) {
        progress();
    }
    EXPECT_EQ(delivered, m_sink.messages.size());
    EXPECT_EQ(tx_dsn, dump_field(dump(m_ep), "tx_dsn")) << dump(m_ep);

    /* the caller's retry goes */
    CT_ASSERT_UCS_OK(retry([&] {
        return uct_ep_am_short(m_ep, AM_ID, 1, payload.data(),
                               payload.size());
    }));
    ASSERT_TRUE(wait_for([&] { return m_sink.messages.size() > delivered; }));
    EXPECT_EQ(payload.size() + 8, m_sink.messages[delivered].data.size());
    EXPECT_EQ(tx_dsn + 1, dump_field(dump(m_ep), "tx_dsn"));
    close_and_check();
}

TEST_P(hostile_ep, control_queue_is_bounded_and_acks_coalesce) {
    expect_am_delivered();
    unsigned base = dump_field(dump(m_ep), "ctl");

    /* what a flood of probes and duplicates asks for, without progress */
    uct_mp_ctl_t msg;
    for (uint8_t type : {UCT_MP_CTL_DATA_ACK, UCT_MP_CTL_KEEPALIVE_ACK}) {
        for (uint32_t i = 0; i < 1000; ++i) {
            memset(&msg, 0, sizeof(msg));
            msg.type      = type;
            msg.probe_seq = (type == UCT_MP_CTL_DATA_ACK) ? 0 : i;
            CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_ep, 0,
                                              &msg));
        }
    }
    EXPECT_LE(dump_field(dump(m_ep), "ctl"), base + 2) << dump(m_ep);

    /* messages that do not coalesce stop at the bound, logged once */
    unsigned queued = 0, refused = 0;
    for (uint32_t i = 0; i < 200; ++i) {
        memset(&msg, 0, sizeof(msg));
        msg.type      = UCT_MP_CTL_KEEPALIVE;
        msg.probe_seq = 1000 + i;
        ucs_status_t status = uct_mp_ctrl_send((struct uct_mp_ep*)m_ep, 0,
                                               &msg);
        (status == UCS_OK) ? ++queued : ++refused;
        EXPECT_TRUE((status == UCS_OK) || (status == UCS_ERR_NO_RESOURCE));
    }
    EXPECT_EQ(64u, dump_field(dump(m_ep), "ctl")) << dump(m_ep);
    EXPECT_EQ(200u, queued + refused);
    EXPECT_GE(refused, 200u - 64u);
    EXPECT_EQ(1u, m_log.count("control messages wait to be sent"))
        << m_log.all();

    EXPECT_TRUE(wait_for([&] { return dump_field(dump(m_ep), "ctl") == 0; }))
        << dump(m_ep);
    expect_am_delivered();
    close_and_check();
}

/* keepalive every 100 ms: a lost JOIN is asked again after 1 s; no
 * fail-back, which would bring a lane that did not join in by a rejoin
 * (hot-add) while these tests watch the JOIN's own retries */
class hostile_ep_join : public hostile_ep {
protected:
    void SetUp() override {
        scoped_env::set("UCX_MP_RC_KEEPALIVE_INTERVAL", "0.1s");
        scoped_env::set("UCX_MP_RC_FAILBACK_INTERVAL", "0");
        hostile_ep::SetUp();
    }

    /* the sender takes JOIN id (a request the receiver never sent) and
     * refuses it, or joins nothing: later requests up to id are ignored */
    void sender_takes_join_id(uint32_t id, bool refuse) {
        size_t dev_len = unpack(m_receiver.m_dev_addr.data(),
                                UCT_MP_WIRE_DEVICE_ADDR).lanes[0].len;
        uct_mp_ctl_t req;
        forge_join(UCT_MP_CTL_JOIN_REQ, id, 0, refuse ? 0 : dev_len, 0, &req,
                   true);
        CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_back_ep, 0,
                                          &req));
        /* the sender took it: refused (logged), or joined nothing */
        ASSERT_TRUE(wait_for([&] {
            return refuse ? (m_log.count("rejecting peer JOIN_REQ") > 0) :
                   (dump(m_ep).find("join 3") != std::string::npos);
        })) << m_log.all() << dump(m_ep);
        /* and its answer, which the receiver ignores, is through */
        ASSERT_TRUE(wait_for([&] {
            return dump_field(dump(m_ep), "ctl") == 0;
        })) << dump(m_ep);
        for (int i = 0; i < 200; ++i) {
            progress();
        }
        EXPECT_NE(std::string::npos, dump(m_back_ep).find("join 1"))
            << dump(m_back_ep);
    }
};

TEST_P(hostile_ep_join, lost_join_request_is_sent_again) {
    sender_takes_join_id(1, true);

    /* the receiver's JOIN 1 is lost: the sender ignores an id it took */
    uct_ep_am_short(m_back_ep, AM_ID, 1, "join", 4); /* may find no room */
    EXPECT_TRUE(wait_for([&] { return joined(m_ep) && joined(m_back_ep); },
                         5))
        << dump(m_ep) << dump(m_back_ep);
    expect_am_delivered();
    close_and_check();
}

TEST_P(hostile_ep_join, unanswered_join_gives_up_after_bounded_tries) {
    sender_takes_join_id(1000, false);

    uct_ep_am_short(m_back_ep, AM_ID, 1, "join", 4);
    EXPECT_TRUE(wait_for([&] {
        return m_log.count("no answer to JOIN 3 from") > 0;
    }, 8)) << m_log.all();
    EXPECT_GE(m_log.count("after 3 tries"), 1u) << m_log.all();
    EXPECT_NE(std::string::npos, dump(m_back_ep).find("join 3"))
        << dump(m_back_ep);
    expect_am_delivered();

    /* lane 1 was closed: a DATA_ACK (of 100 more messages than were sent)
     * queued for it goes on the AM lane, and is refused there */
    EXPECT_EQ(std::string::npos, lane_line(m_back_ep, 1).find("active"));
    uct_mp_ctl_t ack;
    memset(&ack, 0, sizeof(ack));
    ack.type      = UCT_MP_CTL_DATA_ACK;
    ack.lane      = 1;
    ack.probe_seq = 100 + dump_field(dump(m_ep), "tx_dsn");
    CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_back_ep, 1, &ack));
    EXPECT_TRUE(wait_for([&] {
        return m_log.count("peer acknowledges DSN") > 0;
    }, 2)) << m_log.all();
    close_and_check();
}


TEST_P(hostile_ep, ack_beyond_what_was_sent_is_ignored) {
    for (int i = 0; i < 3; ++i) {
        expect_am_delivered();
    }
    std::string before = dump(m_ep);
    unsigned tx_dsn    = dump_field(before, "tx_dsn");
    ASSERT_EQ(3u, tx_dsn) << before;

    /* the receiver acknowledges 100 messages more than were sent */
    uct_mp_ctl_t ack;
    memset(&ack, 0, sizeof(ack));
    ack.type      = UCT_MP_CTL_DATA_ACK;
    ack.probe_seq = tx_dsn + 100;
    CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_back_ep, 0, &ack));
    EXPECT_TRUE(wait_for([&] {
        return m_log.count("peer acknowledges DSN 103, only 3 sent") > 0;
    })) << m_log.all();
    EXPECT_EQ(1u, dump_field(dump(m_ep), "refused")) << dump(m_ep);

    /* a real acknowledgement still frees what was delivered */
    ack.probe_seq = tx_dsn;
    CT_ASSERT_UCS_OK(uct_mp_ctrl_send((struct uct_mp_ep*)m_back_ep, 0, &ack));
    EXPECT_TRUE(wait_for([&] {
        return dump_field(dump(m_ep), "ring") == 0;
    })) << dump(m_ep);
    expect_am_delivered();
    close_and_check();
}

INSTANTIATE_TEST_SUITE_P(tcp, hostile,
                         ::testing::Values(variant{1, false},
                                           variant{2, false},
                                           variant{2, true}),
                         variant_name);
INSTANTIATE_TEST_SUITE_P(tcp, hostile_iface,
                         ::testing::Values(variant{1, false},
                                           variant{2, false}),
                         variant_name);
INSTANTIATE_TEST_SUITE_P(tcp, hostile_ep_join,
                         ::testing::Values(variant{2, true}),
                         variant_name);
INSTANTIATE_TEST_SUITE_P(tcp, hostile_ep,
                         ::testing::Values(variant{2, true},
                                           variant{4, true}),
                         variant_name);

} // namespace mp_contract
