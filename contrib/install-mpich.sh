#!/bin/bash
# contrib/install-mpich.sh: Debian's MPICH (ch4:ucx) next to Open MPI, for the
# MPI failover harness (test/integration/mpi_failover.sh).
#
# Debian 12's mpich / libmpich12 / libmpich-dev take over the same
# alternatives (mpirun, mpicc, mpi.h) as Open MPI's packages, so they are not
# installed: their .debs are fetched with 'apt-get download' and unpacked with
# dpkg-deb -x into a private directory of the cache:
#   ${UCT_MP_CACHE:-/var/cache/uct_mp}/mpich-VERSION/x/usr/{bin,lib,include}
# Idempotent: a second run only checks. Prints the unpacked root (the "x"
# directory) on its last line. Programs are built with
#   gcc -I$X/usr/include/x86_64-linux-gnu/mpich ... -L$X/usr/lib/x86_64-linux-gnu -lmpich
# and run with LD_LIBRARY_PATH=$X/usr/lib/x86_64-linux-gnu ($X/usr/bin/mpiexec.hydra).
set -euo pipefail
CACHE=${UCT_MP_CACHE:-/var/cache/uct_mp}
PKGS=(mpich libmpich12 libmpich-dev)
log() { echo "install-mpich: $*" >&2; }

ver=$(apt-cache policy libmpich12 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    log "apt knows no libmpich12 package (run apt-get update?)"
    exit 1
fi
DIR=$CACHE/mpich-$ver
X=$DIR/x
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
stamp=$DIR/.uct-mp-unpacked
if [ -f "$stamp" ] && [ -x "$X/usr/bin/mpiexec.hydra" ] &&
   [ -f "$X/usr/lib/$MULTIARCH/libmpich.so.12" ]; then
    log "MPICH $ver unpacked in $X"
    echo "$X"
    exit 0
fi

# run-time dependencies of libmpich12 and mpich (hydra needs libslurm):
# Debian packages that do not conflict with Open MPI
for p in libgfortran5 libhwloc15 libucx0 libslurm38 hwloc-nox; do
    if ! grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)"; then
        log "installing $p"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
            --no-install-recommends "$p" >&2
    fi
done

log "fetching MPICH $ver (${PKGS[*]}) into $DIR"
rm -rf "$DIR"
mkdir -p "$DIR/debs" "$X"
# apt's sandbox user cannot write into a root-only directory: download as root
( cd "$DIR/debs" &&
  apt-get -o APT::Sandbox::User=root download "${PKGS[@]/%/=$ver}" >&2 )
for deb in "$DIR"/debs/*.deb; do
    dpkg-deb -x "$deb" "$X"
done
[ -x "$X/usr/bin/mpiexec.hydra" ] || { log "no mpiexec.hydra in the unpacked packages"; exit 1; }
echo "$ver" > "$stamp"
log "MPICH $ver ready in $X"
echo "$X"
