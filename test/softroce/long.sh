# test/softroce/long.sh ID SRCDIR BUILDDIR: the long Soft-RoCE tier (make check-softroce).
# Everything of the smoke tier, then load_balance over both rxe lanes with
# per-lane packet counters, the full UCP verification program
# (tag, AM, put/get, atomics) over p2p wire-up, and UCP's client-server flow
# through the rdmacm connection manager (MP addresses in RDMA-CM private data).
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
# A cable pulled through the qemu monitor under traffic reaches mp_rc as a
# lane error (lanes use RC retry count 6: rxe never reports at 7). Rendezvous
# by put makes the client the RDMA initiator, the side whose QP sees the
# retries; a passive side notices only with mp's keepalive (failover step).
step cable-pull-lane-error 150 "$MP $P2P UCX_RNDV_SCHEME=put_zcopy ucx_perftest -p \$PORT" \
    "(sleep 15; echo 'n0 off' > /out/cable-request; sleep 25; echo 'n0 on' > /out/cable-request) &
     $MP $P2P UCX_LOG_LEVEL=diag UCX_RC_VERBS_TIMEOUT=100ms UCX_RNDV_SCHEME=put_zcopy timeout 60 ucx_perftest $SERVER -p \$PORT -t tag_bw -s 65536 -w 10 -n 100000000 > /tmp/cable.log 2>&1;
     grep -m1 -E 'mp_rc: ep .* lane 0 \(rxe0:1\) failed' /tmp/cable.log ||
         { tail -n 12 /tmp/cable.log; false; }"
if [ "$ID" = 1 ]; then t_summary; fi
