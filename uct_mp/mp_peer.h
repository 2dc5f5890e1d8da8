/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Peers of an mp iface: the addresses it publishes and the ones it decodes
 * (src/mp_wire.h), and the tokens that name its endpoints on the wire.
 *
 * Addresses, MP protocol version 2 (UCP 1.13's v1 address format allows
 * 31-byte device and 63-byte iface addresses, and RDMA-CM private data leaves
 * mp 19 bytes in the client-server flow):
 *   device address  caps, lane transport, the primary lane's device address
 *   iface address   [lane devices][lane iface addresses], connect-to-iface
 *                   lanes only (all lanes connect at once)
 *   ep address      caps, lane transport, the ep's token, the primary lane's
 *                   ep address; the other lanes JOIN over the primary lane
 * Each decode logs the first malformed address at error level and returns
 * UCS_ERR_UNREACHABLE.
 */

#ifndef UCT_MP_PEER_H_
#define UCT_MP_PEER_H_

#include "mp_iface.h"

struct uct_mp_ep;

/* Pack the iface's own device, lane devices and iface addresses */
ucs_status_t uct_mp_peer_pack_addresses(uct_mp_iface_t *iface, uct_mp_md_t *md);

/* The distinct lengths of the local lanes' addresses of kind (device for
 * LANE_DEVS): what a peer's entries must have (same lane transport) */
unsigned uct_mp_peer_lane_lens(uct_mp_iface_t *iface, uct_mp_wire_kind_t kind,
                               uint8_t *lens);

/* Is dev_addr in the lane transport's own format (the connection manager's
 * address in UCP's client-server flow), not an mp address of any version? */
int uct_mp_peer_is_foreign_device(const uct_device_addr_t *dev_addr);

/* Decode and check a peer's address or key of kind whose length UCT does not
 * pass: its entries must have the lengths of the local lanes (nothing past
 * them is read); another version is refused by name */
ucs_status_t uct_mp_peer_unpack(uct_mp_iface_t *iface, const void *buf,
                                uct_mp_wire_kind_t kind, const char *what,
                                uct_mp_wire_t *msg);

ucs_status_t uct_mp_peer_unpack_device(uct_mp_iface_t *iface,
                                       const uct_device_addr_t *dev_addr,
                                       uct_mp_wire_t *dev);

/* [lane devices] at buf, then a message of kind after it */
ucs_status_t uct_mp_peer_unpack_lanes(uct_mp_iface_t *iface, const void *buf,
                                      uct_mp_wire_kind_t kind,
                                      uct_mp_wire_t *lanes, uct_mp_wire_t *msg);

/* Check the lane transport (and md indexes) of a decoded peer message */
ucs_status_t uct_mp_peer_check_lanes(uct_mp_iface_t *iface,
                                     const uct_mp_wire_t *msg,
                                     const char *what);

/* The first bad peer address at error level, later ones at debug level */
void uct_mp_peer_log_bad_addr(uct_mp_iface_t *iface, const char *what,
                              const char *errmsg);

/* Register ep under a new random token / unregister it / look one up */
ucs_status_t uct_mp_peer_add_ep(uct_mp_iface_t *iface, struct uct_mp_ep *ep,
                                uint32_t *token_p);
void uct_mp_peer_remove_ep(uct_mp_iface_t *iface, uint32_t token);
struct uct_mp_ep *uct_mp_peer_ep_by_token(uct_mp_iface_t *iface,
                                          uint32_t token);

#endif
