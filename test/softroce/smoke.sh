# test/softroce/smoke.sh ID SRCDIR BUILDDIR: the Soft-RoCE smoke tier (in CI).
# mp_rc with rc_verbs lanes on rxe0 + rxe1 between two qemu guests (active
# backup: traffic on rxe0, rxe1 connected): UCT-level perftest, UCP perftest
# and the UCP verification program (tag, AM) over p2p wire-up.
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

step ucp-tag-lat 240 "$MP $P2P ucx_perftest -p \$PORT" \
    "$MP $P2P ucx_perftest $SERVER -p \$PORT -t tag_lat -s 8 -n 300"

if [ "$ID" = 1 ]; then
    rdma statistic show 2>/dev/null | grep -oE 'link rxe[01]/1 .*sent_pkts [0-9]+' | sed 's/^/    /'
    [ "${SOFTROCE_TIER:-smoke}" = smoke ] && t_summary
fi
