# test/lib.sh: tiny test harness shared by the project's shell test tiers.
# Source it, call t_run / t_check, end with t_summary (prints "N passed, M failed").
T_PASSED=0
T_FAILED=0
T_LOG_DIR=${T_LOG_DIR:-$(mktemp -d /tmp/uct_mp-test.XXXXXX)}

t_log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# t_pass NAME [DETAIL] / t_fail NAME REASON
t_pass() { T_PASSED=$((T_PASSED + 1)); printf 'PASS %s%s\n' "$1" "${2:+: $2}"; }
t_fail() { T_FAILED=$((T_FAILED + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }

# t_run NAME TIMEOUT CMD... : passes when CMD exits 0 within TIMEOUT seconds.
# Output goes to $T_LOG_DIR/NAME.log and is printed (last lines) on failure.
t_run() {
    local name=$1 tmo=$2 rc; shift 2
    local log="$T_LOG_DIR/$name.log"
    t_log "running $name"
    timeout --kill-after=10 "$tmo" "$@" > "$log" 2>&1; rc=$?
    if [ $rc -eq 0 ]; then
        t_pass "$name"
    else
        [ $rc -eq 124 ] && t_fail "$name" "timed out after ${tmo}s" || \
            t_fail "$name" "exit code $rc"
        tail -n 25 "$log" | sed 's/^/    | /'
    fi
    return $rc
}

# t_check NAME CONDITION-DESCRIPTION CMD... : passes when CMD exits 0.
t_check() {
    local name=$1 what=$2; shift 2
    if "$@"; then t_pass "$name" "$what"; else t_fail "$name" "$what"; fi
}

t_summary() {
    echo "$T_PASSED passed, $T_FAILED failed"
    [ "$T_FAILED" -eq 0 ] && [ "$T_PASSED" -gt 0 ]
}
