# SPDX-License-Identifier: Apache-2.0
# Sourced by the integration scripts: TAP test points.
#
#   tap_check DESCRIPTION COMMAND...   "ok N - DESCRIPTION" when COMMAND succeeds, else "not ok"
#   tap_done                           a summary comment; fails when a check failed

tap_n=0
tap_failures=0

tap_check() {
    local desc=$1
    shift
    tap_n=$((tap_n + 1))
    if "$@"; then
        echo "ok $tap_n - $desc"
        return 0
    fi
    echo "not ok $tap_n - $desc"
    tap_failures=$((tap_failures + 1))
}

tap_done() {
    echo "# $((tap_n - tap_failures)) of $tap_n checks passed"
    ((tap_failures == 0))
}
