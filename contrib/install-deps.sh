#!/bin/bash
# install-deps.sh: everything uct_mp needs on a fresh Debian 12 machine, from Debian's archive only.
#   - apt packages (build tools, UCX, rdma-core, hwloc, GoogleTest, clang with libFuzzer
#     and the sanitizer runtimes, Open MPI, testbed tools)
#   - Debian's UCX *source* package of exactly the installed libucx0 version, configured with
#     Debian's own flags, cached outside the clone (UCT_MP_CACHE, default /var/cache/uct_mp).
# Idempotent: a second run only checks. Prints the UCX source dir on its last line.
set -euo pipefail
CACHE=${UCT_MP_CACHE:-/var/cache/uct_mp}
export DEBIAN_FRONTEND=noninteractive
log() { echo "install-deps: $*" >&2; }

PKGS=(build-essential autoconf automake libtool pkg-config dpkg-dev
      libucx-dev libucx0 ucx-utils libibverbs-dev librdmacm-dev libhwloc-dev hwloc-nox
      libnuma-dev googletest libgtest-dev clang libclang-rt-14-dev
      openmpi-bin libopenmpi-dev
      iproute2 nftables ethtool iputils-ping procps util-linux python3 python3-matplotlib gnuplot-nox)

# deb-src entries derived from the machine's own apt sources (deb822 or one-line format).
add_deb_src() {
    local d=/etc/apt/sources.list.d
    if [ -f $d/debian.sources ] && ! grep -q '^Types:.*deb-src' $d/debian.sources; then
        [ -f $d/uct-mp-src.sources ] || \
            sed 's/^Types: deb$/Types: deb-src/' $d/debian.sources > $d/uct-mp-src.sources
    fi
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list && \
       ! grep -q '^deb-src ' /etc/apt/sources.list && [ ! -f $d/uct-mp-src.list ]; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > $d/uct-mp-src.list
    fi
}

missing=()
for p in "${PKGS[@]}"; do
    grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || missing+=("$p")
done
add_deb_src
if [ ${#missing[@]} -gt 0 ] || [ ! -d "$CACHE/ucx-src" ]; then
    log "apt-get update"
    apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

UCX_VER=$(dpkg-query -W -f='${Version}' libucx0)
SRC=$CACHE/ucx-src
stamp=$SRC/.uct-mp-configured
if [ -f $stamp ] && [ "$(cat $stamp)" = "$UCX_VER" ]; then
    log "UCX $UCX_VER source cached in $SRC"
    echo "$SRC"; exit 0
fi
log "fetching Debian's UCX source $UCX_VER into $CACHE"
rm -rf "$SRC" "$CACHE/dl"; mkdir -p "$CACHE/dl"
( cd "$CACHE/dl" && apt-get source -qq --only-source "ucx=$UCX_VER" >&2 )
d=$(find "$CACHE/dl" -maxdepth 1 -mindepth 1 -type d -name 'ucx-*' | head -1)
[ -n "$d" ] || { log "apt-get source gave no ucx-* directory"; exit 1; }
mv "$d" "$SRC"; rm -rf "$CACHE/dl"

# Debian's configure flags (debian/rules), so config.h and struct layouts match libucx0.
log "configuring UCX source with Debian's flags (takes a few minutes)"
cd "$SRC"
[ -x configure ] || ./autogen.sh >&2
./configure --prefix=/usr --libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH) \
    --enable-mt --disable-backtrace-detail --disable-logging --enable-devel-headers \
    --enable-examples --enable-cma --with-verbs --disable-doxygen-doc \
    > "$CACHE/ucx-configure.log" 2>&1 || { tail -30 "$CACHE/ucx-configure.log" >&2; exit 1; }
echo "$UCX_VER" > $stamp
log "UCX $UCX_VER source ready in $SRC"
echo "$SRC"
