#!/bin/bash
# contrib/testbed/mpirun-ns.sh - Open MPI, 2 ranks across the namespace testbed:
# rank 0 in host A, rank 1 in host B, pml ucx.
#
# Usage (root, testbed up: contrib/testbed/mp-netns.sh up):
#   mpirun-ns.sh PROGRAM [ARGS...]
#   e.g. UCX_TLS=tcp UCX_NET_DEVICES=path1,path2 mpirun-ns.sh ./mpi_verify
#        LD_PRELOAD=.../libuct_mp.so.0 UCX_TLS=mp_rc UCX_MP_RC_LANE_TL=tcp \
#            UCX_MP_RC_DEVICES=path1,path2 mpirun-ns.sh ./mpi_verify
#
# Every UCX_* variable of the caller is passed to the ranks (-x), and so is
# LD_PRELOAD (how the mp module is loaded) - to the ranks only, not to mpirun
# or orted. Open MPI's own traffic (oob, btl tcp for what pml ucx does not
# carry) is kept on MPI_OOB_IF (default path1; a path that is not a lane, e.g.
# path3 of 'mp-netns.sh up 3' with MP_NS_HOST_PATH=3, keeps it off the lanes).
# Environment: TO (time limit, s; default 300), MPIRUN_ARGS (extra mpirun
# options, split on spaces), MP_NS_PREFIX (which testbed), MP_TESTBED_LOG
# (nsrsh log directory).
#
# Debian's Open MPI 4.1 needs pml_ucx_tls/pml_ucx_devices "any" (its defaults
# only accept UCX over mlx5 devices) and --bind-to none (two "hosts" share the cores).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NETNS=$HERE/mp-netns.sh
TO=${TO:-300}
OOB_IF=${MPI_OOB_IF:-path1}
[ $# -ge 1 ] || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
[[ $TO =~ ^[0-9]+$ ]] || { echo "mpirun-ns: TO must be seconds" >&2; exit 2; }
[[ $OOB_IF =~ ^path[1-4]$ ]] || { echo "mpirun-ns: MPI_OOB_IF must be path1..path4" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "mpirun-ns: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }

# the program must be reachable by the same path in both hosts (shared filesystem)
prog=$1; shift
if [[ $prog == */* ]]; then
    [ -x "$prog" ] || { echo "mpirun-ns: $prog is not an executable" >&2; exit 2; }
    prog=$(readlink -f "$prog")
fi

xs=()
while IFS= read -r v; do xs+=(-x "$v"); done < <(compgen -e | grep '^UCX_' | sort)
if [ -n "${LD_PRELOAD:-}" ]; then
    xs+=(-x "LD_PRELOAD=$LD_PRELOAD")
    unset LD_PRELOAD
fi
read -r -a extra <<< "${MPIRUN_ARGS:-}"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rc=0
t0=$SECONDS
timeout --kill-after=10 "$TO" "$NETNS" exec A mpirun \
    --mca plm_rsh_agent "$HERE/nsrsh" --host hostA,hostB -np 2 --map-by node --bind-to none \
    --mca pml ucx --mca pml_ucx_tls any --mca pml_ucx_devices any \
    --mca btl self,tcp --mca btl_tcp_if_include "$OOB_IF" --mca oob_tcp_if_include "$OOB_IF" \
    --mca osc '^ucx' --mca btl_base_warn_component_unused 0 \
    "${xs[@]}" "${extra[@]}" "$prog" "$@" || rc=$?
if [ $rc -eq 124 ] && [ $((SECONDS - t0)) -ge "$TO" ]; then
    echo "mpirun-ns: timed out after ${TO}s" >&2
fi
exit $rc
