/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * rtnetlink link message parser: see mp_netlink.h.
 */

#include "mp_netlink.h"
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

namespace uct_mp {
namespace {

static_assert(UCT_MP_NETLINK_NAME_MAX == IFNAMSIZ, "IFNAMSIZ");
static_assert(UCT_MP_NETLINK_DUMP_LEN ==
              NLMSG_LENGTH(sizeof(struct ifinfomsg)), "dump request size");

const size_t HDR_LEN = sizeof(struct nlmsghdr);
const size_t IFI_LEN = NLMSG_ALIGN(sizeof(struct ifinfomsg));
const size_t RTA_HDR = sizeof(struct rtattr);

/* Records the first problem of a buffer, counts the rest */
class parse_state {
public:
    parse_state(uct_mp_netlink_result_t *result, char *errmsg,
                size_t errmsg_len) :
        m_result(result), m_errmsg(errmsg), m_errmsg_len(errmsg_len),
        m_failed(false) {}

    void fail(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
        va_list ap;

        if (!m_failed && (m_errmsg != nullptr) && (m_errmsg_len > 0)) {
            va_start(ap, fmt);
            vsnprintf(m_errmsg, m_errmsg_len, fmt, ap);
            va_end(ap);
        }
        m_failed = true;
    }

    bool failed() const { return m_failed; }
    uct_mp_netlink_result_t *result() { return m_result; }

private:
    uct_mp_netlink_result_t *m_result;
    char                    *m_errmsg;
    size_t                  m_errmsg_len;
    bool                    m_failed;
};

/* IFLA_IFNAME's payload: 1..IFNAMSIZ bytes, a NUL among them, not empty */
bool parse_name(const uint8_t *data, size_t len, uct_mp_netlink_link_t *link,
                parse_state &st, unsigned msg)
{
    const void *nul = (len > 0) ? memchr(data, '\0', len) : nullptr;

    if ((len == 0) || (len > IFNAMSIZ) || (nul == nullptr) ||
        (nul == data)) {
        st.fail("netlink message %u: IFLA_IFNAME of %zu bytes %s", msg, len,
                (len > IFNAMSIZ) ? "longer than IFNAMSIZ" :
                (nul == nullptr) ? "without NUL" : "empty");
        return false;
    }
    memcpy(link->name, data, static_cast<const uint8_t*>(nul) - data + 1);
    return true;
}

/* The attributes after the ifinfomsg: every rta_len within the message */
bool parse_attrs(const uint8_t *attrs, size_t len, uct_mp_netlink_link_t *link,
                 parse_state &st, unsigned msg, bool *named)
{
    struct rtattr rta;
    size_t pos = 0;

    while (len - pos >= RTA_HDR) {
        memcpy(&rta, attrs + pos, RTA_HDR);
        if ((rta.rta_len < RTA_HDR) || (rta.rta_len > len - pos)) {
            st.fail("netlink message %u: attribute %u at %zu has length %u, "
                    "%zu bytes left", msg, rta.rta_type, pos, rta.rta_len,
                    len - pos);
            return false;
        }
        if ((rta.rta_type & NLA_TYPE_MASK) == IFLA_IFNAME) {
            if (!parse_name(attrs + pos + RTA_HDR, rta.rta_len - RTA_HDR, link,
                            st, msg)) {
                return false;
            }
            *named = true;
        }
        pos += RTA_ALIGN(rta.rta_len);
        if (pos > len) {
            break; /* the last attribute's padding may be left out */
        }
    }
    if ((pos < len) && (len - pos < RTA_HDR)) {
        st.fail("netlink message %u: %zu bytes after the last attribute", msg,
                len - pos);
        return false;
    }
    return true;
}

void parse_link(const struct nlmsghdr &nlh, const uint8_t *body,
                size_t body_len, uct_mp_netlink_link_cb_t cb, void *arg,
                parse_state &st)
{
    uct_mp_netlink_result_t *res = st.result();
    const unsigned msg           = res->messages;
    uct_mp_netlink_link_t link;
    struct ifinfomsg ifi;
    bool named = false;

    if (body_len < sizeof(ifi)) {
        st.fail("netlink message %u: link message body of %zu bytes, "
                "ifinfomsg needs %zu", msg, body_len, sizeof(ifi));
        ++res->malformed;
        return;
    }

    memset(&link, 0, sizeof(link));
    memcpy(&ifi, body, sizeof(ifi));
    if ((body_len > IFI_LEN) &&
        !parse_attrs(body + IFI_LEN, body_len - IFI_LEN, &link, st, msg,
                     &named)) {
        ++res->malformed;
        return;
    }
    if (!named) {
        ++res->ignored;
        return;
    }

    link.ifindex = ifi.ifi_index;
    link.flags   = ifi.ifi_flags;
    link.deleted = (nlh.nlmsg_type == RTM_DELLINK);
    link.up      = !link.deleted && (ifi.ifi_flags & IFF_UP) &&
                   (ifi.ifi_flags & IFF_RUNNING);
    ++res->links;
    if (cb != nullptr) {
        cb(arg, &link);
    }
}

void parse_error(const uint8_t *body, size_t body_len, parse_state &st)
{
    uct_mp_netlink_result_t *res = st.result();
    int32_t code;

    if (body_len < sizeof(code)) {
        st.fail("netlink message %u: NLMSG_ERROR body of %zu bytes",
                res->messages, body_len);
        ++res->malformed;
        return;
    }
    memcpy(&code, body, sizeof(code));
    if ((code != 0) && (res->error == 0)) {
        res->error = code; /* 0 is an acknowledgement */
    }
}

/* One message whose nlmsg_len is within the buffer; false: stop */
bool parse_message(const struct nlmsghdr &nlh, const uint8_t *body,
                   uct_mp_netlink_link_cb_t cb, void *arg, parse_state &st)
{
    const size_t body_len = nlh.nlmsg_len - HDR_LEN;

    switch (nlh.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
        parse_link(nlh, body, body_len, cb, arg, st);
        return true;
    case NLMSG_ERROR:
        parse_error(body, body_len, st);
        return true;
    case NLMSG_DONE:
        st.result()->done = 1;
        return false;
    case NLMSG_OVERRUN:
        st.result()->overrun = 1;
        return true;
    default:
        ++st.result()->ignored;
        return true;
    }
}

int parse(const void *buf, size_t buf_len, uct_mp_netlink_link_cb_t cb,
          void *arg, uct_mp_netlink_result_t *result, char *errmsg,
          size_t errmsg_len)
{
    const uint8_t *bytes = static_cast<const uint8_t*>(buf);
    uct_mp_netlink_result_t res;
    parse_state st(&res, errmsg, errmsg_len);
    struct nlmsghdr nlh;
    size_t pos = 0;

    memset(&res, 0, sizeof(res));
    if ((bytes == nullptr) && (buf_len > 0)) {
        buf_len = 0;
    }

    while (buf_len - pos >= HDR_LEN) {
        memcpy(&nlh, bytes + pos, HDR_LEN);
        if ((nlh.nlmsg_len < HDR_LEN) || (nlh.nlmsg_len > buf_len - pos)) {
            st.fail("netlink message %u at %zu: length %u, %zu bytes left",
                    res.messages, pos, nlh.nlmsg_len, buf_len - pos);
            res.truncated     = 1;
            res.truncated_seq = nlh.nlmsg_seq;
            break;
        }
        ++res.messages;
        if (!parse_message(nlh, bytes + pos + HDR_LEN, cb, arg, st)) {
            break;
        }
        pos += NLMSG_ALIGN(nlh.nlmsg_len);
        if (pos >= buf_len) {
            break; /* the last message's padding may be left out */
        }
    }

    if (!res.truncated && !res.done && (pos < buf_len) &&
        (buf_len - pos < HDR_LEN)) {
        st.fail("netlink: %zu bytes after message %u, a header has %zu",
                buf_len - pos, res.messages, HDR_LEN);
        res.truncated = 1;
    }

    if (result != nullptr) {
        *result = res;
    }
    return st.failed() ? -1 : 0;
}

size_t pack_dump(void *buf, size_t buf_len, uint32_t seq)
{
    struct {
        struct nlmsghdr  nlh;
        struct ifinfomsg ifi;
    } req;

    if ((buf == nullptr) || (buf_len < sizeof(req))) {
        return 0;
    }
    memset(&req, 0, sizeof(req));
    req.nlh.nlmsg_len   = sizeof(req);
    req.nlh.nlmsg_type  = RTM_GETLINK;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nlh.nlmsg_seq   = seq;
    req.ifi.ifi_family  = AF_UNSPEC;
    memcpy(buf, &req, sizeof(req));
    return sizeof(req);
}

} // namespace
} // namespace uct_mp


extern "C" {

int uct_mp_netlink_parse(const void *buf, size_t buf_len,
                         uct_mp_netlink_link_cb_t cb, void *arg,
                         uct_mp_netlink_result_t *result, char *errmsg,
                         size_t errmsg_len)
{
    return uct_mp::parse(buf, buf_len, cb, arg, result, errmsg, errmsg_len);
}

size_t uct_mp_netlink_pack_dump(void *buf, size_t buf_len, uint32_t seq)
{
    return uct_mp::pack_dump(buf, buf_len, seq);
}

} // extern "C"
