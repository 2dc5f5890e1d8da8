#!/bin/bash
# contrib/fuzz.sh BUILDDIR TARGET... : build libFuzzer targets of test/fuzz
# with clang (-fsanitize=fuzzer,address,undefined) into BUILDDIR/test/fuzz
# and run each from its seed corpus (test/fuzz/corpus/<target>, copied, the
# committed one is never written) for FUZZ_RUNS inputs, at most FUZZ_TIME
# seconds. A target fails on any crash or sanitizer report (its input is
# saved as BUILDDIR/test/fuzz/artifacts/<target>/crash-*) and when the time
# bound ends it before FUZZ_RUNS inputs. Inputs under
# test/fuzz/crashes/<target>/ of a core target are run first as regression
# cases. Prints per target "fuzz TARGET: N inputs, cov C, ft F" and at the
# end "N passed, M failed".
# Module targets (fuzz_mp_*) link the module's sources and open tcp lanes on
# lo; fuzzed addresses name arbitrary IPs, so they run in a network namespace
# of their own with only lo (unshare -n -m, sysfs mounted again, under the
# testbed lock; both namespaces end with the process).
# Environment: FUZZ_RUNS (1000000), FUZZ_TIME (60), FUZZ_CXX (clang++),
# FUZZ_CC (clang), UCX_SRC, IBVERBS_CPPFLAGS, IBVERBS_LIBS (from make),
# FUZZ_BUILD_ONLY=1 builds without running.
set -uo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${1:?usage: fuzz.sh BUILDDIR TARGET...}" && pwd)
shift
FUZZ_RUNS=${FUZZ_RUNS:-1000000}
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_CXX=${FUZZ_CXX:-clang++}
FUZZ_CC=${FUZZ_CC:-clang}
UCX_SRC=${UCX_SRC:-/var/cache/uct_mp/ucx-src}
OUT=$BUILDDIR/test/fuzz
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
FLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Werror"
INC="-I$SRCDIR/src -I$SRCDIR/test/fuzz"
CORE_SRCS="$SRCDIR/src/mp_wire.cc $SRCDIR/src/mp_ctl.cc $SRCDIR/src/mp_netlink.cc"
LOCK=/tmp/uct_mp-testbed.lock
mkdir -p "$OUT/obj"
passed=0; failed=0

command -v "$FUZZ_CXX" >/dev/null || {
    echo "fuzz: $FUZZ_CXX not found (contrib/install-deps.sh installs clang)"
    echo "0 passed, 1 failed"; exit 1; }

# The module's sources with the sanitizers and the fuzzer's coverage, once
# per run. UBSan's null, object-size and pointer-overflow checks are off for
# the C glue (pointer-overflow: ucs_queue_for_each_safe on an empty queue):
# UCX's ucs_offsetof()
# (&((type*)0)->member, behind every ucs_derived_of) trips it on every call;
# a real NULL dereference is still ASan's SEGV report.
build_module_objs() {
    local f o objs=""
    for f in "$SRCDIR"/uct_mp/*.c; do
        o=$OUT/obj/$(basename "$f" .c).o
        "$FUZZ_CC" -std=gnu11 $FLAGS -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize=null,object-size,pointer-overflow -fno-sanitize-recover=all -fno-strict-aliasing -Wno-unused-parameter \
            -Wno-missing-field-initializers -Wno-ignored-attributes -Wno-unknown-attributes -DHAVE_CONFIG_H -I"$BUILDDIR" \
            -I"$UCX_SRC" -I"$UCX_SRC/src" -I"$SRCDIR/src" ${IBVERBS_CPPFLAGS:-} \
            -c "$f" -o "$o" || return 1
        objs="$objs $o"
    done
    for f in "$SRCDIR"/src/*.cc; do
        o=$OUT/obj/$(basename "$f" .cc).o
        "$FUZZ_CXX" -std=c++14 $FLAGS -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=all -c "$f" -o "$o" || return 1
        objs="$objs $o"
    done
    MODULE_OBJS=$objs
}

# build TARGET: 0 if built
build() {
    local t=$1
    case $t in
    fuzz_mp_*)
        [ -n "${MODULE_OBJS:-}" ] || build_module_objs || return 1
        "$FUZZ_CXX" -std=c++14 $FLAGS $SAN -fno-sanitize=null,object-size $INC \
            -I"$UCX_SRC" -I"$UCX_SRC/src" \
            -I"$SRCDIR/uct_mp" -DHAVE_CONFIG_H -I"$BUILDDIR" \
            -Wno-unused-parameter -Wno-ignored-attributes -Wno-unknown-attributes "$SRCDIR/test/fuzz/$t.cc" $MODULE_OBJS \
            -o "$OUT/$t" -luct -lucs ${IBVERBS_LIBS:-} -lpthread ;;
    *)
        "$FUZZ_CXX" -std=c++14 $FLAGS -Wextra $SAN $INC \
            "$SRCDIR/test/fuzz/$t.cc" $CORE_SRCS -o "$OUT/$t" ;;
    esac
}

# exec_target TARGET ARGS...: module targets in their own network namespace
exec_target() {
    local t=$1; shift
    case $t in
    fuzz_mp_*)
        # sysfs mounted again so that it shows the new namespace's devices
        flock "$LOCK" unshare -n -m sh -c 'mount -t sysfs sysfs /sys &&
            ip link set lo up && exec "$@"' sh "$OUT/$t" "$@" ;;
    *)  "$OUT/$t" "$@" ;;
    esac
}

# regression TARGET: every saved crash input of a core target must pass
regression() {
    local t=$1 d=$SRCDIR/test/fuzz/crashes/$1 n
    [ -d "$d" ] || return 0
    n=$(find "$d" -type f | wc -l)
    [ "$n" -gt 0 ] || return 0
    exec_target "$t" -runs=1 $(find "$d" -type f | sort) > "$OUT/$t.regression.log" 2>&1 || {
        echo "FAIL fuzz $t: a saved crash input fails again ($OUT/$t.regression.log)"
        return 1; }
    echo "fuzz $t: $n saved crash inputs pass"
}

run() {
    local t=$1 log=$OUT/$1.log work=$OUT/work/$1 rc runs cov ft
    rm -rf "$work"; mkdir -p "$work" "$OUT/artifacts/$t"
    [ -d "$SRCDIR/test/fuzz/corpus/$t" ] && cp "$SRCDIR/test/fuzz/corpus/$t"/* "$work"/ 2>/dev/null
    exec_target "$t" -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$t/" "$work" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    echo "fuzz $t: ${runs:-0} inputs, cov ${cov:-?}, ft ${ft:-?}"
    if [ $rc -ne 0 ]; then
        echo "FAIL fuzz $t: exit $rc, input in $OUT/artifacts/$t/ ($log):"
        grep -E 'ERROR|SUMMARY|invariant|runtime error' "$log" | head -5
        return 1
    fi
    if [ "${runs:-0}" -lt "$FUZZ_RUNS" ]; then
        echo "FAIL fuzz $t: only ${runs:-0} of $FUZZ_RUNS inputs within ${FUZZ_TIME}s"
        return 1
    fi
}

for t in "$@"; do
    if ! build "$t" > "$OUT/$t.build.log" 2>&1; then
        echo "FAIL fuzz $t: build ($OUT/$t.build.log)"; tail -5 "$OUT/$t.build.log"
        failed=$((failed + 1)); continue
    fi
    [ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && { echo "fuzz $t: built"; passed=$((passed + 1)); continue; }
    if regression "$t" && run "$t"; then
        echo "PASS fuzz $t"; passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
