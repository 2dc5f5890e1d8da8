#!/bin/bash
# contrib/softroce/softroce.sh: the Soft-RoCE testbed (real verbs, no RDMA hardware).
#
#   softroce.sh setup                 install packages, fetch and unpack the kernel (cached)
#   softroce.sh run SCRIPT [ARG...]   boot guests g1 (client) and g2 (server) joined by two
#                                     links, run SCRIPT ID [ARG...] in each, print both logs'
#                                     results; exit 0 only if both scripts exited 0
#
# Guests: Debian 12's kernel under qemu (software emulation), host root shared read-only
# over virtio-9p with a tmpfs overlay, so host binaries and build trees are visible at the
# same paths. eth0 = link 0 (198.18.1.ID/24, rxe0), eth1 = link 1 (198.18.2.ID/24, rxe1).
# Links are qemu unix-socket netdevs between the two guests only: no user-mode networking,
# no route out. A guest pulls a cable by writing "LINK on|off" (LINK = n0 or n1) to
# /out/cable-request; the host applies it to guest 2's NIC through the qemu monitor and
# answers in /out/cable-done. Every guest is killed when run ends, whatever happens.
#
# Environment: SOFTROCE_TIMEOUT (s, default 900), SOFTROCE_MEM (MiB, 1024),
# SOFTROCE_KEEP=1 (keep the work dir), UCT_MP_CACHE (cache root).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${UCT_MP_CACHE:-/var/cache/uct_mp}/softroce
TMO=${SOFTROCE_TIMEOUT:-900}

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

boot_guest() { # boot_guest ID SCRIPT ARGS(comma separated)
    local id=$1 script=$2 args=$3 kver n srv netargs=()
    kver=$(cat "$C/kernel/version")
    for n in 0 1; do
        if [ "$id" = 2 ]; then srv=on; else srv=off; fi
        netargs+=(-netdev "stream,id=n$n,server=$srv,addr.type=unix,addr.path=$W/run/link$n.sock"
                  -device "virtio-net-pci,romfile=,netdev=n$n,mac=52:54:00:00:0$n:0$id")
    done
    exec qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp 1 -m "${SOFTROCE_MEM:-1024}" \
        -nographic -no-reboot -nodefaults -serial stdio \
        -monitor "unix:$W/out/g$id/mon.sock,server,nowait" \
        -kernel "$C/kernel/vmlinux" -initrd "$C/initramfs.cpio.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=4 softroce.id=$id softroce.script=$script softroce.args=$args softroce.stage2=$HERE/guest/stage2.sh softroce.kmods=$C/kernel/root/lib/modules/$kver" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs "local,path=$W/out/g$id,mount_tag=out,security_model=none" \
        "${netargs[@]}"
}

cleanup() {
    local p
    for p in ${QEMU_PIDS:-}; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in ${QEMU_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
    if [ "${SOFTROCE_KEEP:-0}" = 1 ] || [ "${RESULT:-1}" != 0 ]; then
        echo "softroce: logs kept in $W" >&2
    else
        rm -rf "$W"
    fi
}

# Apply guests' cable requests through the monitor of guest 2 (bounded by the run)
cable_watcher() {
    local f req
    while true; do
        for f in "$W"/out/g1/cable-request "$W"/out/g2/cable-request; do
            [ -f "$f" ] || continue
            req=$(cat "$f"); rm -f "$f"
            set -- $req
            python3 "$HERE/mon.py" "$W/out/g2/mon.sock" "set_link $1 $2" >/dev/null 2>&1
            echo "$(date +%s.%N) set_link $1 $2" >> "$W/cable.log"
            echo "$req" > "$(dirname "$f")/cable-done"
        done
        sleep 0.2
    done
}

run() {
    local script args id rc1 rc2 start waited
    [ $# -ge 1 ] || usage
    script=$(readlink -f "$1"); shift
    [ -f "$script" ] || { echo "softroce: no script $script" >&2; exit 2; }
    args=$(IFS=,; echo "$*")
    [ -f "$C/kernel/version" ] && [ -f "$C/initramfs.cpio.gz" ] || "$HERE/setup.sh" || exit 1

    W=$(mktemp -d /var/tmp/uct_mp-softroce.XXXXXX)
    mkdir -p "$W/out/g1" "$W/out/g2" "$W/run"
    RESULT=1; QEMU_PIDS=""
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    start=$(date +%s)

    (boot_guest 2 "$script" "$args") > "$W/g2.log" 2>&1 &
    QEMU_PIDS="$!"
    for waited in $(seq 100); do
        [ -S "$W/run/link0.sock" ] && [ -S "$W/run/link1.sock" ] && break; sleep 0.1
    done
    (boot_guest 1 "$script" "$args") > "$W/g1.log" 2>&1 &
    QEMU_PIDS="$QEMU_PIDS $!"
    cable_watcher & QEMU_PIDS="$QEMU_PIDS $!"

    # wait for both guests, bounded
    while [ $(( $(date +%s) - start )) -lt "$TMO" ]; do
        [ -f "$W/out/g1/rc" ] && [ -f "$W/out/g2/rc" ] && break
        if ! kill -0 ${QEMU_PIDS%% *} 2>/dev/null && [ ! -f "$W/out/g2/rc" ]; then break; fi
        sleep 1
    done
    sleep 1
    rc1=$(cat "$W/out/g1/rc" 2>/dev/null || echo timeout)
    rc2=$(cat "$W/out/g2/rc" 2>/dev/null || echo timeout)

    for id in 1 2; do
        echo "---- guest g$id (exit $(cat "$W/out/g$id/rc" 2>/dev/null || echo none))"
        grep -vE '^\s*$' "$W/g$id.log" | sed -n '/SOFTROCE-READY/,$p' | grep -vE 'SOFTROCE-READY' | \
            tr -d '\r' | sed 's/^/  /' | tail -n "${SOFTROCE_LOG_LINES:-200}"
    done
    echo "softroce: guests exited $rc1 / $rc2 after $(( $(date +%s) - start )) s"
    if [ "$rc1" = 0 ] && [ "$rc2" = 0 ]; then
        RESULT=0
    else
        echo "softroce: FAILED; serial log tails:"
        for id in 1 2; do echo "== g$id"; tr -d '\r' < "$W/g$id.log" | tail -40; done
    fi
    return $RESULT
}

case "${1:-}" in
    setup) shift; exec "$HERE/setup.sh" "$@" ;;
    run)   shift; run "$@" ;;
    *)     usage ;;
esac
