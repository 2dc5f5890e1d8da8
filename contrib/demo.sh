#!/bin/bash
# contrib/demo.sh: the README demo. On a fresh Debian 12 machine (root) it
# installs what it needs, builds uct_mp, creates two namespace "hosts" joined
# by two veth paths, and shows UCP traffic over UCX_TLS=mp_rc on both lanes:
# the transport in ucx_info, the UCP verification program (every byte
# checked) with per-path byte counters, and ucx_perftest tag_bw 4 MiB.
# Everything it creates is removed at the end.
set -euo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
echo "== building (first run installs packages and UCX source: a few minutes)"
BUILDDIR=$("$SRCDIR/contrib/build.sh" 2>/tmp/uct_mp-demo-build.log | tail -1) || {
    tail -30 /tmp/uct_mp-demo-build.log; exit 1; }
NETNS="$SRCDIR/contrib/testbed/mp-netns.sh"
export MP_NS_PREFIX=${MP_NS_PREFIX:-mpdemo}
trap '"$NETNS" down >/dev/null 2>&1 || true' EXIT

export LD_PRELOAD="$BUILDDIR/.libs/libuct_mp.so.0"
export UCX_TLS=mp_rc UCX_MP_RC_LANE_TL=tcp UCX_MP_RC_DEVICES=path1,path2
export UCX_MP_RC_POLICY=${UCX_MP_RC_POLICY:-load_balance} UCX_WARN_UNUSED_ENV_VARS=n

echo "== two hosts, two paths"
"$NETNS" up 2 | tail -3
echo
echo "== ucx_info -d -t mp_rc (host A)"
"$NETNS" exec A ucx_info -d -t mp_rc | grep -E 'Transport|Device|bandwidth|latency|put_zcopy|am_bcopy|connection|device address|iface address'

tx() { "$NETNS" exec A cat /sys/class/net/$1/statistics/tx_bytes; }
b1=$(tx path1); b2=$(tx path2)
echo
echo "== UCP over mp_rc (client-server flow): tag, AM, put/get, atomics, rendezvous sizes (policy $UCX_MP_RC_POLICY)"
P=$((14000 + RANDOM % 1000))
timeout 200 "$NETNS" exec B env UCX_LOG_LEVEL=info "$BUILDDIR/test/integration/ucp/ucp_verify" -s -p $P --cm > /tmp/uct_mp-demo-server.log 2>&1 &
sleep 1
timeout 180 "$NETNS" exec A env UCX_LOG_LEVEL=info "$BUILDDIR/test/integration/ucp/ucp_verify" -c 198.18.1.2 -p $P --cm 2>&1 | \
    grep -E 'PASS|FAIL|passed|mp_rc: ep' | sed 's/^\[[^]]*\] *//'
wait || true
a1=$(tx path1); a2=$(tx path2)
printf '\n%-8s %14s\n' path "bytes sent by A"
printf '%-8s %14d\n' path1 $((a1 - b1)) path2 $((a2 - b2))

echo
echo "== ucx_perftest UCP tag_bw 4 MiB over mp_rc, host A -> host B"
"$SRCDIR/contrib/testbed/perftest-ns.sh" -t tag_bw -s 4194304 -n 20 | tail -4
