#!/bin/bash
# contrib/testbed/perftest-ns.sh - ucx_perftest across the namespace testbed:
# server in host B, client in host A toward B's path1 address.
#
# Usage (root, testbed up: contrib/testbed/mp-netns.sh up):
#   perftest-ns.sh [ucx_perftest client options...]
#   e.g. UCX_TLS=tcp UCX_NET_DEVICES=path1,path2 perftest-ns.sh -t tag_bw -s 4194304 -n 20
#        LD_PRELOAD=.../libuct_mp.so.0 UCX_TLS=mp_rc ... perftest-ns.sh -t am_lat -x mp_rc -d path1
#
# The server gets only "-p PORT" (ucx_perftest's client sends it the test
# parameters); the port is random in 13000-13999 (PERF_PORT to fix it). The
# caller's environment, UCX_* and LD_PRELOAD included, reaches both sides.
# Environment: TO (client time limit, s; default 300), PERF_SERVER_ADDR
# (default 198.18.1.2), MP_NS_PREFIX (which testbed), MP_TESTBED_LOG (server
# log directory; default /var/tmp/uct_mp-testbed).
# Prints the client's output; exits with the client's exit code.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=$HERE/mp-netns.sh
TO=${TO:-300}
ADDR=${PERF_SERVER_ADDR:-198.18.1.2}
LOGDIR=${MP_TESTBED_LOG:-/var/tmp/uct_mp-testbed}
mkdir -p "$LOGDIR"
SLOG=$(mktemp "$LOGDIR/perftest-server.XXXXXX.log")
SPID=

[[ $TO =~ ^[0-9]+$ ]] || { echo "perftest-ns: TO must be seconds" >&2; exit 2; }
command -v ucx_perftest >/dev/null || { echo "perftest-ns: ucx_perftest not found (apt-get install ucx-utils)" >&2; exit 2; }

# stop_server GRACE: give the server GRACE seconds to finish by itself, then
# TERM it (timeout(1) passes TERM on and KILLs 5 s later)
stop_server() {
    [ -n "$SPID" ] || return 0
    for _ in $(seq $(( ${1:-0} * 10 ))); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null || true
        for _ in $(seq 70); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SPID" 2>/dev/null || true
    fi
    wait "$SPID" 2>/dev/null || true
    SPID=
}
trap 'stop_server 0' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

listening() { # listening PORT: is there a TCP listener on PORT in host B?
    grep -q . <<<"$("$NETNS" exec B ss -Hltn "sport = :$1" 2>/dev/null)"
}

PORT=
for attempt in 1 2 3 4 5; do                       # bounded: a few ports, 10 s each
    P=${PERF_PORT:-$((13000 + RANDOM % 1000))}
    listening "$P" && continue
    timeout --kill-after=5 $((TO + 30)) "$NETNS" exec B ucx_perftest -p "$P" > "$SLOG" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do
        if listening "$P"; then PORT=$P; break; fi
        kill -0 "$SPID" 2>/dev/null || break      # server gave up (port taken?)
        sleep 0.1
    done
    [ -n "$PORT" ] && break
    echo "perftest-ns: server on port $P did not start (attempt $attempt):" >&2
    tail -n 5 "$SLOG" >&2
    stop_server 0
done
[ -n "$PORT" ] || { echo "perftest-ns: could not start ucx_perftest server in host B" >&2; exit 1; }

rc=0
t0=$SECONDS
timeout --kill-after=5 "$TO" "$NETNS" exec A ucx_perftest "$@" -p "$PORT" "$ADDR" || rc=$?
if [ $rc -eq 124 ] && [ $((SECONDS - t0)) -ge "$TO" ]; then
    echo "perftest-ns: client timed out after ${TO}s" >&2
fi
stop_server "$([ $rc -eq 0 ] && echo 10 || echo 0)"   # a finished client lets the server finish
if [ $rc -ne 0 ]; then
    echo "perftest-ns: client exit code $rc; server log ($SLOG):" >&2
    tail -n 20 "$SLOG" >&2
else
    rm -f "$SLOG"
fi
exit $rc
