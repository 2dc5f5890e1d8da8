#!/usr/bin/python3
"""contrib/bench/small.py BUILDDIR : small/medium-message benchmark (make bench).

On the project's netns testbed (3 paths: path1 and path2 carry the data,
path3 the launchers and ucx_perftest's address exchange; tc tbf shaping) it
runs four sweeps (issue 17):
  lat    ucx_perftest UCP tag_lat, 1 B .. 64 KiB, 1gbit/1gbit
  mpi    MPI ping-pong (test/integration/mpi/mpi_pingpong, Open MPI, pml
         ucx), 1 B .. 64 KiB, 1gbit/1gbit
  rate   ucx_perftest UCP tag_bw 8 B message rate, 1gbit/1gbit
  eager  ucx_perftest UCP tag_bw 4 .. 64 KiB, UCX_RNDV_THRESH=inf (eager
         only), on 1gbit/1gbit and 1gbit/500mbit
for the configurations
  tcp-path1      stock UCX, UCX_TLS=tcp on path1 only (one lane)
  tcp-path2      stock UCX on path2 only (eager on 1gbit/500mbit only: the
                 second term of the sum of both lanes)
  tcp-multirail  stock UCX multi-rail over path1,path2, UCX_MAX_EAGER_RAILS=2
                 UCX_MAX_RNDV_RAILS=2
  mp-<policy>    mp_rc with 2 tcp lanes (UCX_MP_RC_LANE_TL=tcp, path1,path2)
MPI runs use UCX_TLS=tcp,self and mp_rc,self. Configurations are
interleaved (each point runs every configuration once, in an order that
rotates, then the next point; then the next repetition), so drift hits all
alike. Figures are medians over the repetitions; ratios are taken from the
medians of this run. Latency is the median one-way latency of each run
(ucx_perftest's "typical", its 50th percentile; mpi_pingpong's median half
round trip); bandwidth is ucx_perftest's overall MB/s, message rate its
overall msg/s. The targets of issue 17 are marked met or missed; nothing
fails because of numbers (a failed run is recorded as failed).

Environment: BENCH_QUICK=1 (a smoke run of every sweep, under a minute),
BENCH_SMALL_REPS (BENCH_REPS, else 5), BENCH_SMALL_SWEEPS (lat,mpi,rate,eager),
BENCH_SMALL_POLICY (load_balance), BENCH_SMALL_EAGER_THRESH (inf; "auto" lets
UCP choose rendezvous), BENCH_OUT (BUILDDIR/bench).
Outputs: small.json (meta, every sample, medians, targets), small.md and
small.png in BENCH_OUT.
"""

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True        # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import NETNS, PERF, SRCDIR, env_list, sh  # noqa: E402

MPIRUN = os.path.join(SRCDIR, "contrib/testbed/mpirun-ns.sh")
SCENARIOS = {"equal": ["1gbit", "1gbit"], "unequal": ["1gbit", "500mbit"]}
P1, P2, MR = "tcp-path1", "tcp-path2", "tcp-multirail"
SWEEPS = ["lat", "mpi", "rate", "eager"]
UNITS = {"lat": "usec", "mpi": "usec", "rate": "msg/s", "eager": "MB/s"}
TITLES = {"lat": "ucx_perftest tag_lat, median one-way latency",
          "mpi": "MPI ping-pong (Open MPI, pml ucx), median one-way latency",
          "rate": "ucx_perftest tag_bw 8 B, message rate",
          "eager": "ucx_perftest tag_bw, eager (UCX_RNDV_THRESH=%s)"}
BW_TARGET_SIZES = (8192, 16384, 32768)
COLORS = {P1: "tab:green", P2: "tab:red", MR: "tab:orange"}   # mp: tab:blue
MPI_SIZES = [1 << i for i in range(17)]   # mpi_pingpong's default 1 B .. 64 KiB


def configs(module, policy, mpi):
    """The configurations; MPI runs add 'self' for a rank's own messages."""
    tls = (lambda t: t + ",self") if mpi else (lambda t: t)
    return {
        P1: {"UCX_TLS": tls("tcp"), "UCX_NET_DEVICES": "path1"},
        P2: {"UCX_TLS": tls("tcp"), "UCX_NET_DEVICES": "path2"},
        MR: {"UCX_TLS": tls("tcp"), "UCX_NET_DEVICES": "path1,path2",
             "UCX_MAX_EAGER_RAILS": "2", "UCX_MAX_RNDV_RAILS": "2"},
        "mp-" + policy: {"LD_PRELOAD": module, "UCX_TLS": tls("mp_rc"),
                         "UCX_MP_RC_LANE_TL": "tcp",
                         "UCX_MP_RC_DEVICES": "path1,path2",
                         "UCX_MP_RC_POLICY": policy},
    }


def perf_iters(sweep, size, quick):
    """About 0.2-0.8 s of traffic per run on 1 Gbit/s links."""
    if sweep == "lat":
        n = 2000 if size <= 4096 else max(300, 2000 * 4096 // size)
        return n // 4 if quick else n
    if sweep == "rate":
        return 20000 if quick else 100000
    return max(200, ((24 if quick else 96) << 20) // size)


def run_perf(sweep, size, env, quick):
    """One ucx_perftest run: ({size: value}, its Final line) or (None, None)."""
    n = perf_iters(sweep, size, quick)
    test = "tag_lat" if sweep == "lat" else "tag_bw"
    args = [PERF, "-t", test, "-s", str(size), "-n", str(n),
            "-w", str(max(5, n // 10))]
    full_env = dict(os.environ, UCX_WARN_UNUSED_ENV_VARS="n", TO="60",
                    PERF_SERVER_ADDR="198.18.3.2", **env)
    try:
        out = subprocess.run(args, env=full_env, capture_output=True, text=True,
                             timeout=90).stdout
    except subprocess.TimeoutExpired:
        return None, None
    # Final: iters, typical (50th percentile) lat, avg lat, overall lat (usec),
    # avg bw, overall bw (MB/s), avg msgrate, overall msgrate
    m = re.search(r"^Final:\s+" + r"\s+".join([r"(\S+)"] * 8), out, re.M)
    if not m:
        return None, None
    col = {"lat": 2, "rate": 8, "eager": 6}[sweep]
    return {size: float(m.group(col))}, [float(v) for v in m.groups()]


def run_mpi(program, env, quick):
    """One mpi_pingpong run over all sizes: ({size: median usec}, {size:
    [median, avg, min, max]}) or (None, None)."""
    args = [MPIRUN, program, "--iters", "200" if quick else "1000",
            "--warmup", "20" if quick else "100"]
    full_env = dict(os.environ, UCX_WARN_UNUSED_ENV_VARS="n", TO="120",
                    MPI_OOB_IF="path3", **env)
    try:
        out = subprocess.run(args, env=full_env, capture_output=True, text=True,
                             timeout=150).stdout
    except subprocess.TimeoutExpired:
        return None, None
    if not re.search(r"^\d+ passed, 0 failed$", out, re.M):
        return None, None
    stats = {int(m.group(1)): [float(v) for v in m.groups()[1:]] for m in
             re.finditer(r"^pingpong size (\d+) iters \d+ median_us (\S+) "
                         r"avg_us (\S+) min_us (\S+) max_us (\S+)", out, re.M)}
    return {k: v[0] for k, v in stats.items()}, stats


def plan(quick, sweeps, policy):
    """The points: (sweep, scenario, size or None for MPI, config names)."""
    mp = "mp-" + policy
    lat_sizes = [1, 65536] if quick else [1 << i for i in range(17)]
    eager_sizes = [16384] if quick else [4096, 8192, 16384, 32768, 65536]
    points = []
    if "lat" in sweeps:
        points += [("lat", "equal", s, [P1, MR, mp]) for s in lat_sizes]
    if "mpi" in sweeps:
        points += [("mpi", "equal", None, [P1, MR, mp])]
    if "rate" in sweeps:
        points += [("rate", "equal", 8, [P1, MR, mp])]
    if "eager" in sweeps:
        for sc in ("equal", "unequal"):
            cfgs = [P1, P2, MR, mp] if sc == "unequal" else [P1, MR, mp]
            points += [("eager", sc, s, cfgs) for s in eager_sizes]
    return points


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def shown(sweep, size, got):
    if not got:
        return "failed"
    if sweep == "mpi":
        return "%d sizes, %.2f .. %.2f usec" % (len(got), min(got.values()),
                                                max(got.values()))
    return "%.2f %s" % (got[size], UNITS[sweep])


def measure(points, reps, quick, module, policy, program, eager_thresh,
            samples, runs):
    """Runs every point reps times, interleaved, into samples
    (sweep, scenario, config, size) -> [value or None] and runs (every run's
    raw figures: ucx_perftest's Final line, mpi_pingpong's lines)."""
    perf_cfgs = configs(module, policy, False)
    mpi_cfgs = configs(module, policy, True)
    total = reps * sum(len(p[3]) for p in points)
    done, t0 = 0, time.time()
    print("bench-small: %d runs (%d points, %d repetitions), load %s" %
          (total, len(points), reps, loadavg()), flush=True)
    for rep in range(reps):
        for scenario in SCENARIOS:
            todo = [p for p in points if p[1] == scenario]
            if not todo:
                continue
            sh(NETNS, "shape", *SCENARIOS[scenario])
            for pi, (sweep, _, size, names) in enumerate(todo):
                shift = (rep + pi) % len(names)       # rotate the order
                for name in names[shift:] + names[:shift]:
                    if sweep == "mpi":
                        got, raw = run_mpi(program, mpi_cfgs[name], quick)
                    else:
                        env = dict(perf_cfgs[name])
                        if sweep == "eager":
                            env["UCX_RNDV_THRESH"] = eager_thresh
                        got, raw = run_perf(sweep, size, env, quick)
                    runs.append({"rep": rep + 1, "sweep": sweep, "scenario": scenario,
                                 "config": name, "size": size, "raw": raw,
                                 "load": loadavg()})
                    for s in [size] if size else MPI_SIZES:
                        samples.setdefault((sweep, scenario, name, s), []).append(
                            got.get(s) if got else None)
                    done += 1
                    elapsed = time.time() - t0
                    print("[%d/%d %4.0fs, eta %4.0fs] %-7s %-5s %6s %-16s rep %d: %s"
                          % (done, total, elapsed, elapsed / done * (total - done),
                             scenario, sweep, size or "1-64K", name, rep + 1,
                             shown(sweep, size, got)),
                          flush=True)


def medians(samples):
    results = []
    for (sweep, scenario, name, size), vals in sorted(samples.items()):
        ok = [v for v in vals if v is not None]
        results.append({
            "sweep": sweep, "scenario": scenario, "links": SCENARIOS[scenario],
            "config": name, "size": size, "unit": UNITS[sweep],
            "median": statistics.median(ok) if ok else None,
            "min": min(ok) if ok else None, "max": max(ok) if ok else None,
            "n": len(ok), "failed": len(vals) - len(ok), "samples": vals})
    return results


def check(kind, value, bound, overlap=False):
    """A target row: kind 'max' (value <= bound) or 'min' (value >= bound)."""
    if value is None or bound is None:
        return "no data"
    met = value <= bound if kind == "max" else value >= bound
    return "met" if met else ("missed (ranges overlap)" if overlap else "missed")


def targets(results, policy):
    """The targets of issue 17 for every point: list of dicts."""
    mp = "mp-" + policy
    res = {(r["sweep"], r["scenario"], r["config"], r["size"]): r for r in results}
    out = []

    def med(sweep, sc, cfg, size):
        r = res.get((sweep, sc, cfg, size))
        return r["median"] if r else None

    def overlap(sweep, sc, size):
        a, b = res.get((sweep, sc, mp, size)), res.get((sweep, sc, MR, size))
        return bool(a and b and a["min"] is not None and b["min"] is not None and
                    a["min"] <= b["max"] and b["min"] <= a["max"])

    def add(sweep, sc, size, what, kind, ratio, bound, ovl=False):
        out.append({"sweep": sweep, "scenario": sc, "size": size, "target": what,
                    "ratio": ratio, "bound": bound,
                    "status": check(kind, ratio, bound, ovl)})

    def div(a, b):
        return a / b if a and b else None

    points = sorted({(r["sweep"], r["scenario"], r["size"]) for r in results},
                    key=lambda p: (SWEEPS.index(p[0]), p[1], p[2]))
    for sweep, sc, size in points:
        v, p1, mr = (med(sweep, sc, c, size) for c in (mp, P1, MR))
        if sweep in ("lat", "mpi"):
            add(sweep, sc, size, "latency <= 1.05 x one lane", "max", div(v, p1), 1.05)
            add(sweep, sc, size, "latency <= multi-rail", "max", div(v, mr), 1.0,
                overlap(sweep, sc, size))
            continue
        if sweep == "rate":
            add(sweep, sc, size, "rate >= 0.95 x one lane", "min", div(v, p1), 0.95)
        elif size in BW_TARGET_SIZES and sc == "equal":
            add(sweep, sc, size, "bw >= 1.9 x one lane", "min", div(v, p1), 1.9)
        elif size in BW_TARGET_SIZES:
            p2 = med(sweep, sc, P2, size)
            add(sweep, sc, size, "bw >= 0.93 x (path1 + path2)", "min",
                div(v, p1 + p2 if p1 and p2 else None), 0.93)
        add(sweep, sc, size, "%s >= multi-rail" % ("rate" if sweep == "rate" else "bw"),
            "min", div(v, mr), 1.0, overlap(sweep, sc, size))
    return out


def fmt(v, sweep):
    if v is None:
        return "-"
    return {"rate": "%.0f", "eager": "%.1f"}.get(sweep, "%.2f") % v


def summary_md(tgts):
    lines = ["## Targets", "", "| sweep | links | target | met | not met | not met at "
             "(size: ratio) |",
             "|---|---|---|---|---|---|"]
    keys = []
    for t in tgts:
        k = (t["sweep"], t["scenario"], t["target"])
        if k not in keys:
            keys.append(k)
    for sweep, sc, what in keys:
        rows = [t for t in tgts if (t["sweep"], t["scenario"], t["target"]) ==
                (sweep, sc, what)]
        missed = [t for t in rows if t["status"] != "met"]
        lines.append("| %s | %s | %s | %d | %d | %s |" % (
            sweep, "/".join(SCENARIOS[sc]), what, len(rows) - len(missed),
            len(missed), ", ".join("%s: %s" % (
                t["size"], "-" if t["ratio"] is None else "%.2f" % t["ratio"])
                for t in missed) or "-"))
    return lines + [""]


def sweep_md(sweep, sc, results, tgts, policy, eager_thresh):
    names = [n for n in (P1, P2, MR, "mp-" + policy) if any(
        r["config"] == n and r["sweep"] == sweep and r["scenario"] == sc
        for r in results)]
    rows = [t for t in tgts if t["sweep"] == sweep and t["scenario"] == sc]
    # the target against one lane (or the sum) first, multi-rail last
    kinds = sorted({t["target"] for t in rows}, key=lambda k: ("multi-rail" in k, k))
    title = TITLES[sweep] % eager_thresh if sweep == "eager" else TITLES[sweep]
    head = ["size"] + names + sum([["ratio", kind] for kind in kinds], [])
    lines = ["## %s, %s links (%s), %s" % (sweep, sc, "/".join(SCENARIOS[sc]), title),
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    med = {(r["config"], r["size"]): r["median"] for r in results
           if r["sweep"] == sweep and r["scenario"] == sc}
    for size in sorted({r["size"] for r in results
                        if r["sweep"] == sweep and r["scenario"] == sc}):
        row = [str(size)] + [fmt(med.get((n, size)), sweep) for n in names]
        for kind in kinds:
            t = [x for x in rows if x["size"] == size and x["target"] == kind]
            if t:
                row += ["-" if t[0]["ratio"] is None else "%.2f" % t[0]["ratio"],
                        t[0]["status"]]
            else:
                row += ["", ""]
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def report(results, tgts, meta):
    lines = ["# uct_mp small/medium-message benchmark", "",
             "commit %s, %s, %s; medians of %d interleaved repetitions; mp_rc "
             "policy %s; load average %s at the start, %s at the end (%d cores). "
             "Ratios are mp_rc / the reference; latency targets are upper "
             "bounds, rate and bandwidth targets lower bounds. \"ranges "
             "overlap\": the min-max ranges of mp_rc and multi-rail overlap." % (
                 meta["commit"], " ".join(meta["ucx"]), meta["date"],
                 meta["repetitions"], meta["policy"], meta["load_start"],
                 meta["load_end"], meta["cores"]), ""]
    if meta.get("interrupted"):
        lines += ["**Partial results: the run was %s.**" % meta["interrupted"], ""]
    lines += summary_md(tgts)
    for sweep in SWEEPS:
        for sc in SCENARIOS:
            if any(r["sweep"] == sweep and r["scenario"] == sc for r in results):
                lines += sweep_md(sweep, sc, results, tgts, meta["policy"],
                                  meta["eager_rndv_thresh"])
    return "\n".join(lines) + "\n"


def plot_lines(ax, results, sweep, sc, title, ylabel, logy):
    for name in sorted({r["config"] for r in results if r["sweep"] == sweep}):
        pts = sorted((r["size"], r["median"]) for r in results
                     if r["sweep"] == sweep and r["scenario"] == sc and
                     r["config"] == name and r["median"] is not None)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name,
                    color=COLORS.get(name, "tab:blue"))
    ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("message size (bytes)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def plot_ratios(ax, results):
    """mp_rc / one lane per sweep, with the targets as dashed lines."""
    med = {(r["sweep"], r["scenario"], r["config"], r["size"]): r["median"]
           for r in results}
    mp = [k for k in med if k[2].startswith("mp-")]
    for sweep, sc, label, bound, color in (
            ("lat", "equal", "tag_lat", 1.05, "tab:purple"),
            ("mpi", "equal", "MPI ping-pong", 1.05, "tab:brown"),
            ("eager", "equal", "eager bw, 1G/1G", 1.9, "tab:gray")):
        pts = sorted((k[3], med[k] / med[(sweep, sc, P1, k[3])]) for k in mp
                     if k[:2] == (sweep, sc) and med[k] and
                     med.get((sweep, sc, P1, k[3])))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    color=color, label="%s (target %s %.2f)" % (
                        label, "<=" if bound < 1.5 else ">=", bound))
            ax.axhline(bound, linestyle="--", linewidth=0.8, color=color)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size (bytes)")
    ax.set_ylabel("mp_rc / one lane (tcp-path1)")
    ax.set_title("mp_rc relative to one lane, 1gbit/1gbit", fontsize=9)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def plot(results, out_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench-small: python3-matplotlib missing, no plot")
        return None
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    plot_lines(axes[0][0], results, "lat", "equal",
               "ucx_perftest tag_lat, 1gbit/1gbit", "median one-way latency (usec)", True)
    plot_lines(axes[0][1], results, "mpi", "equal",
               "MPI ping-pong, 1gbit/1gbit", "median one-way latency (usec)", True)
    ax = axes[0][2]
    rate = sorted((r["config"], r["median"]) for r in results
                  if r["sweep"] == "rate" and r["median"] is not None)
    if rate:
        ax.bar([r[0] for r in rate], [r[1] for r in rate],
               color=[COLORS.get(r[0], "tab:blue") for r in rate])
        ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("messages/s")
    ax.set_title("tag_bw 8 B message rate, 1gbit/1gbit", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    for i, sc in enumerate(SCENARIOS):
        plot_lines(axes[1][i], results, "eager", sc, "tag_bw eager, %s links (%s)" % (
            sc, "/".join(SCENARIOS[sc])), "MB/s", False)
    plot_ratios(axes[1][2], results)
    fig.tight_layout()
    path = os.path.join(out_dir, "small.png")
    fig.savefig(path, dpi=100)
    return path


def meta_of(reps, policy, eager_thresh, points, load_start, interrupted):
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "kernel": platform.release(), "cores": os.cpu_count(),
            "ucx": subprocess.run(["ucx_info", "-v"], capture_output=True,
                                  text=True).stdout.splitlines()[0:1],
            "commit": subprocess.run(["git", "-C", SRCDIR, "rev-parse", "--short",
                                      "HEAD"], capture_output=True,
                                     text=True).stdout.strip(),
            "load_start": load_start, "load_end": loadavg(),
            "interrupted": interrupted,
            "repetitions": reps, "policy": policy,
            "eager_rndv_thresh": eager_thresh, "other_rndv_thresh": "auto",
            "points": [list(p) for p in points],
            "raw_fields": {"perftest": ["iters", "typical lat usec", "avg lat usec",
                                        "overall lat usec", "avg MB/s", "overall MB/s",
                                        "avg msg/s", "overall msg/s"],
                           "mpi": "size -> [median, avg, min, max] one-way usec"}}


def main():
    builddir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else SRCDIR)
    module = os.path.join(builddir, ".libs/libuct_mp.so.0")
    program = os.path.join(builddir, "test/integration/mpi/mpi_pingpong")
    if not os.path.exists(module):
        sys.exit("bench-small: %s not built" % module)
    out_dir = os.environ.get("BENCH_OUT", os.path.join(builddir, "bench"))
    os.makedirs(out_dir, exist_ok=True)
    quick = os.environ.get("BENCH_QUICK") == "1"
    reps = 1 if quick else int(os.environ.get("BENCH_SMALL_REPS",
                                              os.environ.get("BENCH_REPS", "5")))
    sweeps = env_list("BENCH_SMALL_SWEEPS", SWEEPS)
    if "mpi" in sweeps and not os.access(program, os.X_OK):
        print("bench-small: %s not built (no mpicc?), no MPI sweep" % program)
        sweeps.remove("mpi")
    policy = os.environ.get("BENCH_SMALL_POLICY", "load_balance")
    eager_thresh = os.environ.get("BENCH_SMALL_EAGER_THRESH", "inf")
    points = plan(quick, sweeps, policy)
    # path3 (not a lane) carries mpirun's and ucx_perftest's own traffic
    os.environ.update(MP_NS_PREFIX="mpbs", MP_NS_HOST_PATH="3")
    load_start = loadavg()
    sh(NETNS, "down")
    if subprocess.run([NETNS, "up", "3"], capture_output=True).returncode != 0:
        sys.exit("bench-small: testbed setup failed")
    # a SIGTERM (e.g. the caller's time limit) still removes the testbed and
    # writes what was measured so far
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    samples, runs, interrupted = {}, [], None
    try:
        measure(points, reps, quick, module, policy, program, eager_thresh,
                samples, runs)
    except (KeyboardInterrupt, SystemExit) as e:
        interrupted = "interrupted (%s) after %d runs" % (type(e).__name__, len(runs))
        print("bench-small: %s; writing the partial results" % interrupted, flush=True)
    finally:
        sh(NETNS, "shape", "off")
        sh(NETNS, "down")
    write_results(out_dir, samples, runs, policy,
                  meta_of(reps, policy, eager_thresh, points, load_start, interrupted))
    if interrupted:
        sys.exit(1)


def write_results(out_dir, samples, runs, policy, meta):
    results = medians(samples)
    tgts = targets(results, policy)
    with open(os.path.join(out_dir, "small.json"), "w") as f:
        json.dump({"meta": meta, "results": results, "targets": tgts,
                   "runs": runs}, f, indent=1)
    md = report(results, tgts, meta)
    with open(os.path.join(out_dir, "small.md"), "w") as f:
        f.write(md)
    print(md)
    png = plot(results, out_dir)
    print("bench-small: results in %s/small.{json,md}%s" % (
        out_dir, ", plot small.png" if png else ""))


if __name__ == "__main__":
    main()
