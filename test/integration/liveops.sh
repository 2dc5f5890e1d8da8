#!/bin/bash
# test/integration/liveops.sh BUILDDIR : live operations on the host testbed
# (issue 14, docs/DESIGN.md 13): uct_mp_ctl against running processes.
#
# The traffic is failover.sh's: ucp_verify both ways between namespaces A
# and B over mp_rc with 2 tcp lanes (path1, path2), lanes endpoint to
# endpoint (UCP's client-server flow), load_balance; every message has a
# sequence number and each receiver counts what was lost, duplicated,
# reordered or corrupt. Each side has its own control directory, so the
# process in CTL_A is the client. Cases:
#   drain-path2: drained 1.5 s into the stream; the drain reports done, its
#     time is within 2x its own flush plus 20 ms, path2's byte counters stop,
#     the stream counts 0; status shows the lane closed on both sides;
#     draining path1 then is refused (the last usable lane)
#   undrain-path2: drained, then undrained: the lane rejoins and carries
#     > 1 MiB in the second after
#   drain-path1: the primary lane, which carries the AMs; counts 0
#   status: `status --json` checked against a schema, and 20 requests under
#     the stream at full rate each answered within 50 ms
#   refused: another uid (setpriv as nobody: the directory's 0700, then with
#     the directory opened to it, the socket's SO_PEERCRED check), an
#     unknown device, an unconfigured --to target, no such process; and a
#     socket that never answers (exit 2)
# Needs root. Always removes the namespaces it created.
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$(cd "${1:-$SRCDIR}" && pwd)
. "$SRCDIR/test/lib.sh"

NETNS="$SRCDIR/contrib/testbed/mp-netns.sh"
MODULE="$BUILDDIR/.libs/libuct_mp.so.0"
VERIFY="$BUILDDIR/test/integration/ucp/ucp_verify"
CTL="$BUILDDIR/tools/uct_mp_ctl"
export MP_NS_PREFIX=${MP_NS_PREFIX:-mpl$(( $$ % 100000 ))}
# the control directories, in one that others may traverse (the module
# creates each with mode 0700)
CTL_ROOT=$(mktemp -d /tmp/uct_mp-liveops.XXXXXX); chmod 0711 "$CTL_ROOT"
CTL_A="$CTL_ROOT/A" CTL_B="$CTL_ROOT/B"
STATUS_BOUND_MS=50

for f in "$MODULE" "$VERIFY" "$CTL"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "FAIL setup: $f not built"; echo "0 passed, 1 failed"; exit 1; }
done

cleanup() { "$NETNS" down >/dev/null 2>&1 || true; rm -rf "$CTL_ROOT"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

MP_ENV=(env LD_PRELOAD="$MODULE"
        UCX_MP_RC_LANE_TL=tcp
        UCX_MP_RC_DEVICES=path1,path2 UCX_MP_RC_POLICY=load_balance
        UCX_MP_RC_CONNECT_TO_IFACE=n UCX_MP_RC_KEEPALIVE_INTERVAL=100ms
        UCX_MP_RC_KEEPALIVE_MISSES=3 UCX_MP_RC_FAILBACK_INTERVAL=300ms
        UCX_LOG_LEVEL=diag
        UCX_WARN_UNUSED_ENV_VARS=n)
PORT=$((15000 + RANDOM % 300))

# stream NAME OPS_CMD... : ucp_verify both ways for STREAM_SECS (default 5);
# OPS_CMD runs 1.5 s into it, its output in $T_LOG_DIR/NAME.ops.log. Sets
# SRC, CRC (exit codes), CLOG, SLOG, OLOG.
stream() {
    local name=$1; shift
    local args=(-p $((PORT += 1)) --cm --only stream,rma,atomic
                --stream-secs "${STREAM_SECS:-5}" --max-size 4194304
                --timeout 60 --close-timeout 5)
    SLOG="$T_LOG_DIR/$name.server.log"; CLOG="$T_LOG_DIR/$name.log"
    OLOG="$T_LOG_DIR/$name.ops.log"
    rm -rf "$CTL_A" "$CTL_B"
    t_log "running $name"
    timeout --kill-after=5 70 "$NETNS" exec B "${MP_ENV[@]}" UCX_TLS=mp_rc \
        UCX_MP_RC_CONTROL_DIR="$CTL_B" "$VERIFY" -s "${args[@]}" > "$SLOG" 2>&1 &
    local spid=$!
    sleep 1
    ( sleep 1.5; "$@" > "$OLOG" 2>&1 ) &
    local opid=$!
    timeout --kill-after=5 60 "$NETNS" exec A "${MP_ENV[@]}" UCX_TLS=mp_rc \
        UCX_MP_RC_CONTROL_DIR="$CTL_A" "$VERIFY" -c 198.18.1.2 "${args[@]}" > "$CLOG" 2>&1; CRC=$?
    wait $spid; SRC=$?
    wait $opid
}

# counts: what both receivers counted (as failover.sh)
counts() {
    cat "$CLOG" "$SLOG" | awk '
        /^    stream (tag|am) received:/ {
            k = $2; n[k] += $4
            for (i = 1; i <= NF; ++i) {
                if ($i == "lost")       bad += $(i + 1)
                if ($i == "duplicated") bad += $(i + 1)
                if ($i == "reordered")  bad += $(i + 1)
                if ($i == "corrupt")    bad += $(i + 1)
                if ($i == "lost")       lost += $(i + 1)
                if ($i == "duplicated") dup  += $(i + 1)
                if ($i == "reordered")  ro   += $(i + 1)
                if ($i == "corrupt")    cor  += $(i + 1)
            }
            seen++
        }
        END {
            if (seen < 4) { printf "stream results missing (%d of 4 receivers)", seen; exit }
            printf "tag %d + am %d messages both ways: lost %d, duplicated %d, reordered %d, corrupt %d",
                   n["tag"], n["am"], lost, dup, ro, cor
        }'
}
counts_ok() { counts | grep -q 'lost 0, duplicated 0, reordered 0, corrupt 0$'; }

show_logs() {
    echo "    ops:"; tail -n 12 "$OLOG" | sed 's/^/    | /'
    echo "    client:"; grep -vE 'INFO  (UCX_\*|ep_cfg)' "$CLOG" | tail -n 8 | sed 's/^/    | /'
    echo "    server:"; grep -vE 'INFO  (UCX_\*|ep_cfg)' "$SLOG" | tail -n 4 | sed 's/^/    | /'
}

# pid_of DIR : the pid whose control socket is in DIR (waits up to 3 s)
pid_of() {
    local i s
    for i in $(seq 30); do
        s=$(ls "$1" 2>/dev/null | sed -n 's/^\([0-9]*\)\.sock$/\1/p' | head -1)
        [ -n "$s" ] && { echo "$s"; return 0; }
        sleep 0.1
    done
    return 1
}

# ctl SIDE ARGS... : uct_mp_ctl against SIDE's process; prints "rc N" last
ctl() {
    local dir=$CTL_A; [ "$1" = B ] && dir=$CTL_B; shift
    local pid; pid=$(pid_of "$dir") || { echo "no control socket in $dir"; echo "rc 9"; return; }
    "$CTL" --dir "$dir" "$pid" "$@"; echo "rc $?"
}

# path_bytes PATH : tx+rx bytes of PATH on side A
path_bytes() {
    "$NETNS" counters A | awk -v p="$1" '$1 == p {print $2 + $3}'
}

# bytes_in_1s PATH : bytes on PATH during one second
bytes_in_1s() {
    local b a; b=$(path_bytes "$1"); sleep 1; a=$(path_bytes "$1")
    echo $((a - b))
}

# rc_of TAG LOG : the exit code uct_mp_ctl printed after the line "== TAG"
rc_of() { awk -v t="== $1" '$0 == t {f = 1; next} f && /^rc / {print $2; exit}' "$2"; }

tb_up() {
    "$NETNS" down > /dev/null 2>&1
    "$NETNS" up 2 > "$T_LOG_DIR/$1.up.log" 2>&1 && return 0
    t_fail "$1" "testbed up failed:"; tail -n 5 "$T_LOG_DIR/$1.up.log" | sed 's/^/    | /'
    return 1
}

# --- drain path2 under the stream -----------------------------------------
ops_drain_path2() {
    echo "== drain"; ctl A drain path2 --timeout 10
    echo "path2 bytes in 1 s after: $(bytes_in_1s path2)"
    echo "== status A"; ctl A status
    echo "== status B"; ctl B status
    echo "== last lane"; ctl A drain path1 --timeout 5
}
if tb_up drain-path2; then
    stream drain-path2 ops_drain_path2
    done_line=$(grep -m1 '^drain path2: done:' "$OLOG")
    drc=$(rc_of drain "$OLOG"); lrc=$(rc_of "last lane" "$OLOG")
    after=$(sed -n 's/^path2 bytes in 1 s after: \([0-9-]*\)$/\1/p' "$OLOG")
    closed_a=$(awk '/^== status A/ {f = 1} /^== status B/ {f = 0} f' "$OLOG" | grep -c 'lane 1 path2 *closed *drain drained')
    closed_b=$(awk '/^== status B/ {f = 1} /^== last lane/ {f = 0} f' "$OLOG" | grep -c 'lane 1 path2 *closed *drain drained')
    # drain time vs. the lane's own flush, both sides (mp's diag lines)
    timing=$(cat "$CLOG" "$SLOG" | sed -n 's/.*lane 1 (path2): drained in \([0-9.]*\) s (its own work flushed after \([0-9.]*\) s).*/\1 \2/p' |
             awk '{if ($1 > d) d = $1; if ($2 > f) f = $2; n++} END {printf "%d %.3f %.3f", n, d, f}')
    read -r ndrained dmax fmax <<< "$timing"
    tok=$(awk -v d="$dmax" -v f="$fmax" 'BEGIN {print (d <= 2 * f + 0.020) ? 1 : 0}')
    detail="uct_mp_ctl exit ${drc:-?} ('${done_line:-no done line}'), $ndrained sides drained, slowest ${dmax} s vs. its flush ${fmax} s; path2 carried ${after:-?} B in the second after; status shows it closed on A ($closed_a) and B ($closed_b); $(counts); client exit $CRC, server exit $SRC"
    if [ "${drc:-1}" = 0 ] && [ -n "$done_line" ] && [ "$ndrained" -eq 2 ] && [ "$tok" = 1 ] &&
       [ "${after:-999999}" -lt 4096 ] && [ "$closed_a" -ge 1 ] && [ "$closed_b" -ge 1 ] &&
       [ $CRC -eq 0 ] && [ $SRC -eq 0 ] && counts_ok; then
        t_pass drain-path2 "$detail"
    else
        t_fail drain-path2 "$detail"; show_logs
    fi
    msg=$(awk '/^== last lane/ {f = 1} f' "$OLOG" | grep -m1 'cannot drain path1')
    t_check refused-last-lane "draining path1 after path2: exit ${lrc:-?}, '${msg:-no message}'" \
        test "${lrc:-0}" = 1 -a -n "$msg"
fi
"$NETNS" down > /dev/null 2>&1

# --- undrain brings the lane back ------------------------------------------
ops_undrain_path2() {
    echo "== drain"; ctl A drain path2 --timeout 10
    sleep 0.5
    echo "== undrain"; ctl A undrain path2 --timeout 10
    sleep 0.5
    echo "path2 bytes in 1 s after undrain: $(bytes_in_1s path2)"
}
if tb_up undrain-path2; then
    STREAM_SECS=6 stream undrain-path2 ops_undrain_path2
    drc=$(rc_of drain "$OLOG"); urc=$(rc_of undrain "$OLOG")
    uline=$(grep -m1 '^undrain path2: done:' "$OLOG")
    after=$(sed -n 's/^path2 bytes in 1 s after undrain: \([0-9-]*\)$/\1/p' "$OLOG")
    rejoined=$(cat "$CLOG" "$SLOG" | grep -cE 'lane 1 \(path2\) rejoined peer lane')
    detail="drain exit ${drc:-?}, undrain exit ${urc:-?} ('${uline:-no done line}'), rejoin confirmed $rejoined x, path2 carried ${after:-?} B in the second after; $(counts); client exit $CRC, server exit $SRC"
    if [ "${drc:-1}" = 0 ] && [ "${urc:-1}" = 0 ] && [ "$rejoined" -ge 1 ] &&
       [ "${after:-0}" -gt 1048576 ] && [ $CRC -eq 0 ] && [ $SRC -eq 0 ] && counts_ok; then
        t_pass undrain-path2 "$detail"
    else
        t_fail undrain-path2 "$detail"; show_logs
    fi
fi
"$NETNS" down > /dev/null 2>&1

# --- the primary lane (AM lane) ---------------------------------------------
ops_drain_path1() { echo "== drain"; ctl A drain path1 --timeout 10; }
if tb_up drain-path1; then
    stream drain-path1 ops_drain_path1
    drc=$(rc_of drain "$OLOG"); done_line=$(grep -m1 '^drain path1: done:' "$OLOG")
    moved=$(grep -c 'lane 0 (path1): draining, traffic moves to lane 1' "$CLOG")
    detail="uct_mp_ctl exit ${drc:-?} ('${done_line:-no done line}'), AM lane moved to path2 ($moved); $(counts); client exit $CRC, server exit $SRC"
    if [ "${drc:-1}" = 0 ] && [ -n "$done_line" ] && [ "$moved" -ge 1 ] &&
       [ $CRC -eq 0 ] && [ $SRC -eq 0 ] && counts_ok; then
        t_pass drain-path1 "$detail"
    else
        t_fail drain-path1 "$detail"; show_logs
    fi
fi
"$NETNS" down > /dev/null 2>&1

# --- status, and the refusals -------------------------------------------------
# the schema of `status --json`: every field and its type
SCHEMA_CHECK='
import json, sys
doc = json.load(sys.stdin)
def need(obj, fields, where):
    for k, t in fields.items():
        if k not in obj or not isinstance(obj[k], t) or isinstance(obj[k], bool):
            sys.exit("%s: field %s missing or not %s: %r" % (where, k, t, obj.get(k)))
num = (int, float)
need(doc, {"pid": int, "ifaces": list}, "top")
assert doc["ifaces"], "no iface"
nlanes = 0
for i in doc["ifaces"]:
    need(i, {"device": str, "policy": str, "lanes": list, "eps": list}, "iface")
    assert i["eps"], "no ep"
    for e in i["eps"]:
        need(e, {"token": int, "peer_token": int, "am_lane": int, "replayed": int,
                 "rma_replayed": int, "dup_dropped": int, "failed": int, "lanes": list}, "ep")
        for l in e["lanes"]:
            need(l, {"index": int, "device": str, "state": str, "drain": str,
                     "tx_ops": int, "tx_bytes": int, "rx_msgs": int, "rx_bytes": int,
                     "errors": int, "failovers": int, "rejoins": int,
                     "weight_MBps": num, "outstanding_bytes": int,
                     "keepalive_age_ms": num}, "lane")
            assert l["state"] in ("idle", "connecting", "active", "standby",
                                  "draining", "failed", "closed"), l["state"]
            assert l["drain"] in ("none", "draining", "drained"), l["drain"]
            nlanes += 1
busy = [l for i in doc["ifaces"] for e in i["eps"] for l in e["lanes"] if l["tx_bytes"] > 0]
assert busy, "no lane has sent anything"
print("schema ok: %d ifaces, %d lanes, %d with traffic" % (len(doc["ifaces"]), nlanes, len(busy)))
'
# 20 status requests to SOCKET, each timed from its send to its last packet
LATENCY_CHECK='
import socket, sys, time
worst = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    t0 = time.monotonic()
    s.send(b"status")
    while True:
        p = s.recv(8200)
        if not p or p[:1] == b"E":
            break
    worst.append((time.monotonic() - t0) * 1000)
    s.close()
    time.sleep(0.05)
worst.sort()
print("status answer ms: median %.1f worst %.1f" % (worst[10], worst[-1]))
'
ops_status_refused() {
    local pid i t0 t1 worst=0
    pid=$(pid_of "$CTL_A")
    echo "== json"; "$CTL" --dir "$CTL_A" "$pid" status --json > "$T_LOG_DIR/status.json"; echo "rc $?"
    python3 -c "$SCHEMA_CHECK" < "$T_LOG_DIR/status.json"; echo "schema rc $?"
    for i in $(seq 20); do
        t0=$(date +%s%N)
        "$CTL" --dir "$CTL_A" "$pid" status > /dev/null || echo "status failed"
        t1=$(date +%s%N)
        [ $(( (t1 - t0) / 1000000 )) -gt $worst ] && worst=$(( (t1 - t0) / 1000000 ))
        sleep 0.05
    done
    echo "status worst ms: $worst"
    python3 -c "$LATENCY_CHECK" "$CTL_A/$pid.sock"
    echo "== list"; "$CTL" --dir "$CTL_A" list; echo "rc $?"
    echo "== nobody dir"; setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" --dir "$CTL_A" "$pid" status; echo "rc $?"
    # a directory and socket opened to others by mistake: the socket's own
    # check refuses the request
    chmod 0711 "$CTL_A"; chmod 0666 "$CTL_A/$pid.sock"
    echo "== nobody peercred"; setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" --dir "$CTL_A" "$pid" drain path2; echo "rc $?"
    chmod 0700 "$CTL_A"; chmod 0600 "$CTL_A/$pid.sock"
    echo "== unknown"; "$CTL" --dir "$CTL_A" "$pid" drain eth9; echo "rc $?"
    echo "== to"; "$CTL" --dir "$CTL_A" "$pid" drain path2 --to path9; echo "rc $?"
    echo "== nopid"; "$CTL" --dir "$CTL_A" 999999 status; echo "rc $?"
    # a socket that accepts and never answers (a process that stopped
    # calling progress): the client gives up with exit 2
    mkdir -m 0700 "$CTL_ROOT/mute"
    timeout 5 python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1); c = s.accept()[0]; time.sleep(2)' "$CTL_ROOT/mute/4242.sock" &
    local mute=$! n
    for n in $(seq 30); do [ -S "$CTL_ROOT/mute/4242.sock" ] && break; sleep 0.1; done
    echo "== mute"; "$CTL" --dir "$CTL_ROOT/mute" 4242 status --timeout 0.5; echo "rc $?"
    wait $mute
}
if tb_up status; then
    stream status ops_status_refused
    jrc=$(rc_of json "$OLOG"); srs=$(grep -m1 '^schema ' "$OLOG")
    schema_rc=$(sed -n 's/^schema rc \([0-9]*\)$/\1/p' "$OLOG")
    t_check status-json-schema "exit ${jrc:-?}, ${srs:-no schema line} (schema rc ${schema_rc:-?})" \
        test "${jrc:-1}" = 0 -a "${schema_rc:-1}" = 0
    worst=$(sed -n 's/^status worst ms: \([0-9]*\)$/\1/p' "$OLOG")
    failed=$(grep -c '^status failed' "$OLOG")
    answer=$(sed -n 's/^status answer ms: median \([0-9.]*\) worst \([0-9.]*\)$/\1 \2/p' "$OLOG")
    read -r amed aworst <<< "${answer:-? 999}"
    t_check status-latency "20 status requests under the stream answered in median $amed ms, worst $aworst ms (bound $STATUS_BOUND_MS ms); 20 uct_mp_ctl runs, including its start: worst ${worst:-?} ms, $failed failed" \
        awk -v w="$aworst" -v b=$STATUS_BOUND_MS -v f="$failed" 'BEGIN {exit !(w <= b && f == 0)}'
    lpid=$(awk '/^== list/ {f = 1; next} f && /^[0-9]+ / {print $1; exit}' "$OLOG")
    t_check list "list shows pid ${lpid:-none}: $(awk '/^== list/ {f = 1; next} f && /^[0-9]+ / {print; exit}' "$OLOG")" \
        test -n "$lpid"
    nrc=$(rc_of "nobody dir" "$OLOG"); nmsg=$(awk '/^== nobody dir/ {f = 1} /^== nobody peercred/ {f = 0} f' "$OLOG" | grep -m1 -i 'permission denied')
    prc=$(rc_of "nobody peercred" "$OLOG"); pmsg=$(awk '/^== nobody peercred/ {f = 1} /^== unknown/ {f = 0} f' "$OLOG" | grep -m1 'uid [0-9]* may not control')
    t_check refused-other-uid "as nobody: exit ${nrc:-?} '${nmsg:-no message}'; with the directory opened to it, SO_PEERCRED: exit ${prc:-?} '${pmsg:-no message}'" \
        test "${nrc:-0}" = 1 -a -n "$nmsg" -a "${prc:-0}" = 1 -a -n "$pmsg"
    urc=$(rc_of unknown "$OLOG"); umsg=$(grep -m1 'unknown device eth9' "$OLOG")
    t_check refused-unknown-device "exit ${urc:-?}, '${umsg:-no message}'" test "${urc:-0}" = 1 -a -n "$umsg"
    trc=$(rc_of to "$OLOG"); tmsg=$(grep -m1 'path9 was not configured' "$OLOG")
    t_check refused-unknown-target "exit ${trc:-?}, '${tmsg:-no message}'" test "${trc:-0}" = 1 -a -n "$tmsg"
    xrc=$(rc_of nopid "$OLOG")
    t_check refused-no-process "exit ${xrc:-?}" test "${xrc:-0}" = 1
    mrc=$(rc_of mute "$OLOG"); mmsg=$(grep -m1 'timeout: pid 4242' "$OLOG")
    t_check timeout-exit-code "a socket that never answers: exit ${mrc:-?}, '${mmsg:-no message}'" \
        test "${mrc:-0}" = 2 -a -n "$mmsg"
    [ $CRC -eq 0 ] && [ $SRC -eq 0 ] && counts_ok || { t_fail status-stream "client exit $CRC, server exit $SRC; $(counts)"; show_logs; }
fi
"$NETNS" down > /dev/null 2>&1

t_check control-sockets-removed "no socket left in the control directories after the processes exited" \
    bash -c "! ls '$CTL_A' '$CTL_B' 2>/dev/null | grep -q sock"
t_check testbed-removed "no namespace left behind" \
    bash -c '! ip netns list | grep -qE "^${MP_NS_PREFIX}[AB]( |$)"'
echo "logs: $T_LOG_DIR"
t_summary
