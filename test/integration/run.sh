#!/bin/bash
# test/integration/run.sh BUILDDIR : the host-testbed tier.
#
# Two namespace "hosts" joined by two veth paths (contrib/testbed/mp-netns.sh),
# mp_rc with tcp lanes on path1+path2, loaded with LD_PRELOAD. Checks:
# ucx_info shows the transport and its options, bad configuration is refused
# clearly, the UCP verification program (tag, AM, put/get, atomics, rendezvous
# sizes, every byte checked) over both UCP wire-up flows, both lanes connected
# (per-path byte counters), ucx_perftest UCP and UCT, and Open MPI with 2 ranks.
# Needs root. Always removes the namespaces it created.
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$(cd "${1:-$SRCDIR}" && pwd)
. "$SRCDIR/test/lib.sh"

NETNS="$SRCDIR/contrib/testbed/mp-netns.sh"
MODULE="$BUILDDIR/.libs/libuct_mp.so.0"
VERIFY="$BUILDDIR/test/integration/ucp/ucp_verify"
MPI_VERIFY="$BUILDDIR/test/integration/mpi/mpi_verify"
# one testbed per run: a run killed earlier may have left its namespaces
export MP_NS_PREFIX=${MP_NS_PREFIX:-mpt$(( $$ % 100000 ))}
NS_A=${MP_NS_PREFIX}A
NS_B=${MP_NS_PREFIX}B

[ -f "$MODULE" ] || { echo "FAIL setup: $MODULE not built"; echo "0 passed, 1 failed"; exit 1; }

cleanup() { "$NETNS" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The environment of every mp_rc run: tcp lanes on both paths
MP_ENV=(env LD_PRELOAD="$MODULE" UCX_TLS=mp_rc UCX_MP_RC_LANE_TL=tcp
        UCX_MP_RC_DEVICES=path1,path2 UCX_WARN_UNUSED_ENV_VARS=n)

in_ns() { local host=$1; shift; "$NETNS" exec "$host" "$@"; }

# next_port: a fresh port in P (a listener's port stays busy after it closes)
NEXT_PORT=$((14000 + RANDOM % 500))
next_port() { NEXT_PORT=$((NEXT_PORT + 1)); P=$NEXT_PORT; }

# pair_run NAME TIMEOUT ENV... -- SERVER_CMD... -- CLIENT_CMD...
pair_run() {
    local name=$1 tmo=$2; shift 2
    local -a envs=() srv=() cli=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do srv+=("$1"); shift; done; shift
    cli=("$@")
    local slog="$T_LOG_DIR/$name.server.log" clog="$T_LOG_DIR/$name.log" src crc
    t_log "running $name"
    timeout --kill-after=5 $((tmo + 10)) "$NETNS" exec B "${envs[@]}" "${srv[@]}" > "$slog" 2>&1 &
    local spid=$!
    sleep 1
    timeout --kill-after=5 "$tmo" "$NETNS" exec A "${envs[@]}" "${cli[@]}" > "$clog" 2>&1; crc=$?
    wait $spid; src=$?
    if [ $crc -eq 0 ] && [ $src -eq 0 ]; then
        t_pass "$name" "$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clog" | tail -1)"
    else
        t_fail "$name" "client exit $crc, server exit $src"
        echo "    client:"; tail -n 20 "$clog" | sed 's/^/    | /'
        echo "    server:"; tail -n 10 "$slog" | sed 's/^/    | /'
    fi
}

# tx_bytes PATH : bytes host A sent on PATH
tx_bytes() { "$NETNS" exec A cat "/sys/class/net/$1/statistics/tx_bytes"; }

"$NETNS" up 2 > "$T_LOG_DIR/testbed-up.log" 2>&1 || {
    cat "$T_LOG_DIR/testbed-up.log"; t_fail testbed-up "mp-netns.sh up 2 failed"; t_summary; exit 1; }
t_pass testbed-up "2 paths between $NS_A and $NS_B"

#
# 1. ucx_info: transport, device, options
#
info_d=$(in_ns A "${MP_ENV[@]}" ucx_info -d -t mp_rc 2>&1)
echo "$info_d" > "$T_LOG_DIR/ucx_info-d.log"
t_check ucx-info-device "ucx_info -d lists transport mp_rc" \
    grep -qE 'Transport: mp_rc' <<<"$info_d"
t_check ucx-info-one-device "exactly one mp_rc device, named after the first lane (path1)" \
    test "$(grep -cE 'Device: ' <<<"$info_d")" = 1 -a "$(grep -cE 'Device: path1$' <<<"$info_d")" = 1

info_c=$(in_ns A "${MP_ENV[@]}" ucx_info -c -f 2>&1)
echo "$info_c" > "$T_LOG_DIR/ucx_info-cf.log"
for opt in UCX_MP_RC_LANE_TL UCX_MP_RC_DEVICES UCX_MP_RC_POLICY \
           UCX_MP_RC_STRIPE_TABLE UCX_MP_RC_STRIPE_MIN_CHUNK UCX_MP_RC_WEIGHTS \
           UCX_MP_RC_KEEPALIVE_INTERVAL UCX_MP_RC_KEEPALIVE_MISSES \
           UCX_MP_RC_FAILBACK_INTERVAL UCX_MP_RC_LINK_EVENTS \
           UCX_MP_RC_CONNECT_TO_IFACE; do
    t_check "ucx-info-config-$opt" "ucx_info -c -f documents $opt" \
        grep -qE "^$opt=" <<<"$info_c"
done
t_check ucx-info-config-help "help text for the policy option" \
    grep -q 'active_backup - all traffic on the primary lane' <<<"$info_c"

#
# 2. No usable lane: no device, and default UCX_TLS keeps working
#
info_none=$(in_ns A env LD_PRELOAD="$MODULE" UCX_MP_RC_LANE_TL=rc_verbs ucx_info -d 2>&1)
t_check no-lane-no-device "rc_verbs lanes on a host without RDMA: no mp_rc device" \
    bash -c '! grep -q "Transport: mp_rc" <<<"$1"' _ "$info_none"
next_port
pair_run default-tls-with-module 120 env LD_PRELOAD="$MODULE" -- \
    "$VERIFY" -s -p "$P" --p2p --only tag --max-size 65536 -- \
    "$VERIFY" -c 198.18.1.2 -p "$P" --p2p --only tag --max-size 65536

#
# 3. Bad configuration: clear error, no crash
#
bad_policy=$(in_ns A "${MP_ENV[@]}" UCX_MP_RC_POLICY=fastest ucx_info -d -t mp_rc 2>&1); rc=$?
t_check bad-policy-rejected "UCX_MP_RC_POLICY=fastest refused with a message naming it" \
    bash -c '[ $1 -lt 128 ] && grep -qi "fastest" <<<"$2"' _ "$rc" "$bad_policy"
bad_table=$(in_ns A "${MP_ENV[@]}" UCX_MP_RC_POLICY=load_balance UCX_MP_RC_STRIPE_TABLE=64k:stripe,16k:single ucx_info -d -t mp_rc 2>&1); rc=$?
t_check bad-stripe-table-rejected "UCX_MP_RC_STRIPE_TABLE with decreasing sizes refused with the value and the reason" \
    bash -c '[ $1 -lt 128 ] && grep -q "UCX_MP_RC_STRIPE_TABLE=64k:stripe,16k:single: " <<<"$2"' _ "$rc" "$bad_table"
bad_tl=$(in_ns A "${MP_ENV[@]}" UCX_MP_RC_LANE_TL=udp ucx_info -d -t mp_rc 2>&1); rc=$?
t_check bad-lane-tl-rejected "UCX_MP_RC_LANE_TL=udp refused with a clear error" \
    bash -c '[ $1 -lt 128 ] && grep -q "UCX_MP_RC_LANE_TL=udp is not a supported lane transport" <<<"$2"' _ "$rc" "$bad_tl"

#
# 4. UCP verification over mp_rc, both wire-up flows, every byte checked
#
for flow in p2p cm; do
    for policy in active_backup load_balance; do
        b1=$(tx_bytes path1); b2=$(tx_bytes path2)
        next_port
        pair_run "ucp-verify-$flow-$policy" 240 "${MP_ENV[@]}" UCX_MP_RC_POLICY=$policy UCX_LOG_LEVEL=info -- \
            "$VERIFY" -s -p "$P" --$flow -- "$VERIFY" -c 198.18.1.2 -p "$P" --$flow
        a1=$(tx_bytes path1); a2=$(tx_bytes path2)
        echo "    per-path bytes sent by host A: path1 +$((a1 - b1)) path2 +$((a2 - b2))"
        t_check "both-lanes-connected-$flow-$policy" \
            "path1 +$((a1 - b1)) B, path2 +$((a2 - b2)) B (both > 0)" \
            test $((a1 - b1)) -gt 0 -a $((a2 - b2)) -gt 0
        lanes=$(grep -h 'mp_rc: ep .* lane' "$T_LOG_DIR/ucp-verify-$flow-$policy.log" | sed 's/.*mp_rc: //' | sort | uniq -c | head -4)
        [ -n "$lanes" ] && echo "$lanes" | sed 's/^/    mp lane counters: /'
    done
done

# lb_tag_bw NAME RATE1 RATE2 ITERS : ucx_perftest tag_bw 4 MiB under
# load_balance with path1/path2 shaped to RATE1/RATE2; sets D1 and D2, the
# bytes host A sent on each path meanwhile
lb_tag_bw() {
    local b1 b2
    "$NETNS" shape "$2" "$3" > /dev/null 2>&1
    b1=$(tx_bytes path1); b2=$(tx_bytes path2)
    t_run "$1" 240 env "${MP_ENV[@]:1}" UCX_MP_RC_POLICY=load_balance \
        "$SRCDIR/contrib/testbed/perftest-ns.sh" -t tag_bw -s 4194304 -n "$4"
    D1=$(( $(tx_bytes path1) - b1 )); D2=$(( $(tx_bytes path2) - b2 ))
    "$NETNS" shape off > /dev/null 2>&1
}

# load_balance moves rendezvous bytes over the second lane too. Both links
# shaped to 1gbit: unshaped veths run at whatever the 2 CPUs give, and the
# lane that the CPU happens to serve faster is measured faster.
lb_tag_bw perftest-load-balance 1gbit 1gbit 20
share=$(awk -v p1=$D1 -v p2=$D2 'BEGIN {printf "%.2f", (p1 + p2 > 0) ? p1 / (p1 + p2) : 0}')
t_check load-balance-uses-both-lanes \
    "1gbit/1gbit, tag_bw 20 x 4 MiB: path1 +$D1 B, path2 +$D2 B, path1 share $share (0.35 to 0.65)" \
    awk -v r="$share" 'BEGIN {exit !((r >= 0.35) && (r <= 0.65))}'

# unequal links (1gbit/500mbit; both veths report 10 Gb/s): the scheduler
# measures each lane's completion rate and stripes about 2:1
lb_tag_bw perftest-load-balance-unequal 1gbit 500mbit 60
ratio=$(awk -v p1=$D1 -v p2=$D2 'BEGIN {printf "%.2f", (p2 > 0) ? p1 / p2 : 0}')
t_check load-balance-follows-measured-rates \
    "1gbit/500mbit, tag_bw 60 x 4 MiB: path1 +$D1 B, path2 +$D2 B, ratio $ratio (1.5 to 2.7)" \
    awk -v r="$ratio" 'BEGIN {exit !((r >= 1.5) && (r <= 2.7))}'

#
# 5. ucx_perftest over mp_rc: UCP tag_bw 4 MiB, tag_lat; UCT am_lat, put_bw
#
PERF=("$SRCDIR/contrib/testbed/perftest-ns.sh")
perf() {
    local name=$1; shift
    t_run "$name" 240 env "${MP_ENV[@]:1}" "${PERF[@]}" "$@" && \
        grep -E '^Final:|^\s+[0-9]+ ' "$T_LOG_DIR/$name.log" | tail -1 | sed 's/^/    /'
}
perf perftest-ucp-tag-bw-4m -t tag_bw -s 4194304 -n 20
perf perftest-ucp-tag-lat -t tag_lat -s 8 -n 2000
perf perftest-uct-am-lat -t am_lat -x mp_rc -d path1 -s 8 -n 2000
perf perftest-uct-put-bw -t put_bw -x mp_rc -d path1 -s 65536 -n 200 -D zcopy

#
# 6. Open MPI: 2 ranks, one per namespace host, pml ucx over mp_rc
#
if [ -x "$MPI_VERIFY" ]; then
    t_run openmpi-2-ranks 300 env "${MP_ENV[@]:1}" \
        "$SRCDIR/contrib/testbed/mpirun-ns.sh" "$MPI_VERIFY" && \
        grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T_LOG_DIR/openmpi-2-ranks.log" | sed 's/^/    mpi_verify: /'
else
    t_fail openmpi-2-ranks "$MPI_VERIFY not built (mpicc missing?)"
fi

cleanup
left=$(ip netns list | grep -cE "^${NS_A}|^${NS_B}")
t_check testbed-removed "no namespace left behind" test "$left" -eq 0
echo "logs: $T_LOG_DIR"
t_summary
