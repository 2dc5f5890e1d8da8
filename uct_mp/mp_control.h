/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * The process's control socket (docs/DESIGN.md section 13): an AF_UNIX
 * SOCK_SEQPACKET socket CONTROL_DIR/<pid>.sock, open while an mp iface is,
 * that tools/uct_mp_ctl.c talks to. It is read from the progress of the
 * workers of the mp ifaces (at most once per millisecond, never blocking),
 * where endpoint state may be read and changed; requests of other users are
 * refused (SO_PEERCRED; root may).
 *
 * Requests are one packet of text: "status", "status json", "drain DEV
 * [DEV2]", "undrain DEV". Every reply packet starts with 'L' (text to print)
 * or 'E' followed by the exit code ('0' done, '1' error), the last one.
 */

#ifndef UCT_MP_CONTROL_H_
#define UCT_MP_CONTROL_H_

#include "mp_iface.h"

/* iface opened: the socket is created with the first one (dir: the
 * CONTROL_DIR value; "" disables it) */
void uct_mp_control_iface_add(uct_mp_iface_t *iface, const char *dir);

/* iface closes: the socket is removed with the last one */
void uct_mp_control_iface_remove(uct_mp_iface_t *iface);

#endif
