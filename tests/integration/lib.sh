# SPDX-License-Identifier: Apache-2.0
# Shared by the nested-test-host scripts that source it: preconditions, TAP checks.  Source it
# after setting nothing; it defines bail, require_kvm, check (counts n, failures; sets failed=1)
# and has.

bail() {
    echo "Bail out! $*"
    exit 1
}

# A Linux guest needs a /dev/kvm that runs a kernel: the test host's, or hardware KVM.
require_kvm() {
    if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
        bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $*"
    fi
    [[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
}

n=0
failures=0
failed=0
# check DESCRIPTION COMMAND...: one TAP line, "ok" when COMMAND succeeds.
check() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        failures=$((failures + 1))
        failed=1
    fi
}

# has TEXT FILE: FILE contains TEXT.
has() {
    grep -aq -- "$1" "$2" 2>/dev/null
}
