#!/bin/sh
# PID 1 after switch_root: set up the two links and rxe0/rxe1, run the test
# script named on the kernel command line with the guest id, report, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc; mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run   # /tmp stays: the host tree under it is visible, writes go to the overlay
ip link set lo up
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^softroce\.$1=//p"; }
ID=$(arg id)
hostname g$ID
# eth0 -> 198.18.1.ID/24 (link 0), eth1 -> 198.18.2.ID/24 (link 1); rxeN on ethN
for n in 0 1; do
    ip link set eth$n up
    ip addr add 198.18.$((n + 1)).$ID/24 dev eth$n
done
modprobe rdma_rxe && modprobe rdma_ucm
rdma link add rxe0 type rxe netdev eth0
rdma link add rxe1 type rxe netdev eth1
echo "SOFTROCE-READY id=$ID uptime=$(cut -d' ' -f1 /proc/uptime)"
S=$(arg script)
sh "$S" "$ID" $(arg args | tr ',' ' ') 2>&1
rc=$?
echo "SOFTROCE-DONE rc=$rc"
echo "$rc" > /out/rc
sync
exec /bin/busybox poweroff -f
