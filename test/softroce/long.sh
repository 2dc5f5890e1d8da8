# test/softroce/long.sh ID SRCDIR BUILDDIR: the long Soft-RoCE tier (make check-softroce).
# Everything of the smoke tier, then load_balance over both rxe lanes with
# per-lane packet counters, the full UCP verification program
# (tag, AM, put/get, atomics) over p2p wire-up, UCP's client-server flow
# through the rdmacm connection manager up to 1 MiB, and a cable pulled under
# a verified stream that must complete without an error: a tag stream over
# p2p wire-up, then tag, AM, put/get and fetch-add over the client-server flow.
SOFTROCE_TIER=long
. "$2/test/softroce/smoke.sh"
# load_balance: rendezvous fragments alternate lanes; both rxe devices send
b0=$(sent_pkts rxe0); b1=$(sent_pkts rxe1)
step ucp-tag-bw-load-balance 240 "$MP $P2P UCX_MP_RC_POLICY=load_balance ucx_perftest -p \$PORT" \
    "$MP $P2P UCX_MP_RC_POLICY=load_balance ucx_perftest $SERVER -p \$PORT -t tag_bw -s 1048576 -n 20"
a0=$(sent_pkts rxe0); a1=$(sent_pkts rxe1)
if [ "$ID" = 1 ]; then
    echo "    rxe sent_pkts during tag_bw: rxe0 +$((a0 - b0)) rxe1 +$((a1 - b1))"
    t_check both-rxe-lanes-carried-traffic "rxe0 +$((a0 - b0)) rxe1 +$((a1 - b1)) packets (each > 100)" \
        test $((a0 - b0)) -gt 100 -a $((a1 - b1)) -gt 100
fi
step ucp-verify-p2p-all 600 "$MP $P2P $VERIFY -s -p \$PORT --p2p --iters 1 --max-size 1048579 --timeout 580" \
    "$MP $P2P $VERIFY -c $SERVER -p \$PORT --p2p --iters 1 --max-size 1048579 --timeout 580"
step ucp-verify-cm-rdmacm-1m 400 "$MP UCX_TLS=mp_rc $VERIFY -s -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 380" \
    "$MP UCX_TLS=mp_rc $VERIFY -c $SERVER -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 380"
# A cable pulled through the qemu monitor under a verified tag stream: the
# link event of rxe0's netdev (or else the lane keepalive, 200 ms x 3) fails
# rxe0's lane, the unacknowledged AMs go
# again on rxe1, zcopy RMA chunks are re-posted, and the stream completes
# with every byte and the order checked and no endpoint error. (Lanes use RC
# retry count 6: rxe never reports a dead path at 7.)
KA="UCX_MP_RC_KEEPALIVE_INTERVAL=200ms UCX_LOG_LEVEL=diag"
echo "    rxe0:1 netdev (link events watch it): $(cat /sys/class/infiniband/rxe0/ports/1/gid_attrs/ndevs/0 2>&1)"
step cable-pull-failover 240 "$MP $P2P $KA $VERIFY -s -p \$PORT --p2p --only tag --iters 300 --max-size 262149 --timeout 200" \
    "(sleep 12; echo 'n0 off' > /out/cable-request; sleep 8; echo 'n0 on' > /out/cable-request) &
     $MP $P2P $KA $VERIFY -c $SERVER -p \$PORT --p2p --only tag --iters 300 --max-size 262149 --timeout 200 > /tmp/cable.log 2>&1; rc=\$?; cp /tmp/cable.log /out/cable-client-full.log;
     grep -E 'lane 0 \(rxe0:1\) failed|messages again|link .* (down|up)$|rejoin|passed, ' /tmp/cable.log | cut -c40-;
     [ \$rc -eq 0 ] && grep -q 'lane 0 (rxe0:1) failed' /tmp/cable.log"
# The cable pulled again under the stream of the fault tests, over UCP's
# client-server flow: tagged messages and AMs both ways with sequence numbers,
# and rounds of put (rc put_short/bcopy go through mp's bounce buffers),
# flush, get (get_bcopy) and fetch-add (software atomics over the AM channel)
# on the peer's memory; nothing lost, duplicated, reordered or corrupt, every
# fetch-add counted once.
WAIT_RXE0="for i in \$(seq 60); do grep -q ACTIVE /sys/class/infiniband/rxe0/ports/1/state && break; sleep 0.5; done"
STREAM="$VERIFY -p \$PORT --cm --only stream --stream-secs 30 --max-size 262149 --timeout 200"
step cable-pull-stream-cm 240 "$WAIT_RXE0; $MP UCX_TLS=mp_rc $KA $STREAM -s" \
    "$WAIT_RXE0; (sleep 10; echo 'n0 off' > /out/cable-request; sleep 8; echo 'n0 on' > /out/cable-request) &
     $MP UCX_TLS=mp_rc $KA $STREAM -c $SERVER > /tmp/cable2.log 2>&1; rc=\$?; cp /tmp/cable2.log /out/cable2-client-full.log;
     grep -E 'lane 0 \(rxe0:1\) failed|messages again|link .* (down|up)$|rejoin|stream (tag|am|rma|atomic)|passed, ' /tmp/cable2.log | sed 's/^\[[^]]*\] *\[[^]]*\] *[^ ]* *UCX  [A-Z]* *//';
     [ \$rc -eq 0 ] && grep -q 'lane 0 (rxe0:1) failed' /tmp/cable2.log"
if [ "$ID" = 2 ]; then
    # the guest whose cable was pulled: the port event as mp read it from its
    # own verbs context (test/softroce/run.sh checks for it on the host)
    grep -h 'verbs async event' "$T_LOG_DIR/cable-pull-stream-cm.log" | head -n 2 |
        sed 's/^.*mp_rc: /    g2 mp: /'
fi
if [ "$ID" = 1 ]; then
    # what mp said about the pulled cables: the lane failure (a link event on
    # rxe0's netdev, or the keepalive), AMs sent again, the rejoin after the
    # cable is back, the stream's counts
    sed 's/^/      /' "$T_LOG_DIR/cable-pull-failover.log"
    sed 's/^/      /' "$T_LOG_DIR/cable-pull-stream-cm.log"
    t_summary
fi
