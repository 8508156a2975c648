#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vmm-worker's control socket with a real Linux guest: Debian's cloud kernel with the ACPI `button`
# module and a busybox init that prints a numbered tick with its uptime every 0.2 s and waits for
# KEY_POWER on the power button's input device. Through the socket (busctl, peer-to-peer): Info is
# right, Pause stops the ticks and Resume restarts them without the guest clock leaping over the
# pause, PowerButton makes the guest power itself off and vmm-worker exit with status 0. Output is
# TAP.
#
# Runs where /dev/kvm can boot Linux: inside the nested test host (meson runs it through
# tests/testhost/testhost run) or on a machine with hardware KVM.
#
#   control.sh VMM        VMM: build/vmm-worker/vmm-worker
#
# Environment: CHD_BOOT_TIMEOUT (seconds to wait for each guest step, default 60).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-60}
pause_s=3

# shellcheck source=tests/integration/tap.sh
source "$here/tap.sh"

[[ $# -eq 1 && -x $1 ]] || bail "usage: $0 VMM (an executable, e.g. build/vmm-worker/vmm-worker)"
vmm=$1
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $vmm"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
command -v busctl >/dev/null || bail "busctl (systemd) is missing"

work=$(mktemp -d)
pid=
cleanup() {
    [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

# The power button is an input device named "Power Button" once `button` is loaded; a press is a
# 24-byte input_event whose bytes 16-23 read type 1 (EV_KEY), code 116 (KEY_POWER), value 1.
cat >"$work/init.sh" <<'EOF'
#!/bin/sh
ev=none
for d in /sys/class/input/event*; do
    grep -q "Power Button" "$d/device/name" 2>/dev/null && ev=/dev/input/${d##*/}
done
echo "CHD-GUEST-BUTTON $ev"
if [ "$ev" = none ]; then
    echo "CHD-GUEST-DEBUG input: $(ls /sys/class/input) modules: $(cut -d' ' -f1 /proc/modules)"
    dmesg | grep -i -E "button|ged|acpi" | tail -n 15
fi
(
    i=0
    while :; do
        echo "CHD-GUEST-TICK $i $(cut -d' ' -f1 /proc/uptime)"
        i=$((i + 1))
        sleep 0.2
    done
) &
while [ "$ev" != none ]; do
    e=$(dd if="$ev" bs=24 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [ "$(echo "$e" | cut -c33-48)" = 0100740001000000 ] && break
done
echo "CHD-GUEST-POWER-KEY"
poweroff -f
EOF
"$testhost" guest-initramfs --init "$work/init.sh" --modules "button evdev" -o "$work/initramfs.cpio.gz" \
    || bail "cannot build the guest initramfs"

serial=$work/serial.log
sock=$work/control
address=unix:path=$sock
worker=(org.cloudhypervisor.chd1 /org/cloudhypervisor/chd1/worker org.cloudhypervisor.chd1.Worker)

wait_for() { # PATTERN: waits until the serial log has it
    local deadline=$((SECONDS + timeout_s))
    until grep -aq -- "$1" "$serial" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.2
    done
}
ticks() {
    grep -ac CHD-GUEST-TICK "$serial" || true
}
# last_tick: "<number> <uptime>" of the newest complete tick line.
last_tick() {
    grep -a 'CHD-GUEST-TICK [0-9]* [0-9.]*' "$serial" | tr -d '\r' | tail -n 1 | cut -d' ' -f2-3
}
call() {
    busctl --address="$address" call "${worker[@]}" "$@"
}
refused_while_paused() {
    local out
    if out=$(call PowerButton 2>&1); then
        return 1
    fi
    echo "# $out"
    grep -q "is paused" <<<"$out"
}
info_has() { # KEY TYPE VALUE, as busctl prints it
    grep -q "\"$1\" $2 $3" <<<"$info"
}

echo "1..12"
echo "# VMM: $vmm; guest kernel $("$testhost" kit kernel-release)"
"$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz" --cmdline "console=ttyS0 quiet" \
    --cpus boot=2 --memory size=512M --serial "file=$serial" --console off \
    --control-socket "$sock" </dev/null >"$work/vmm.log" 2>&1 &
pid=$!

check "the guest finds its ACPI power button (input device of the button module)" \
    wait_for "CHD-GUEST-BUTTON /dev/input/event"
check "the guest prints ticks" wait_for "CHD-GUEST-TICK 3 "

info=$(call Info 2>&1) || true
echo "# Info: $info"
check "Info: running, pid $pid, 2 vCPUs, 512 MiB, the kernel, first boot" \
    eval 'info_has State s "\"running\"" && info_has Pid u "$pid" && info_has VCPUs u 2 &&
        info_has Memory t 536870912 && info_has Kernel s "\"$bzimage\"" && info_has BootCount u 1'

check "Pause succeeds" call Pause
before=$(ticks)
tick_before=$(last_tick)
sleep "$pause_s"
after=$(ticks)
check "no tick while paused ($before before, $after after $pause_s s)" test "$before" -eq "$after"
check "State is paused" eval 'call Info | grep -q "\"State\" s \"paused\""'
check "PowerButton is refused while paused" refused_while_paused
check "Resume succeeds" call Resume
check "ticks resume" wait_for "CHD-GUEST-TICK $((after + 2)) "
# Guest time: the first tick after the pause follows the last one before it by about one tick
# period, not by the paused time (kvmclock saved and restored).
tick_after=$(grep -a "CHD-GUEST-TICK $(( ${tick_before%% *} + 1 )) " "$serial" | tr -d '\r' | cut -d' ' -f2-3)
gap=$(awk -v a="${tick_before#* }" -v b="${tick_after#* }" 'BEGIN { printf "%.2f", b - a }')
check "guest uptime between the ticks around the pause: $gap s (paused $pause_s s; less than $((pause_s - 1)) s wanted)" \
    awk -v g="$gap" -v p="$pause_s" 'BEGIN { exit !(g != "" && g < p - 1) }'

check "PowerButton succeeds" call PowerButton
status=timeout
deadline=$((SECONDS + timeout_s))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
done
if ! kill -0 "$pid" 2>/dev/null; then
    if wait "$pid"; then status=0; else status=$?; fi
    pid=
fi
check "the guest sees KEY_POWER, powers off, and vmm-worker exits with status 0 (status $status)" \
    eval '[[ $status == 0 ]] && grep -aq CHD-GUEST-POWER-KEY "$serial"'

if ((failures)); then
    echo "# vmm-worker log:"
    sed 's/^/#   /' "$work/vmm.log" | tail -n 20
    echo "# guest serial (last 30 lines):"
    tr -d '\r' <"$serial" | tail -n 30 | sed 's/^/#   /'
fi
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
