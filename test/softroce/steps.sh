# test/softroce/steps.sh: run test steps in both guests of a Soft-RoCE run.
# Sourced by the tier scripts; guest 2 runs each step's server, guest 1 its
# client (retried while the server is not up yet) and records PASS/FAIL.
#
#   step NAME TIMEOUT "SERVER CMD" "CLIENT CMD"
# The client command sees $SERVER (guest 2 on link 0). Ports: $PORT, fresh per step.
ID=$1; SRCDIR=$2; BUILDDIR=$3
. "$SRCDIR/test/lib.sh"
SERVER=198.18.1.2
PORT=15000
MODULE=$BUILDDIR/.libs/libuct_mp.so.0
VERIFY=$BUILDDIR/test/integration/ucp/ucp_verify
# mp_rc over rc_verbs lanes on both rxe devices
MP="env LD_PRELOAD=$MODULE UCX_MP_RC_LANE_TL=rc_verbs UCX_MP_RC_DEVICES=rxe0:1,rxe1:1 UCX_WARN_UNUSED_ENV_VARS=n"
# UCP p2p wire-up of an rc transport needs an iface-connectable helper (ud_verbs)
P2P="UCX_TLS=mp_rc,ud_verbs:aux UCX_UD_VERBS_ETH_DGID_CHECK=n"

sent_pkts() { cat /sys/class/infiniband/$1/ports/1/hw_counters/sent_pkts; }
# packets a device sent and received (both directions of a lane)
lane_pkts() { echo $(( $(sent_pkts "$1") + $(cat /sys/class/infiniband/$1/ports/1/hw_counters/rcvd_pkts) )); }

wait_peer() { # both links answer, bounded
    local peer k
    for peer in 198.18.1.$((3 - ID)) 198.18.2.$((3 - ID)); do
        for k in $(seq 60); do ping -c1 -W1 "$peer" >/dev/null 2>&1 && break; done
    done
}

step() {
    local name=$1 tmo=$2 srv=$3 cli=$4 k rc log
    export PORT=$((PORT + 1))
    log=$T_LOG_DIR/$name.log
    if [ "$ID" = 2 ]; then
        timeout "$tmo" sh -c "$srv" > "$log" 2>&1
        echo "server $name exit $?"
        cp "$log" "/out/$name.server.log" 2>/dev/null # kept on the host when
        return 0                                       # a run fails
    fi
    # retry while the server is not listening yet, for as long as it may take
    # the server side to finish its previous step
    local until=$(( $(date +%s) + tmo ))
    while true; do
        timeout "$tmo" sh -c "$cli" > "$log" 2>&1; rc=$?
        [ $rc -ne 0 ] && grep -qiE 'connection refused|connect\(\) failed|connect failed: endpoint error' "$log" && \
            [ "$(date +%s)" -lt "$until" ] || break
        sleep 1
    done
    cp "$log" "/out/$name.log" 2>/dev/null
    if [ $rc -eq 0 ]; then
        t_pass "$name" "$(grep -E '^Final:|passed, [0-9]+ failed' "$log" | tail -1 | tr -s ' ')"
    else
        t_fail "$name" "exit $rc"
        tail -n 15 "$log" | sed 's/^/    | /'
    fi
}
