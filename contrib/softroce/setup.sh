#!/bin/bash
# contrib/softroce/setup.sh: prepare the Soft-RoCE testbed host side (idempotent).
# Only Debian's archive is used. The Debian 12 kernel package (which ships
# rdma_rxe) is downloaded and unpacked into the cache - never installed - and
# booted under qemu; guests see the host root read-only over virtio-9p.
# Cache: ${UCT_MP_CACHE:-/var/cache/uct_mp}/softroce (rebuilt when missing).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${UCT_MP_CACHE:-/var/cache/uct_mp}/softroce
export DEBIAN_FRONTEND=noninteractive
log() { echo "softroce-setup: $*" >&2; }

pkgs=(qemu-system-x86 busybox-static kmod ibverbs-utils rdmacm-utils
      ibverbs-providers libibverbs1 librdmacm1 perftest ucx-utils libucx0
      iproute2 python3 xz-utils)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$kpkg" ] || { apt-get update -qq; kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
kver=${kpkg#linux-image-}
mkdir -p "$C/kernel"
if [ ! -f "$C/kernel/$kver.ready" ]; then
    log "fetching kernel package $kpkg"
    rm -rf "$C/kernel"; mkdir -p "$C/kernel"
    (cd "$C/kernel" && apt-get download -qq "$kpkg" >&2 && dpkg -x ./*.deb root && rm -f ./*.deb)
    depmod -b "$C/kernel/root" "$kver"
    for m in rdma_rxe ib_uverbs rdma_ucm 9p 9pnet_virtio overlay virtio_net virtio_pci; do
        modprobe -d "$C/kernel/root" -S "$kver" --show-depends $m >/dev/null || {
            log "kernel $kver lacks module $m"; exit 1; }
    done
    # uncompressed ELF vmlinux (PVH note) boots directly, ~2.5 s faster
    python3 - "$C/kernel/root/boot/vmlinuz-$kver" "$C/kernel/vmlinux" <<'PY'
import lzma, sys
d = open(sys.argv[1], 'rb').read(); i = d.find(b'\xfd7zXZ\x00')
open(sys.argv[2], 'wb').write(lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(d[i:]))
PY
    echo "$kver" > "$C/kernel/version"
    touch "$C/kernel/$kver.ready"
fi

# initramfs: static busybox + what mounting the host root over 9p needs
if [ ! -f "$C/initramfs.cpio.gz" ] || [ "$HERE/guest/init" -nt "$C/initramfs.cpio.gz" ] || \
   [ "$C/kernel/$kver.ready" -nt "$C/initramfs.cpio.gz" ]; then
    log "building initramfs"
    w=$(mktemp -d); mkdir -p "$w"/{bin,proc,sys,dev,lower,rw,newroot,lib/modules}
    cp /bin/busybox "$w/bin/busybox"
    : > "$w/modules.order"
    for m in virtio_pci 9pnet_virtio 9p overlay virtio_net; do
        modprobe -d "$C/kernel/root" -S "$kver" --show-depends $m | awk '$1=="insmod"{print $2}'
    done | awk '!seen[$0]++' | while read -r f; do
        cp "$f" "$w/lib/modules/"; basename "$f" >> "$w/modules.order"
    done
    cp "$HERE/guest/init" "$w/init"; chmod +x "$w/init"
    (cd "$w" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$C/initramfs.cpio.gz"
    rm -rf "$w"
fi
log "ready: kernel $kver, $C"
