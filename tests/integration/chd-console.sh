#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The interactive console of a real Linux guest through chd and chctl: a private dbus-daemon, the
# real chd, vmm-worker and chctl, Debian's cloud kernel from the test host's guest kit. TAP.
#
#   chd-console.sh CHD VMM_WORKER CHCTL
#
# Runs where /dev/kvm can boot Linux: inside the nested test host (meson runs it through
# tests/testhost/testhost run) or on a machine with hardware KVM.
#
# What it checks, in one L1 boot with one guest (1 vCPU), <console type='pty'> in its definition:
#  chctl start --console on a terminal (tests/integration/console-session) shows the guest's
#  shell; a typed command runs in the guest and its output comes back; Ctrl-] leaves and the VM
#  runs on; ConsolePath is the worker's pty and chctl info shows it; chctl console attaches again;
#  chctl shutdown (power button) while attached: the console ends with the guest; shut-off,
#  ConsolePath empty. The console log (PtyLog, chd's default <log>/shell.log) holds the guest's
#  boot banner, the typed command, its output and the power-off, while the pty worked throughout. (<serial type='pty'> is tested on this machine: tests/dbus/test-chctl.c.)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
session=$here/console-session
boot_timeout=${CHD_BOOT_TIMEOUT:-90}
source "$here/private-chd.sh"
source "$here/tap.sh"

[[ $# -eq 3 ]] || { echo "usage: $0 CHD VMM_WORKER CHCTL" >&2; exit 2; }
chd=$1 vmm=$2 chctl=$3
[[ -x $chd && -x $vmm && -x $chctl ]] || bail "$chd, $vmm or $chctl is not an executable file (meson compile -C build)"
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $*"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
command -v dbus-daemon >/dev/null || bail "dbus-daemon is missing (tools/setup-host installs it)"

work=$(mktemp -d)
trap 'private_chd_stop; rm -rf "$work"' EXIT

# The guest: a marker, an interactive shell on the serial console, and the power button (an
# input device once button and evdev are loaded; one event is the press) powering it off.
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"
cat >"$work/init.sh" <<'EOF'
#!/bin/sh
for e in /sys/class/input/event*; do
    grep -q "Power Button" "$e/device/name" 2>/dev/null || continue
    (dd if="/dev/input/${e##*/}" bs=24 count=1 >/dev/null 2>&1
     echo "CHD-GUEST-POWER-BUTTON"; poweroff -f) &
done
echo "CHD-GUEST-SHELL on $(tty 2>/dev/null || echo the console)"
PS1='guest# ' exec sh -i
EOF
"$testhost" guest-initramfs --init "$work/init.sh" --modules "button evdev" -o "$work/initramfs.cpio.gz" \
    >/dev/null || bail "cannot build the guest initramfs"

prop() { busctl --address="$CHCTL_BUS_ADDRESS" get-property org.cloudhypervisor.chd1 \
    "/org/cloudhypervisor/chd1/vm/$1" org.cloudhypervisor.chd1.VM "$2" | sed 's/^[a-z] //; s/"//g'; }
wait_prop() { # VM PROPERTY VALUE SECONDS
    local deadline=$((SECONDS + $4))
    until [[ $(prop "$1" "$2") == "$3" ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
quiet() { "$@" >>"$work/commands.log" 2>&1; }
is_pty() { [[ $1 == /dev/pts/* && -c $1 ]]; }
has() { grep -q -- "$2" "$1"; }
info_shows() { "$chctl" info "$1" | grep -q -- "$2"; } # no /dev/fd for <(...) in the test host

diagnose() {
    local f
    for f in "$work"/session-*.out "$work/commands.log" "$work/chd.log" "$work"/log/*.log; do
        [[ -f $f ]] || continue
        echo "# $f (last 20 lines):"
        tail -n 20 "$f" | sed 's/^/#   /'
    done
}

echo "1..18"
echo "# guest kernel $("$testhost" kit kernel-release)"
private_chd_start "$work" "$chd" "$vmm" || bail "chd did not start"

private_chd_definition shell "$bzimage" "$work/initramfs.cpio.gz" 256 1 "    <console type='pty'/>" \
    >"$work/shell.xml"
check "chctl define a VM with <console type='pty'>" quiet "$chctl" define "$work/shell.xml"
check "ConsolePath is empty while it is shut off" test -z "$(prop shell ConsolePath)"

# The whole line before Ctrl-] (the expect would match a partial one, and leave before the rest).
release=$("$testhost" kit kernel-release)
# A person at a terminal: start with the console attached, wait for the shell, type a command
# whose output differs from what was typed (so the guest ran it, not just echoed it), Ctrl-].
rc=0
"$session" --timeout "$boot_timeout" --expect "Connected to the console of 'shell'" \
    --expect "CHD-GUEST-SHELL" --expect "guest# " \
    --send 'echo CHD-TYPED-$((6 * 7)) $(uname -r)\r' --expect "CHD-TYPED-42 $release" --send '\x1d' \
    -- "$chctl" start --console shell >"$work/session-start.out" 2>&1 || rc=$?
check "chctl start --console attaches and shows the guest's shell (userspace within $boot_timeout s)" \
    has "$work/session-start.out" "CHD-GUEST-SHELL"
check "a command typed on the console runs in the guest, its output comes back" \
    has "$work/session-start.out" "CHD-TYPED-42 $release"
check "Ctrl-] leaves the console with status 0 (got $rc)" test "$rc" -eq 0
check "the VM runs on after leaving the console" wait_prop shell State running 1
pty=$(prop shell ConsolePath)
check "ConsolePath is the worker's pseudo-terminal ($pty)" is_pty "$pty"
check "chctl info shows it" info_shows shell "Console: *$pty"
log=$work/log/shell.log
check "PtyLog is chd's default console log ($(prop shell PtyLog))" test "$(prop shell PtyLog)" = "$log"
check "the console log has the guest's boot banner" grep -aq "CHD-GUEST-SHELL" "$log"
check "the console log has the line typed through the console and its output" \
    bash -c "grep -aqF 'echo CHD-TYPED-\$((6 * 7))' '$log' && grep -aq 'CHD-TYPED-42 [0-9]' '$log'"

# Attach again; press the power button while attached: the console ends with the guest.
rc=0
"$session" --timeout "$boot_timeout" --send '\r' --expect "guest# " \
    --run "'$chctl' shutdown shell >>'$work/commands.log' 2>&1" --expect "CHD-GUEST-POWER-BUTTON" \
    -- "$chctl" console shell >"$work/session-again.out" 2>&1 || rc=$?
check "chctl console attaches again: Enter gives a new prompt" has "$work/session-again.out" "guest# "
check "chctl shutdown presses the power button: the guest sees it" \
    has "$work/session-again.out" "CHD-GUEST-POWER-BUTTON"
check "the console ends by itself when the guest powers off (status $rc)" \
    bash -c "[[ $rc -eq 0 ]] && grep -q \"The console of 'shell' closed\" '$work/session-again.out'"
check "the VM is shut off (shutdown)" wait_prop shell StateReason shutdown 30
check "State is shut-off" wait_prop shell State shut-off 1
check "ConsolePath is empty again" test -z "$(prop shell ConsolePath)"
check "the console log has the guest's last words (the power button)" grep -aq "CHD-GUEST-POWER-BUTTON" "$log"

((failures == 0)) || diagnose
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
