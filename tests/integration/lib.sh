# SPDX-License-Identifier: Apache-2.0
# Shared by the nested-test-host scripts that source it: tap.sh's TAP helpers (bail, check,
# n, failures, failed_case), require_kvm and has.

# shellcheck source=tests/integration/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# A Linux guest needs a /dev/kvm that runs a kernel: the test host's, or hardware KVM.
require_kvm() {
    if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
        bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $*"
    fi
    [[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
}

# has TEXT FILE: FILE contains TEXT.
has() {
    grep -aq -- "$1" "$2" 2>/dev/null
}
