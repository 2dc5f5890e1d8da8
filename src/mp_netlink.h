/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * rtnetlink link messages: the parser of what an rtnetlink socket on the link
 * group delivers (RTM_NEWLINK, RTM_DELLINK, NLMSG_DONE, NLMSG_ERROR,
 * NLMSG_OVERRUN) and the writer of the link dump request (RTM_GETLINK) that
 * resynchronises after lost messages. Narrow C facade over mp_netlink.cc; the
 * socket itself stays in uct_mp/mp_link.c.
 *
 * The parser takes the bytes of one datagram as received and checks every
 * length against the buffer: message headers (nlmsg_len at least the header,
 * at most what is left), the ifinfomsg, every attribute (rta_len at least the
 * attribute header, at most what is left of its message) and the interface
 * name (1 to IFNAMSIZ bytes that hold a NUL). It never reads past buf_len and
 * reads the buffer at any alignment.
 */

#ifndef UCT_MP_NETLINK_H_
#define UCT_MP_NETLINK_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UCT_MP_NETLINK_NAME_MAX    16   /* IFNAMSIZ, NUL included */
#define UCT_MP_NETLINK_ERRMSG_MAX  160
#define UCT_MP_NETLINK_DUMP_LEN    32   /* bytes of the link dump request */

/* One link message */
typedef struct {
    int      ifindex;
    uint32_t flags;                         /* ifi_flags (IFF_*) */
    int      deleted;                       /* RTM_DELLINK */
    int      up;                            /* RTM_NEWLINK, IFF_UP and
                                               IFF_RUNNING */
    char     name[UCT_MP_NETLINK_NAME_MAX]; /* IFLA_IFNAME, NUL-terminated */
} uct_mp_netlink_link_t;

/* What one buffer held besides its links */
typedef struct {
    unsigned messages;   /* netlink messages whose header was read */
    unsigned links;      /* links given to the callback */
    unsigned ignored;    /* well-formed messages of other types, or links
                            without a name */
    unsigned malformed;  /* messages dropped: short body, bad attribute, name
                            without NUL */
    int      done;       /* NLMSG_DONE: the end of a dump */
    int      overrun;    /* NLMSG_OVERRUN: messages were lost */
    int      error;      /* first non-zero NLMSG_ERROR code (negative errno) */
    int      truncated;  /* the buffer ends inside a message, or a header
                            gives a length past the end or below its size */
    uint32_t truncated_seq; /* nlmsg_seq of that message (0: unknown) */
} uct_mp_netlink_result_t;

typedef void (*uct_mp_netlink_link_cb_t)(void *arg,
                                         const uct_mp_netlink_link_t *link);

/* Parse the buf_len bytes of one received datagram: call cb for every valid
 * link message, in order, and fill *result. Returns 0 if the whole buffer was
 * well-formed, -1 with errmsg set to the first problem otherwise (the links
 * before it, and after a dropped message, were still delivered). */
int uct_mp_netlink_parse(const void *buf, size_t buf_len,
                         uct_mp_netlink_link_cb_t cb, void *arg,
                         uct_mp_netlink_result_t *result, char *errmsg,
                         size_t errmsg_len);

/* Write an RTM_GETLINK dump request with sequence number seq (all links, no
 * VF details) into buf. Returns UCT_MP_NETLINK_DUMP_LEN, or 0 if buf_len is
 * smaller. */
size_t uct_mp_netlink_pack_dump(void *buf, size_t buf_len, uint32_t seq);

#ifdef __cplusplus
}
#endif

#endif
