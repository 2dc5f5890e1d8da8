/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lane locality from the hwloc topology (docs/DESIGN.md 12): ranks lane
 * devices by their distance to the process binding or to a reference I/O
 * device (a GPU), nearest first. Narrow C facade over mp_topo.cc; hwloc
 * types stay behind it (cpusets are hwloc list strings, "0-7,16-23").
 */

#ifndef UCT_MP_TOPO_H_
#define UCT_MP_TOPO_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UCX_MP_RC_LOCALITY */
typedef enum {
    UCT_MP_LOCALITY_NEAR,   /* only the devices of the nearest class */
    UCT_MP_LOCALITY_ALL,    /* every device, nearest first */
    UCT_MP_LOCALITY_IGNORE, /* configured order, hwloc not loaded */
    UCT_MP_LOCALITY_LAST
} uct_mp_locality_t;

/* Distance class of a device, nearest first */
typedef enum {
    UCT_MP_TOPO_SWITCH,      /* behind the reference device's PCIe switch */
    UCT_MP_TOPO_HOST_BRIDGE, /* on the reference device's host bridge */
    UCT_MP_TOPO_NUMA,        /* local to a NUMA node of the reference */
    UCT_MP_TOPO_PACKAGE,     /* local to a package of the reference */
    UCT_MP_TOPO_MACHINE,     /* attached above the packages, covering the
                                reference: hwloc cannot say which is nearer */
    UCT_MP_TOPO_REMOTE,      /* local to other packages only */
    UCT_MP_TOPO_EQUAL,       /* placed, but every placed device is local to
                                the same CPUs: hwloc was not needed to order
                                them (uct_mp_topo_rank_lanes only) */
    UCT_MP_TOPO_UNKNOWN,     /* hwloc cannot place it (rxe, veth, no PCI) */
    UCT_MP_TOPO_CLASS_LAST
} uct_mp_topo_class_t;

typedef struct uct_mp_topo uct_mp_topo_t;

/* One lane device */
typedef struct {
    const char *name;  /* "mlx5_0:1", "eth1": an OS device of the topology
                          (the port suffix is ignored) */
    const char *busid; /* PCI bus id "0000:81:00.0" of the device, or NULL */
} uct_mp_topo_dev_t;

/* What the devices are ranked against */
typedef struct {
    const char *cpuset;     /* hwloc list string; NULL: the binding of this
                               process, or its last CPU when unbound (only for
                               the topology of this system) */
    int        last_cpu;    /* cpuset is an unbound process's last CPU: rank
                               by it, but never filter (it may migrate) */
    const char *ref_device; /* an I/O device (OS device name or PCI bus id)
                               to rank against instead of CPUs; NULL: none */
} uct_mp_topo_ref_t;

/* Rank of one device */
typedef struct {
    uct_mp_topo_class_t cls;
    unsigned            order; /* position among kept devices, 0 = primary */
    int                 keep;  /* 0: dropped by LOCALITY=near */
} uct_mp_topo_rank_t;

/* What rank() used, for the log */
typedef struct {
    char cpuset[128];          /* the cpuset ranked against */
    int  last_cpu;             /* it was the last CPU of an unbound process */
    int  filtered;             /* near dropped devices */
} uct_mp_topo_info_t;


/* Load an XML topology (I/O objects kept). NULL and errbuf on error. */
uct_mp_topo_t *uct_mp_topo_load_xml(const char *path, char *errbuf,
                                    size_t max);

/*
 * This system's topology, loaded once per process without I/O objects and
 * caches (devices are placed through their sysfs PCI locality). NULL and
 * errbuf when hwloc fails; the failure is cached too.
 */
const uct_mp_topo_t *uct_mp_topo_this_system(char *errbuf, size_t max);

void uct_mp_topo_destroy(uct_mp_topo_t *topo);

/*
 * Rank devs[0..count-1] (given in configured order) into ranks[]. Sort key:
 * class; then first device of each PCI card before second ports and
 * functions of a card (two HCAs beat two ports of one); then configured
 * order. UNKNOWN devices come after every placed one, in configured order.
 * near keeps the best class of the placed devices (all devices when none is
 * placed, or when ref->last_cpu). 0 on success, else -1 and errbuf.
 */
int uct_mp_topo_rank(const uct_mp_topo_t *topo, const uct_mp_topo_ref_t *ref,
                     uct_mp_locality_t locality, const uct_mp_topo_dev_t *devs,
                     unsigned count, uct_mp_topo_rank_t *ranks,
                     uct_mp_topo_info_t *info, char *errbuf, size_t max);

/*
 * PCI bus id of a lane device on this system from sysfs: /sys/class/
 * infiniband/<dev>/device (rxe: its parent netdev's), else /sys/class/net/
 * <dev>/device, the nearest PCI device above it. 0 and busid, or -1.
 */
int uct_mp_topo_sysfs_busid(const char *dev_name, char *busid, size_t max);

/*
 * Rank lane devices of this system against this process's binding: their
 * PCI bus ids from sysfs, then uct_mp_topo_rank() on this system's topology.
 * When no device has a PCI bus id, hwloc is not loaded and every device is
 * UNKNOWN in configured order (returns 1). When all that have one are local
 * to the same CPUs, hwloc is not loaded either: they are EQUAL, ordered by
 * card and configured order, and an unbound process is one whose affinity
 * covers every online CPU. 0 on success, -1 and errbuf.
 */
int uct_mp_topo_rank_lanes(const char *const *names, unsigned count,
                           uct_mp_locality_t locality,
                           uct_mp_topo_rank_t *ranks, uct_mp_topo_info_t *info,
                           char *errbuf, size_t max);

const char *uct_mp_topo_class_str(uct_mp_topo_class_t cls);

#ifdef __cplusplus
}
#endif

#endif
