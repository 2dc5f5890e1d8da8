# test/softroce/l3.sh ID SRCDIR BUILDDIR: RoCE v2 lanes across a routed hop
# (by hand: test/softroce/run.sh BUILDDIR l3).
# Lane 0 (rxe0) is routed: guest 1's eth0 198.18.31.1/24 reaches guest 2's
# rxe0, now on a veth end 198.18.41.2/24, only through a router namespace
# inside guest 2 (its eth0 198.18.31.254, veth peer 198.18.41.254). rxe of
# the guests' kernel routes and opens its UDP socket in the initial
# namespace, so the router is the namespace and rxe stays outside it. Lane 1
# (rxe1, 198.18.2.0/24) stays direct. Checks: the hop (TTL 1 expires at the
# router), rxe0's RoCE v2 GID of the new address, UCT am_lat over the routed
# lane alone, the UCP verification program over both lanes in the rdmacm
# client-server flow (packets on each) and in the p2p flow (ud_verbs aux on
# rxe0 only, see there).
. "$2/test/softroce/steps.sh"
SERVER=198.18.41.2
if [ "$ID" = 1 ]; then
    ip addr flush dev eth0
    ip addr add 198.18.31.1/24 dev eth0
    ip route add 198.18.41.0/24 via 198.18.31.254 dev eth0
else
    modprobe veth
    rdma link delete rxe0
    ip addr flush dev eth0
    ip netns add r
    ip link set eth0 netns r
    ip -n r link set lo up
    ip -n r link set eth0 up
    ip -n r addr add 198.18.31.254/24 dev eth0
    ip link add v0 type veth peer name v0r netns r
    ip -n r addr add 198.18.41.254/24 dev v0r
    ip -n r link set v0r up
    ip netns exec r sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
    ip addr add 198.18.41.2/24 dev v0
    ip link set v0 up
    ip route add 198.18.31.0/24 via 198.18.41.254 dev v0
    rdma link add rxe0 type rxe netdev v0
    echo "    g2 rxe0 on: $(cat /sys/class/infiniband/rxe0/ports/1/gid_attrs/ndevs/1 2>&1)"
fi
for k in $(seq 60); do                     # bounded: the peer's set-up
    if [ "$ID" = 1 ]; then ping -c1 -W1 "$SERVER" >/dev/null 2>&1 && break
    else ping -c1 -W1 198.18.31.1 >/dev/null 2>&1 && break; fi
done
for k in $(seq 60); do ping -c1 -W1 198.18.2.$((3 - ID)) >/dev/null 2>&1 && break; done

# gid_v2 DEV: the RoCE v2 GIDs of DEV's port 1 ("index gid" lines)
gid_v2() {
    local f i
    for f in /sys/class/infiniband/$1/ports/1/gid_attrs/types/*; do
        i=${f##*/}
        [ "$(cat "$f" 2>/dev/null)" = "RoCE v2" ] &&
            echo "$i $(cat /sys/class/infiniband/$1/ports/1/gids/$i)"
    done
}

if [ "$ID" = 1 ]; then
    hop=$(ping -c1 -W1 -t1 "$SERVER" 2>&1 | grep -o 'From .*')
    t_check routed-hop "TTL 1 to $SERVER expires at the router: $hop" \
        sh -c 'case "$1" in "From 198.18.31.254 "*"Time to live exceeded"*) exit 0 ;; esac; exit 1' _ "$hop"
    g=$(gid_v2 rxe0 | xargs)
    t_check rxe0-roce-v2-gid "rxe0 RoCE v2 GIDs (index gid): $g (one is 198.18.31.1 IPv4-mapped)" \
        sh -c 'case "$1" in *0000:0000:0000:0000:0000:ffff:c612:1f01*) exit 0 ;; esac; exit 1' _ "$g"
fi

# the routed lane alone (mp_rc over rxe0 only)
MP0="env LD_PRELOAD=$MODULE UCX_MP_RC_LANE_TL=rc_verbs UCX_MP_RC_DEVICES=rxe0:1 UCX_WARN_UNUSED_ENV_VARS=n"
c0=$(lane_pkts rxe0)
step uct-am-lat-routed-lane 240 "$MP0 ucx_perftest -p \$PORT" \
    "$MP0 ucx_perftest $SERVER -p \$PORT -t am_lat -x mp_rc -d rxe0:1 -n 300 -s 8"
d0=$(lane_pkts rxe0)
if [ "$ID" = 1 ]; then echo "    rxe0 packets during am_lat: +$((d0 - c0))"; fi

# both lanes, the routed one first (primary), both flows
c0=$(lane_pkts rxe0); c1=$(lane_pkts rxe1)
step ucp-verify-cm-rdmacm-routed 300 "$MP UCX_TLS=mp_rc UCX_MP_RC_POLICY=load_balance $VERIFY -s -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 280" \
    "$MP UCX_TLS=mp_rc UCX_MP_RC_POLICY=load_balance $VERIFY -c $SERVER -p \$PORT --cm --iters 1 --max-size 1048579 --timeout 280"
d0=$(lane_pkts rxe0); d1=$(lane_pkts rxe1)
if [ "$ID" = 1 ]; then
    t_check cm-flow-both-lanes-routed "rdmacm flow: rxe0 (routed) +$((d0 - c0)) rxe1 +$((d1 - c1)) packets (each > 200)" \
        test $((d0 - c0)) -gt 200 -a $((d1 - c1)) -gt 200
fi
# p2p wire-up: the aux ud_verbs only on rxe0 (UCX_NET_DEVICES). With both
# devices UCP paired the client's ud on rxe0 with the server's on rxe1
# (ROCE_LOCAL_SUBNET=n: all reachable), and rxe0 cannot reach 198.18.2.2:
# its route leaves through eth1 (ibv_create_ah: Connection timed out)
ND="UCX_NET_DEVICES=rxe0:1"
step ucp-verify-p2p-routed 300 "$MP $P2P $ND $VERIFY -s -p \$PORT --p2p --iters 1 --max-size 262149 --timeout 280" \
    "$MP $P2P $ND $VERIFY -c $SERVER -p \$PORT --p2p --iters 1 --max-size 262149 --timeout 280"

if [ "$ID" = 2 ]; then
    echo "    g2 router: $(ip -n r -s -o link show eth0 | grep -o 'RX: .*' | head -c 120)"
    echo "    g2 router forwarded to rxe0's veth: $(ip netns exec r cat /sys/class/net/v0r/statistics/tx_packets) packets"
fi
if [ "$ID" = 1 ]; then t_summary; fi
