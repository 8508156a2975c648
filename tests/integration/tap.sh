# SPDX-License-Identifier: Apache-2.0
# Sourced by the integration scripts: TAP output and the preconditions of booting a Linux guest.
#
#   . "$here/tap.sh"
#   tap_need_vmm "$@"          vmm=$1, or a usage bail; bails unless /dev/kvm can boot Linux here
#   check DESCRIPTION CMD...   one TAP line, "ok" when CMD succeeds; counts n and failures and
#                              sets failed=1 (reset it per VM to print that VM's log)
#   tap_end                    the plan and a summary; returns 0 when every check passed

n=0
failures=0
failed=0

bail() {
    echo "Bail out! $*"
    exit 1
}

tap_need_vmm() {
    [[ $# -eq 1 && -x $1 ]] || bail "usage: $0 VMM (an executable, e.g. build/vmm-worker/vmm-worker)"
    vmm=$1
    # A Linux guest needs a /dev/kvm that runs a kernel: the test host's, or hardware KVM.
    if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
        bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $vmm"
    fi
    [[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
}

check() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
        return
    fi
    echo "not ok $n - $desc"
    failures=$((failures + 1))
    failed=1
}

tap_end() {
    echo "1..$n"
    echo "# $((n - failures)) of $n checks passed"
    ((failures == 0))
}
