# test/softroce/smoke.sh ID SRCDIR BUILDDIR: the Soft-RoCE smoke tier (in CI).
# mp_rc with rc_verbs lanes on rxe0 + rxe1 between two qemu guests (active
# backup: traffic on rxe0, rxe1 connected): UCT-level perftest, UCP perftest
# and the UCP verification program (tag, AM, put/get, atomics) over p2p
# wire-up and over the rdmacm client-server flow with both lanes in use.
. "$2/test/softroce/steps.sh"
wait_peer

if [ "$ID" = 1 ]; then
    for d in rxe0 rxe1; do
        t_check "$d-active" "$d port ACTIVE" \
            grep -q ACTIVE /sys/class/infiniband/$d/ports/1/state
    done
    info=$($MP ucx_info -d -t mp_rc 2>&1)
    t_check ucx-info-mp-rc "mp_rc on device rxe0:1 over rc_verbs lanes" \
        grep -qE 'Device: rxe0:1' <<EOT
$info
EOT
fi

step uct-am-lat 240 "$MP ucx_perftest -p \$PORT" \
    "$MP ucx_perftest $SERVER -p \$PORT -t am_lat -x mp_rc -d rxe0:1 -n 300 -s 8"
step uct-put-bw-zcopy 240 "$MP ucx_perftest -p \$PORT" \
    "$MP ucx_perftest $SERVER -p \$PORT -t put_bw -x mp_rc -d rxe0:1 -D zcopy -n 100 -s 65536"

# tag (eager and rendezvous), AM, put/get, atomics; every byte checked
step ucp-verify-p2p 300 "$MP $P2P $VERIFY -s -p \$PORT --p2p --iters 1 --max-size 262149 --timeout 280" \
    "$MP $P2P $VERIFY -c $SERVER -p \$PORT --p2p --iters 1 --max-size 262149 --timeout 280"

# UCP's client-server flow through the rdmacm connection manager: the MP
# ep address (primary lane only) rides in RDMA-CM private data, rxe1 joins
# over rxe0, and load_balance puts rendezvous RMA on both lanes
c0=$(lane_pkts rxe0); c1=$(lane_pkts rxe1)
step ucp-verify-cm-rdmacm-2-lanes 300 "$MP UCX_TLS=mp_rc UCX_MP_RC_POLICY=load_balance $VERIFY -s -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 280" \
    "$MP UCX_TLS=mp_rc UCX_MP_RC_POLICY=load_balance $VERIFY -c $SERVER -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 280"
d0=$(lane_pkts rxe0); d1=$(lane_pkts rxe1)
if [ "$ID" = 1 ]; then
    echo "    rxe packets sent+received during the rdmacm client-server run: rxe0 +$((d0 - c0)) rxe1 +$((d1 - c1))"
    t_check cm-flow-both-rxe-lanes "rdmacm flow: rxe0 +$((d0 - c0)) rxe1 +$((d1 - c1)) packets (each > 200)" \
        test $((d0 - c0)) -gt 200 -a $((d1 - c1)) -gt 200
fi

step ucp-tag-lat 240 "$MP $P2P ucx_perftest -p \$PORT" \
    "$MP $P2P ucx_perftest $SERVER -p \$PORT -t tag_lat -s 8 -n 300"

if [ "$ID" = 1 ]; then
    rdma statistic show 2>/dev/null | grep -oE 'link rxe[01]/1 .*sent_pkts [0-9]+' | sed 's/^/    /'
    [ "${SOFTROCE_TIER:-smoke}" = smoke ] && t_summary
fi
