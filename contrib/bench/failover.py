#!/usr/bin/python3
"""contrib/bench/failover.py BUILDDIR : failover figures (make bench-failover).

On the netns testbed (2 paths, 1gbit each) a UCP tag_bw stream of 1 MiB
messages runs for about 8 s; 2 s in, one path is cut by link down or by a
silent nftables drop. For mp_rc (load_balance, lanes ep to ep, keepalive
100 ms x 3) it reports the failover time (fault to mp's "traffic moves"
decision, from the fault time and mp's log timestamp), whether the stream
completed, and its throughput relative to the same stream without a cut.
Stock UCX multi-rail over both paths runs the same scenario for comparison.
Never fails because of numbers. Outputs failover.json and failover.md in
BENCH_OUT (default BUILDDIR/bench). BENCH_REPS (default 2).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NETNS = os.path.join(SRCDIR, "contrib/testbed/mp-netns.sh")
PERF = os.path.join(SRCDIR, "contrib/testbed/perftest-ns.sh")
ITERS = 1800  # 1 MiB messages: about 8 s at 227 MB/s


def sh(*cmd):
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def run(env, fault, timeout):
    """One stream; fault = (path, mode) or None. Returns a result dict."""
    fault_at = [None]

    def inject():
        time.sleep(2.0)
        fault_at[0] = time.time()
        if fault[1] == "link-down":
            sh(NETNS, "fault", fault[0], "down")
        else:
            sh(NETNS, "fault", fault[0], "drop", "A")

    full_env = dict(os.environ, UCX_WARN_UNUSED_ENV_VARS="n", TO=str(timeout),
                    UCX_LOG_LEVEL="diag", **env)
    t = threading.Thread(target=inject) if fault else None
    start = time.time()
    if t:
        t.start()
    try:
        p = subprocess.run([PERF, "-t", "tag_bw", "-s", "1048576", "-n",
                            str(ITERS), "-w", "10"], env=full_env,
                           capture_output=True, text=True, timeout=timeout + 30)
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    if t:
        t.join()
    elapsed = time.time() - start
    m = re.search(r"^Final:\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)", out, re.M)
    bw = float(m.group(1)) if m else None
    moved = re.search(r"\[(\d+\.\d+)\].*mp_rc: ep .* lane \d+ \((path\d)\) failed", out)
    failover_ms = None
    if fault and moved and fault_at[0]:
        failover_ms = (float(moved.group(1)) - fault_at[0]) * 1000
    return {"completed": bw is not None, "bw": bw, "elapsed_s": round(elapsed, 2),
            "failover_ms": failover_ms}


def main():
    builddir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else SRCDIR)
    module = os.path.join(builddir, ".libs/libuct_mp.so.0")
    out_dir = os.environ.get("BENCH_OUT", os.path.join(builddir, "bench"))
    os.makedirs(out_dir, exist_ok=True)
    os.environ["MP_NS_PREFIX"] = "mpb"
    reps = int(os.environ.get("BENCH_REPS", "2"))
    configs = {
        "mp-load_balance": {"LD_PRELOAD": module, "UCX_TLS": "mp_rc,tcp:aux",
                            "UCX_MP_RC_LANE_TL": "tcp",
                            "UCX_MP_RC_DEVICES": "path1,path2",
                            "UCX_MP_RC_POLICY": "load_balance",
                            "UCX_MP_RC_CONNECT_TO_IFACE": "n",
                            "UCX_MP_RC_KEEPALIVE_INTERVAL": "100ms"},
        "tcp-multirail": {"UCX_TLS": "tcp", "UCX_NET_DEVICES": "path1,path2",
                          "UCX_MAX_RNDV_RAILS": "2", "UCX_MAX_EAGER_RAILS": "2"},
    }
    cases = [None, ("path2", "link-down"), ("path2", "drop"),
             ("path1", "link-down"), ("path1", "drop")]
    results = []
    total, done, t0 = reps * len(cases) * len(configs), 0, time.time()
    print("bench-failover: %d streams" % total, flush=True)
    for rep in range(reps):
        for case in cases:
            for name, env in configs.items():
                sh(NETNS, "down")
                sh(NETNS, "up", "2")
                sh(NETNS, "shape", "1gbit", "1gbit")
                r = run(env, case, 40)
                r.update({"config": name, "rep": rep + 1,
                          "fault": "none" if case is None else "%s %s" % case})
                results.append(r)
                done += 1
                print("[%d/%d %4.0fs] %-16s %-16s %s" % (
                    done, total, time.time() - t0, name, r["fault"],
                    "bw %.1f MB/s, failover %s ms" % (r["bw"], "-" if r["failover_ms"] is None
                                                    else "%.0f" % r["failover_ms"])
                    if r["completed"] else "did not complete within 40 s"), flush=True)
    sh(NETNS, "down")

    lines = ["# Failover figures", "",
             "tag_bw 1 MiB x %d on 1gbit/1gbit; fault 2 s into the stream; "
             "mp_rc: load_balance, ep-to-ep lanes, keepalive 100 ms x 3; "
             "medians of %d runs." % (ITERS, reps), "",
             "| config | fault | completed | failover (ms) | MB/s | vs no fault |",
             "|---|---|---|---|---|---|"]
    summary = []
    for name in configs:
        base = [r["bw"] for r in results if r["config"] == name and r["fault"] == "none" and r["bw"]]
        base_bw = statistics.median(base) if base else None
        for case in cases:
            fault = "none" if case is None else "%s %s" % case
            rs = [r for r in results if r["config"] == name and r["fault"] == fault]
            ok = [r for r in rs if r["completed"]]
            fo = [r["failover_ms"] for r in rs if r["failover_ms"] is not None]
            bw = statistics.median([r["bw"] for r in ok]) if ok else None
            row = {"config": name, "fault": fault,
                   "completed": "%d/%d" % (len(ok), len(rs)),
                   "failover_ms": statistics.median(fo) if fo else None,
                   "bw": bw, "vs_no_fault": (bw / base_bw) if bw and base_bw else None}
            summary.append(row)
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                name, fault, row["completed"],
                "-" if row["failover_ms"] is None else "%.0f" % row["failover_ms"],
                "-" if bw is None else "%.1f" % bw,
                "-" if row["vs_no_fault"] is None else "%.2f" % row["vs_no_fault"]))
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "failover.json"), "w") as f:
        json.dump({"runs": results, "summary": summary}, f, indent=1)
    with open(os.path.join(out_dir, "failover.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
