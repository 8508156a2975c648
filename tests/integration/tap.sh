# SPDX-License-Identifier: Apache-2.0
# TAP helpers every integration script sources: bail, a test counter, a failure count, and
# check(). check sets failed_case=1 on a failure the caller did not mark as a known gap
# (todo=REASON); scripts reset failed_case per guest to decide whether to show its log.

bail() {
    echo "Bail out! $*"
    exit 1
}

n=0
failures=0
failed_case=0
# check DESCRIPTION COMMAND...: one TAP line, "ok" when COMMAND succeeds.
check() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc${todo:+ # TODO $todo}"
    elif [[ -n ${todo:-} ]]; then
        # A known, documented gap: reported, but not counted as a regression (TAP TODO).
        echo "not ok $n - $desc # TODO $todo"
    else
        echo "not ok $n - $desc"
        failures=$((failures + 1))
        failed_case=1
    fi
}
