#!/bin/bash
# contrib/testbed/mpiexec-ns.sh - MPICH (Debian 4.0.2, ch4:ucx), 2 ranks across
# the namespace testbed: rank 0 in host A, rank 1 in host B, hydra launching
# through the fake remote shell nsrsh.
#
# Usage (root, testbed up: contrib/testbed/mp-netns.sh up):
#   mpiexec-ns.sh PROGRAM [ARGS...]
#   e.g. LD_PRELOAD=.../libuct_mp.so.0 UCX_TLS=mp_rc,self UCX_MP_RC_LANE_TL=tcp \
#            UCX_MP_RC_DEVICES=path1,path2 MPI_OOB_IF=path3 mpiexec-ns.sh ./mpi_verify_mpich
#
# PROGRAM must be built against this MPICH (see contrib/install-mpich.sh: its
# packages conflict with Open MPI's, so they are unpacked into the cache, not
# installed). Every UCX_* variable of the caller is passed to the ranks
# (-genv), and so is LD_PRELOAD - to the ranks only, not to hydra or its
# proxies. Hydra's own traffic (proxy launch, PMI, which also carries MPICH's
# address exchange) uses MPI_OOB_IF (default path1; a path that is not a lane,
# e.g. path3 of 'mp-netns.sh up 3' with MP_NS_HOST_PATH=3, keeps it off the
# lanes). Environment: TO (time limit, s; default 300), MPICH_ROOT (the
# unpacked tree; default: what contrib/install-mpich.sh prints), MPIEXEC_ARGS
# (extra mpiexec options, split on spaces), MP_NS_PREFIX (which testbed),
# MP_TESTBED_LOG (nsrsh log directory).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=$HERE/mp-netns.sh
TO=${TO:-300}
OOB_IF=${MPI_OOB_IF:-path1}
[ $# -ge 1 ] || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
[[ $TO =~ ^[0-9]+$ ]] || { echo "mpiexec-ns: TO must be seconds" >&2; exit 2; }
[[ $OOB_IF =~ ^path[1-4]$ ]] || { echo "mpiexec-ns: MPI_OOB_IF must be path1..path4" >&2; exit 2; }
X=${MPICH_ROOT:-$("$HERE/../install-mpich.sh" | tail -n 1)}
HYDRA=$X/usr/bin/mpiexec.hydra
LIBDIR=$(dirname "$(find "$X/usr/lib" -maxdepth 2 -name 'libmpich.so.12' | head -n 1)")
[ -x "$HYDRA" ] && [ -d "$LIBDIR" ] ||
    { echo "mpiexec-ns: no MPICH in '$X' (run contrib/install-mpich.sh)" >&2; exit 2; }

# the program must be reachable by the same path in both hosts (shared filesystem)
prog=$1; shift
if [[ $prog == */* ]]; then
    [ -x "$prog" ] || { echo "mpiexec-ns: $prog is not an executable" >&2; exit 2; }
    prog=$(readlink -f "$prog")
fi

gs=(-genv LD_LIBRARY_PATH "$LIBDIR")
while IFS= read -r v; do gs+=(-genv "$v" "${!v}"); done < <(compgen -e | grep '^UCX_' | sort)
if [ -n "${LD_PRELOAD:-}" ]; then
    gs+=(-genv LD_PRELOAD "$LD_PRELOAD")
    unset LD_PRELOAD
fi
read -r -a extra <<< "${MPIEXEC_ARGS:-}"

rc=0
t0=$SECONDS
# hydra_pmi_proxy is found next to mpiexec.hydra; both need MPICH's libraries
timeout --kill-after=10 "$TO" "$NETNS" exec A env LD_LIBRARY_PATH="$LIBDIR" "$HYDRA" \
    -launcher ssh -launcher-exec "$HERE/nsrsh" -hosts hostA,hostB -n 2 -ppn 1 \
    -iface "$OOB_IF" "${gs[@]}" "${extra[@]}" "$prog" "$@" || rc=$?
if [ $rc -eq 124 ] && [ $((SECONDS - t0)) -ge "$TO" ]; then
    echo "mpiexec-ns: timed out after ${TO}s" >&2
fi
exit $rc
