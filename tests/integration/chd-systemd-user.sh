#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# chd --user under the user's systemd manager: an unprivileged user (group kvm), its user manager
# (user@UID.service) and session bus (/run/user/UID/bus), chd --user with the default
# --spawn=auto, workers as transient units of the user manager in app-chd.slice. Output is TAP.
#
#   chd-systemd-user.sh CHD VMM_WORKER CHCTL
#
# Runs inside the nested test host with systemd as PID 1 (meson runs it through
# `tests/testhost/testhost run --systemd`): it adds a user and taps to L1's throwaway root, so
# never run it on a machine you care about; it refuses to run elsewhere.
#
# What it checks, in one L1 boot:
#  chd --user finds the user manager on the session bus -> chctl --user define + start web1:
#  chd-vm-web1.service is a unit of the user manager (systemctl --user), in app-chd.slice below
#  user@UID.service, running as the user; Debian's cloud kernel reaches userspace; no machine in
#  machinectl -> kill -9 chd: the unit runs on; a new chd finds web1 again and controls it ->
#  chctl --user shutdown: the guest powers off and the unit is gone -> a worker that fails points
#  at journalctl --user -> taps: none named, missing, root's, down: refused, naming the reason
#  (no CAP_NET_ADMIN) and the fix; /dev/net/tun closed to the user: refused; a tap that root made
#  for the user and brought up: the worker (a user unit) attaches to it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
boot_timeout=${CHD_BOOT_TIMEOUT:-90}
# shellcheck source=lib-chd.sh
source "$here/lib-chd.sh"

[[ $# -eq 3 ]] || { echo "usage: $0 CHD VMM_WORKER CHCTL" >&2; exit 2; }
chd=$(realpath "$1")
vmm=$(realpath "$2")
chctl=$(realpath "$3")
[[ -x $chd && -x $vmm && -x $chctl ]] || bail "$chd, $vmm or $chctl is not an executable file (meson compile -C build)"
if [[ ${CHD_TESTHOST:-} != 1 || $(readlink /proc/1/exe) != */systemd ]]; then
    bail "run me in the nested test host with systemd: tests/testhost/testhost run --systemd -- $0 $chd $vmm $chctl"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
[[ -e /usr/lib/systemd/user/dbus.socket ]] || bail "no session bus for user managers (dbus-user-session; tools/setup-host installs it)"

# The user: group kvm gives it /dev/kvm, as udev's rule and Debian's packages do.
user="chd-test-user"
getent group kvm >/dev/null || groupadd -r kvm
id "$user" >/dev/null 2>&1 || useradd -m -U -G kvm -s /bin/sh "$user"
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
runtime=/run/user/$uid

# Not below /tmp: systemd's units may have their own.
work=/var/lib/chd-user-test
mkdir -p "$work"
make_guest
# Copies the user can read, in a folder it owns (the worker writes console logs there).
cp "$bzimage" "$work/bzImage"
bzimage=$work/bzImage
chown -R "$user:" "$work"
chmod -R a+rX "$work"

# as_user COMMAND...: as the user, in its session (the environment a login would give it). A
# simple command, so that "as_user CMD &" leaves $! = the pid of CMD (setpriv and env exec).
user_env=(HOME="$home" USER="$user" LOGNAME="$user" PATH="$PATH" LANG=C.UTF-8
    XDG_RUNTIME_DIR="$runtime" DBUS_SESSION_BUS_ADDRESS="unix:path=$runtime/bus")
[[ -z ${CHD_SCHEMA_DIR:-} ]] || user_env+=(CHD_SCHEMA_DIR="$CHD_SCHEMA_DIR")
as_user=(setpriv --reuid="$uid" --regid="$gid" --init-groups env -i "${user_env[@]}")
as_user() { "${as_user[@]}" "$@"; }
ctl() { as_user "$chctl" --user "$@"; }
# The same without chctl's "VM ... started." lines (errors still show).
qctl() { ctl "$@" >/dev/null; }
prop() {
    as_user busctl --user get-property org.cloudhypervisor.chd1 "/org/cloudhypervisor/chd1/vm/$1" \
        org.cloudhypervisor.chd1.VM "$2" | sed 's/^[a-z] //; s/"//g'
}
uprop() { as_user systemctl --user show -P "$2" "$1"; }
unit_gone() { [[ $(uprop "$1" LoadState) == not-found ]]; }
state_is() { [[ $(prop "$1" State)/$(prop "$1" StateReason) == "$2" ]]; }

chd_pid=
start_chd() {
    "${as_user[@]}" "$chd" --user --worker="$vmm" --no-autostart --debug >>"$work/chd.log" 2>&1 &
    chd_pid=$!
    disown "$chd_pid" # killed with SIGKILL on purpose: no "Killed" job notice
    wait_until 40 as_user busctl --user status org.cloudhypervisor.chd1 >/dev/null 2>&1
}
chd_gone_unit_runs() { pid_gone "$chd_pid" && pid_alive "$1" && [[ $(uprop chd-vm-web1.service ActiveState) == active ]]; }
suspend_resume() { ctl suspend web1 >/dev/null && prop_is web1 State paused && ctl resume web1 >/dev/null && prop_is web1 State running; }
# start_fails NAME PATTERN: chctl start fails, its message matches PATTERN, and no unit is left.
start_fails() {
    local out
    if out=$(ctl start "$1" 2>&1); then
        echo "# chctl start $1 succeeded: $out"
        return 1
    fi
    echo "# chctl start $1: $out"
    [[ $out == *$2* ]] && wait_until 10 unit_gone "chd-vm-$1.service"
}
# with_interface NAME [TAP]: the definition with a virtio <interface> on TAP (none: no target).
with_interface() {
    local target=
    [[ -z ${2:-} ]] || target="<target dev='$2'/>"
    definition "$1" | sed "s|</devices>|  <interface type='ethernet'>$target<model type='virtio'/></interface>\n  </devices>|"
}
destroy_gone() { ctl destroy "$1" >/dev/null && wait_until 10 unit_gone "chd-vm-$1.service"; }
worker_holds_tap() { grep -qs "^iff:[[:space:]]*$2\$" /proc/"$1"/fdinfo/*; }

diagnose() {
    echo "# chd's log (last 30 lines):"
    tail -n 30 "$work/chd.log" 2>/dev/null | sed 's/^/#   /'
    echo "# journal of user $uid and its manager (last 40 lines):"
    journalctl --no-pager -n 40 _UID="$uid" + _SYSTEMD_UNIT="user@$uid.service" 2>&1 | sed 's/^/#   /'
    for f in "$work"/*.console.log; do
        [[ -f $f ]] || continue
        echo "# $f (last 10 lines):"
        tail -n 10 "$f" | tr -d '\r' | sed 's/^/#   /'
    done
}

echo "1..29"
echo "# guest kernel $("$testhost" kit kernel-release); user $user ($uid), groups $(id -Gn "$user")"

check "systemctl start user@$uid.service: the user's manager runs" systemctl start "user@$uid.service"
check "... with its session bus at $runtime/bus" wait_until 10 test -S "$runtime/bus"
check "chd --user (--spawn=auto) takes org.cloudhypervisor.chd1 on the user's session bus" start_chd
check "... and runs workers as units of the user manager in app-chd.slice" \
    grep -q "transient units of the user service manager in app-chd.slice" "$work/chd.log"

definition web1 >"$work/web1.xml"
check "chctl --user define web1" qctl define "$work/web1.xml"
check "chctl --user start web1" qctl start web1
pid=$(prop web1 WorkerPID || echo 0)
echo "# systemctl --user show chd-vm-web1.service: $(uprop chd-vm-web1.service ActiveState)," \
    "MainPID $(uprop chd-vm-web1.service MainPID), $(uprop chd-vm-web1.service Slice); WorkerPID $pid"
check "the worker ($pid) is the main process of the active user unit chd-vm-web1.service" \
    test "$pid" -gt 0 -a "$(uprop chd-vm-web1.service ActiveState)/$(uprop chd-vm-web1.service MainPID)" = "active/$pid"
check "... in app-chd.slice below user@$uid.service" \
    grep -q "^0::/user.slice/user-$uid.slice/user@$uid.service/app.slice/app-chd.slice/chd-vm-web1.service\$" "/proc/$pid/cgroup"
check "... running as the user ($uid)" test "$(stat -c %u "/proc/$pid")" = "$uid"
check "the guest reaches userspace" wait_console "$work/web1.console.log" CHD-GUEST-USERSPACE "$boot_timeout"
check "no machine registered with systemd-machined (user mode)" \
    test -z "$(machinectl list --no-legend 2>/dev/null)"

kill -9 "$chd_pid"
check "kill -9 chd: the worker and its unit run on" wait_until 10 chd_gone_unit_runs "$pid"
check "a new chd --user ($chd_pid gone) starts" start_chd
check "... finds web1 again: running, reconnected" wait_until 10 state_is web1 running/reconnected
check "... with the same worker ($pid) in the same unit" \
    test "$(prop web1 WorkerPID)/$(uprop chd-vm-web1.service MainPID)" = "$pid/$pid"
check "... and controls it: suspend -> paused, resume -> running" suspend_resume

check "chctl --user shutdown web1 (ACPI power button)" qctl shutdown web1
check "the guest powers off by itself: shut-off (shutdown)" wait_until 60 state_is web1 shut-off/shutdown
check "chd-vm-web1.service is gone from the user manager" wait_until 10 unit_gone chd-vm-web1.service

definition bad1 | sed "s|<kernel>[^<]*</kernel>|<kernel>$work/no-such-kernel</kernel>|" >"$work/bad1.xml"
ctl define "$work/bad1.xml" >/dev/null
check "a worker that fails: start says so and points at journalctl --user" \
    start_fails bad1 "journalctl --user -u chd-vm-bad1.service"

# Taps: a user has no CAP_NET_ADMIN; chd says so before any worker runs.
with_interface nonet1 >"$work/nonet1.xml"
with_interface nonet2 chdnone0 >"$work/nonet2.xml"
with_interface nonet3 chdroot0 >"$work/nonet3.xml"
with_interface nonet4 chddown0 >"$work/nonet4.xml"
with_interface net1 chdu0 >"$work/net1.xml"
for v in nonet1 nonet2 nonet3 nonet4 net1; do ctl define "$work/$v.xml" >/dev/null; done
ip tuntap add dev chdroot0 mode tap user 0
ip link set chdroot0 up
ip tuntap add dev chddown0 mode tap user "$uid"
ip tuntap add dev chdu0 mode tap user "$uid"
ip link set chdu0 up
# udev makes it 0666 on a real system; here it depends on how the tun module was loaded.
chmod 0600 /dev/net/tun
check "an <interface> naming no tap is refused: making one needs CAP_NET_ADMIN" \
    start_fails nonet1 "CAP_NET_ADMIN, which chd in user mode does not have; as root, make a tap for this user"
check "a tap that does not exist is refused, with the ip tuntap command that makes it" \
    start_fails nonet2 "tap 'chdnone0' does not exist, and making it needs CAP_NET_ADMIN*ip tuntap add dev chdnone0 mode tap user $uid"
check "root's tap is refused: using another user's tap needs CAP_NET_ADMIN" \
    start_fails nonet3 "tap 'chdroot0' belongs to user 0"
check "a tap that is down is refused: bringing it up needs CAP_NET_ADMIN" \
    start_fails nonet4 "tap 'chddown0' is down*ip link set chddown0 up"
check "a tap that root made for the user, with /dev/net/tun closed to the user: refused" \
    start_fails net1 "the worker may not open /dev/net/tun to use tap 'chdu0'"
chmod 0666 /dev/net/tun
check "a tap that root made for the user and brought up: chctl --user start net1" qctl start net1
npid=$(prop net1 WorkerPID || echo 0)
check "... its worker ($npid), a user unit, has attached to tap chdu0" \
    wait_until 10 worker_holds_tap "$npid" chdu0
check "... and the guest reaches userspace" wait_console "$work/net1.console.log" CHD-GUEST-USERSPACE "$boot_timeout"
check "chctl --user destroy net1: its unit is gone" destroy_gone net1

kill "$chd_pid" 2>/dev/null || true
((failures == 0)) || diagnose
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
