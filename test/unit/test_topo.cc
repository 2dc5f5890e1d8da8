/**
 * Copyright (C) uct_mp contributors 2026. ALL RIGHTS RESERVED.
 * See file LICENSE for terms.
 *
 * Unit tests of lane ranking by hwloc topology over the real machine
 * topologies in test/data/hwloc (README.md there says where each came from).
 * Expected orders were derived by reading each XML with
 * `lstopo --input FILE --of console`.
 */

#include "mp_topo.h"

#include <gtest/gtest.h>
#include <hwloc.h>

#include <dirent.h>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string xml_path(const std::string &file) {
    return std::string(UCT_MP_TEST_DATA_DIR) + "/hwloc/" + file;
}

/* cpuset (list string) of the index-th object of a type, read with hwloc */
std::string cpuset_of(const std::string &file, hwloc_obj_type_t type,
                      unsigned index) {
    hwloc_topology_t t;
    char buf[512] = "";

    EXPECT_EQ(0, hwloc_topology_init(&t));
    EXPECT_EQ(0, hwloc_topology_set_xml(t, xml_path(file).c_str()));
    EXPECT_EQ(0, hwloc_topology_load(t));
    hwloc_obj_t obj = hwloc_get_obj_by_type(t, type, index);
    EXPECT_TRUE(obj != NULL) << file << " has no object " << index;
    if (obj != NULL) {
        hwloc_bitmap_list_snprintf(buf, sizeof(buf), obj->cpuset);
    }
    hwloc_topology_destroy(t);
    return buf;
}

std::string package(const std::string &file, unsigned index) {
    return cpuset_of(file, HWLOC_OBJ_PACKAGE, index);
}

std::string numa(const std::string &file, unsigned index) {
    return cpuset_of(file, HWLOC_OBJ_NUMANODE, index);
}

typedef std::vector<std::string> names_t;

struct result {
    names_t                          order;   /* kept devices, nearest first */
    std::vector<uct_mp_topo_class_t> classes; /* of order[i] */
    names_t                          dropped; /* by near */
    uct_mp_topo_info_t               info;
};

class topo : public ::testing::Test {
protected:
    void TearDown() override {
        uct_mp_topo_destroy(m_topo);
    }

    void load(const std::string &file) {
        char err[256] = "";

        uct_mp_topo_destroy(m_topo);
        m_topo = uct_mp_topo_load_xml(xml_path(file).c_str(), err, sizeof(err));
        ASSERT_TRUE(m_topo != NULL) << err;
    }

    result rank(const names_t &devs, const std::string &cpuset,
                uct_mp_locality_t locality = UCT_MP_LOCALITY_ALL,
                const char *ref_device = NULL, int last_cpu = 0) {
        std::vector<uct_mp_topo_dev_t> in(devs.size());
        std::vector<uct_mp_topo_rank_t> ranks(devs.size());
        uct_mp_topo_ref_t ref = {cpuset.c_str(), last_cpu, ref_device};
        char err[256]         = "";
        result res;

        for (size_t i = 0; i < devs.size(); ++i) {
            in[i].name  = devs[i].c_str();
            in[i].busid = NULL;
        }
        EXPECT_EQ(0, uct_mp_topo_rank(m_topo, &ref, locality, in.data(),
                                      in.size(), ranks.data(), &res.info, err,
                                      sizeof(err))) << err;
        res.order.resize(devs.size());
        res.classes.resize(devs.size());
        size_t kept = 0;
        for (size_t i = 0; i < devs.size(); ++i) {
            kept += ranks[i].keep;
        }
        for (size_t i = 0; i < devs.size(); ++i) {
            EXPECT_LT(ranks[i].order, devs.size());
            EXPECT_EQ(!!ranks[i].keep, ranks[i].order < kept) << devs[i];
            res.order[ranks[i].order]   = devs[i];
            res.classes[ranks[i].order] = ranks[i].cls;
        }
        res.dropped.assign(res.order.begin() + kept, res.order.end());
        res.order.resize(kept);
        res.classes.resize(kept);
        return res;
    }

    uct_mp_topo_t *m_topo = NULL;
};

const uct_mp_topo_class_t SWITCH  = UCT_MP_TOPO_SWITCH;
const uct_mp_topo_class_t HB      = UCT_MP_TOPO_HOST_BRIDGE;
const uct_mp_topo_class_t NUMA    = UCT_MP_TOPO_NUMA;
const uct_mp_topo_class_t MACHINE = UCT_MP_TOPO_MACHINE;
const uct_mp_topo_class_t REMOTE  = UCT_MP_TOPO_REMOTE;
const uct_mp_topo_class_t UNKNOWN = UCT_MP_TOPO_UNKNOWN;

typedef std::vector<uct_mp_topo_class_t> classes_t;

} // namespace

/*
 * 16intel64-manyVFs: package 0 has eth0/eth1 (one card, 02:00.0/.1), eth4
 * (0b:00.0) and eth5 (0c:00.0); package 1 has eth6 (88:00.0), eth7 (89:00.0).
 */
TEST_F(topo, many_vfs_each_package) {
    const std::string f = "16intel64-manyVFs.xml";
    const names_t devs  = {"eth0", "eth1", "eth4", "eth5", "eth6", "eth7"};

    load(f);
    result r = rank(devs, package(f, 0));
    EXPECT_EQ(names_t({"eth0", "eth4", "eth5", "eth1", "eth6", "eth7"}),
              r.order);
    EXPECT_EQ(classes_t({NUMA, NUMA, NUMA, NUMA, REMOTE, REMOTE}), r.classes);

    r = rank(devs, package(f, 1));
    EXPECT_EQ(names_t({"eth6", "eth7", "eth0", "eth4", "eth5", "eth1"}),
              r.order);

    r = rank(devs, package(f, 1), UCT_MP_LOCALITY_NEAR);
    EXPECT_EQ(names_t({"eth6", "eth7"}), r.order);
    EXPECT_EQ(names_t({"eth0", "eth4", "eth5", "eth1"}), r.dropped);
    EXPECT_TRUE(r.info.filtered);
}

/* rc lane names carry a port; the OpenFabrics OS devices are found */
TEST_F(topo, many_vfs_rc_ports_each_numa_node) {
    const std::string f = "16intel64-manyVFs.xml";
    const names_t devs  = {"usnic_0:1", "usnic_1:1", "usnic_2:1"};

    load(f);
    EXPECT_EQ(devs, rank(devs, numa(f, 0)).order);
    EXPECT_EQ(names_t({"usnic_2:1", "usnic_0:1", "usnic_1:1"}),
              rank(devs, numa(f, 1)).order);
    EXPECT_EQ(names_t({"usnic_2:1"}),
              rank(devs, numa(f, 1), UCT_MP_LOCALITY_NEAR).order);
}

/* 24em64t: every NIC on package 0; near never leaves zero devices */
TEST_F(topo, nics_only_on_the_other_package) {
    const std::string f = "24em64t-2n6c2t-pci.xml";
    const names_t devs  = {"eth0", "eth1", "mlx4_0:1"};

    load(f);
    result r = rank(devs, numa(f, 1), UCT_MP_LOCALITY_NEAR);
    EXPECT_EQ(names_t({"eth0", "mlx4_0:1", "eth1"}), r.order);
    EXPECT_EQ(classes_t({REMOTE, REMOTE, REMOTE}), r.classes);
    EXPECT_FALSE(r.info.filtered);

    r = rank(devs, package(f, 0), UCT_MP_LOCALITY_NEAR);
    EXPECT_EQ(classes_t({NUMA, NUMA, NUMA}), r.classes);
}

/*
 * 32em64t normalio / wholeio: mlx5_0 (ib0) and eth0/eth1 on NUMA node 1. A
 * device hwloc cannot place (rxe0) goes after every placed device, and near
 * drops it while a placed device qualifies.
 */
TEST_F(topo, unplaceable_device_after_placed_ones) {
    const names_t devs = {"rxe0:1", "eth0", "mlx5_0:1", "eth1"};

    for (const char *f : {"32em64t-2n8c2t-pci-normalio.xml",
                          "32em64t-2n8c2t-pci-wholeio.xml"}) {
        load(f);
        result r = rank(devs, numa(f, 1));
        EXPECT_EQ(names_t({"eth0", "mlx5_0:1", "eth1", "rxe0:1"}), r.order)
                << f;
        EXPECT_EQ(classes_t({NUMA, NUMA, NUMA, UNKNOWN}), r.classes) << f;

        r = rank(devs, numa(f, 0), UCT_MP_LOCALITY_NEAR);
        EXPECT_EQ(names_t({"eth0", "mlx5_0:1", "eth1"}), r.order) << f;
        EXPECT_EQ(names_t({"rxe0:1"}), r.dropped) << f;
    }
}

/* No PCI objects (lstopo --no-io of normalio): configured order, near keeps all */
TEST_F(topo, topology_without_pci_keeps_configured_order) {
    const std::string f = "32em64t-2n8c2t-pci-noio.xml";
    const names_t devs  = {"mlx5_0:1", "eth1", "eth0"};

    load(f);
    for (unsigned node = 0; node < 2; ++node) {
        result r = rank(devs, numa(f, node), UCT_MP_LOCALITY_NEAR);
        EXPECT_EQ(devs, r.order);
        EXPECT_EQ(classes_t({UNKNOWN, UNKNOWN, UNKNOWN}), r.classes);
    }
}

/*
 * 8em64t (no nodesets): one NUMA node, every device above the packages; ib0
 * and ib1 are two ports of one mlx4_0 (0a:00.0): the second port goes after
 * the other cards (openucx/ucx#9520: two HCAs beat two ports of one).
 */
TEST_F(topo, second_port_of_a_card_after_other_cards) {
    const std::string f = "8em64t-2p2ca2co-nonodesets.v1tov2.xml";
    const names_t devs  = {"ib0", "ib1", "eth0", "eth1"};

    load(f);
    for (unsigned pkg = 0; pkg < 2; ++pkg) {
        result r = rank(devs, package(f, pkg), UCT_MP_LOCALITY_NEAR);
        EXPECT_EQ(names_t({"ib0", "eth0", "eth1", "ib1"}), r.order);
        EXPECT_EQ(classes_t({NUMA, NUMA, NUMA, NUMA}), r.classes);
    }
}

/*
 * 192em64t: 24 packages in groups of 2; eth0/eth1 (one card) on package 0,
 * eth2..eth5 (two cards) on package 4, mlx4_0 (ib0) on package 6. Among
 * other packages, those sharing the binding's group come first.
 */
TEST_F(topo, group_of_packages_before_the_rest_of_the_machine) {
    const std::string f = "192em64t-12gr2n8c2t.xml";
    const names_t devs  = {"eth0", "eth1", "eth2", "eth3", "eth4", "eth5",
                           "ib0"};

    load(f);
    result r = rank(devs, package(f, 1));
    EXPECT_EQ(names_t({"eth0", "eth1", "eth2", "eth4", "ib0", "eth3", "eth5"}),
              r.order);
    EXPECT_EQ(classes_t(7, REMOTE), r.classes);

    r = rank(devs, package(f, 4));
    EXPECT_EQ(names_t({"eth2", "eth4", "eth3", "eth5", "eth0", "ib0", "eth1"}),
              r.order);

    r = rank(devs, numa(f, 6), UCT_MP_LOCALITY_NEAR);
    EXPECT_EQ(names_t({"ib0"}), r.order);
    EXPECT_EQ(6u, r.dropped.size());
}

/* aws-p4d: one EFA per host bridge, two host bridges per package */
TEST_F(topo, p4d_packages_and_gpu_host_bridges) {
    const std::string f = "aws-p4d.xml";
    const names_t devs  = {"rdmap16s27", "rdmap32s27", "rdmap144s27",
                           "rdmap160s27"};

    load(f);
    EXPECT_EQ(classes_t({NUMA, NUMA, REMOTE, REMOTE}),
              rank(devs, package(f, 0)).classes);
    EXPECT_EQ(names_t({"rdmap144s27", "rdmap160s27", "rdmap16s27",
                       "rdmap32s27"}), rank(devs, package(f, 1)).order);

    /* card4 (GPU 90:1c.0) shares host bridge 90 with rdmap144s27 */
    result r = rank(devs, "", UCT_MP_LOCALITY_ALL, "card4");
    EXPECT_EQ(names_t({"rdmap144s27", "rdmap160s27", "rdmap16s27",
                       "rdmap32s27"}), r.order);
    EXPECT_EQ(classes_t({HB, NUMA, REMOTE, REMOTE}), r.classes);

    r = rank(devs, "", UCT_MP_LOCALITY_NEAR, "0000:20:1d.0"); /* card3 */
    EXPECT_EQ(names_t({"rdmap32s27"}), r.order);
}

namespace {

/* aws-p5en: 4 PCIe switches, 2 per package, each with 4 EFAs and 2 GPUs */
struct p5en_switch {
    names_t efas;
    names_t gpus;
};

const std::vector<p5en_switch> p5en = {
    {{"rdmap85s0", "rdmap86s0", "rdmap87s0", "rdmap88s0"}, {"card1", "card2"}},
    {{"rdmap110s0", "rdmap111s0", "rdmap112s0", "rdmap113s0"},
     {"card3", "card4"}},
    {{"rdmap135s0", "rdmap136s0", "rdmap137s0", "rdmap138s0"},
     {"card5", "card6"}},
    {{"rdmap160s0", "rdmap161s0", "rdmap162s0", "rdmap163s0"},
     {"card7", "card8"}},
};

names_t p5en_efas(std::initializer_list<unsigned> switches) {
    names_t efas;

    for (unsigned s : switches) {
        efas.insert(efas.end(), p5en[s].efas.begin(), p5en[s].efas.end());
    }
    return efas;
}

} // namespace

TEST_F(topo, p5en_each_package) {
    const std::string f = "aws-p5en.xml";
    const names_t devs  = p5en_efas({0, 1, 2, 3});

    load(f);
    result r = rank(devs, package(f, 0));
    EXPECT_EQ(devs, r.order);
    EXPECT_EQ(classes_t(8, NUMA), classes_t(r.classes.begin(),
                                            r.classes.begin() + 8));
    EXPECT_EQ(classes_t(8, REMOTE), classes_t(r.classes.begin() + 8,
                                              r.classes.end()));

    r = rank(devs, package(f, 1), UCT_MP_LOCALITY_NEAR);
    EXPECT_EQ(p5en_efas({2, 3}), r.order);
    EXPECT_EQ(p5en_efas({0, 1}), r.dropped);
}

TEST_F(topo, p5en_each_gpu_switch) {
    const std::string f    = "aws-p5en.xml";
    const unsigned other[] = {1, 0, 3, 2}; /* same package, other switch */
    const names_t devs     = p5en_efas({0, 1, 2, 3});

    load(f);
    for (unsigned s = 0; s < 4; ++s) {
        const unsigned pkg0 = (s < 2) ? 2 : 0; /* first switch elsewhere */
        for (const std::string &gpu : p5en[s].gpus) {
            result r = rank(devs, "", UCT_MP_LOCALITY_ALL, gpu.c_str());
            EXPECT_EQ(p5en_efas({s, other[s], pkg0, pkg0 + 1}), r.order)
                    << gpu;
            EXPECT_EQ(classes_t({SWITCH, SWITCH, SWITCH, SWITCH, NUMA, NUMA,
                                 NUMA, NUMA, REMOTE, REMOTE, REMOTE, REMOTE,
                                 REMOTE, REMOTE, REMOTE, REMOTE}), r.classes)
                    << gpu;

            r = rank(devs, "", UCT_MP_LOCALITY_NEAR, gpu.c_str());
            EXPECT_EQ(p5en[s].efas, r.order) << gpu;
        }
    }
}

/* An unbound process ranks by its last CPU but near does not filter */
TEST_F(topo, last_cpu_of_unbound_process_ranks_but_never_filters) {
    const std::string f = "aws-p5en.xml";
    const names_t devs  = p5en_efas({0, 1, 2, 3});

    load(f);
    result r = rank(devs, "60", UCT_MP_LOCALITY_NEAR, NULL, 1);
    EXPECT_EQ(p5en_efas({2, 3, 0, 1}), r.order);
    EXPECT_TRUE(r.info.last_cpu);
    EXPECT_FALSE(r.info.filtered);
    EXPECT_STREQ("60", r.info.cpuset);
}

TEST_F(topo, errors_name_the_values) {
    uct_mp_topo_dev_t dev   = {"eth0", NULL};
    uct_mp_topo_rank_t rank;
    char err[256];

    load("16intel64-manyVFs.xml");
    uct_mp_topo_ref_t bad_cpuset = {"zz", 0, NULL};
    EXPECT_EQ(-1, uct_mp_topo_rank(m_topo, &bad_cpuset, UCT_MP_LOCALITY_ALL,
                                   &dev, 1, &rank, NULL, err, sizeof(err)));
    EXPECT_NE(std::string::npos, std::string(err).find("'zz'")) << err;

    uct_mp_topo_ref_t far_cpuset = {"1000", 0, NULL};
    EXPECT_EQ(-1, uct_mp_topo_rank(m_topo, &far_cpuset, UCT_MP_LOCALITY_ALL,
                                   &dev, 1, &rank, NULL, err, sizeof(err)));
    EXPECT_NE(std::string::npos, std::string(err).find("'1000'")) << err;

    uct_mp_topo_ref_t no_gpu = {NULL, 0, "card9"};
    EXPECT_EQ(-1, uct_mp_topo_rank(m_topo, &no_gpu, UCT_MP_LOCALITY_ALL, &dev,
                                   1, &rank, NULL, err, sizeof(err)));
    EXPECT_NE(std::string::npos, std::string(err).find("card9")) << err;

    /* the binding of this process means nothing in another machine's XML */
    uct_mp_topo_ref_t binding = {NULL, 0, NULL};
    EXPECT_EQ(-1, uct_mp_topo_rank(m_topo, &binding, UCT_MP_LOCALITY_ALL, &dev,
                                   1, &rank, NULL, err, sizeof(err)));

    char xml_err[256];
    EXPECT_TRUE(uct_mp_topo_load_xml("/nonexistent.xml", xml_err,
                                     sizeof(xml_err)) == NULL);
    EXPECT_NE(std::string::npos,
              std::string(xml_err).find("/nonexistent.xml")) << xml_err;
}

/*
 * This system: loaded once; a PCI device placed from its sysfs local_cpus
 * ranks local to its own CPUs; a virtual netdev has no PCI bus id.
 */
TEST(topo_this_system, sysfs_pci_device_and_binding) {
    char err[256] = "", busid[64];
    const uct_mp_topo_t *topo = uct_mp_topo_this_system(err, sizeof(err));

    ASSERT_TRUE(topo != NULL) << err;
    EXPECT_EQ(topo, uct_mp_topo_this_system(err, sizeof(err)));

    std::string pci;
    DIR *dir = opendir("/sys/bus/pci/devices");
    ASSERT_TRUE(dir != NULL) << "no /sys/bus/pci/devices on this host";
    for (struct dirent *d; (d = readdir(dir)) != NULL;) {
        if ((d->d_name[0] != '.') && pci.empty()) {
            pci = d->d_name;
        }
    }
    closedir(dir);
    ASSERT_FALSE(pci.empty()) << "this host has no PCI device to place";

    std::string local_cpus;
    std::ifstream(("/sys/bus/pci/devices/" + pci + "/local_cpulist").c_str())
            >> local_cpus;
    ASSERT_FALSE(local_cpus.empty()) << pci;

    uct_mp_topo_dev_t devs[] = {{"lo", NULL}, {"pcidev", pci.c_str()}};
    uct_mp_topo_rank_t ranks[2];
    uct_mp_topo_ref_t ref = {local_cpus.c_str(), 0, NULL};
    ASSERT_EQ(0, uct_mp_topo_rank(topo, &ref, UCT_MP_LOCALITY_ALL, devs, 2,
                                  ranks, NULL, err, sizeof(err))) << err;
    EXPECT_EQ(UCT_MP_TOPO_UNKNOWN, ranks[0].cls);
    EXPECT_EQ(UCT_MP_TOPO_NUMA, ranks[1].cls) << pci << " cpus " << local_cpus;
    EXPECT_EQ(0u, ranks[1].order);

    /* the binding of this test process */
    uct_mp_topo_ref_t binding = {NULL, 0, NULL};
    uct_mp_topo_info_t info;
    ASSERT_EQ(0, uct_mp_topo_rank(topo, &binding, UCT_MP_LOCALITY_NEAR, devs,
                                  2, ranks, &info, err, sizeof(err))) << err;
    EXPECT_NE(0, ranks[1].keep);
    EXPECT_NE('\0', info.cpuset[0]);

    EXPECT_EQ(-1, uct_mp_topo_sysfs_busid("lo", busid, sizeof(busid)));
    EXPECT_EQ(-1, uct_mp_topo_sysfs_busid("no_such_dev0:1", busid,
                                          sizeof(busid)));
}

/* Lane devices without a PCI device: configured order, hwloc not needed */
TEST(topo_this_system, lanes_without_pci_keep_configured_order) {
    const char *names[] = {"no_such_dev0:1", "lo", "no_such_dev1"};
    uct_mp_topo_rank_t ranks[3];
    uct_mp_topo_info_t info;
    char err[256] = "";

    ASSERT_EQ(1, uct_mp_topo_rank_lanes(names, 3, UCT_MP_LOCALITY_NEAR, ranks,
                                        &info, err, sizeof(err))) << err;
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(UCT_MP_TOPO_UNKNOWN, ranks[i].cls) << names[i];
        EXPECT_EQ(i, ranks[i].order) << names[i];
        EXPECT_NE(0, ranks[i].keep) << names[i];
    }
}

/*
 * Lane devices that all share one PCI locality (this host's netdev with a
 * PCI device, named twice): ordered without hwloc, second lane of the card
 * after the first, an unplaced device last.
 */
TEST(topo_this_system, lanes_of_one_locality_need_no_topology) {
    std::string netdev;
    char busid[64], err[256] = "";
    DIR *dir = opendir("/sys/class/net");

    ASSERT_TRUE(dir != NULL);
    for (struct dirent *d; (d = readdir(dir)) != NULL;) {
        if ((d->d_name[0] != '.') && netdev.empty() &&
            (uct_mp_topo_sysfs_busid(d->d_name, busid, sizeof(busid)) == 0)) {
            netdev = d->d_name;
        }
    }
    closedir(dir);
    ASSERT_FALSE(netdev.empty()) << "this host has no netdev on a PCI device";

    const char *names[] = {"lo", netdev.c_str(), netdev.c_str()};
    uct_mp_topo_rank_t ranks[3];
    uct_mp_topo_info_t info;
    ASSERT_EQ(0, uct_mp_topo_rank_lanes(names, 3, UCT_MP_LOCALITY_ALL, ranks,
                                        &info, err, sizeof(err))) << err;
    EXPECT_EQ(UCT_MP_TOPO_UNKNOWN, ranks[0].cls);
    EXPECT_EQ(2u, ranks[0].order);
    EXPECT_EQ(UCT_MP_TOPO_EQUAL, ranks[1].cls);
    EXPECT_EQ(0u, ranks[1].order);
    EXPECT_EQ(UCT_MP_TOPO_EQUAL, ranks[2].cls);
    EXPECT_EQ(1u, ranks[2].order);
    EXPECT_NE('\0', info.cpuset[0]) << netdev << " " << busid;
}
