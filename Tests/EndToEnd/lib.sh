# Shared helpers for the end-to-end suites: assertions that count, a hermetic BURROW_HOME, and
# the summary line the test runners read ("N passed, M failed").
set -uo pipefail

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BURROW="${BURROW:-$E2E_ROOT/.build/debug/burrow}"
# What the last check_fails command printed, for checks on its message.
LAST_FAILURE_OUTPUT=/tmp/burrow-e2e-expected-failure.log
PASSED=0
FAILED=0

# Always a home of the suite's own, whatever the caller's BURROW_HOME: suites delete theirs.
BURROW_HOME=$(mktemp -d /tmp/burrow-e2e.XXXXXX)
export BURROW_HOME

pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
    local description="$1"; shift
    if "$@" >/tmp/burrow-e2e-last.log 2>&1; then pass "$description"; else fail "$description"; sed 's/^/       /' /tmp/burrow-e2e-last.log | tail -n 20; fi
}

# check_fails DESCRIPTION EXPECTED_CODE COMMAND...: passes when COMMAND exits with EXPECTED_CODE.
check_fails() {
    local description="$1" expected="$2"; shift 2
    "$@" >/tmp/burrow-e2e-last.log 2>&1
    local code=$?
    cp /tmp/burrow-e2e-last.log "$LAST_FAILURE_OUTPUT"
    if [ "$code" = "$expected" ]; then pass "$description"; else fail "$description (exit $code, expected $expected)"; sed 's/^/       /' /tmp/burrow-e2e-last.log | tail -n 20; fi
}

summary() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
}
