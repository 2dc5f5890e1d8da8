#!/bin/bash
# contrib/run-tests.sh: the project's test command. On a fresh Debian 12 machine
# (root) it installs everything, builds, and runs every tier that belongs in CI:
#   0. code structure (contrib/check-structure.py: who writes which slice of
#      the endpoint, no call circle between modules, function and file sizes)
#   1. unit tests (GoogleTest: codecs incl. hostile input, lane state machine)
#      and UCT-level tests of the module (GoogleTest, loopback tcp lanes);
#      libFuzzer on the decoders (10^6 inputs each, make check-fuzz); the
#      unit and UCT tests again built with ASan and UBSan (make check-asan,
#      its build directory BUILDDIR/asan kept and reused across runs)
#   2. host testbed (network namespaces, 2 paths, tcp lanes): UCP, perftest, MPI,
#      and lane failures (link down, silent drop, tcp reset) under traffic;
#      L3 lanes (each path through a router namespace): UCP, aggregation,
#      failover on a router-side silent cut; live operations (uct_mp_ctl:
#      status, drain, undrain, refusals)
#   3. Soft-RoCE smoke (qemu guests, rxe0+rxe1, rc_verbs lanes)
# Set UCT_MP_SKIP_SOFTROCE=1 to leave out tier 3 on a quick local run.
# Ends with one line "N passed, M failed" over all tiers.
set -uo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRCDIR"
passed=0; failed=0
tally() { # tally LOGFILE: add its "N passed, M failed" lines
    local p f
    read -r p f < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1 | awk '{print $1, $3}')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
}
LOGS=$(mktemp -d /tmp/uct_mp-tests.XXXXXX)

echo "== code structure (ownership of endpoint state, layering, sizes)"
python3 contrib/check-structure.py 2>&1 | tee "$LOGS/structure.log"
tally "$LOGS/structure.log"

echo "== build"
BUILDDIR=$(contrib/build.sh 2> "$LOGS/build.log" | tail -1) || {
    tail -40 "$LOGS/build.log"; echo "0 passed, 1 failed"; exit 1; }
echo "built in $BUILDDIR"

# gtest_tier NAME BINARY: run a GoogleTest binary, add its counts
gtest_tier() {
    local log="$LOGS/$1.log" p f
    "$2" 2>&1 | tee "$log" | grep -E '^\[  (PASSED|FAILED) |^\[==========\]|^\[ budget \]'
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    f=$(grep -c '^\[  FAILED  \] [A-Za-z]' "$log")
    [ -n "$p" ] || f=$((f + 1))
    f=$((f + $(unexpected_skips "$log")))
    passed=$((passed + ${p:-0})); failed=$((failed + f))
}

# unexpected_skips LOG: print how many tests the log skipped that
# test/expected-skips.txt ("test.name reason", one a line) does not list;
# a skipped test is not a pass
unexpected_skips() {
    local name n=0
    while read -r name; do
        if ! grep -qE "^${name//./\\.}[[:space:]]+[^[:space:]]" \
                "$SRCDIR/test/expected-skips.txt" 2>/dev/null; then
            echo "[ skip ] unexpected: $name" >&2
            n=$((n + 1))
        fi
    done < <(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][^ ]*\).*/\1/p' "$1" | sort -u)
    echo "$n"
}

echo "== unit tests (C++ core)"
gtest_tier unit "$BUILDDIR/test/unit/mp_unit"

echo "== UCT-level tests (module over loopback tcp lanes)"
gtest_tier uct "$BUILDDIR/test/uct/mp_uct"

echo "== fuzz (decoders, 10^6 inputs each)"
make -C "$BUILDDIR" check-fuzz 2>&1 | tee "$LOGS/fuzz.log" | grep -vE '^make(\[[0-9]+\])?: '
tally "$LOGS/fuzz.log"

echo "== ASan+UBSan (unit and UCT)"
make -C "$BUILDDIR" check-asan 2>&1 | tee "$LOGS/asan.log" | grep -vE '^make(\[[0-9]+\])?: '
tally "$LOGS/asan.log"

echo "== host testbed self-test"
test/integration/test_testbed.sh 2>&1 | tee "$LOGS/testbed.log" | grep -E '^(PASS|FAIL)|passed'
tally "$LOGS/testbed.log"

echo "== host testbed"
test/integration/run.sh "$BUILDDIR" 2>&1 | tee "$LOGS/integration.log" | grep -vE '^[0-9:]{8} running'
tally "$LOGS/integration.log"

echo "== host testbed: lane failures"
test/integration/failover.sh "$BUILDDIR" 2>&1 | tee "$LOGS/failover.log" | grep -vE '^[0-9:]{8} running'
tally "$LOGS/failover.log"

echo "== host testbed: L3 (routed) lanes"
test/integration/l3.sh "$BUILDDIR" 2>&1 | tee "$LOGS/l3.log" | grep -vE '^[0-9:]{8} running'
tally "$LOGS/l3.log"

echo "== host testbed: live operations (uct_mp_ctl status, drain, undrain)"
test/integration/liveops.sh "$BUILDDIR" 2>&1 | tee "$LOGS/liveops.log" | grep -vE '^[0-9:]{8} running'
tally "$LOGS/liveops.log"

if [ "${UCT_MP_SKIP_SOFTROCE:-0}" != 1 ]; then
    echo "== Soft-RoCE smoke"
    test/softroce/run.sh "$BUILDDIR" smoke 2>&1 | tee "$LOGS/softroce.log"
    tally "$LOGS/softroce.log"
fi

echo "logs: $LOGS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
