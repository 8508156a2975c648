#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-console (hvc0) and the serial port's pty mode with a real Linux guest (Debian's cloud
# kernel, virtio_pci and virtio_console as modules).  Output is TAP.  Runs where /dev/kvm boots
# Linux: inside the nested test host (meson runs it through tests/testhost/testhost run) or on
# hardware KVM.
#
#   virtio-console.sh VMM [CASE...]      CASE: file, tty, null, pty, serial-pty (default: all)
#
# One guest init for every case; the case comes on the kernel command line (chd_case=).  The
# guest's own markers go to the serial console (--serial tty into the log) unless the case is
# about the serial port itself.
# - file:       --console file=F, "console=ttyS0 console=hvc0": hvc0 exists, a line and 500
#               numbered lines (about 22 KB) written to /dev/hvc0 all reach F in order, and so
#               does a kernel message (hvc0 is a kernel console).
# - tty:        --console tty --serial file=S: what the guest writes to hvc0 reaches stdout.
# - null:       --console null: writes to hvc0 succeed and are discarded; the guest goes on.
# - pty:        --console pty: vmm-worker prints the pty's path; a host program (pty-drive.py)
#               reads the guest's hvc0 output there and types a line the guest reads on hvc0.
# - serial-pty: --serial pty --console off: the same through the legacy serial port (ttyS0).
# Each VM must power off and vmm-worker exit with status 0.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-60}

# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
[[ $# -ge 1 && -x $1 ]] || bail "usage: $0 VMM [CASE...] (VMM: an executable vmm-worker)"
vmm=$1
shift
cases=" ${*:-file tty null pty serial-pty} "
want() {
    [[ $cases == *" $1 "* ]]
}
require_kvm "$vmm"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

cat >"$work/init.sh" <<'GUEST'
#!/bin/sh
case=$(sed -n 's/.*chd_case=\([a-z-]*\).*/\1/p' /proc/cmdline)
echo "<2>CHD-GUEST-USERSPACE $case" >/dev/kmsg
if [ -c /dev/hvc0 ]; then echo "CHD-HVC0 present"; else echo "CHD-HVC0 missing"; fi
case $case in
file | tty | null)
    echo "CHD-HVC-OUT hello from hvc0" >/dev/hvc0
    i=0
    while [ $i -lt 500 ]; do
        echo "CHD-HVC-LINE $i 0123456789abcdefghijklmnopqrstuvwxyz"
        i=$((i + 1))
    done >/dev/hvc0
    echo "<2>CHD-KMSG-ON-HVC0" >/dev/kmsg
    echo "CHD-HVC-DONE" >/dev/hvc0
    echo "CHD-GUEST-WROTE"
    ;;
pty)
    # Open across write and read: the last close of a tty flushes input that came meanwhile.
    exec 3<>/dev/hvc0
    echo "CHD-HVC-OUT hello from hvc0" >&3
    read -t 40 line <&3
    echo "CHD-GOT $line"
    echo "CHD-HVC-DONE got $line" >&3
    exec 3>&-
    ;;
serial-pty)
    exec 3<>/dev/ttyS0
    echo "CHD-SERIAL-OUT hello from ttyS0"
    read -t 40 line <&3
    echo "CHD-GOT $line"
    echo "CHD-SERIAL-DONE"
    exec 3>&-
    ;;
esac
echo "CHD-GUEST-POWEROFF"
poweroff -f
GUEST
"$testhost" guest-initramfs --init "$work/init.sh" --modules "virtio_pci virtio_console" \
    -o "$work/initramfs.cpio.gz" >/dev/null || bail "cannot build the guest initramfs"

# The 500 numbered lines arrived complete and in order.
all_lines() {
    local got
    got=$(grep -a '^CHD-HVC-LINE ' "$1" | tr -d '\r' | awk '{ if ($2 != n) { print "gap at " n; exit } n++ } END { print n }')
    [[ $got == 500 ]]
}

base_cmd() {
    local case=$1 cmdline=$2
    cmd=("$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz"
        --cmdline "$cmdline quiet chd_case=$case" --cpus boot=1 --memory size=512M)
}

report() {
    if ((failed_case)); then
        local f
        for f in "$@"; do
            echo "# $(basename "$f") (last 20 lines):"
            tail -n 20 "$f" 2>/dev/null | tr -d '\r' | cut -c1-200 | sed 's/^/#   /'
        done
    fi
}

run_plain() {
    local case=$1 log=$work/$1.log status=0
    shift
    failed_case=0
    echo "# $case: $(printf '%q ' "${cmd[@]}" "$@")"
    timeout -k 5 "$timeout_s" setsid "${cmd[@]}" "$@" </dev/null >"$log" 2>&1 || status=$?
    vmm_status=$status
}

if want file; then
    # file: hvc0 output into a file, hvc0 also a kernel console.
    base_cmd file "console=ttyS0 console=hvc0"
    run_plain file --serial tty --console "file=$work/hvc-file.out"
    check "file: guest reaches userspace" has CHD-GUEST-USERSPACE "$work/file.log"
    check "file: /dev/hvc0 exists in the guest" has "CHD-HVC0 present" "$work/file.log"
    check "file: a line written to hvc0 reaches the file" has "CHD-HVC-OUT hello from hvc0" "$work/hvc-file.out"
    check "file: 500 lines (22 KB) reach the file complete and in order" all_lines "$work/hvc-file.out"
    check "file: kernel messages reach hvc0 (console=hvc0)" has CHD-KMSG-ON-HVC0 "$work/hvc-file.out"
    check "file: hvc0 output stays off the serial console" eval "! grep -aq CHD-HVC-LINE '$work/file.log'"
    check "file: guest powers off, vmm-worker exits 0 (status $vmm_status)" test "$vmm_status" = 0
    report "$work/file.log" "$work/hvc-file.out"
fi

if want tty; then
    # tty: hvc0 output on stdout, the serial port into a file.
    base_cmd tty "console=ttyS0"
    run_plain tty --serial "file=$work/tty-serial.out" --console tty
    check "tty: a line written to hvc0 reaches stdout" has "CHD-HVC-OUT hello from hvc0" "$work/tty.log"
    check "tty: 500 lines reach stdout complete and in order" all_lines "$work/tty.log"
    check "tty: the serial console went to its file" has CHD-GUEST-WROTE "$work/tty-serial.out"
    check "tty: guest powers off, vmm-worker exits 0 (status $vmm_status)" test "$vmm_status" = 0
    report "$work/tty.log" "$work/tty-serial.out"
fi

if want null; then
    # null: the device is there and swallows everything.
    base_cmd null "console=ttyS0"
    run_plain null --serial tty --console null
    check "null: /dev/hvc0 exists in the guest" has "CHD-HVC0 present" "$work/null.log"
    check "null: the guest's writes to hvc0 complete" has CHD-GUEST-WROTE "$work/null.log"
    check "null: hvc0 output is discarded" eval "! grep -aq CHD-HVC-LINE '$work/null.log'"
    check "null: guest powers off, vmm-worker exits 0 (status $vmm_status)" test "$vmm_status" = 0
    report "$work/null.log"
fi

if want pty; then
    # pty: both ways through the console's pty.
    base_cmd pty "console=ttyS0"
    failed_case=0
    echo "# pty: $(printf '%q ' "${cmd[@]}") --serial tty --console pty"
    status=0
    python3 "$here/pty-drive.py" --console CHD-HVC-OUT CHD-HOST-INPUT-42 CHD-HVC-DONE "$work/pty.log" \
        "$work/pty.out" "$timeout_s" -- "${cmd[@]}" --serial tty --console pty || status=$?
    check "pty: vmm-worker announces the pty on stderr" grep -aq '^vmm-worker: --console pty: /dev/pts/' "$work/pty.log"
    check "pty: the guest's hvc0 output arrives on the pty" has "CHD-HVC-OUT hello from hvc0" "$work/pty.out"
    check "pty: a line typed on the pty reaches the guest's hvc0" has "CHD-GOT CHD-HOST-INPUT-42" "$work/pty.log"
    check "pty: the guest's answer arrives on the pty" has "CHD-HVC-DONE got CHD-HOST-INPUT-42" "$work/pty.out"
    check "pty: guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
    report "$work/pty.log" "$work/pty.out"
fi

if want serial-pty; then
    # serial-pty: both ways through the serial port's pty (input short enough for the UART's FIFO).
    base_cmd serial-pty "console=ttyS0"
    failed_case=0
    echo "# serial-pty: $(printf '%q ' "${cmd[@]}") --serial pty --console off"
    status=0
    python3 "$here/pty-drive.py" --serial CHD-SERIAL-OUT CHD-IN-7 CHD-SERIAL-DONE "$work/serial-pty.log" \
        "$work/serial-pty.out" "$timeout_s" -- "${cmd[@]}" --serial pty --console off || status=$?
    check "serial-pty: vmm-worker announces the pty on stderr" grep -aq '^vmm-worker: --serial pty: /dev/pts/' "$work/serial-pty.log"
    check "serial-pty: the guest's serial output arrives on the pty" has "CHD-SERIAL-OUT hello from ttyS0" "$work/serial-pty.out"
    check "serial-pty: a line typed on the pty reaches the guest's ttyS0" has "CHD-GOT CHD-IN-7" "$work/serial-pty.out"
    check "serial-pty: guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
    report "$work/serial-pty.log" "$work/serial-pty.out"
fi

echo "1..$n"
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
