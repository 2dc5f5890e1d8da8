/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Lane locality from the hwloc topology: see mp_topo.h.
 */

#include "mp_topo.h"

#include <hwloc.h>
#include <hwloc/linux.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <limits.h>
#include <sched.h>
#include <unistd.h>

struct uct_mp_topo {
    hwloc_topology_t topology;
    bool             this_system; /* live: bindings can be queried */
    bool             has_io;      /* PCI objects loaded (XML topologies) */
};

namespace uct_mp {
namespace {

void set_error(char *errbuf, size_t max, const char *fmt, ...) {
    va_list ap;

    if ((errbuf == NULL) || (max == 0)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errbuf, max, fmt, ap);
    va_end(ap);
}

/* An hwloc bitmap that frees itself */
struct bitmap {
    hwloc_bitmap_t set;

    bitmap() : set(hwloc_bitmap_alloc()) {}
    bitmap(const bitmap &other) : set(hwloc_bitmap_dup(other.set)) {}
    bitmap &operator=(const bitmap &other) {
        hwloc_bitmap_copy(set, other.set);
        return *this;
    }
    ~bitmap() { hwloc_bitmap_free(set); }
};

/* Where one device (or the reference) sits */
struct place {
    bool        known = false;
    bitmap      cpus;          /* CPUs local to it */
    hwloc_obj_t io    = NULL;  /* its PCI object, when I/O is loaded */
    std::string card;          /* PCI domain:bus:device, "" unknown */
};

bool is_busid(const char *s) {
    unsigned domain, bus, dev, func;
    int n = 0;

    return (sscanf(s, "%4x:%2x:%2x.%1x%n", &domain, &bus, &dev, &func, &n) ==
            4) && (s[n] == '\0');
}

/* "0000:81:00.1" -> "0000:81:00" */
std::string card_of_busid(const std::string &busid) {
    return busid.substr(0, busid.rfind('.'));
}

hwloc_obj_t find_osdev(hwloc_topology_t topology, const std::string &name) {
    hwloc_obj_t obj = NULL;

    while ((obj = hwloc_get_next_osdev(topology, obj)) != NULL) {
        if ((obj->name != NULL) && (name == obj->name)) {
            return obj;
        }
    }
    return NULL;
}

/* The PCI device an I/O object belongs to (itself, or an ancestor) */
hwloc_obj_t pci_of(hwloc_obj_t obj) {
    while ((obj != NULL) && (obj->type == HWLOC_OBJ_OS_DEVICE)) {
        obj = obj->parent;
    }
    return ((obj != NULL) && (obj->type == HWLOC_OBJ_PCI_DEVICE)) ? obj : NULL;
}

void place_io_obj(const uct_mp_topo_t *topo, hwloc_obj_t obj, place *p) {
    hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topo->topology, obj);
    hwloc_obj_t pci      = pci_of(obj);
    char card[32];

    p->io = (pci != NULL) ? pci : obj;
    if ((ancestor == NULL) || (ancestor->cpuset == NULL) ||
        hwloc_bitmap_iszero(ancestor->cpuset)) {
        return;
    }
    hwloc_bitmap_copy(p->cpus.set, ancestor->cpuset);
    if (pci != NULL) {
        snprintf(card, sizeof(card), "%04x:%02x:%02x", pci->attr->pcidev.domain,
                 pci->attr->pcidev.bus, pci->attr->pcidev.dev);
        p->card = card;
    }
    p->known = true;
}

/* Without I/O objects: the PCI device's local CPUs as sysfs reports them */
void place_by_sysfs(const uct_mp_topo_t *topo, const char *busid, place *p) {
    std::string path = std::string("/sys/bus/pci/devices/") + busid +
                       "/local_cpus";

    if (hwloc_linux_read_path_as_cpumask(path.c_str(), p->cpus.set) != 0) {
        return;
    }
    hwloc_bitmap_and(p->cpus.set, p->cpus.set,
                     hwloc_topology_get_topology_cpuset(topo->topology));
    if (hwloc_bitmap_iszero(p->cpus.set)) {
        return;
    }
    p->card  = card_of_busid(busid);
    p->known = true;
}

/* name: an OS device ("mlx5_0" of "mlx5_0:1") or a PCI bus id */
place locate(const uct_mp_topo_t *topo, const char *name, const char *busid) {
    std::string os_name = name;
    hwloc_obj_t obj     = NULL;
    place p;

    os_name = os_name.substr(0, os_name.find(':'));
    if ((busid == NULL) && is_busid(name)) {
        busid = name;
    }

    if (topo->has_io) {
        obj = find_osdev(topo->topology, os_name);
        if ((obj == NULL) && (busid != NULL)) {
            obj = hwloc_get_pcidev_by_busidstring(topo->topology, busid);
        }
        if (obj != NULL) {
            place_io_obj(topo, obj, &p);
        }
    } else if ((busid != NULL) && topo->this_system) {
        place_by_sysfs(topo, busid, &p);
    }
    return p;
}

bool cpus_of_binding(const uct_mp_topo_t *topo, bitmap *cpus, bool *last_cpu,
                     char *errbuf, size_t max) {
    hwloc_topology_t t = topo->topology;

    if (!topo->this_system) {
        set_error(errbuf, max, "the binding of this process is not known in "
                  "a topology of another system");
        return false;
    }
    if ((hwloc_get_cpubind(t, cpus->set, HWLOC_CPUBIND_PROCESS) != 0) &&
        (hwloc_get_cpubind(t, cpus->set, HWLOC_CPUBIND_THREAD) != 0)) {
        set_error(errbuf, max, "hwloc_get_cpubind failed: %m");
        return false;
    }
    *last_cpu = hwloc_bitmap_isincluded(hwloc_topology_get_allowed_cpuset(t),
                                        cpus->set);
    if (*last_cpu &&
        (hwloc_get_last_cpu_location(t, cpus->set, HWLOC_CPUBIND_THREAD) !=
         0)) {
        set_error(errbuf, max, "hwloc_get_last_cpu_location failed: %m");
        return false;
    }
    return true;
}

/* What the devices are ranked against: CPUs, and maybe a PCI object */
bool reference(const uct_mp_topo_t *topo, const uct_mp_topo_ref_t *ref,
               place *r, bool *last_cpu, char *errbuf, size_t max) {
    const hwloc_const_bitmap_t all =
            hwloc_topology_get_topology_cpuset(topo->topology);

    *last_cpu = false;
    if (ref->ref_device != NULL) {
        *r = locate(topo, ref->ref_device, NULL);
        if (!r->known) {
            set_error(errbuf, max, "reference device %s is not in the "
                      "topology%s", ref->ref_device,
                      topo->has_io ? "" : " (loaded without I/O objects)");
            return false;
        }
        return true;
    }

    if (ref->cpuset == NULL) {
        if (!cpus_of_binding(topo, &r->cpus, last_cpu, errbuf, max)) {
            return false;
        }
    } else if (hwloc_bitmap_list_sscanf(r->cpus.set, ref->cpuset) != 0) {
        set_error(errbuf, max, "invalid cpuset '%s'", ref->cpuset);
        return false;
    } else {
        *last_cpu = !!ref->last_cpu;
    }

    hwloc_bitmap_and(r->cpus.set, r->cpus.set, all);
    if (hwloc_bitmap_iszero(r->cpus.set)) {
        set_error(errbuf, max, "cpuset '%s' has no CPU of the topology",
                  (ref->cpuset != NULL) ? ref->cpuset : "(binding)");
        return false;
    }
    r->known = true;
    return true;
}

/* Some object of this type covers the device and touches the reference */
bool local_to(hwloc_topology_t t, hwloc_obj_type_t type, const place &dev,
              const place &r) {
    hwloc_obj_t obj = NULL;

    while ((obj = hwloc_get_next_obj_by_type(t, type, obj)) != NULL) {
        if ((obj->cpuset != NULL) &&
            hwloc_bitmap_intersects(obj->cpuset, r.cpus.set) &&
            hwloc_bitmap_isincluded(dev.cpus.set, obj->cpuset)) {
            return true;
        }
    }
    return false;
}

uct_mp_topo_class_t classify(hwloc_topology_t t, const place &dev,
                             const place &r) {
    hwloc_obj_t common;

    if (!dev.known) {
        return UCT_MP_TOPO_UNKNOWN;
    }
    if ((r.io != NULL) && (dev.io != NULL)) {
        common = hwloc_get_common_ancestor_obj(t, r.io, dev.io);
        if ((common->type == HWLOC_OBJ_PCI_DEVICE) ||
            ((common->type == HWLOC_OBJ_BRIDGE) &&
             (common->attr->bridge.upstream_type ==
              HWLOC_OBJ_BRIDGE_PCI))) {
            return UCT_MP_TOPO_SWITCH;
        }
        if (common->type == HWLOC_OBJ_BRIDGE) {
            return UCT_MP_TOPO_HOST_BRIDGE;
        }
    }
    if (local_to(t, HWLOC_OBJ_NUMANODE, dev, r)) {
        return UCT_MP_TOPO_NUMA;
    }
    if (local_to(t, HWLOC_OBJ_PACKAGE, dev, r)) {
        return UCT_MP_TOPO_PACKAGE;
    }
    return hwloc_bitmap_intersects(dev.cpus.set, r.cpus.set) ?
           UCT_MP_TOPO_MACHINE : UCT_MP_TOPO_REMOTE;
}

/*
 * Among devices of other packages: depth of the smallest object that holds
 * both the device and the reference (a Group of packages before the machine)
 */
int shared_depth(hwloc_topology_t t, const place &dev, const place &r) {
    hwloc_obj_t a = hwloc_get_obj_covering_cpuset(t, dev.cpus.set);
    hwloc_obj_t b = hwloc_get_obj_covering_cpuset(t, r.cpus.set);

    if ((a == NULL) || (b == NULL)) {
        return 0;
    }
    return hwloc_get_common_ancestor_obj(t, a, b)->depth;
}

struct entry {
    unsigned            index;  /* configured order */
    uct_mp_topo_class_t cls;
    int                 depth;  /* larger: nearer, within the class */
    unsigned            spread; /* earlier devices of the class on its card */
};

bool nearer(const entry &a, const entry &b) {
    if (a.cls != b.cls) {
        return a.cls < b.cls;
    }
    if (a.depth != b.depth) {
        return a.depth > b.depth;
    }
    if (a.spread != b.spread) {
        return a.spread < b.spread;
    }
    return a.index < b.index;
}

/* Second ports and functions of a card after the other cards of the class */
void sort_entries(std::vector<entry> *entries,
                  const std::vector<std::string> &cards) {
    for (entry &e : *entries) {
        e.spread = 0;
        for (unsigned j = 0; j < e.index; ++j) {
            if (!cards[e.index].empty() && (cards[j] == cards[e.index]) &&
                ((*entries)[j].cls == e.cls)) {
                ++e.spread;
            }
        }
    }
    std::stable_sort(entries->begin(), entries->end(), nearer);
}

std::vector<entry> rank_entries(const uct_mp_topo_t *topo, const place &r,
                                const uct_mp_topo_dev_t *devs,
                                unsigned count) {
    std::vector<std::string> cards;
    std::vector<entry> entries;

    for (unsigned i = 0; i < count; ++i) {
        place p = locate(topo, devs[i].name, devs[i].busid);
        entry e;
        e.index = i;
        e.cls   = classify(topo->topology, p, r);
        e.depth = (e.cls >= UCT_MP_TOPO_MACHINE) && p.known ?
                  shared_depth(topo->topology, p, r) : 0;
        entries.push_back(e);
        cards.push_back(p.card);
    }

    sort_entries(&entries, cards);
    return entries;
}

/* ranks[] from sorted entries; true when near dropped some */
bool assign(const std::vector<entry> &entries, uct_mp_locality_t locality,
            bool last_cpu, uct_mp_topo_rank_t *ranks) {
    uct_mp_topo_class_t best = entries.empty() ? UCT_MP_TOPO_UNKNOWN :
                               entries.front().cls;
    bool filter = (locality == UCT_MP_LOCALITY_NEAR) && !last_cpu &&
                  (best != UCT_MP_TOPO_UNKNOWN);
    unsigned order = 0;

    for (const entry &e : entries) { /* kept devices first, then dropped */
        ranks[e.index].cls  = e.cls;
        ranks[e.index].keep = !filter || (e.cls == best);
        if (ranks[e.index].keep) {
            ranks[e.index].order = order++;
        }
    }
    for (const entry &e : entries) {
        if (!ranks[e.index].keep) {
            ranks[e.index].order = order++;
        }
    }
    return filter && (entries.back().cls != best);
}

int rank(const uct_mp_topo_t *topo, const uct_mp_topo_ref_t *ref,
         uct_mp_locality_t locality, const uct_mp_topo_dev_t *devs,
         unsigned count, uct_mp_topo_rank_t *ranks, uct_mp_topo_info_t *info,
         char *errbuf, size_t max) {
    bool last_cpu, filtered;
    place r;

    if (!reference(topo, ref, &r, &last_cpu, errbuf, max)) {
        return -1;
    }

    filtered = assign(rank_entries(topo, r, devs, count), locality, last_cpu,
                      ranks);
    if (info != NULL) {
        hwloc_bitmap_list_snprintf(info->cpuset, sizeof(info->cpuset),
                                   r.cpus.set);
        info->last_cpu = last_cpu;
        info->filtered = filtered;
    }
    return 0;
}

bool api_matches(char *errbuf, size_t max) {
    if ((hwloc_get_api_version() >> 16) != (HWLOC_API_VERSION >> 16)) {
        set_error(errbuf, max, "hwloc library API 0x%x does not match the "
                  "headers' 0x%x", hwloc_get_api_version(), HWLOC_API_VERSION);
        return false;
    }
    return true;
}

uct_mp_topo_t *load(const char *xml, char *errbuf, size_t max) {
    std::unique_ptr<uct_mp_topo_t> topo(new uct_mp_topo_t());
    hwloc_topology_t t;

    if (!api_matches(errbuf, max)) {
        return NULL;
    }
    if (hwloc_topology_init(&t) != 0) {
        set_error(errbuf, max, "hwloc_topology_init failed: %m");
        return NULL;
    }
    topo->topology = t;
    /* CPU locality needs neither caches nor, on this system, I/O objects */
    hwloc_topology_set_cache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
    if (xml != NULL) {
        hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL);
        if (hwloc_topology_set_xml(t, xml) != 0) {
            set_error(errbuf, max, "cannot read XML topology %s: %m", xml);
            hwloc_topology_destroy(t);
            return NULL;
        }
    } else {
        /* the linux backend alone gives CPUs, packages and NUMA nodes;
         * cpuid (x86) and the I/O discoveries only cost start-up time */
        hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
        for (const char *name : {"x86", "pci", "opencl", "gl"}) {
            hwloc_topology_set_components(
                    t, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, name);
        }
    }
    if (hwloc_topology_load(t) != 0) {
        set_error(errbuf, max, "hwloc_topology_load(%s) failed: %m",
                  (xml != NULL) ? xml : "this system");
        hwloc_topology_destroy(t);
        return NULL;
    }
    topo->this_system = hwloc_topology_is_thissystem(t);
    topo->has_io      = (hwloc_get_next_pcidev(t, NULL) != NULL);
    return topo.release();
}

/* The first PCI device in a sysfs device path, from its end */
bool busid_in_path(const std::string &path, char *busid, size_t max) {
    size_t end = path.size(), begin;
    std::string comp;

    while (end > 0) {
        begin = path.rfind('/', end - 1);
        begin = (begin == std::string::npos) ? 0 : begin + 1;
        comp  = path.substr(begin, end - begin);
        if (is_busid(comp.c_str())) {
            snprintf(busid, max, "%s", comp.c_str());
            return true;
        }
        end = (begin > 0) ? begin - 1 : 0;
    }
    return false;
}

bool busid_of_link(const std::string &link, char *busid, size_t max) {
    char resolved[PATH_MAX];

    return (realpath(link.c_str(), resolved) != NULL) &&
           busid_in_path(resolved, busid, max);
}

int sysfs_busid(const char *dev_name, char *busid, size_t max) {
    std::string name = dev_name;
    std::string ib   = "/sys/class/infiniband/" + name.substr(0,
                                                              name.find(':'));
    char parent[64] = "";
    FILE *f;

    if (busid_of_link(ib + "/device", busid, max)) {
        return 0;
    }
    /* Soft-RoCE: the netdev it runs over */
    f = fopen((ib + "/parent").c_str(), "r");
    if (f != NULL) {
        if (fscanf(f, "%63s", parent) == 1) {
            name = parent;
        }
        fclose(f);
    }
    return busid_of_link("/sys/class/net/" + name + "/device", busid, max) ?
           0 : -1;
}

const uct_mp_topo_t *this_system(char *errbuf, size_t max) {
    static std::once_flag once;
    static uct_mp_topo_t *topo;
    static char error[256];

    std::call_once(once, [] { topo = load(NULL, error, sizeof(error)); });
    if (topo == NULL) {
        set_error(errbuf, max, "%s", error);
    }
    return topo;
}

/*
 * Without loading hwloc: when every device with a PCI bus id has the same
 * sysfs local_cpus, no distance class can tell them apart, so the order is
 * cards, then configured order (most hosts: one NUMA node, or all NICs on
 * one). false when the topology is needed.
 */
bool rank_same_locality(const std::vector<uct_mp_topo_dev_t> &devs,
                        uct_mp_locality_t locality, uct_mp_topo_rank_t *ranks,
                        uct_mp_topo_info_t *info) {
    std::vector<std::string> cards;
    std::vector<entry> entries;
    bitmap first, cpus;
    bool any = false;
    cpu_set_t bound;

    for (unsigned i = 0; i < devs.size(); ++i) {
        entry e = {i, UCT_MP_TOPO_UNKNOWN, 0, 0};
        cards.push_back("");
        if (devs[i].busid != NULL) {
            std::string path = std::string("/sys/bus/pci/devices/") +
                               devs[i].busid + "/local_cpus";
            if (hwloc_linux_read_path_as_cpumask(path.c_str(), cpus.set) ||
                (any && !hwloc_bitmap_isequal(first.set, cpus.set))) {
                return false;
            }
            first    = cpus;
            any      = true;
            e.cls    = UCT_MP_TOPO_EQUAL;
            cards[i] = card_of_busid(devs[i].busid);
        }
        entries.push_back(e);
    }

    sort_entries(&entries, cards);
    CPU_ZERO(&bound);
    info->last_cpu = (sched_getaffinity(0, sizeof(bound), &bound) != 0) ||
                     (CPU_COUNT(&bound) >= sysconf(_SC_NPROCESSORS_ONLN));
    info->filtered = assign(entries, locality, info->last_cpu, ranks);
    hwloc_bitmap_list_snprintf(info->cpuset, sizeof(info->cpuset), first.set);
    return true;
}

int rank_lanes(const char *const *names, unsigned count,
               uct_mp_locality_t locality, uct_mp_topo_rank_t *ranks,
               uct_mp_topo_info_t *info, char *errbuf, size_t max) {
    std::vector<uct_mp_topo_dev_t> devs(count);
    std::vector<std::string> busids(count);
    const uct_mp_topo_ref_t ref = {NULL, 0, NULL};
    const uct_mp_topo_t *topo;
    bool any_pci = false;
    char busid[64];

    memset(info, 0, sizeof(*info));
    for (unsigned i = 0; i < count; ++i) {
        devs[i].name  = names[i];
        devs[i].busid = NULL;
        if (sysfs_busid(names[i], busid, sizeof(busid)) == 0) {
            busids[i]     = busid;
            devs[i].busid = busids[i].c_str();
            any_pci       = true;
        }
        ranks[i].cls   = UCT_MP_TOPO_UNKNOWN;
        ranks[i].order = i;
        ranks[i].keep  = 1;
    }

    if (!any_pci) {
        return 1; /* hwloc would place none of them */
    }
    if (rank_same_locality(devs, locality, ranks, info)) {
        return 0;
    }

    topo = this_system(errbuf, max);
    if (topo == NULL) {
        return -1;
    }
    return rank(topo, &ref, locality, devs.data(), count, ranks, info, errbuf,
                max);
}

} // namespace
} // namespace uct_mp

extern "C" {

/* The facade never throws: std::bad_alloc becomes an error */
#define UCT_MP_TOPO_NOTHROW(_expr, _fail) \
    try { \
        return _expr; \
    } catch (...) { \
        uct_mp::set_error(errbuf, max, "out of memory"); \
        return _fail; \
    }

uct_mp_topo_t *uct_mp_topo_load_xml(const char *path, char *errbuf,
                                    size_t max) {
    UCT_MP_TOPO_NOTHROW(uct_mp::load(path, errbuf, max), NULL);
}

const uct_mp_topo_t *uct_mp_topo_this_system(char *errbuf, size_t max) {
    UCT_MP_TOPO_NOTHROW(uct_mp::this_system(errbuf, max), NULL);
}

void uct_mp_topo_destroy(uct_mp_topo_t *topo) {
    if (topo != NULL) {
        hwloc_topology_destroy(topo->topology);
        delete topo;
    }
}

int uct_mp_topo_rank(const uct_mp_topo_t *topo, const uct_mp_topo_ref_t *ref,
                     uct_mp_locality_t locality, const uct_mp_topo_dev_t *devs,
                     unsigned count, uct_mp_topo_rank_t *ranks,
                     uct_mp_topo_info_t *info, char *errbuf, size_t max) {
    UCT_MP_TOPO_NOTHROW(uct_mp::rank(topo, ref, locality, devs, count, ranks,
                                     info, errbuf, max), -1);
}

int uct_mp_topo_sysfs_busid(const char *dev_name, char *busid, size_t max) {
    char *errbuf = NULL;

    UCT_MP_TOPO_NOTHROW(uct_mp::sysfs_busid(dev_name, busid, max), -1);
}

int uct_mp_topo_rank_lanes(const char *const *names, unsigned count,
                           uct_mp_locality_t locality,
                           uct_mp_topo_rank_t *ranks, uct_mp_topo_info_t *info,
                           char *errbuf, size_t max) {
    UCT_MP_TOPO_NOTHROW(uct_mp::rank_lanes(names, count, locality, ranks, info,
                                           errbuf, max), -1);
}

const char *uct_mp_topo_class_str(uct_mp_topo_class_t cls) {
    switch (cls) {
    case UCT_MP_TOPO_SWITCH:
        return "same PCIe switch";
    case UCT_MP_TOPO_HOST_BRIDGE:
        return "same host bridge";
    case UCT_MP_TOPO_NUMA:
        return "same NUMA node";
    case UCT_MP_TOPO_PACKAGE:
        return "same package";
    case UCT_MP_TOPO_MACHINE:
        return "machine-wide";
    case UCT_MP_TOPO_REMOTE:
        return "other package";
    case UCT_MP_TOPO_EQUAL:
        return "as near as the other placed lanes";
    case UCT_MP_TOPO_UNKNOWN:
    case UCT_MP_TOPO_CLASS_LAST:
        break;
    }
    return "unknown";
}

}
