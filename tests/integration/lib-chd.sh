# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2154 # $testhost and $work come from the caller
#
# Sourced by the chd integration scripts (chd-lifecycle.sh, chd-systemd.sh): TAP checks, waits,
# and the guest they boot. The caller sets $testhost (tests/testhost/testhost) and $work (a
# scratch folder) and defines prop PATH PROPERTY (a VM property's value, unquoted).

# shellcheck source=tests/integration/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# wait_until SECONDS COMMAND...: true as soon as COMMAND is, polling every 0.2 s.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    while ((SECONDS < deadline)); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}
prop_is() { [[ $(prop "$1" "$2") == "$3" ]]; }
# wait_prop PATH PROPERTY VALUE SECONDS
wait_prop() { wait_until "$4" prop_is "$1" "$2" "$3"; }
# wait_console FILE MARKER SECONDS
wait_console() { wait_until "$3" grep -aq "$2" "$1" 2>/dev/null; }
pid_alive() { kill -0 "$1" 2>/dev/null; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# The guest: a userspace marker, then a power-button handler that powers off. The power button
# arrives through the Generic Event Device: with evdev, as a key on /dev/input/event*; the kit's
# cloud kernel has evdev only as a module the kit does not carry, so the handler also watches the
# GED's interrupt count in /proc/interrupts ("ACPI:Ged"), which is what the button raises.
# Sets $bzimage, $guest_modules and $initramfs.
make_guest() {
    local kit
    kit=$("$testhost" kit dir) || bail "testhost kit dir failed"
    bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"
    guest_modules="button"
    if find "$kit/modules" -name 'evdev.ko*' | grep -q .; then
        guest_modules="button evdev"
    fi
    cat >"$work/init.sh" <<'EOF'
#!/bin/sh
power_off() { echo "<2>CHD-GUEST-POWER-BUTTON $1" >/dev/kmsg; poweroff -f; }
for ev in /dev/input/event*; do
    [ -e "$ev" ] || continue
    # One whole struct input_event (24 bytes on x86_64): evdev refuses shorter reads (EINVAL).
    (dd if="$ev" bs=24 count=1 >/dev/null 2>&1 && power_off evdev) &
done
ged_count() { awk '/Ged/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }' /proc/interrupts; }
base=$(ged_count)
echo "<2>CHD-GUEST-USERSPACE (GED interrupts: ${base:-none})" >/dev/kmsg
echo "CHD-GUEST-ECHO from userspace"
while :; do
    [ -n "$base" ] && [ "$(ged_count)" != "$base" ] && power_off ged
    sleep 0.2
done
EOF
    initramfs=$work/initramfs.cpio.gz
    "$testhost" guest-initramfs --init "$work/init.sh" --modules "$guest_modules" -o "$initramfs" \
        >/dev/null || bail "cannot build the guest initramfs"
}

# definition NAME [UUID]: 512 MiB, 1 vCPU, the serial console in $work/NAME.console.log.
definition() {
    cat <<EOF
<domain type='kvm'>
  <name>$1</name>${2:+
  <uuid>$2</uuid>}
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
    <kernel>$bzimage</kernel>
    <initrd>$initramfs</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <devices>
    <serial type='file'><source path='$work/$1.console.log'/></serial>
  </devices>
</domain>
EOF
}
