#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# PCI, MSI-X and virtio-rng with a real Linux guest (Debian's cloud kernel, virtio_pci and
# virtio-rng as modules).  Output is TAP.  Runs where /dev/kvm boots Linux: inside the nested test
# host (meson runs it through tests/testhost/testhost run) or on hardware KVM.
#
#   virtio-rng.sh VMM
#
# Each VM's guest init prints what it sees and powers off:
# - CHD-PCI lines: every function under /sys/bus/pci/devices (vendor, device, class); one must be
#   vendor 0x1af4, device 0x1044 (virtio-rng, modern).
# - CHD-WARN lines: kernel messages of level warning or worse that mention PCI, virtio or ACPI;
#   there must be none ("PCI: Fatal: No config space access function found" was one).
# - CHD-RNG-CURRENT: /sys/class/misc/hw_random/rng_current, must be virtio_rng.N.
# - CHD-RNG-HEX: 64 bytes read from /dev/hwrng, in hex; with --rng src=FILE they must come from
#   FILE (a repeated pattern), with the default /dev/urandom they must not be all zeroes.
# - CHD-IRQ: the virtio interrupts in /proc/interrupts are PCI-MSI ones.
# and vmm-worker must exit 0 after the guest's poweroff -f.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-60}

# shellcheck source=tests/integration/tap.sh
source "$here/tap.sh"

[[ $# -eq 1 && -x $1 ]] || bail "usage: $0 VMM (an executable vmm-worker)"
vmm=$1
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $vmm"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

cat >"$work/init.sh" <<'GUEST'
#!/bin/sh
echo "<2>CHD-GUEST-USERSPACE" >/dev/kmsg
for d in /sys/bus/pci/devices/*; do
    echo "CHD-PCI ${d##*/} $(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class")"
done
# Raw records start with <level>; 0-4 are emergency..warning.
dmesg -r | grep -E '^<[0-4]>' | grep -i -E 'pci|virtio|acpi' | sed 's/^/CHD-WARN /'
echo "CHD-RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current)"
echo "CHD-RNG-HEX $(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
grep -i virtio /proc/interrupts | sed 's/  */ /g; s/^/CHD-IRQ /'
dmesg | grep -i -E 'pci|virtio|mmconfig|_osc' | sed 's/^/CHD-DMESG /'
echo "CHD-GUEST-POWEROFF"
poweroff -f
GUEST
"$testhost" guest-initramfs --init "$work/init.sh" --modules "virtio_pci virtio-rng" \
    -o "$work/initramfs.cpio.gz" >/dev/null || bail "cannot build the guest initramfs"

# A source whose bytes the guest can recognise: "CHDRNG" = 43 48 44 52 4e 47, 1 MiB of it.
pattern_hex=434844524e47
awk 'BEGIN { for (i = 0; i < 174763; i++) printf "CHDRNG" }' >"$work/pattern"

lines() {
    grep -a "^$1" "$log" | tr -d '\r' || true
}

run_case() {
    local name=$1 cpus=$2 rng=$3
    log=$work/$name.log
    failed_case=0
    local cmd=("$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz"
        --cmdline "console=ttyS0 quiet" --cpus "boot=$cpus" --memory size=512M
        --serial tty --console off)
    [[ -z $rng ]] || cmd+=(--rng "$rng")
    echo "# $name: $(printf '%q ' "${cmd[@]}")"
    local status=0
    timeout -k 5 "$timeout_s" setsid "${cmd[@]}" </dev/null >"$log" 2>&1 || status=$?

    local pci rng_dev warn current hex irq
    pci=$(lines CHD-PCI)
    rng_dev=$(grep -c ' 0x1af4 0x1044 0xff0000$' <<<"$pci" || true)
    warn=$(lines CHD-WARN)
    current=$(lines CHD-RNG-CURRENT | sed 's/^CHD-RNG-CURRENT //')
    hex=$(lines CHD-RNG-HEX | sed 's/^CHD-RNG-HEX //')
    irq=$(lines CHD-IRQ)

    check "$name: guest reaches userspace" grep -aq CHD-GUEST-USERSPACE "$log"
    check "$name: host bridge 1b36:0008 at 0000:00:00.0" grep -q '^CHD-PCI 0000:00:00.0 0x1b36 0x0008 0x060000$' <<<"$pci"
    check "$name: one virtio-rng function 1af4:1044 under /sys/bus/pci/devices ($rng_dev)" test "$rng_dev" = 1
    check "$name: no PCI/virtio/ACPI warnings in dmesg" test -z "$warn"
    check "$name: rng_current is virtio_rng.N ('$current')" grep -Eq '^virtio_rng\.[0-9]+$' <<<"$current"
    check "$name: /dev/hwrng returns 64 bytes (${#hex} hex digits)" test "${#hex}" = 128
    if [[ $rng == "src=$work/pattern" ]]; then
        check "$name: the bytes come from the --rng source" grep -q "$pattern_hex" <<<"$hex"
    else
        check "$name: the bytes are not all zero" grep -q '[1-9a-f]' <<<"$hex"
    fi
    check "$name: virtio interrupts are MSI-X (PCI-MSI in /proc/interrupts)" grep -q 'PCI-MSI' <<<"$irq"
    check "$name: guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
    if [[ $name == default-* ]]; then
        echo "# the guest's PCI and virtio messages:"
        lines CHD-DMESG | sed 's/^CHD-DMESG /#   /'
    fi
    if ((failed_case)); then
        echo "# vmm-worker output (last 30 lines):"
        tail -n 30 "$log" | tr -d '\r' | sed 's/^/#   /'
    fi
}

echo "1..27"
run_case default-urandom-1cpu 1 ""
run_case file-source-2cpu 2 "src=$work/pattern"
run_case dev-random-2cpu 2 "src=/dev/random"
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
