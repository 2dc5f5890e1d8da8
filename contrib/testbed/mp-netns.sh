#!/bin/bash
# contrib/testbed/mp-netns.sh - the uct_mp host testbed: two "hosts" (network
# namespaces) joined by several veth "paths", for multi-path tests without RDMA.
#
# Usage (root):
#   mp-netns.sh up [--routed] [NPATHS] create ${P}A and ${P}B joined by NPATHS paths (1-4, default 2);
#                                      the names hostA/hostB resolve to path K's addresses
#                                      (MP_NS_HOST_PATH=K, default 1), e.g. a launcher path;
#                                      --routed (or MP_NS_ROUTED=1): each path crosses a router
#                                      namespace ${P}Rk, see "Routed mode" below
#   mp-netns.sh down                   remove them (and only what 'up' created); never fails
#   mp-netns.sh shape R1 [R2 ...]|off  tbf rate limit on both ends of each path
#                                      (path k gets Rk, or the last rate given)
#   mp-netns.sh fault PATH MODE [SIDE] inject or clear a fault on PATH (path2 or 2)
#        MODE: down | up              link down/up          (SIDE default: both)
#              drop | undrop          nftables drop of ALL traffic in+out on PATH (SIDE default: A)
#              reset | unreset        nftables 'reject with tcp reset' of TCP in+out on PATH;
#                                     non-TCP traffic (ICMP, UDP) still passes, so ping keeps
#                                     working while every TCP connection on the path is killed
#                                     (SIDE default: A)
#              cut | uncut            routed mode only: nftables drop, inside the router ${P}Rk, of
#                                     everything in, out or forwarded on its B-facing interface
#                                     (toB); no host sees a link event, both hosts' links stay up
#        SIDE: A | B | both
#   mp-netns.sh exec HOST CMD...       run CMD in host A or B (own hostname hostA/hostB)
#   mp-netns.sh status                 table: links, addresses, qdiscs, faults, byte counters
#   mp-netns.sh counters [HOST]        "pathK tx_bytes rx_bytes" per path of HOST (default A)
#   mp-netns.sh addr HOST K            HOST's (A or B) address on path K, e.g. 198.18.2.2, or
#                                      198.18.42.2 in routed mode
#   mp-netns.sh run [--routed] [NPATHS] -- CMD...
#                                      up, run CMD in the root namespace with MP_NS_A,
#                                      MP_NS_B, MP_NS_PREFIX, MP_NPATHS (and MP_NS_ROUTED=1
#                                      in routed mode) exported, always down afterwards;
#                                      exits with CMD's status
#
# Topology (P = ${MP_NS_PREFIX:-mp}):
#
#      ${P}A "hostA"                          ${P}B "hostB"
#      path1 198.18.1.1/24  <--- veth --->  path1 198.18.1.2/24
#      path2 198.18.2.1/24  <--- veth --->  path2 198.18.2.2/24
#      ...   198.18.k.1/24                  ...   198.18.k.2/24   (k <= 4)
#
# Both ends of a pair carry the same name, so UCX_NET_DEVICES=path1,path2 is the
# same on both hosts. Nothing is created in the root namespace except the two
# namespaces and /etc/netns/<ns>/hosts (mapping hostA/hostB, so MPI launchers
# resolve the hosts; 'ip netns exec' bind-mounts it over /etc/hosts). Deleting a
# namespace removes its veths, qdiscs and nftables table with it. IPv6 is
# disabled inside the namespaces (set MP_NS_IPV6=1 to keep it) so that neighbour
# discovery does not add stray bytes to the per-path counters.
#
# Routed mode (up --routed, or MP_NS_ROUTED=1 for up and run): the two ends
# of a path sit on different subnets, and a router namespace forwards between
# them (IPv4 forwarding, strict reverse-path filter, no default route):
#
#      ${P}A "hostA"                ${P}Rk "router k"               ${P}B "hostB"
#      pathk 198.18.3k.1/24 <-> toA 198.18.3k.254  toB 198.18.4k.254 <-> pathk 198.18.4k.2/24
#      route 198.18.4k.0/24 via 198.18.3k.254      route 198.18.3k.0/24 via 198.18.4k.254
#
# so A's pathk address reaches B's pathk address only through router k (one
# hop: TTL 1 expires there). Shaping and the host-side faults act on the
# hosts' pathk ends as without routers ('fault PATH up' also puts back the
# host's route, which the kernel removed with the link). 'fault PATH cut'
# drops inside the router, which neither host sees as a link event (the
# silent cut that only keepalive detects). The other commands find the
# routers by their namespaces; 'down' removes them too.
#
# The kernel this was built on has no netem: faults are link down/up, nftables
# drop and nftables TCP reset. All traffic stays inside the two namespaces
# (198.18.0.0/15, RFC 2544 benchmarking space); nothing is routed to the outside.
set -euo pipefail

PREFIX=${MP_NS_PREFIX:-mp}
NS_A=${PREFIX}A
NS_B=${PREFIX}B
MAX_PATHS=4
HOST_PATH=${MP_NS_HOST_PATH:-1}       # path whose addresses the names hostA/hostB have
NFT_TABLE=uctmp                       # table inet uctmp inside a namespace
MARKER="# created by uct_mp contrib/testbed/mp-netns.sh"
ROUTED=0                              # routed mode: a router namespace per path
SELF=$(readlink -f "$0")

die()  { echo "mp-netns: $*" >&2; exit 2; }
info() { echo "mp-netns: $*"; }
ts()   { date '+%F %T.%3N'; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"
}

[[ $PREFIX =~ ^[A-Za-z][A-Za-z0-9_-]{0,11}$ ]] ||
    die "MP_NS_PREFIX='$PREFIX': use 1-12 letters, digits, _ or -, starting with a letter"
[[ ${MP_NS_ROUTED:-0} =~ ^[01]?$ ]] || die "MP_NS_ROUTED='$MP_NS_ROUTED': use 1 (routed) or 0"

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces)"; }
ns_exists() { [ -e "/run/netns/$1" ]; }
need_up() {
    if ! ns_exists "$NS_A" || ! ns_exists "$NS_B"; then
        die "testbed is not up (no namespace $NS_A/$NS_B); run: $0 up"
    fi
}

# host_ns A|B|hostA|hostB -> namespace name
host_ns() {
    case $1 in
        A|a|hostA|"$NS_A") echo "$NS_A" ;;
        B|b|hostB|"$NS_B") echo "$NS_B" ;;
        *) die "unknown host '$1' (use A or B)" ;;
    esac
}
host_name() { [ "$1" = "$NS_A" ] && echo hostA || echo hostB; }

# routed mode: router_ns K -> namespace of path K's router; the subnets of
# path K on A's and B's side; ROUTED=1 when the testbed has routers
router_ns() { echo "${PREFIX}R$1"; }
net_a() { echo "198.18.$((30 + $1))"; }
net_b() { echo "198.18.$((40 + $1))"; }
detect_routed() { if ns_exists "$(router_ns 1)"; then ROUTED=1; else ROUTED=0; fi; }

# addr_a K / addr_b K: host A's / B's address on path K
addr_a() { if [ "$ROUTED" = 1 ]; then echo "$(net_a "$1").1"; else echo "198.18.$1.1"; fi; }
addr_b() { if [ "$ROUTED" = 1 ]; then echo "$(net_b "$1").2"; else echo "198.18.$1.2"; fi; }

# list_paths NS: the path interfaces of NS, in order
list_paths() {
    ip -n "$1" -o link show 2>/dev/null |
        sed -n 's/^[0-9]*: \(path[0-9]\+\)[@:].*/\1/p' | sort -V
}

# norm_path path2|2 -> path2 (must exist in host A)
norm_path() {
    local p=$1
    [[ $p =~ ^[0-9]+$ ]] && p=path$p
    [[ $p =~ ^path[0-9]+$ ]] || die "bad path '$1' (use path1..path$MAX_PATHS or 1..$MAX_PATHS)"
    grep -qx "$p" <<<"$(list_paths "$NS_A")" || die "no $p in this testbed ($(list_paths "$NS_A" | xargs))"
    echo "$p"
}

# sides SIDE DEFAULT -> namespaces to act on
sides() {
    case ${1:-$2} in
        A|a) echo "$NS_A" ;;
        B|b) echo "$NS_B" ;;
        both) echo "$NS_A $NS_B" ;;
        *) die "bad side '$1' (use A, B or both)" ;;
    esac
}

#
# up / down
#
UP_IN_PROGRESS=0     # set while 'up' creates things: the EXIT trap removes a half-built testbed
RUN_ACTIVE=0         # set while 'run' owns the testbed: the EXIT trap removes it
RUN_CHILD=

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$RUN_CHILD" ] && kill -0 "$RUN_CHILD" 2>/dev/null; then
        kill -TERM "$RUN_CHILD" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$RUN_CHILD" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$RUN_CHILD" 2>/dev/null || true
    fi
    if [ "$UP_IN_PROGRESS" = 1 ] || [ "$RUN_ACTIVE" = 1 ]; then
        [ "$UP_IN_PROGRESS" = 1 ] && echo "mp-netns: 'up' did not complete; removing what it created" >&2
        do_down >&2 || true
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hosts_file_ours() { [ -f "$1" ] && grep -qF "$MARKER" <<<"$(head -n1 "$1")"; }

write_hosts() { # write_hosts NS NPATHS
    local f=/etc/netns/$1/hosts k
    if [ -e "$f" ] && ! hosts_file_ours "$f"; then
        die "$f exists and was not created by this script; not touching it"
    fi
    mkdir -p "/etc/netns/$1"
    {
        echo "$MARKER (MP_NS_PREFIX=$PREFIX); removed by 'mp-netns.sh down'"
        printf '127.0.0.1\tlocalhost\n'
        printf '%s\thostA\n%s\thostB\n' "$(addr_a "$HOST_PATH")" "$(addr_b "$HOST_PATH")"
        for k in $(seq "$2"); do
            printf '%s\thostA-path%d\n%s\thostB-path%d\n' "$(addr_a "$k")" "$k" "$(addr_b "$k")" "$k"
        done
    } > "$f"
}

# wait_oper_up NS IFACE TENTHS: wait (at most TENTHS x 0.1 s) for operstate UP
wait_oper_up() {
    local _
    for _ in $(seq "$3"); do
        grep -q ' state UP ' <<<"$(ip -n "$1" -o link show dev "$2" 2>/dev/null)" && return 0
        sleep 0.1
    done
    return 1
}

# ns_add NS: a namespace with lo up and, unless MP_NS_IPV6=1, IPv6 off
ns_add() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    if [ "${MP_NS_IPV6:-0}" != 1 ] && [ -e /proc/sys/net/ipv6 ]; then
        # before the veths exist, so that they inherit 'default'
        ip netns exec "$1" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 &&
                                  echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
    fi
}

# routed_path_up K: host A pathK <-> toA router K toB <-> host B pathK, each
# host with a route to the other's subnet through the router only
routed_path_up() {
    local k=$1 r na nb
    r=$(router_ns "$k"); na=$(net_a "$k"); nb=$(net_b "$k")
    ns_add "$r"
    # forwarding on; strict reverse-path filter: the router forwards only
    # between the two subnets it joins (nothing from another path's subnet)
    ip netns exec "$r" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward &&
                              echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter &&
                              echo 1 > /proc/sys/net/ipv4/conf/default/rp_filter'
    ip link add "path$k" netns "$NS_A" type veth peer name toA netns "$r"
    ip link add toB netns "$r" type veth peer name "path$k" netns "$NS_B"
    ip -n "$NS_A" addr add "$na.1/24" dev "path$k"
    ip -n "$r" addr add "$na.254/24" dev toA
    ip -n "$r" addr add "$nb.254/24" dev toB
    ip -n "$NS_B" addr add "$nb.2/24" dev "path$k"
    ip -n "$NS_A" link set "path$k" up
    ip -n "$r" link set toA up
    ip -n "$r" link set toB up
    ip -n "$NS_B" link set "path$k" up
    routed_route "$NS_A" "$k"
    routed_route "$NS_B" "$k"
}

# routed_route NS K: host NS's route to the other host's path K subnet,
# through router K (the kernel removes it when NS's pathK goes down)
routed_route() {
    if [ "$1" = "$NS_A" ]; then
        ip -n "$1" route replace "$(net_b "$2").0/24" via "$(net_a "$2").254" dev "path$2"
    else
        ip -n "$1" route replace "$(net_a "$2").0/24" via "$(net_b "$2").254" dev "path$2"
    fi
}

# up_check N: every path's ends running and answering ping
up_check() {
    local n=$1 k ns i ok via
    # The kernel reports the operational state (IFF_RUNNING) through linkwatch,
    # up to ~1 s after the carrier came; UCX's tcp transport skips interfaces
    # that are not running, so a program started right away would not see them.
    for k in $(seq "$n"); do
        for ns in "$NS_A" "$NS_B"; do
            wait_oper_up "$ns" "path$k" 100 || die "path$k in $ns is not operationally up after 10 s"
        done
        if [ "$ROUTED" = 1 ]; then
            for i in toA toB; do
                wait_oper_up "$(router_ns "$k")" "$i" 100 ||
                    die "$i in $(router_ns "$k") is not operationally up after 10 s"
            done
        fi
    done
    for k in $(seq "$n"); do          # bounded: at most 20 x 1 s per path
        ok=0
        for i in $(seq 20); do
            if ip netns exec "$NS_A" ping -c1 -W1 -q "$(addr_b "$k")" >/dev/null 2>&1; then ok=1; break; fi
            sleep 0.2
        done
        [ "$ok" = 1 ] || die "path$k ($(addr_a "$k") -> $(addr_b "$k")) does not answer ping"
        via=""
        [ "$ROUTED" = 1 ] && via=" via router $(router_ns "$k")"
        info "path$k up: $NS_A $(addr_a "$k") <-> $NS_B $(addr_b "$k")$via (ping ok after $i attempt(s))"
    done
}

do_up() {
    if [ "${1:-}" = --routed ]; then ROUTED=1; shift; fi
    [ "${MP_NS_ROUTED:-0}" = 1 ] && ROUTED=1
    [ $# -le 1 ] || die "usage: $0 up [--routed] [NPATHS]"
    local n=${1:-2} ns k routers=""
    if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt "$MAX_PATHS" ]; then
        die "NPATHS must be 1..$MAX_PATHS (got '$n')"
    fi
    if ! [[ $HOST_PATH =~ ^[1-9][0-9]*$ ]] || [ "$HOST_PATH" -gt "$n" ]; then
        die "MP_NS_HOST_PATH must be a path of this testbed, 1..$n (got '$HOST_PATH')"
    fi
    need_root
    [ "$ROUTED" = 1 ] && for k in $(seq "$n"); do routers+=" $(router_ns "$k")"; done
    for ns in "$NS_A" "$NS_B" $routers; do
        if ns_exists "$ns"; then
            die "namespace $ns already exists; run '$0 down' first (MP_NS_PREFIX=$PREFIX)"
        fi
        if [ -e "/etc/netns/$ns/hosts" ] && ! hosts_file_ours "/etc/netns/$ns/hosts"; then
            die "/etc/netns/$ns/hosts exists and is not ours; refusing to overwrite it"
        fi
    done
    UP_IN_PROGRESS=1
    for ns in "$NS_A" "$NS_B"; do
        ns_add "$ns"
        write_hosts "$ns" "$n"
    done
    for k in $(seq "$n"); do
        # created directly inside the namespaces: nothing appears in the root namespace
        if [ "$ROUTED" = 1 ]; then routed_path_up "$k"; continue; fi
        ip link add "path$k" netns "$NS_A" type veth peer name "path$k" netns "$NS_B"
        ip -n "$NS_A" addr add "198.18.$k.1/24" dev "path$k"
        ip -n "$NS_B" addr add "198.18.$k.2/24" dev "path$k"
        ip -n "$NS_A" link set "path$k" up
        ip -n "$NS_B" link set "path$k" up
    done
    up_check "$n"
    UP_IN_PROGRESS=0
    if [ "$ROUTED" = 1 ]; then
        info "testbed up: $NS_A (hostA) <-> $NS_B (hostB), $n path(s), routed through$routers; remove with: $0 down"
    else
        info "testbed up: $NS_A (hostA) <-> $NS_B (hostB), $n path(s); remove with: $0 down"
    fi
}

# kill_ns_procs NS: end processes still running inside NS (left over by tests),
# except this script and its ancestors (in case 'down' is run from inside)
kill_ns_procs() {
    local ns=$1 pids p keep=" " q=$$ i
    for i in $(seq 64); do
        keep+="$q "
        q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null) || break
        if [ -z "$q" ] || [ "$q" -le 1 ]; then break; fi
    done
    pids=$(ip netns pids "$ns" 2>/dev/null | while read -r p; do
        [[ $keep == *" $p "* ]] || echo "$p"; done | xargs) || true
    [ -n "$pids" ] || return 0
    info "ending processes left in $ns: $pids"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for i in $(seq 30); do
        # shellcheck disable=SC2086
        kill -0 $pids 2>/dev/null || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
}

do_down() {
    local ns f k
    need_root
    for ns in "$NS_A" "$NS_B"; do
        if ns_exists "$ns"; then
            kill_ns_procs "$ns"
            if ip netns del "$ns" 2>/dev/null; then info "deleted namespace $ns"; fi
        fi
        f=/etc/netns/$ns/hosts
        if hosts_file_ours "$f"; then
            rm -f "$f"
            info "removed $f"
        fi
        rmdir "/etc/netns/$ns" 2>/dev/null || true     # only if now empty
    done
    for k in $(seq "$MAX_PATHS"); do                    # routed mode's routers
        ns=$(router_ns "$k")
        if ns_exists "$ns"; then
            kill_ns_procs "$ns"
            if ip netns del "$ns" 2>/dev/null; then info "deleted namespace $ns"; fi
        fi
    done
    rmdir /etc/netns 2>/dev/null || true                # only if now empty
    return 0
}

#
# shape
#
do_shape() {
    [ $# -ge 1 ] || die "usage: $0 shape RATE1 [RATE2 ...] | off"
    need_root; need_up
    local -a rates=("$@") paths
    local ns p k=0 r
    mapfile -t paths < <(list_paths "$NS_A")
    for ns in "$NS_A" "$NS_B"; do
        for p in "${paths[@]}"; do tc -n "$ns" qdisc del dev "$p" root 2>/dev/null || true; done
    done
    if [ "$1" != off ]; then
        for r in "${rates[@]}"; do
            [[ ${r,,} =~ ^[0-9]+(\.[0-9]+)?([kmgt]i?)?(bit|bps)?$ ]] || die "bad rate '$r' (e.g. 100mbit, 1gbit)"
        done
        for p in "${paths[@]}"; do
            r=${rates[$k]:-${rates[-1]}}; k=$((k + 1))
            for ns in "$NS_A" "$NS_B"; do     # egress of both ends = both directions
                tc -n "$ns" qdisc add dev "$p" root tbf rate "$r" burst 256kb latency 20ms
            done
        done
    fi
    echo "$(ts) shape ${*}"
    for ns in "$NS_A" "$NS_B"; do
        for p in "${paths[@]}"; do
            printf '%-8s %-6s %s\n' "$ns" "$p" "$(tc -n "$ns" qdisc show dev "$p" | head -1)"
        done
    done
}

#
# fault
#
nft_ensure() { # nft_ensure NS: create table inet uctmp (sets + rules) once
    ip netns exec "$1" nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && return 0
    ip netns exec "$1" nft -f - <<EOF
table inet $NFT_TABLE {
    set drop_if  { type ifname; comment "mp-netns fault drop: all traffic"; }
    set reset_if { type ifname; comment "mp-netns fault reset: tcp gets RST"; }
    chain input {
        type filter hook input priority filter - 10; policy accept;
        iifname @drop_if counter drop
        iifname @reset_if meta l4proto tcp counter reject with tcp reset
    }
    chain output {
        type filter hook output priority filter - 10; policy accept;
        oifname @drop_if counter drop
        oifname @reset_if meta l4proto tcp counter reject with tcp reset
    }
}
EOF
}
nft_has() { # nft_has NS SET IFACE
    # not "nft ... | grep -q": with pipefail, grep quitting early can fail
    # nft with SIGPIPE and make the whole test false
    grep -q "\"$3\"" <<<"$(ip netns exec "$1" nft list set inet "$NFT_TABLE" "$2" 2>/dev/null)"
}
nft_set() { # nft_set NS add|delete SET IFACE
    local ns=$1 op=$2 set=$3 p=$4
    if [ "$op" = add ]; then
        nft_ensure "$ns"
        ip netns exec "$ns" nft add element inet "$NFT_TABLE" "$set" "{ \"$p\" }"
    elif nft_has "$ns" "$set" "$p"; then
        ip netns exec "$ns" nft delete element inet "$NFT_TABLE" "$set" "{ \"$p\" }"
    else
        echo "$(ts) fault $p: $set had no $p in $ns (nothing to remove)"
    fi
}

# nft_timed_add ENSURE SET ELEM NS...: add ELEM to SET in every NS (ENSURE NS
# creates the table first); T0 and T1 are the epoch seconds around the
# commits. Timed is only the kernel commit: the table exists and one nft per
# namespace is already running, blocked opening a fifo, before the clock
# starts (spawning processes takes 100 ms and more while two busy-polling
# processes own both CPUs)
nft_timed_add() {
    local ensure=$1 set=$2 elem=$3 ns dir pids=()
    shift 3
    dir=$(mktemp -d /tmp/mp-netns-fault.XXXXXX)
    for ns in "$@"; do
        "$ensure" "$ns"
        mkfifo "$dir/$ns"
        ip netns exec "$ns" nft -f "$dir/$ns" &
        pids+=($!)
    done
    sleep 0.3
    T0=$(date +%s.%N)
    for ns in "$@"; do
        echo "add element inet $NFT_TABLE $set { \"$elem\" }" > "$dir/$ns"
    done
    wait "${pids[@]}"
    T1=$(date +%s.%N)
    rm -rf "$dir"
}

# nft_router_ensure NS: the router's table inet uctmp: set cut_if, whose
# interfaces pass nothing (forwarded, to or from the router itself)
nft_router_ensure() {
    ip netns exec "$1" nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && return 0
    ip netns exec "$1" nft -f - <<EOF
table inet $NFT_TABLE {
    set cut_if { type ifname; comment "mp-netns fault cut: router passes nothing"; }
    chain forward {
        type filter hook forward priority filter - 10; policy accept;
        iifname @cut_if counter drop
        oifname @cut_if counter drop
    }
    chain input {
        type filter hook input priority filter - 10; policy accept;
        iifname @cut_if counter drop
    }
    chain output {
        type filter hook output priority filter - 10; policy accept;
        oifname @cut_if counter drop
    }
}
EOF
}

# link_up_what P TARGETS: what 'fault P up' left: both ends running, or why not
link_up_what() {
    local p=$1 ns what="link up"
    if [ "$ROUTED" = 1 ]; then   # each host's end has a router on the other side
        for ns in $2; do
            wait_oper_up "$ns" "$p" 50 || what="$what ($p in $ns not running after 5 s)"
        done
    elif [ "$(link_state "$NS_A" "$p")" = down ] || [ "$(link_state "$NS_B" "$p")" = down ]; then
        what="$what (the other end is still down: no carrier)"
    else
        for ns in "$NS_A" "$NS_B"; do   # both ends running (see do_up)
            wait_oper_up "$ns" "$p" 50 || what="$what ($p in $ns not running after 5 s)"
        done
    fi
    echo "$what"
}

do_fault() {
    if [ $# -lt 2 ] || [ $# -gt 3 ]; then
        die "usage: $0 fault PATH down|up|drop|undrop|reset|unreset|cut|uncut [A|B|both]"
    fi
    need_root; need_up
    local p mode=$2 ns what targets
    p=$(norm_path "$1")
    case $mode in
        down|up) targets=$(sides "${3:-}" both) ;;
        drop|undrop|reset|unreset) targets=$(sides "${3:-}" A) ;;
        cut|uncut)
            [ "$ROUTED" = 1 ] || die "fault $mode: no router on $p (the testbed is not routed: up --routed)"
            [ -z "${3:-}" ] || die "fault $mode acts in $p's router and takes no SIDE (got '$3')"
            targets=$(router_ns "${p#path}") ;;
        *) die "bad fault mode '$mode' (down|up|drop|undrop|reset|unreset|cut|uncut)" ;;
    esac
    local t0 t1
    case $mode in
        drop|reset)
            # shellcheck disable=SC2086  # targets: one or two namespaces
            nft_timed_add nft_ensure "${mode}_if" "$p" $targets
            t0=$T0; t1=$T1 ;;
        cut)
            # shellcheck disable=SC2086
            nft_timed_add nft_router_ensure cut_if toB $targets
            t0=$T0; t1=$T1 ;;
        *)
            t0=$(date +%s.%N)
            for ns in $targets; do
                case $mode in
                    down|up) ip -n "$ns" link set "$p" "$mode"
                             if [ "$mode" = up ] && [ "$ROUTED" = 1 ]; then
                                 routed_route "$ns" "${p#path}"
                             fi ;;
                    undrop)  nft_set "$ns" delete drop_if "$p" ;;
                    unreset) nft_set "$ns" delete reset_if "$p" ;;
                    uncut)   nft_set "$ns" delete cut_if toB ;;
                esac
            done
            t1=$(date +%s.%N) ;;
    esac
    case $mode in
        down)    what="link down" ;;
        up)      what=$(link_up_what "$p" "$targets") ;;
        drop)    what="nft inet $NFT_TABLE: all traffic in+out on $p dropped" ;;
        undrop)  what="nft inet $NFT_TABLE: traffic on $p no longer dropped" ;;
        reset)   what="nft inet $NFT_TABLE: tcp in+out on $p rejected with tcp reset (non-tcp passes)" ;;
        unreset) what="nft inet $NFT_TABLE: tcp on $p no longer reset" ;;
        cut)     what="nft inet $NFT_TABLE in the router: all traffic in, out and forwarded on toB dropped (the hosts' links stay up)" ;;
        uncut)   what="nft inet $NFT_TABLE in the router: toB passes traffic again" ;;
    esac
    echo "$(ts) fault $p $mode on ${targets// / and }: $what (applied from $t0 to $t1)"
}

#
# exec
#
do_exec() {
    [ $# -ge 2 ] || die "usage: $0 exec A|B CMD..."
    need_root
    local ns h
    ns=$(host_ns "$1"); shift
    ns_exists "$ns" || die "namespace $ns does not exist; run: $0 up"
    h=$(host_name "$ns")
    # LD_PRELOAD (e.g. the mp module) is for CMD only, not for ip/unshare/hostname
    export MP_TESTBED_PRELOAD=${LD_PRELOAD:-}
    unset LD_PRELOAD
    # private UTS namespace: the "host" has its own hostname, like a real host
    # shellcheck disable=SC2016  # the inner script expands its own arguments
    exec ip netns exec "$ns" unshare --uts -- /bin/sh -c '
        hostname "$0" || exit 126
        if [ -n "$MP_TESTBED_PRELOAD" ]; then export LD_PRELOAD="$MP_TESTBED_PRELOAD"; fi
        unset MP_TESTBED_PRELOAD
        exec "$@"' "$h" "$@"
}

#
# status / counters
#
stat_of() { # stat_of NS IFACE tx_bytes|rx_bytes
    ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo "?"
}

do_counters() {
    need_up
    local ns p
    ns=$(host_ns "${1:-A}")
    for p in $(list_paths "$ns"); do
        # one 'ip netns exec' per path: sysfs shows the namespace's own interfaces
        # shellcheck disable=SC2016
        echo "$p $(ip netns exec "$ns" sh -c 'cat /sys/class/net/$1/statistics/tx_bytes /sys/class/net/$1/statistics/rx_bytes' _ "$p" | xargs)"
    done
}

link_state() { # link_state NS IFACE -> up | down | no-carrier
    local l
    l=$(ip -n "$1" -o link show "$2" 2>/dev/null) || { echo "?"; return; }
    if ! [[ $l =~ \<([A-Z_-]+,)*UP(,[A-Z_-]+)*\> ]]; then echo down
    elif [[ $l == *LOWER_UP* ]]; then echo up
    else echo no-carrier; fi
}
qdisc_of() { # qdisc_of NS IFACE -> "tbf 100Mbit" or "-"
    tc -n "$1" qdisc show dev "$2" root 2>/dev/null | head -1 |
        awk '$2=="tbf"{for(i=1;i<=NF;i++) if($i=="rate") {print "tbf", $(i+1); exit}} {print "-"}' | head -1
}
faults_of() { # faults_of NS IFACE -> "drop", "reset", "drop+reset" or "-"
    local f=""
    nft_has "$1" drop_if "$2" && f=drop
    nft_has "$1" reset_if "$2" && f=${f:+$f+}reset
    echo "${f:--}"
}

do_status() {
    need_root
    echo "namespaces: $(ip netns list | awk '{print $1}' | grep -xE "${NS_A}|${NS_B}|${PREFIX}R[0-9]+" | xargs || true)"
    if ! ns_exists "$NS_A" || ! ns_exists "$NS_B"; then
        echo "testbed $NS_A/$NS_B is not up"; return 0
    fi
    printf '%-6s %-15s %-15s %-16s %-12s %-12s %-11s %-11s %12s %12s\n' \
        path "A addr" "B addr" "link A/B" "qdisc A" "qdisc B" "fault A" "fault B" "A tx_bytes" "A rx_bytes"
    local p
    for p in $(list_paths "$NS_A"); do
        printf '%-6s %-15s %-15s %-16s %-12s %-12s %-11s %-11s %12s %12s\n' "$p" \
            "$(ip -n "$NS_A" -o -4 addr show dev "$p" | awk '{print $4}' | head -1)" \
            "$(ip -n "$NS_B" -o -4 addr show dev "$p" | awk '{print $4}' | head -1)" \
            "$(link_state "$NS_A" "$p")/$(link_state "$NS_B" "$p")" \
            "$(qdisc_of "$NS_A" "$p")" "$(qdisc_of "$NS_B" "$p")" \
            "$(faults_of "$NS_A" "$p")" "$(faults_of "$NS_B" "$p")" \
            "$(stat_of "$NS_A" "$p" tx_bytes)" "$(stat_of "$NS_A" "$p" rx_bytes)"
    done
    local ns set elems
    for ns in "$NS_A" "$NS_B"; do
        if ip netns exec "$ns" nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
            echo "nft table inet $NFT_TABLE in $ns:"
            for set in drop_if reset_if; do
                elems=$(ip netns exec "$ns" nft list set inet "$NFT_TABLE" "$set" |
                    sed -n 's/.*elements = { \(.*\) }.*/\1/p' | tr -d '"' | xargs)
                echo "    set $set: ${elems:--}"
            done
            ip netns exec "$ns" nft list table inet "$NFT_TABLE" | grep counter | sed 's/^\s*/    /'
        fi
    done
    [ "$ROUTED" = 0 ] || router_status
}

# router_status: routed mode's table of routers: addresses, links, the cut,
# bytes forwarded each way
router_status() {
    local p r
    printf '%-6s %-8s %-19s %-19s %-10s %-5s %14s %14s\n' \
        path router "toA addr" "toB addr" "link A/B" fault "fwd A->B bytes" "fwd B->A bytes"
    for p in $(list_paths "$NS_A"); do
        r=$(router_ns "${p#path}")
        ns_exists "$r" || continue
        printf '%-6s %-8s %-19s %-19s %-10s %-5s %14s %14s\n' "$p" "$r" \
            "$(ip -n "$r" -o -4 addr show dev toA | awk '{print $4}' | head -1)" \
            "$(ip -n "$r" -o -4 addr show dev toB | awk '{print $4}' | head -1)" \
            "$(link_state "$r" toA)/$(link_state "$r" toB)" \
            "$(nft_has "$r" cut_if toB && echo cut || echo -)" \
            "$(stat_of "$r" toB tx_bytes)" "$(stat_of "$r" toA tx_bytes)"
        if ip netns exec "$r" nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
            ip netns exec "$r" nft list table inet "$NFT_TABLE" | grep counter | sed "s/^\s*/    $r: /"
        fi
    done
}

#
# addr
#
do_addr() {
    [ $# -eq 2 ] || die "usage: $0 addr A|B K"
    need_up
    local ns p
    ns=$(host_ns "$1")
    p=$(norm_path "$2")
    if [ "$ns" = "$NS_A" ]; then addr_a "${p#path}"; else addr_b "${p#path}"; fi
}

#
# run
#
do_run() {
    local n=2 rc=0 routed=()
    if [ "${1:-}" = --routed ]; then routed=(--routed); shift; fi
    if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then n=$1; shift; fi
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die "usage: $0 run [--routed] [NPATHS] -- CMD..."
    do_up "${routed[@]}" "$n"
    RUN_ACTIVE=1
    export MP_NS_A=$NS_A MP_NS_B=$NS_B MP_NS_PREFIX=$PREFIX MP_NPATHS=$n MP_NETNS=$SELF
    [ "$ROUTED" = 1 ] && export MP_NS_ROUTED=1
    # CMD runs as a child we wait for, so that INT/TERM reach the trap at once
    # (then CMD is ended and the testbed removed). It keeps our stdin and gets
    # SIGINT/SIGQUIT back (bash ignores them in background commands).
    ( trap - INT QUIT; exec "$@" ) 0<&0 &
    RUN_CHILD=$!
    wait "$RUN_CHILD" || rc=$?
    RUN_CHILD=
    return "$rc"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case $cmd in
    up)       do_up "$@" ;;
    down)     do_down ;;
    shape)    do_shape "$@" ;;
    fault)    detect_routed; do_fault "$@" ;;
    exec)     do_exec "$@" ;;
    status)   detect_routed; do_status ;;
    counters) do_counters "$@" ;;
    addr)     detect_routed; do_addr "$@" ;;
    run)      do_run "$@" ;;  # the EXIT trap removes the testbed and keeps CMD's status
    help|-h|--help) usage ;;
    *) usage >&2; exit 2 ;;
esac
