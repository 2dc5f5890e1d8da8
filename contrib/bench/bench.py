#!/usr/bin/python3
"""contrib/bench/bench.py BUILDDIR : the uct_mp benchmark (make bench).

On the project's netns testbed (2 paths, tc tbf shaping) it runs ucx_perftest
UCP tag_bw, put_bw and tag_lat for:
  tcp-path1      stock UCX, UCX_TLS=tcp on path1 only
  tcp-path2      stock UCX on path2 only (the second single-lane reference)
  tcp-multirail  stock UCX multi-rail over both paths (MAX_RNDV_RAILS=2,
                 MAX_EAGER_RAILS=2)
  mp-<policy>    mp_rc with 2 tcp lanes, policy active_backup, load_balance,
                 efficiency
on equal (1gbit/1gbit) and unequal (1gbit/500mbit) links. Configurations
are interleaved (every configuration once per test and size, in rotating
order, then the next repetition) so that drift hits all alike; figures are
medians over BENCH_REPS repetitions and ratios are taken from medians of
the same run. Never fails because of numbers: a failed or timed-out run is
recorded as failed and the benchmark goes on.

Environment: BENCH_REPS (3), BENCH_SIZES (8,1024,65536,1048576,4194304),
BENCH_LAT_MAX (65536: tag_lat only up to this size), BENCH_SCENARIOS
(equal,unequal), BENCH_CONFIGS (all), BENCH_OUT (BUILDDIR/bench),
BENCH_QUICK=1 (sizes 65536,4194304, 1 repetition, equal links only).
Outputs: results.json, results.md, bandwidth.png in BENCH_OUT.
"""

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NETNS = os.path.join(SRCDIR, "contrib/testbed/mp-netns.sh")
PERF = os.path.join(SRCDIR, "contrib/testbed/perftest-ns.sh")

SCENARIOS = {"equal": ["1gbit", "1gbit"], "unequal": ["1gbit", "500mbit"]}


def env_list(name, default):
    value = os.environ.get(name, "")
    return [v for v in value.split(",") if v] if value else default


def configs(module):
    mp = {"LD_PRELOAD": module, "UCX_TLS": "mp_rc", "UCX_MP_RC_LANE_TL": "tcp",
          "UCX_MP_RC_DEVICES": "path1,path2"}
    all_cfgs = {
        "tcp-path1": {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "path1"},
        "tcp-path2": {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "path2"},
        "tcp-multirail": {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "path1,path2",
                          "UCX_MAX_RNDV_RAILS": "2", "UCX_MAX_EAGER_RAILS": "2"},
        "mp-active_backup": dict(mp, UCX_MP_RC_POLICY="active_backup"),
        "mp-load_balance": dict(mp, UCX_MP_RC_POLICY="load_balance"),
        "mp-efficiency": dict(mp, UCX_MP_RC_POLICY="efficiency"),
    }
    wanted = env_list("BENCH_CONFIGS", list(all_cfgs))
    return {k: v for k, v in all_cfgs.items() if k in wanted}


def iterations(test, size):
    """About 1-3 s per run on 1 Gbit/s links."""
    if test == "tag_lat":
        return 2000 if size <= 4096 else 500
    return int(max(20, min(20000, (192 << 20) // max(size, 1))))


def run_one(test, size, env):
    n = iterations(test, size)
    perftest_name = {"put_bw": "ucp_put_bw"}.get(test, test)
    args = [PERF, "-t", perftest_name, "-s", str(size), "-n", str(n),
            "-w", str(max(5, n // 10))]
    full_env = dict(os.environ, UCX_WARN_UNUSED_ENV_VARS="n", TO="60", **env)
    try:
        out = subprocess.run(args, env=full_env, capture_output=True, text=True,
                             timeout=90).stdout
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"^Final:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
                  out, re.M)
    if not m:
        return None
    # Final: iters, typical lat, avg lat, overall lat (usec), avg bw, overall bw (MB/s)
    return float(m.group(3)) if test == "tag_lat" else float(m.group(6))


def sh(*cmd):
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def main():
    builddir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else SRCDIR)
    module = os.path.join(builddir, ".libs/libuct_mp.so.0")
    if not os.path.exists(module):
        sys.exit("bench: %s not built" % module)
    out_dir = os.environ.get("BENCH_OUT", os.path.join(builddir, "bench"))
    os.makedirs(out_dir, exist_ok=True)
    os.environ["MP_NS_PREFIX"] = "mpb"

    quick = os.environ.get("BENCH_QUICK") == "1"
    reps = 1 if quick else int(os.environ.get("BENCH_REPS", "3"))
    sizes = [int(s) for s in env_list("BENCH_SIZES", ["65536", "4194304"] if quick else
                                      ["8", "1024", "65536", "1048576", "4194304"])]
    lat_max = int(os.environ.get("BENCH_LAT_MAX", "65536"))
    scenarios = ["equal"] if quick else env_list("BENCH_SCENARIOS", ["equal", "unequal"])
    cfgs = configs(module)
    tests = [(t, s) for t in ("tag_bw", "put_bw") for s in sizes] + \
            [("tag_lat", s) for s in sizes if s <= lat_max]

    total = reps * len(scenarios) * len(tests) * len(cfgs)
    print("bench: %d runs (%d scenarios x %d tests x %d configurations x %d "
          "repetitions), about %.0f min" % (total, len(scenarios), len(tests),
                                            len(cfgs), reps, total * 1.5 / 60),
          flush=True)

    samples = {}  # (scenario, config, test, size) -> [values]
    done, t0 = 0, time.time()
    sh(NETNS, "down")
    if subprocess.run([NETNS, "up", "2"], capture_output=True).returncode != 0:
        sys.exit("bench: testbed setup failed")
    try:
        for scenario in scenarios:
            sh(NETNS, "shape", *SCENARIOS[scenario])
            for rep in range(reps):
                for ti, (test, size) in enumerate(tests):
                    names = list(cfgs)
                    shift = (rep + ti) % len(names)       # rotate the order
                    for name in names[shift:] + names[:shift]:
                        value = run_one(test, size, cfgs[name])
                        samples.setdefault((scenario, name, test, size), []).append(value)
                        done += 1
                        elapsed = time.time() - t0
                        eta = elapsed / done * (total - done)
                        unit = "us" if test == "tag_lat" else "MB/s"
                        shown = "failed" if value is None else "%.2f %s" % (value, unit)
                        print("[%d/%d %3.0fs, eta %3.0fs] %-7s %-7s %8d %-16s rep %d: %s"
                              % (done, total, elapsed, eta, scenario, test, size,
                                 name, rep + 1, shown), flush=True)
    finally:
        sh(NETNS, "shape", "off")
        sh(NETNS, "down")

    results = []
    for (scenario, name, test, size), vals in sorted(samples.items()):
        ok = [v for v in vals if v is not None]
        results.append({
            "scenario": scenario, "links": SCENARIOS[scenario],
            "config": name, "test": test, "size": size,
            "unit": "usec" if test == "tag_lat" else "MB/s",
            "median": statistics.median(ok) if ok else None,
            "min": min(ok) if ok else None, "max": max(ok) if ok else None,
            "n": len(ok), "failed": len(vals) - len(ok)})

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "kernel": platform.release(),
            "ucx": subprocess.run(["ucx_info", "-v"], capture_output=True,
                                  text=True).stdout.splitlines()[0:1],
            "commit": subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--short",
                                      "HEAD"], capture_output=True,
                                     text=True).stdout.strip(),
            "rndv_thresh": os.environ.get("UCX_RNDV_THRESH", "auto"),
            "repetitions": reps, "sizes": sizes}
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)

    md = report(results, scenarios, cfgs, tests, meta)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(md)
    print(md)
    plot(results, scenarios, cfgs, out_dir)
    print("bench: results in %s/results.{json,md}, plot bandwidth.png" % out_dir)


def report(results, scenarios, cfgs, tests, meta):
    med = {(r["scenario"], r["config"], r["test"], r["size"]): r["median"]
           for r in results}

    def ratio(a, b):
        return "%.2f" % (a / b) if a and b else "-"

    lines = ["# uct_mp benchmark", "",
             "commit %s, %s, %s; medians of %d interleaved repetitions; "
             "bandwidth in MB/s (ucx_perftest overall), latency in usec "
             "(average one-way); UCX_RNDV_THRESH=%s." % (
                 meta["commit"], " ".join(meta["ucx"]), meta["date"],
                 meta["repetitions"], meta["rndv_thresh"]), ""]
    names = list(cfgs)
    for scenario in scenarios:
        for test in ("tag_bw", "put_bw", "tag_lat"):
            sizes = [s for (t, s) in tests if t == test]
            if not sizes:
                continue
            bw = test != "tag_lat"
            head = ["size"] + names
            if bw:
                head += ["lb/path1", "lb/multirail"]
                if scenario == "unequal":
                    head += ["lb/(path1+path2)"]
            else:
                head += ["lb/path1"]
            lines += ["## %s links (%s), %s" % (scenario, "/".join(SCENARIOS[scenario]), test),
                      "", "| " + " | ".join(head) + " |",
                      "|" + "---|" * len(head)]
            for s in sizes:
                row = [str(s)]
                for n in names:
                    v = med.get((scenario, n, test, s))
                    row.append("-" if v is None else ("%.1f" % v if bw else "%.2f" % v))
                lb = med.get((scenario, "mp-load_balance", test, s))
                p1 = med.get((scenario, "tcp-path1", test, s))
                if bw:
                    row.append(ratio(lb, p1))
                    row.append(ratio(lb, med.get((scenario, "tcp-multirail", test, s))))
                    if scenario == "unequal":
                        p2 = med.get((scenario, "tcp-path2", test, s))
                        row.append(ratio(lb, (p1 + p2) if p1 and p2 else None))
                else:
                    row.append(ratio(lb, p1))
                lines.append("| " + " | ".join(row) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"


def plot(results, scenarios, cfgs, out_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: python3-matplotlib missing, no plot")
        return
    tests = ("tag_bw", "put_bw")
    fig, axes = plt.subplots(len(scenarios), len(tests), squeeze=False,
                             figsize=(6 * len(tests), 4 * len(scenarios)))
    for i, scenario in enumerate(scenarios):
        for j, test in enumerate(tests):
            ax = axes[i][j]
            for name in cfgs:
                pts = sorted((r["size"], r["median"]) for r in results
                             if r["scenario"] == scenario and r["config"] == name
                             and r["test"] == test and r["median"] is not None)
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                            label=name)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("message size (bytes)")
            ax.set_ylabel("MB/s")
            ax.set_title("%s, %s links (%s)" % (test, scenario,
                                                 "/".join(SCENARIOS[scenario])))
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "bandwidth.png"), dpi=110)


if __name__ == "__main__":
    main()
