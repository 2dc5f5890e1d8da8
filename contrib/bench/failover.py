#!/usr/bin/python3
"""contrib/bench/failover.py BUILDDIR : failover figures (make bench-failover).

On the netns testbed (2 paths, 1gbit each) the UCP verification program
streams tagged messages of every size up to 4 MiB both ways (every byte
checked; ucx_perftest cannot run mp_rc's endpoint-to-endpoint lanes, it sets
no error handling and so gets no aux transport); 2 s in, one path is cut by
link down (both ends) or by a silent nftables drop on side A. For mp_rc
(load_balance, lanes ep to ep, keepalive 100 ms x 3, link events) it reports
the failover time: from the fault (side A's RTM_NEWLINK for a link down, or
the moment the nft command that adds the drop rule returned) to mp's log line that the
lane failed or became suspect, either of which moves its traffic to the
survivor (the moved operations are posted in the same progress call; a
silent lane is suspect first and fails later), and for a link down when mp's async
thread read the link event; whether the stream completed, and its throughput (bytes moved / time)
relative to the same stream without a cut. Stock UCX multi-rail over both
paths runs the same scenario for comparison.
Never fails because of numbers. Outputs failover.json and failover.md in
BENCH_OUT (default BUILDDIR/bench). BENCH_REPS (default 2).
"""

import datetime
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
ITERS = 60    # per size; about 6 s at 227 MB/s
SIZES = [1, 8, 64, 1000, 4095, 8192, 65536, 65537, 262149, 1048579, 4194304]
VOLUME = 2 * ITERS * sum(SIZES)  # bytes, both directions


def sh(*cmd):
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def run(env, fault, timeout, verify, port):
    """One stream; fault = (path, mode) or None. Returns a result dict."""
    fault_at = [None]

    def inject():
        time.sleep(2.0)
        if fault[1] == "link-down":
            # both ends, directly; the event is side A's RTM_NEWLINK as "ip
            # monitor" in A's namespace received it ("ip link set down"
            # itself takes tens of ms under load, and the kernel announces
            # the link down during it)
            prefix = os.environ["MP_NS_PREFIX"]
            mon = subprocess.Popen(["ip", "-n", prefix + "A", "-ts", "monitor",
                                    "link"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
            time.sleep(0.2)
            started = time.time()
            sh("ip", "-n", prefix + "A", "link", "set", fault[0], "down")
            sh("ip", "-n", prefix + "B", "link", "set", fault[0], "down")
            time.sleep(0.3)
            mon.terminate()
            events, _ = mon.communicate()
            fault_at[0] = started  # if the monitor saw nothing
            for line in events.splitlines():
                m = re.match(r"\[([^]]+)\] \d+: %s(@[^:]*)?: .*state "
                             r"(DOWN|LOWERLAYERDOWN)" % fault[0], line)
                if m:
                    # ip prints local time, as a naive datetime assumes
                    fault_at[0] = datetime.datetime.fromisoformat(
                        m.group(1)).timestamp()
                    break
        else:
            # mp-netns.sh says when the nft command that adds the rule
            # returned: the kernel commits the rule at the end of it (its
            # start is spawning processes, tens of ms on a busy machine)
            p = subprocess.run([NETNS, "fault", fault[0], "drop", "A"],
                               capture_output=True, text=True, check=False)
            m = re.search(r"applied from \d+\.\d+ to (\d+\.\d+)", p.stdout)
            fault_at[0] = float(m.group(1)) if m else None

    envs = ["%s=%s" % kv for kv in dict(UCX_WARN_UNUSED_ENV_VARS="n",
                                        UCX_LOG_LEVEL="diag", **env).items()]
    common = ["-p", str(port), "--p2p", "--only", "tag", "--iters", str(ITERS),
              "--max-size", "4194304", "--timeout", str(timeout),
              "--close-timeout", "3"]
    server = subprocess.Popen([NETNS, "exec", "B", "env"] + envs +
                              [verify, "-s"] + common,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    t = threading.Thread(target=inject) if fault else None
    if t:
        t.start()
    start = time.time()
    try:
        p = subprocess.run([NETNS, "exec", "A", "env"] + envs +
                           [verify, "-c", "198.18.1.2"] + common,
                           capture_output=True, text=True, timeout=timeout + 20)
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "", -1
    # the data moved once the last tag check passed (close time excluded)
    elapsed = time.time() - start
    done = re.search(r"PASS tag burst", out)
    if t:
        t.join()
    try:
        server.wait(timeout=timeout + 20)
    except subprocess.TimeoutExpired:
        server.kill()
    completed = (rc == 0) and done is not None
    moved = re.search(r"\[(\d+\.\d+)\].*mp_rc: ep .* lane \d+ \((path\d)\) (failed|suspect)", out)
    # a link event, as mp's async thread read it
    seen = re.search(r"\[(\d+\.\d+)\].*mp_rc: iface .* lane \d+ \((path\d)\): link path\d down", out)
    failover_ms = seen_ms = None
    if fault and moved and fault_at[0]:
        failover_ms = (float(moved.group(1)) - fault_at[0]) * 1000
    if fault and seen and fault_at[0]:
        seen_ms = (float(seen.group(1)) - fault_at[0]) * 1000
    return {"completed": completed, "elapsed_s": round(elapsed, 2),
            "bw": (VOLUME / elapsed / 1e6) if completed else None,
            "failover_ms": failover_ms, "link_event_seen_ms": seen_ms}


def main():
    builddir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else SRCDIR)
    module = os.path.join(builddir, ".libs/libuct_mp.so.0")
    verify = os.path.join(builddir, "test/integration/ucp/ucp_verify")
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
                          "UCX_MAX_RNDV_RAILS": "2", "UCX_MAX_EAGER_RAILS": "2",
                          "UCX_TLS": "tcp"},
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
                r = run(env, case, 40, verify, 15000 + done)
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
             "Verified tag stream (%d x every size up to 4 MiB, both ways, "
             "%.0f MB) on 1gbit/1gbit; fault 2 s into the stream; mp_rc: "
             "load_balance, ep-to-ep lanes, keepalive 100 ms x 3, link events; stock "
             "multi-rail: UCX_TLS=tcp, MAX_RNDV_RAILS=2; medians of %d runs; "
             "MB/s = bytes moved / time to the last check." % (
                 ITERS, VOLUME / 1e6, reps), "",
             "| config | fault | completed | link event seen (ms) | failover (ms) | MB/s | vs no fault |",
             "|---|---|---|---|---|---|---|"]
    summary = []
    for name in configs:
        base = [r["bw"] for r in results if r["config"] == name and r["fault"] == "none" and r["bw"]]
        base_bw = statistics.median(base) if base else None
        for case in cases:
            fault = "none" if case is None else "%s %s" % case
            rs = [r for r in results if r["config"] == name and r["fault"] == fault]
            ok = [r for r in rs if r["completed"]]
            fo = [r["failover_ms"] for r in rs if r["failover_ms"] is not None]
            seen = [r["link_event_seen_ms"] for r in rs
                    if r.get("link_event_seen_ms") is not None]
            bw = statistics.median([r["bw"] for r in ok]) if ok else None
            row = {"config": name, "fault": fault,
                   "completed": "%d/%d" % (len(ok), len(rs)),
                   "failover_ms": statistics.median(fo) if fo else None,
                   "link_event_seen_ms": statistics.median(seen) if seen else None,
                   "bw": bw, "vs_no_fault": (bw / base_bw) if bw and base_bw else None}
            summary.append(row)
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, fault, row["completed"],
                "-" if row["link_event_seen_ms"] is None else "%.0f" % row["link_event_seen_ms"],
                "-" if row["failover_ms"] is None else "%.0f" % row["failover_ms"],
                "-" if bw is None else "%.1f" % bw,
                "-" if row["vs_no_fault"] is None else "%.2f" % row["vs_no_fault"]))
    mp = [r for r in summary if r["config"] == "mp-load_balance"]
    for kind, bound in (("link-down", 50), ("drop", 300)):
        figs = [r["failover_ms"] for r in mp if r["fault"].endswith(kind)]
        if figs and all(f is not None for f in figs):
            lines.append("")
            lines.append("Target for %s: failover within %d ms: %s (%s ms)." % (
                kind, bound, "met" if max(figs) <= bound else "missed",
                ", ".join("%.0f" % f for f in figs)))
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "failover.json"), "w") as f:
        json.dump({"runs": results, "summary": summary}, f, indent=1)
    with open(os.path.join(out_dir, "failover.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
