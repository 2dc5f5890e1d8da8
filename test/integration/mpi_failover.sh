#!/bin/bash
# test/integration/mpi_failover.sh BUILDDIR : MPI and ucx_perftest failover in
# UCP's worker-address (p2p) flow, on the host testbed (issue 11).
#
# Three namespace paths (contrib/testbed/mp-netns.sh up 3), tbf 1 Gbit/s each:
# path1 and path2 are mp_rc's tcp lanes (UCX_MP_RC_DEVICES, UCX_NET_DEVICES),
# path3 is not a lane and carries the MPI launcher and its out-of-band traffic
# (hostA/hostB resolve to path3, MPI_OOB_IF=path3) and ucx_perftest's address
# exchange. mp_rc is the only UCX network transport (UCX_TLS=mp_rc,self). For
# Open MPI 4.1.4 (pml ucx) and MPICH 4.0.2 (ch4:ucx, contrib/install-mpich.sh):
#   verify-MPI           mpi_verify's short mode, every byte checked, both
#                        lanes carrying traffic (host A's path byte counters);
#   failover-MPI-MODE    mpi_verify --long under a running job while path1,
#                        then path2, is cut and restored (MODE: link = link
#                        down/up on both ends, drop = silent nft drop, reset =
#                        nft tcp reset, both on side A); the job must finish
#                        with every message verified, keep moving messages
#                        during each cut, and its mp_rc lines must show each
#                        lane failing and rejoining.
# and ucx_perftest (p2p: the server starts without a peer address):
#   perftest-TEST-PATH   tag_bw / ucp_put_bw 4 MiB, PATH cut (silent drop,
#                        PERF_FAULT to change) 4 s in and left cut: the run
#                        must complete on the survivor.
# Every case has a hard time limit; a hang is reported as a timeout, its
# processes are killed and its namespaces removed. PASS/FAIL per case, a
# summary of the mp_rc failover/rejoin lines and UCX errors of each log, and
# a final "N passed, M failed" line. Logs stay in T_LOG_DIR (printed).
#
# Runs under the testbed lock /tmp/uct_mp-testbed.lock, which it takes
# itself (a caller that already holds it sets UCT_MP_TESTBED_LOCKED=1).
# Environment: MPIFAIL_ONLY (regex of case names), MPIFAIL_ENV (extra
# VAR=VALUE words for every run, e.g. "UCX_MP_RC_CONNECT_TO_IFACE=n"),
# MPIFAIL_TLS (default mp_rc,self), MPIFAIL_POLICY (default load_balance),
# LONG_SECS (stream length, default 36), CUT_SECS (each cut, default 5),
# PERF_FAULT (drop | link | reset), PERF_ITERS (default 600).
# Needs root. Not part of contrib/run-tests.sh.
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$(cd "${1:-$SRCDIR}" && pwd)
LOCK=/tmp/uct_mp-testbed.lock
if [ "${UCT_MP_TESTBED_LOCKED:-}" != 1 ]; then
    export UCT_MP_TESTBED_LOCKED=1
    echo "mpi_failover: waiting for the testbed lock $LOCK (at most 1 h)" >&2
    exec flock -w 3600 "$LOCK" "$0" "$@"
fi
. "$SRCDIR/test/lib.sh"
mkdir -p "$T_LOG_DIR"

NETNS="$SRCDIR/contrib/testbed/mp-netns.sh"
MODULE="$BUILDDIR/.libs/libuct_mp.so.0"
VERIFY_OMPI="$BUILDDIR/test/integration/mpi/mpi_verify"
VERIFY_MPICH="$BUILDDIR/test/integration/mpi/mpi_verify_mpich"
VERIFY_SRC="$SRCDIR/test/integration/mpi/mpi_verify.c"
export MP_NS_PREFIX=${MP_NS_PREFIX:-mpm$(( $$ % 100000 ))}
export MP_NS_HOST_PATH=3 MPI_OOB_IF=path3 MP_TESTBED_LOG=$T_LOG_DIR
NS_A=${MP_NS_PREFIX}A
LONG_SECS=${LONG_SECS:-36}
CUT_SECS=${CUT_SECS:-5}
PERF_FAULT=${PERF_FAULT:-drop}
PERF_ITERS=${PERF_ITERS:-600}
KA_MS=100 KA_MISSES=3

[ -f "$MODULE" ] || { echo "FAIL setup: $MODULE not built"; echo "0 passed, 1 failed"; exit 1; }

cleanup() { "$NETNS" down > /dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r -a EXTRA_ENV <<< "${MPIFAIL_ENV:-}"
# the environment of every run: lanes on path1+path2 only, keepalive 100 ms
# x 3 and fail-back 300 ms as in failover.sh, mp_rc's diag lines logged
MP_ENV=(LD_PRELOAD="$MODULE" UCX_TLS="${MPIFAIL_TLS:-mp_rc,self}"
        UCX_MP_RC_LANE_TL=tcp UCX_MP_RC_DEVICES=path1,path2
        UCX_NET_DEVICES=path1,path2 UCX_MP_RC_POLICY="${MPIFAIL_POLICY:-load_balance}"
        UCX_MP_RC_KEEPALIVE_INTERVAL=${KA_MS}ms UCX_MP_RC_KEEPALIVE_MISSES=$KA_MISSES
        UCX_MP_RC_FAILBACK_INTERVAL=300ms UCX_LOG_LEVEL=info
        UCX_WARN_UNUSED_ENV_VARS=n "${EXTRA_ENV[@]}")

wanted() { [[ $1 =~ ${MPIFAIL_ONLY:-.} ]]; }
now() { date +%s.%N; }

# tb_up NAME : a fresh 3-path testbed, every path shaped to 1 Gbit/s
tb_up() {
    cleanup
    if "$NETNS" up 3 > "$T_LOG_DIR/$1.up.log" 2>&1 &&
       "$NETNS" shape 1gbit >> "$T_LOG_DIR/$1.up.log" 2>&1; then
        return 0
    fi
    t_fail "$1" "testbed up failed:"
    tail -n 5 "$T_LOG_DIR/$1.up.log" | sed 's/^/    | /'
    return 1
}

# tx PATH : bytes host A sent on PATH
tx() { ip netns exec "$NS_A" cat "/sys/class/net/$1/statistics/tx_bytes" 2>/dev/null || echo 0; }
counters() { echo "$(tx path1) $(tx path2) $(tx path3)"; }

# build_mpich_verify : mpi_verify against the unpacked MPICH (its packages
# conflict with Open MPI's, so there is no mpicc.mpich in PATH)
build_mpich_verify() {
    local x inc lib
    x=$("$SRCDIR/contrib/install-mpich.sh" 2> "$T_LOG_DIR/install-mpich.log" | tail -n 1)
    inc=$(find "$x/usr/include" -maxdepth 3 -name mpi.h -path '*mpich*' 2>/dev/null | head -n 1)
    lib=$(find "$x/usr/lib" -maxdepth 2 -name libmpich.so 2>/dev/null | head -n 1)
    [ -n "$inc" ] && [ -n "$lib" ] || { cat "$T_LOG_DIR/install-mpich.log"; return 1; }
    export MPICH_ROOT=$x
    [ "$VERIFY_MPICH" -nt "$VERIFY_SRC" ] && return 0
    gcc -std=gnu99 -O2 -Wall -Wextra -Werror -I"$(dirname "$inc")" -o "$VERIFY_MPICH" \
        "$VERIFY_SRC" -L"$(dirname "$lib")" -lmpich
}

# mpi_launch MPI TIMEOUT ARGS... : mpi_verify ARGS under MPI (openmpi | mpich)
mpi_launch() {
    local mpi=$1 tmo=$2; shift 2
    if [ "$mpi" = openmpi ]; then
        env "${MP_ENV[@]}" TO="$tmo" "$SRCDIR/contrib/testbed/mpirun-ns.sh" "$VERIFY_OMPI" "$@"
    else
        env "${MP_ENV[@]}" TO="$tmo" "$SRCDIR/contrib/testbed/mpiexec-ns.sh" "$VERIFY_MPICH" "$@"
    fi
}

# status_of RC TIMEOUT : "exit N" or "timed out after T s (killed)"
status_of() {
    case $1 in
        124|137) echo "timed out after $2 s (killed)" ;;
        *) echo "exit $1" ;;
    esac
}

# mp_summary LOG : counts of mp_rc's failover/rejoin lines, UCP endpoint
# errors and MPI errors, then the first of the mp_rc lines and of the errors
ERR_RE=' (ERROR|FATAL) |error .* will not be handled|Error: ucx|MPI_ERR_|Fatal error|returned failed request'
mp_summary() {
    local log=$1 p k
    local -a parts=()
    for p in path1 path2; do
        k=$(( ${p#path} - 1 ))
        parts+=("$p: failed $(grep -c "lane $k ($p) failed" "$log")")
        parts+=("link down $(grep -cE "lane $k \($p\): link $p down" "$log")")
        parts+=("rejoin tries $(grep -c "lane $k ($p): trying to rejoin" "$log")")
        parts+=("rejoined $(grep -cE "lane $k \($p\) rejoined peer lane|lane $k \($p\): peer lane [0-9]+ rejoins" "$log")")
    done
    parts+=("AM lane moves $(grep -c 'mp_rc: .*AM lane [0-9]* -> ' "$log")")
    parts+=("RMA re-posts $(grep -c 're-posted .* RMA chunks' "$log")")
    parts+=("UCX/MPI error lines $(grep -cE "$ERR_RE" "$log")")
    local IFS=,
    echo "    mp_rc lines: ${parts[*]}" | sed 's/,/, /g'
    grep -E 'mp_rc: .*(failed|rejoin|link path[0-9] (down|up)|AM lane|re-posted|refused|no probe)' \
        "$log" | grep -v 'mp_rc: ep [^ ]* lane [0-9]* ([^)]*) state ' | head -n 10 |
        cut -c 1-220 | sed 's/^/    | /'
    grep -E "$ERR_RE" "$log" | head -n 5 | cut -c 1-220 | sed 's/^/    ! /'
}

# lane_failed / lane_rejoined LOG PATH : how often LOG says PATH's lane
# failed / rejoined (either side of the rejoin)
lane_failed() { grep -c "lane $(( ${2#path} - 1 )) ($2) failed" "$1"; }
lane_rejoined() {
    local k=$(( ${2#path} - 1 ))
    grep -cE "lane $k \($2\) rejoined peer lane|lane $k \($2\): peer lane [0-9]+ rejoins" "$1"
}

#
# (a) the verification program, both lanes carrying traffic
#
case_verify() {
    local mpi=$1 name=verify-$1 log rc=0 b a d1 d2 d3 summary
    wanted "$name" || return 0
    tb_up "$name" || return 0
    log=$T_LOG_DIR/$name.log
    t_log "running $name"
    read -r -a b <<< "$(counters)"
    mpi_launch "$mpi" 120 > "$log" 2>&1 || rc=$?
    read -r -a a <<< "$(counters)"
    d1=$(( a[0] - b[0] )) d2=$(( a[1] - b[1] )) d3=$(( a[2] - b[2] ))
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    local what="$(status_of $rc 120), mpi_verify '${summary:-no count line}', host A sent path1 +$d1 B, path2 +$d2 B (lanes, each > 1 MiB), path3 +$d3 B (launcher)"
    if [ $rc -eq 0 ] && [[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] &&
       [ $d1 -gt 1048576 ] && [ $d2 -gt 1048576 ]; then
        t_pass "$name" "$what"
    else
        t_fail "$name" "$what"
        grep -vE 'INFO  (UCX_\*|ep_cfg)' "$log" | tail -n 15 | sed 's/^/    | /'
    fi
    mp_summary "$log"
    cleanup
}

# fault PATH MODE cut|restore : the testbed command of one fault
fault() {
    local p=$1 mode=$2 step=$3
    case $mode:$step in
        link:cut)      "$NETNS" fault "$p" down ;;
        link:restore)  "$NETNS" fault "$p" up ;;
        drop:cut)      "$NETNS" fault "$p" drop A ;;
        drop:restore)  "$NETNS" fault "$p" undrop A ;;
        reset:cut)     "$NETNS" fault "$p" reset A ;;
        reset:restore) "$NETNS" fault "$p" unreset A ;;
    esac
}

# cut_cycle MODE : 3 s of stream, then path1 and path2 in turn cut for
# CUT_SECS and restored, 6 s after each restore (fail-back). Prints one
# "phase NAME FROM TO tx1 tx2 tx3" line per phase (epoch s, bytes A sent)
cut_cycle() {
    local mode=$1 p t0 c0 t1 c1
    sleep 3
    for p in path1 path2; do
        t0=$(now); c0=$(counters)
        fault "$p" "$mode" cut
        sleep "$CUT_SECS"
        t1=$(now); c1=$(counters)
        fault "$p" "$mode" restore
        echo "phase $p-cut $t0 $t1 $c0 $c1"
        t0=$(now); c0=$(counters)
        sleep 6
        echo "phase $p-restored $t0 $(now) $c0 $(counters)"
    done
}

# msgs_at LOG EPOCH : messages each way at rank 0's last progress line
# before EPOCH (0 if none)
msgs_at() {
    sed -n 's/^\[\([0-9.]*\)\] long progress: .*, \([0-9]*\) messages each way,.*/\1 \2/p' "$1" |
        awk -v t="$2" '$1 <= t {m = $2} END {print m + 0}'
}

# phase_report LOG FAULTLOG : per phase, messages moved and bytes per path
# into PHASES; sets STALLED to the phases in which no message moved
phase_report() {
    local log=$1 flog=$2 name from to b1 b2 b3 a1 a2 a3 m0 m1
    STALLED="" PHASES=""
    while read -r _ name from to b1 b2 b3 a1 a2 a3; do
        m0=$(msgs_at "$log" "$from"); m1=$(msgs_at "$log" "$to")
        PHASES+="    $name: $(( m1 - m0 )) messages each way, A sent path1 +$(( a1 - b1 )) B, path2 +$(( a2 - b2 )) B, path3 +$(( a3 - b3 )) B"$'\n'
        [ $(( m1 - m0 )) -gt 0 ] || STALLED+=" $name"
    done < <(grep '^phase ' "$flog" 2> /dev/null)
}

#
# (b) the long run under cuts of path1, then path2
#
case_failover() {
    local mpi=$1 mode=$2 name=failover-$1-$2 log flog rc=0 tmo fpid jpid
    wanted "$name" || return 0
    tb_up "$name" || return 0
    log=$T_LOG_DIR/$name.log; flog=$T_LOG_DIR/$name.fault.log
    tmo=$(( LONG_SECS + 60 ))
    t_log "running $name (hard limit $tmo s)"
    ( mpi_launch "$mpi" "$tmo" --long --secs "$LONG_SECS" --stall-secs 20 ) > "$log" 2>&1 &
    jpid=$!
    # the cuts start once the stream runs (bounded: 30 s for the launch)
    local i started=0
    for i in $(seq 300); do
        grep -q '\] long start: ' "$log" && { started=1; break; }
        kill -0 $jpid 2> /dev/null || break
        sleep 0.1
    done
    if [ $started = 1 ]; then
        cut_cycle "$mode" > "$flog" 2>&1 &
        fpid=$!
    fi
    wait $jpid; rc=$?
    [ -n "${fpid:-}" ] && { kill $fpid 2> /dev/null; wait $fpid 2> /dev/null; }
    failover_verdict "$name" "$rc" "$tmo" "$started" "$log" "$flog"
    cleanup
}

# failover_verdict NAME RC TIMEOUT STARTED LOG FAULTLOG
failover_verdict() {
    local name=$1 rc=$2 tmo=$3 started=$4 log=$5 flog=$6 p count final ok=1 ev=""
    count=$(grep -E '^long: ' "$log" | tail -n 1)
    final=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    [ "$started" = 1 ] || { ok=0; ev="the stream never started; "; }
    [ $rc -eq 0 ] && [ "$final" = "1 passed, 0 failed" ] && [[ $count == *", 0 bad" ]] || ok=0
    for p in path1 path2; do
        ev+="$p lane failed $(lane_failed "$log" $p) x, rejoined $(lane_rejoined "$log" $p) x; "
        [ "$(lane_failed "$log" $p)" -gt 0 ] && [ "$(lane_rejoined "$log" $p)" -gt 0 ] || ok=0
    done
    phase_report "$log" "$flog"
    [ -z "$STALLED" ] || { ok=0; ev+="no message moved in:$STALLED; "; }
    grep -q '^phase path2-restored ' "$flog" 2> /dev/null || { ok=0; ev+="the job ended before the cut cycle did; "; }
    local stuck
    stuck=$(grep -m1 'long: no round completed' "$log" | sed 's/^\[[0-9.]*\] //')
    local what="$(status_of "$rc" "$tmo"), ${ev}${count:-no final count line}${stuck:+; $stuck}"
    if [ $ok = 1 ]; then t_pass "$name" "$what"; else t_fail "$name" "$what"; fi
    [ -n "$PHASES" ] && printf '%s' "$PHASES"
    mp_summary "$log"
}

#
# (c) ucx_perftest through a cut of one path
#
case_perftest() {
    local test=$1 path=$2 name=perftest-$1-$2 log rc=0 b a fpid surv
    wanted "$name" || return 0
    tb_up "$name" || return 0
    log=$T_LOG_DIR/$name.log
    [ "$path" = path1 ] && surv=path2 || surv=path1
    t_log "running $name ($PERF_FAULT of $path 4 s in)"
    b=$(counters)
    # the counters once the fault is in effect (a drop takes 0.3 s to apply)
    ( sleep 4; fault "$path" "$PERF_FAULT" cut; echo "cut at $(now) $(counters)" ) \
        > "$T_LOG_DIR/$name.fault.log" 2>&1 &
    fpid=$!
    env "${MP_ENV[@]}" UCX_TLS=mp_rc TO=90 PERF_SERVER_ADDR=198.18.3.2 \
        timeout --kill-after=5 120 "$SRCDIR/contrib/testbed/perftest-ns.sh" \
        -t "$test" -s 4194304 -n "$PERF_ITERS" > "$log" 2>&1 || rc=$?
    kill $fpid 2> /dev/null; wait $fpid 2> /dev/null
    a=$(counters)
    perftest_verdict "$name" "$rc" "$path" "$surv" "$b" \
        "$(grep -m1 '^cut at ' "$T_LOG_DIR/$name.fault.log" | cut -d' ' -f4-6)" "$a" "$log"
    cleanup
}

# perftest_verdict NAME RC PATH SURVIVOR "BEFORE" "AT CUT" "AFTER" LOG
perftest_verdict() {
    local name=$1 rc=$2 path=$3 surv=$4 log=$8 k
    local -a b c a
    read -r -a b <<< "$5"; read -r -a c <<< "${6:-$5}"; read -r -a a <<< "$7"
    k=$(( ${surv#path} - 1 ))
    local cut_k=$(( ${path#path} - 1 ))
    local after_s=$(( a[k] - c[k] )) after_c=$(( a[cut_k] - c[cut_k] ))
    local final
    final=$(grep -E '^(\[thread [0-9]+\])? +[0-9]+ ' "$log" | tail -n 1 |
            awk '{print "last report line: " $(NF-7) " iterations, " $(NF-2) " MB/s overall"}')
    local what="$(status_of "$rc" 90), before the cut path1 +$(( c[0] - b[0] )) B path2 +$(( c[1] - b[1] )) B, after it $surv +$after_s B, $path +$after_c B; ${final:-no report line}"
    [ -n "${6:-}" ] || what="$what; the cut never happened"
    [ $(( c[cut_k] - b[cut_k] )) -ge 1048576 ] ||
        what="$what; note: $path carried no traffic before the cut, so the cut tested nothing"
    if [ "$rc" -eq 0 ] && [ -n "${6:-}" ] && [ $after_s -gt $(( 64 * 1048576 )) ]; then
        t_pass "$name" "$what"
    else
        t_fail "$name" "$what"
        grep -vE 'INFO  (UCX_\*|ep_cfg)' "$log" | tail -n 12 | cut -c 1-220 | sed 's/^/    | /'
    fi
    mp_summary "$log"
}

#
# main
#
echo "mpi_failover: logs in $T_LOG_DIR, testbed $MP_NS_PREFIX, ${MP_ENV[*]:1}"
MPIS=(openmpi mpich)
if ! command -v mpirun > /dev/null || [ ! -x "$VERIFY_OMPI" ]; then
    t_fail setup-openmpi "$VERIFY_OMPI not built or mpirun missing: Open MPI cases cannot run"
    MPIS=(mpich)
fi
if ! build_mpich_verify > "$T_LOG_DIR/build-mpich.log" 2>&1; then
    t_fail setup-mpich "MPICH or mpi_verify_mpich not available: $(tail -n 3 "$T_LOG_DIR/build-mpich.log" | xargs)"
    MPIS=("${MPIS[@]/mpich}")
fi
for mpi in ${MPIS[@]}; do
    case_verify "$mpi"
    for mode in link drop reset; do
        case_failover "$mpi" "$mode"
    done
done
for test in tag_bw ucp_put_bw; do
    for path in path1 path2; do
        case_perftest "$test" "$path"
    done
done
cleanup
t_check testbed-removed "no namespace left behind" \
    bash -c '! ip netns list | grep -qE "^${MP_NS_PREFIX}[AB]( |$)"'
echo "logs: $T_LOG_DIR"
t_summary
