#!/bin/bash
# test/integration/test_testbed.sh: self-test of the host testbed
# (contrib/testbed/mp-netns.sh). Needs root, iproute2, nftables, python3.
#
# Usage: test/integration/test_testbed.sh
#
# Under 'mp-netns.sh run 2' it checks: both paths ping in both directions, the
# hosts' names (hostname, /etc/hosts), the counters output and that it moves,
# 'up' on an existing testbed is refused without harm, 'shape 100mbit 50mbit'
# puts tbf on both ends and really limits a TCP transfer, 'shape off', and the
# faults on path2 while path1 keeps working: drop (on A, on B) and undrop,
# link down/up, reset (TCP connect refused at once, ping still fine) and
# unreset. Under 'mp-netns.sh run --routed 2' (routed mode) it checks: the
# addresses on different subnets, A reaches B only through each path's
# router (route via the router, TTL 1 expires there, nothing with the
# router's forwarding off, nothing across paths), the hosts file, status,
# shaping through the router, the host-side drop and link down, and the
# router-side cut: TCP and ping over the path go silent while both hosts'
# links stay up and neither host gets a link message, then uncut restores.
# Then, outside: 'run' returns its command's status, removes the testbed
# (routers included) after SIGTERM, refuses bad arguments and 'cut' without
# routers without creating anything, 'down' removes an 'up --routed'
# testbed, 'down' on nothing succeeds, and no namespace or /etc/netns entry
# is left.
# Uses MP_NS_PREFIX=mptb<pid> unless set. Ends with "N passed, M failed".
# shellcheck disable=SC2317  # helpers are called through t_check
set -u
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$SRCDIR/test/integration/test_testbed.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$SRCDIR/test/lib.sh"
NETNS=$SRCDIR/contrib/testbed/mp-netns.sh
# one testbed per run: a run killed earlier may have left its namespaces
export MP_NS_PREFIX=${MP_NS_PREFIX:-mptb$(( $$ % 100000 ))}
NS_A=${MP_NS_PREFIX}A
NS_B=${MP_NS_PREFIX}B
export T_LOG_DIR

ns_left() { ip netns list | awk '{print $1}' | grep -cxE "${NS_A}|${NS_B}|${MP_NS_PREFIX}R[0-9]+"; }

# a small TCP helper run inside the hosts (bounded by its own time limits):
#   serve PORT SECONDS        accept connections for SECONDS, read each to EOF,
#                             answer with the byte count
#   send ADDR PORT N TIMEOUT  send N bytes, print "N SECONDS MBIT/S";
#                             exit 3 on refused/reset, 4 on timeout
HELPER=$T_LOG_DIR/tcp_helper.py
cat > "$HELPER" <<'EOF'
import socket, sys, time
if sys.argv[1] == "serve":
    port, secs = int(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    end = time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        c.settimeout(30); n = 0
        try:
            while True:
                b = c.recv(1 << 16)
                if not b: break
                n += len(b)
            c.sendall(str(n).encode())
        except OSError:
            pass
        c.close()
else:
    addr, port, n, tmo = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    t0 = time.time()
    try:
        c = socket.create_connection((addr, port), timeout=tmo)
        buf = b"x" * (1 << 16); left = n
        while left > 0:
            left -= c.send(buf[:min(left, len(buf))])
        c.shutdown(socket.SHUT_WR)
        got = int(c.recv(64) or b"-1")
        dt = time.time() - t0
        print("%d %.3f %.1f" % (got, dt, got * 8 / dt / 1e6 if dt > 0 else 0))
        sys.exit(0 if got == n else 1)
    except (ConnectionRefusedError, ConnectionResetError) as e:
        print("refused/reset after %.3f s: %s" % (time.time() - t0, e)); sys.exit(3)
    except socket.timeout:
        print("timeout after %.3f s" % (time.time() - t0)); sys.exit(4)
EOF

if [ "${1:-}" = --inside ]; then
    #
    # Inside 'mp-netns.sh run 2': the testbed exists
    #
    in_a() { "$NETNS" exec A "$@"; }
    ping_ok() { # ping_ok FROM K: one ping over path K
        local to=1
        [ "$1" = A ] && to=2
        "$NETNS" exec "$1" ping -c1 -W1 -q "198.18.$2.$to" >/dev/null 2>&1
    }
    ping_fails() { ! ping_ok "$@"; }
    ping_soon() { # ping_soon FROM K: pings within 10 attempts (after a restore)
        for _ in $(seq 10); do ping_ok "$@" && return 0; sleep 0.5; done; return 1
    }
    qdisc() { tc -n "$1" qdisc show dev "$2" root | head -1; }

    PORT=$((13000 + RANDOM % 1000))
    timeout 300 "$NETNS" exec B python3 "$HELPER" serve "$PORT" 240 > "$T_LOG_DIR/serve.log" 2>&1 &
    SERVER=$!
    trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
    send() { # send K NBYTES TIMEOUT: TCP transfer A -> B over path K; prints the helper's line
        in_a python3 "$HELPER" send "198.18.$1.2" "$PORT" "$2" "$3"
    }
    for _ in $(seq 50); do "$NETNS" exec B ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done

    t_check run-env "MP_NS_A=${MP_NS_A:-} MP_NS_B=${MP_NS_B:-} MP_NPATHS=${MP_NPATHS:-}" \
        test "${MP_NS_A:-}" = "$NS_A" -a "${MP_NS_B:-}" = "$NS_B" -a "${MP_NPATHS:-}" = 2
    for k in 1 2; do
        t_check "ping-path$k-A-to-B" "A -> 198.18.$k.2" ping_ok A "$k"
        t_check "ping-path$k-B-to-A" "B -> 198.18.$k.1" ping_ok B "$k"
    done
    names="$(in_a hostname)/$("$NETNS" exec B hostname)"
    t_check hostnames "hostname in A/B: $names" test "$names" = hostA/hostB
    addrs="$(in_a getent hosts hostB | awk '{print $1}')/$("$NETNS" exec B getent hosts hostA | awk '{print $1}')"
    t_check hosts-file "hostB in A / hostA in B resolve to $addrs" test "$addrs" = 198.18.1.2/198.18.1.1
    n=$("$NETNS" counters | grep -cE '^path[12] [0-9]+ [0-9]+$')
    t_check counters-format "$n lines 'pathK TX RX' (2)" test "$n" -eq 2
    before=$("$NETNS" counters | awk '$1=="path2"{print $2}')
    send 2 1000000 10 >/dev/null
    after=$("$NETNS" counters | awk '$1=="path2"{print $2}')
    t_check counters-move "1 MB over path2: path2 tx_bytes +$((after - before))" \
        test $((after - before)) -ge 1000000
    n=$("$NETNS" status | grep -cE '^path[12] .* up/up ')
    t_check status "status lists $n paths up/up (2)" test "$n" -eq 2
    out=$("$NETNS" up 2 2>&1); rc=$?
    t_check up-twice-refused "second 'up' fails (exit $rc) and says to run down" \
        grep -q "down" <<<"$([ $rc -ne 0 ] && echo "$out")"
    t_check up-twice-harmless "the testbed still works after it" ping_ok A 1

    # shaping
    "$NETNS" shape 100mbit 50mbit > "$T_LOG_DIR/shape.log" 2>&1
    for ns in "$NS_A" "$NS_B"; do
        q1=$(qdisc "$ns" path1); q2=$(qdisc "$ns" path2)
        t_check "shape-$ns-path1" "$q1" grep -q "tbf .*rate 100Mbit" <<<"$q1"
        t_check "shape-$ns-path2" "$q2" grep -q "tbf .*rate 50Mbit" <<<"$q2"
    done
    r1=$(send 1 4000000 30 | awk '{print int($3)}')
    r2=$(send 2 4000000 30 | awk '{print int($3)}')
    t_check shape-limits-rate "4 MB TCP at ${r1:-?} Mbit/s on path1 (40-120), ${r2:-?} Mbit/s on path2 (20-60)" \
        test "${r1:-999}" -le 120 -a "${r1:-0}" -ge 40 -a "${r2:-999}" -le 60 -a "${r2:-0}" -ge 20
    "$NETNS" shape off >> "$T_LOG_DIR/shape.log" 2>&1
    n=$( (tc -n "$NS_A" qdisc show; tc -n "$NS_B" qdisc show) | grep -c tbf)
    t_check shape-off "$n tbf qdiscs left (0)" test "$n" -eq 0

    # drop
    "$NETNS" fault path2 drop
    t_check drop-A-path2-fails "path2 ping fails with drop on A" ping_fails A 2
    t_check drop-A-path1-works "path1 ping still works" ping_ok A 1
    out=$(send 2 1000 2); rc=$?
    t_check drop-tcp-times-out "TCP over path2: $out (exit $rc, 4 = timeout)" test "$rc" -eq 4
    "$NETNS" fault path2 undrop
    t_check undrop-restores "path2 ping works again" ping_soon A 2
    "$NETNS" fault 2 drop B
    t_check drop-B-path2-fails "path2 ping from A fails with drop on B" ping_fails A 2
    "$NETNS" fault 2 undrop B
    t_check undrop-B-restores "path2 ping works again" ping_soon A 2

    # link down / up
    "$NETNS" fault path2 down
    t_check down-path2-fails "path2 ping fails with the link down" ping_fails A 2
    t_check down-path1-works "path1 ping still works" ping_ok A 1
    st=$("$NETNS" status | grep -E '^path2 ')
    t_check down-status "status: $(awk '{print $4}' <<<"$st") (down/down)" grep -qE ' down/down ' <<<"$st"
    "$NETNS" fault path2 up
    t_check up-restores "path2 ping works again" ping_soon A 2

    # tcp reset
    "$NETNS" fault path2 reset
    out=$(send 2 1000 5); rc=$?
    ms=$(awk '{for(i=1;i<=NF;i++) if($i=="after") {print int($(i+1)*1000); exit}}' <<<"$out")
    t_check reset-refuses-tcp "TCP over path2: $out" test "$rc" -eq 3 -a "${ms:-9999}" -lt 2000
    out=$("$NETNS" exec A timeout 3 bash -c "exec 3<>/dev/tcp/198.18.2.2/$PORT" 2>&1); rc=$?
    t_check reset-bash-dev-tcp "bash /dev/tcp over path2: exit $rc, $(tail -1 <<<"$out")" \
        grep -qiE 'refused|reset' <<<"$([ $rc -eq 1 ] && echo "$out")"
    out=$(send 1 1000 5); rc=$?
    t_check reset-path1-tcp-works "TCP over path1: $out" test "$rc" -eq 0
    t_check reset-ping-passes "path2 ping still works (reset only hits TCP)" ping_ok A 2
    "$NETNS" fault path2 unreset
    out=$(send 2 1000 5); rc=$?
    t_check unreset-restores "TCP over path2 works again: $out" test "$rc" -eq 0
    n=$("$NETNS" status | grep -E '^path' | grep -cE ' (drop|reset)')
    t_check no-faults-left "$n paths with a fault in status (0)" test "$n" -eq 0
    echo "inside: $T_PASSED passed, $T_FAILED failed"
    [ "$T_FAILED" -eq 0 ]
    exit
fi

if [ "${1:-}" = --inside-routed ]; then
    #
    # Inside 'mp-netns.sh run --routed 2': hosts A and B, routers R1 and R2
    #
    R1=${MP_NS_PREFIX}R1 R2=${MP_NS_PREFIX}R2
    addr() { "$NETNS" addr "$1" "$2"; }
    ping_to() { # ping_to FROM ADDR [PING-OPTIONS]: one ping answered
        local from=$1 to=$2; shift 2
        "$NETNS" exec "$from" ping -c1 -W1 -q "$@" "$to" >/dev/null 2>&1
    }
    ping_not() { ! ping_to "$@"; }
    ping_soon() { # ping_soon FROM ADDR: answered within 10 attempts
        for _ in $(seq 10); do ping_to "$1" "$2" && return 0; sleep 0.5; done; return 1
    }
    PORT=$((13000 + RANDOM % 1000))
    timeout 200 "$NETNS" exec B python3 "$HELPER" serve "$PORT" 150 > "$T_LOG_DIR/serve-routed.log" 2>&1 &
    SERVER=$!
    trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null' EXIT
    send_to() { # send_to ADDR NBYTES TIMEOUT: TCP transfer A -> B; prints the helper's line
        "$NETNS" exec A python3 "$HELPER" send "$1" "$PORT" "$2" "$3"
    }
    for _ in $(seq 50); do "$NETNS" exec B ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done

    t_check routed-run-env "MP_NS_ROUTED=${MP_NS_ROUTED:-} MP_NPATHS=${MP_NPATHS:-}" \
        test "${MP_NS_ROUTED:-}" = 1 -a "${MP_NPATHS:-}" = 2
    a="$(addr A 1) $(addr A 2) $(addr B 1) $(addr B 2)"
    t_check routed-addresses "A, B on path1, path2: $a" test "$a" = "198.18.31.1 198.18.32.1 198.18.41.2 198.18.42.2"
    for k in 1 2; do
        t_check "routed-ping-path$k-A-to-B" "A -> $(addr B $k)" ping_to A "$(addr B $k)"
        t_check "routed-ping-path$k-B-to-A" "B -> $(addr A $k)" ping_to B "$(addr A $k)"
        rt=$(ip -n "$NS_A" route get "$(addr B $k)" | head -1)
        t_check "routed-route-path$k" "A: $rt" grep -q "via 198.18.3$k.254 dev path$k " <<<"$rt"
        out=$("$NETNS" exec A ping -c1 -W1 -t1 "$(addr B $k)" 2>&1)
        t_check "routed-ttl1-path$k" "TTL 1 to $(addr B $k) expires at the router: $(grep -o 'From .*' <<<"$out")" \
            grep -q "From 198.18.3$k.254 .*Time to live exceeded" <<<"$out"
        t_check "routed-ttl2-path$k" "TTL 2 reaches $(addr B $k)" ping_to A "$(addr B $k)" -t2
    done
    t_check routed-no-cross-path "$(addr A 1) -> $(addr B 2) (path2's router drops it) fails" \
        ping_not A "$(addr B 2)" -I "$(addr A 1)"
    ip netns exec "$R1" sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
    t_check routed-only-through-router "forwarding off in $R1: A -> $(addr B 1) fails" \
        ping_not A "$(addr B 1)"
    ip netns exec "$R1" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
    t_check routed-forwarding-back "forwarding on again: A -> $(addr B 1)" ping_soon A "$(addr B 1)"
    addrs="$("$NETNS" exec A getent hosts hostB | awk '{print $1}')/$("$NETNS" exec B getent hosts hostA | awk '{print $1}')"
    t_check routed-hosts-file "hostB in A / hostA in B resolve to $addrs" test "$addrs" = 198.18.41.2/198.18.31.1
    st=$("$NETNS" status)
    t_check routed-status "status: 2 paths up/up, 2 routers up/up" \
        test "$(grep -cE '^path[12] .* up/up ' <<<"$st")" -eq 4

    # shaping through the routers
    "$NETNS" shape 100mbit 50mbit > "$T_LOG_DIR/shape-routed.log" 2>&1
    r1=$(send_to "$(addr B 1)" 4000000 30 | awk '{print int($3)}')
    r2=$(send_to "$(addr B 2)" 4000000 30 | awk '{print int($3)}')
    t_check routed-shape-limits-rate "4 MB TCP at ${r1:-?} Mbit/s on path1 (40-120), ${r2:-?} Mbit/s on path2 (20-60)" \
        test "${r1:-999}" -le 120 -a "${r1:-0}" -ge 40 -a "${r2:-999}" -le 60 -a "${r2:-0}" -ge 20
    "$NETNS" shape off >> "$T_LOG_DIR/shape-routed.log" 2>&1

    # host-side faults as without routers
    "$NETNS" fault path2 drop > /dev/null
    t_check routed-drop-A "host-side drop on path2: A -> $(addr B 2) fails" ping_not A "$(addr B 2)"
    "$NETNS" fault path2 undrop > /dev/null
    t_check routed-undrop "path2 answers again" ping_soon A "$(addr B 2)"
    "$NETNS" fault path2 down > /dev/null
    t_check routed-down "path2 links down: A -> $(addr B 2) fails" ping_not A "$(addr B 2)"
    "$NETNS" fault path2 up > /dev/null
    t_check routed-up "path2 answers again" ping_soon A "$(addr B 2)"

    # the router-side cut: silent, no host sees a link change
    mon=()
    for h in A B; do
        ip -n "${MP_NS_PREFIX}$h" monitor link > "$T_LOG_DIR/cut-linkmon.$h" 2>&1 &
        mon+=($!)
    done
    sleep 0.3
    out=$("$NETNS" fault 2 cut)
    t_check routed-cut-output "$out" grep -q "fault path2 cut on $R2: .*(applied from [0-9.]* to [0-9.]*)$" <<<"$out"
    t_check routed-cut-ping "cut: A -> $(addr B 2) fails" ping_not A "$(addr B 2)"
    t_check routed-cut-ping-B "cut: B -> $(addr A 2) fails" ping_not B "$(addr A 2)"
    out=$(send_to "$(addr B 2)" 1000 2); rc=$?
    t_check routed-cut-tcp-silent "TCP over path2: $out (exit $rc, 4 = timeout: no reset, no ICMP)" test "$rc" -eq 4
    t_check routed-cut-path1-works "path1 still answers" ping_to A "$(addr B 1)"
    st=$("$NETNS" status)
    # shellcheck disable=SC2016  # the bash -c script expands its own arguments
    t_check routed-cut-links-up "status: hosts' path2 $(awk '$1 == "path2" && $2 ~ /\// {print $4; exit}' <<<"$st"), router $(awk '$1 == "path2" && $2 ~ /R2$/ {print $5, $6}' <<<"$st")" \
        bash -c 'grep -qE "^path2 +198.18.32.1/24 +198.18.42.2/24 +up/up " <<<"$1" &&
                 grep -qE "^path2 +$2 .* up/up +cut " <<<"$1"' _ "$st" "$R2"
    ops="$(ip -n "$NS_A" -o link show path2 | grep -o 'state [A-Z]*')/$(ip -n "$NS_B" -o link show path2 | grep -o 'state [A-Z]*')"
    t_check routed-cut-operstate "operstate A/B: $ops" test "$ops" = "state UP/state UP"
    "$NETNS" fault 2 uncut > /dev/null
    t_check routed-uncut "uncut: path2 answers again" ping_soon A "$(addr B 2)"
    sleep 0.2
    kill "${mon[@]}" 2>/dev/null; wait "${mon[@]}" 2>/dev/null
    n=$(cat "$T_LOG_DIR/cut-linkmon.A" "$T_LOG_DIR/cut-linkmon.B" | grep -c .)
    t_check routed-cut-no-link-event "link messages in A and B during cut and uncut: $n (0)" test "$n" -eq 0
    out=$("$NETNS" fault 2 cut B 2>&1); rc=$?
    t_check routed-cut-no-side "'fault 2 cut B' refused (exit $rc): $out" test "$rc" -ne 0
    echo "inside: $T_PASSED passed, $T_FAILED failed"
    [ "$T_FAILED" -eq 0 ]
    exit
fi

#
# Outside: drive 'run' and check what it leaves behind
#
[ "$(id -u)" -eq 0 ] || { echo "FAIL setup: needs root"; echo "0 passed, 1 failed"; exit 1; }
for tool in ip tc nft python3 ping ss timeout unshare; do
    command -v "$tool" >/dev/null || { echo "FAIL setup: $tool missing (contrib/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
done
if [ "$(ns_left)" -ne 0 ]; then
    echo "FAIL setup: $NS_A/$NS_B already exist (another run?); not touching them"
    echo "0 passed, 1 failed"; exit 1
fi
"$NETNS" run 2 -- "$SELF" --inside > "$T_LOG_DIR/inside.log" 2>&1; rc=$?
grep -E '^(PASS|FAIL|    \|)|fault path' "$T_LOG_DIR/inside.log"
read -r ip if < <(sed -n 's/^inside: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$T_LOG_DIR/inside.log")
T_PASSED=$((T_PASSED + ${ip:-0})); T_FAILED=$((T_FAILED + ${if:-1}))
[ -n "${ip:-}" ] || { echo "FAIL inside: no summary; log:"; tail -n 20 "$T_LOG_DIR/inside.log" | sed 's/^/    | /'; }
t_check run-status-inside "run returned the inner test's status ($rc)" \
    test "$rc" -eq "$([ "${if:-1}" -eq 0 ] && echo 0 || echo 1)"
t_check run-removed "no namespace left after run" test "$(ns_left)" -eq 0

# inside_run NAME ARGS... : 'run ARGS -- $SELF --inside...', its checks counted here
inside_run() {
    local name=$1 rc ip if; shift
    "$NETNS" run "$@" > "$T_LOG_DIR/$name.log" 2>&1; rc=$?
    grep -E '^(PASS|FAIL|    \|)|fault path' "$T_LOG_DIR/$name.log"
    read -r ip if < <(sed -n 's/^inside: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$T_LOG_DIR/$name.log")
    T_PASSED=$((T_PASSED + ${ip:-0})); T_FAILED=$((T_FAILED + ${if:-1}))
    [ -n "${ip:-}" ] || { echo "FAIL $name: no summary; log:"; tail -n 20 "$T_LOG_DIR/$name.log" | sed 's/^/    | /'; }
    t_check "$name-status" "run returned the inner test's status ($rc)" \
        test "$rc" -eq "$([ "${if:-1}" -eq 0 ] && echo 0 || echo 1)"
    t_check "$name-removed" "no namespace left after run (hosts and routers)" test "$(ns_left)" -eq 0
}
inside_run run-routed --routed 2 -- "$SELF" --inside-routed

"$NETNS" run 1 -- sh -c 'exit 7' > /dev/null 2>&1; rc=$?
t_check run-exit-status "run -- sh -c 'exit 7' exits 7 (got $rc)" test "$rc" -eq 7
t_check run-exit-removed "no namespace left" test "$(ns_left)" -eq 0

"$NETNS" run --routed 1 -- sleep 60 > /dev/null 2>&1 &
RUNPID=$!
for _ in $(seq 100); do [ "$(ns_left)" -eq 3 ] && break; sleep 0.1; done
sleep 0.3
kill -TERM "$RUNPID"
for _ in $(seq 100); do kill -0 "$RUNPID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$RUNPID" 2>/dev/null
wait "$RUNPID"; rc=$?
t_check run-sigterm "SIGTERM to run --routed: exit $rc (143), testbed and router removed" \
    test "$rc" -eq 143 -a "$(ns_left)" -eq 0

"$NETNS" up 5 > /dev/null 2>&1; rc=$?
t_check up-bad-npaths "up 5 refused (exit $rc), nothing created" test "$rc" -ne 0 -a "$(ns_left)" -eq 0
"$NETNS" fault path2 drop > /dev/null 2>&1; rc=$?
t_check fault-without-testbed "fault without a testbed refused (exit $rc)" test "$rc" -ne 0
"$NETNS" run 1 -- "$NETNS" fault 1 cut > "$T_LOG_DIR/cut-unrouted.log" 2>&1; rc=$?
t_check cut-without-router "fault cut on a testbed without routers refused (exit $rc): $(grep -o 'no router.*' "$T_LOG_DIR/cut-unrouted.log")" \
    grep -q "no router on path1" "$T_LOG_DIR/cut-unrouted.log"
MP_NS_ROUTED=1 "$NETNS" up 1 > "$T_LOG_DIR/up-routed.log" 2>&1; rc=$?
n=$(ns_left)
"$NETNS" down > "$T_LOG_DIR/down-routed.log" 2>&1
t_check up-routed-env-down "MP_NS_ROUTED=1 up 1: exit $rc, $n namespaces (3); down: $(ns_left) left" \
    test "$rc" -eq 0 -a "$n" -eq 3 -a "$(ns_left)" -eq 0
"$NETNS" down > /dev/null 2>&1; rc=$?
t_check down-when-absent "down with nothing to remove exits 0 (got $rc)" test "$rc" -eq 0

"$NETNS" down > /dev/null 2>&1
t_check nothing-left "no $NS_A/$NS_B, no /etc/netns/$NS_A or /etc/netns/$NS_B" \
    test "$(ns_left)" -eq 0 -a ! -e "/etc/netns/$NS_A" -a ! -e "/etc/netns/$NS_B"
echo "logs: $T_LOG_DIR"
t_summary
