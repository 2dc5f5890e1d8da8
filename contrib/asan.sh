#!/bin/bash
# contrib/asan.sh BUILDDIR: build the module and the unit and UCT test
# programs with AddressSanitizer and UndefinedBehaviorSanitizer in a second
# build directory (ASAN_BUILDDIR, default BUILDDIR/asan) and run both test
# programs. A program passes when GoogleTest passes and no sanitizer report
# was printed; any report aborts its run. UCX's own libraries are not
# instrumented. Prints per program "PASS asan NAME" or "FAIL asan NAME" and
# at the end "N passed, M failed".
# The build directory is kept and reused (make rebuilds what changed); it is
# configured again when missing or when its flags changed. A source tree
# configured in place cannot host a second (VPATH) build, so then the
# files git tracks, and the generated autotools files, are copied with
# their times into ASAN_BUILDDIR/src and the build is configured from there.
# Environment: ASAN_BUILDDIR, ASAN_CC (gcc), ASAN_CXX (g++), ASAN_JOBS (2),
# UCX_SRC (from make), ASAN_GTEST_FILTER (a --gtest_filter for both
# programs, by hand only).
set -uo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$(cd "${1:?usage: asan.sh BUILDDIR}" && pwd)
ASAN_BUILDDIR=${ASAN_BUILDDIR:-$BUILDDIR/asan}
ASAN_CC=${ASAN_CC:-gcc}
ASAN_CXX=${ASAN_CXX:-g++}
ASAN_JOBS=${ASAN_JOBS:-2}
UCX_SRC=${UCX_SRC:-/var/cache/uct_mp/ucx-src}
PROGRAMS="test/unit/mp_unit test/uct/mp_uct"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
# GCC's manual warns that the sanitizers raise false -Wmaybe-uninitialized
# warnings (here: std::function inside libstdc++'s <regex>), which -Werror
# of the project's flags would turn into errors.
FLAGS="$SAN -fno-omit-frame-pointer -g -O1 -Wno-maybe-uninitialized"
# The C glue only: UCX's ucs_queue_for_each_safe forms a pointer from the
# NULL element of an empty queue (UBSan pointer-overflow, e.g. in
# uct_mp_rma_ep_cleanup). Every other check stays on: with gcc, UCX's
# ucs_offsetof() behind ucs_derived_of trips neither null nor object-size
# (clang's fuzz build needs those off too, see contrib/fuzz.sh).
NOSAN_C="-fno-sanitize=pointer-overflow"
CFLAGS_ASAN="$FLAGS $NOSAN_C"
CXXFLAGS_ASAN="$FLAGS"
LDFLAGS_ASAN="$SAN"
# libtool links the C++ shared module with -nostdlib and its own list of
# the compiler's libraries, which has libubsan but not libasan
LIBS_ASAN="-lasan"

# Any report fails the run: the first one aborts the program (non-zero exit).
# Leaks are reported too: UCX keeps what it allocates for the process
# reachable from its globals, so LeakSanitizer reports only real leaks.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
ASAN_OPTIONS+=":detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="print_suppressions=0"
REPORT='ERROR: (Address|Leak)Sanitizer|runtime error:'

fail_all() { # fail_all REASON: every program failed
    echo "FAIL asan: $1"
    echo "0 passed, $(echo $PROGRAMS | wc -w) failed"
    exit 1
}

command -v "$ASAN_CC" >/dev/null && command -v "$ASAN_CXX" >/dev/null ||
    fail_all "$ASAN_CC or $ASAN_CXX not found"
mkdir -p "$ASAN_BUILDDIR"
ASAN_BUILDDIR=$(cd "$ASAN_BUILDDIR" && pwd)
LOGS=$ASAN_BUILDDIR/logs
mkdir -p "$LOGS"

# mirror_source: copy the source into ASAN_BUILDDIR/src (times kept, so make
# rebuilds only what changed since the last copy); prints its path
mirror_source() {
    local dst=$ASAN_BUILDDIR/src list=$LOGS/source-files
    git -C "$SRCDIR" ls-files > "$list" 2>/dev/null && [ -s "$list" ] || {
        echo "asan: $SRCDIR is configured in place and is no git checkout;" \
             "run 'make distclean' there or build it out of tree" >&2
        return 1; }
    (cd "$SRCDIR" && ls -d configure Makefile.in aclocal.m4 \
         uct_mp_config.h.in config m4 2>/dev/null) >> "$list"
    mkdir -p "$dst"
    (cd "$SRCDIR" && tar --ignore-failed-read -cf - -T "$list" 2>/dev/null) |
        tar -C "$dst" -xpf - || return 1
    echo "$dst"
}

configure_build() {
    local src=$1 stamp=$ASAN_BUILDDIR/asan-flags
    local want="$ASAN_CC $ASAN_CXX $CFLAGS_ASAN | $CXXFLAGS_ASAN | $LIBS_ASAN"
    want="$want | $src"
    if [ -f "$ASAN_BUILDDIR/Makefile" ] && [ -f "$stamp" ] &&
       [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "asan: configuring $ASAN_BUILDDIR"
    # objects do not depend on the flags: drop those of other flags
    [ -f "$ASAN_BUILDDIR/Makefile" ] &&
        make -C "$ASAN_BUILDDIR" clean > "$LOGS/clean.log" 2>&1
    (cd "$ASAN_BUILDDIR" &&
     "$src/configure" --with-ucx-src="$UCX_SRC" CC="$ASAN_CC" CXX="$ASAN_CXX" \
         CFLAGS="$CFLAGS_ASAN" CXXFLAGS="$CXXFLAGS_ASAN" \
         LDFLAGS="$LDFLAGS_ASAN" LIBS="$LIBS_ASAN") \
        > "$LOGS/configure.log" 2>&1 || return 1
    echo "$want" > "$stamp"
}

# run_program PATH: 0 if GoogleTest passed and no sanitizer report
run_program() {
    local name log p rc
    name=$(basename "$1"); log=$LOGS/$name.log
    # in a subshell: no "Aborted" line of this shell on a report
    ("$ASAN_BUILDDIR/$1" \
         ${ASAN_GTEST_FILTER:+--gtest_filter="$ASAN_GTEST_FILTER"} \
         > "$log" 2>&1; exit $?) 2>/dev/null
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    if [ $rc -eq 0 ] && [ -n "$p" ] &&
       ! grep -q '^\[  FAILED  \]' "$log" && ! grep -qE "$REPORT" "$log"; then
        echo "PASS asan $name: $p tests, no sanitizer report"
        return 0
    fi
    echo "FAIL asan $name: exit $rc, last test" \
         "$(sed -n 's/^\[ RUN      \] //p' "$log" | tail -1) ($log):"
    grep -E '^\[  FAILED  \] [A-Za-z]' "$log" | head -5
    # the first report and its first stack, and its summary
    awk -v re="$REPORT" '$0 ~ re { on = 1 } on && /^$/ { exit }
                         on && n++ < 10 { print }' "$log"
    grep -m1 '^SUMMARY: ' "$log"
    return 1
}

src=$SRCDIR
if [ -f "$SRCDIR/config.status" ]; then
    src=$(mirror_source) || fail_all "no source to configure from"
fi
configure_build "$src" ||
    fail_all "configure ($LOGS/configure.log): $(tail -1 "$LOGS/configure.log")"
echo "asan: building in $ASAN_BUILDDIR"
make -C "$ASAN_BUILDDIR" -j"$ASAN_JOBS" libuct_mp.la $PROGRAMS \
    > "$LOGS/build.log" 2>&1 || {
    grep -E 'error|Error' "$LOGS/build.log" | head -5
    fail_all "build ($LOGS/build.log)"; }

passed=0; failed=0
for prog in $PROGRAMS; do
    if run_program "$prog"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
