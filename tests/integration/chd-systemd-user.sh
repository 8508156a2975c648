#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# chd --user under the user's systemd manager, installed like a package: an unprivileged user
# (group kvm), its user manager (user@UID.service) and session bus (/run/user/UID/bus), the user
# unit chd.service started by session bus activation, workers (the default --spawn=auto) as
# transient units of the user manager in app-chd.slice. Output is TAP.
#
#   chd-systemd-user.sh BUILD_DIR
#
# Runs inside the nested test host with systemd as PID 1 (meson runs it through
# `tests/testhost/testhost run --systemd`): it installs BUILD_DIR into L1's throwaway root with
# `meson install` and adds a user and taps there, so never run it on a machine you care about; it
# refuses to run elsewhere.
#
# What it checks, in one L1 boot:
#  no chd runs -> chctl --user list activates the user unit chd.service (the session bus
#  activation file), which runs chd --user as the user below user@UID.service and finds the user
#  manager on the session bus -> chctl --user define + start web1:
#  chd-vm-web1.service is a unit of the user manager (systemctl --user), in app-chd.slice below
#  user@UID.service, running as the user; Debian's cloud kernel reaches userspace; no machine in
#  machinectl -> kill -9 chd: the VM's unit runs on; the user manager restarts chd.service
#  (Restart=on-failure), which finds web1 again and controls it -> systemctl --user restart chd:
#  the same -> systemctl --user stop chd: the VM runs on; the next chctl call activates chd again,
#  which finds it -> chctl --user shutdown: the guest powers off and the unit is gone -> a worker that fails points
#  at journalctl --user -> taps: none named, missing, root's, down: refused, naming the reason
#  (no CAP_NET_ADMIN) and the fix; /dev/net/tun closed to the user: refused; a tap that root made
#  for the user and brought up: the worker (a user unit) attaches to it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
boot_timeout=${CHD_BOOT_TIMEOUT:-90}
# shellcheck source=lib-chd.sh
source "$here/lib-chd.sh"

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(realpath "$1")
chctl=$build/chctl/chctl
[[ -x $build/chd/chd && -x $build/vmm-worker/vmm-worker && -x $chctl ]] ||
    bail "$build has no chd, vmm-worker or chctl (meson compile -C $build)"
if [[ ${CHD_TESTHOST:-} != 1 || $(readlink /proc/1/exe) != */systemd ]]; then
    bail "run me in the nested test host with systemd: tests/testhost/testhost run --systemd -- $0 $build"
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
chd_main_pid() { uprop chd.service MainPID; }
unit_gone() { [[ $(uprop "$1" LoadState) == not-found ]]; }
state_is() { [[ $(prop "$1" State)/$(prop "$1" StateReason) == "$2" ]]; }

chd_active() { as_user systemctl --user -q is-active chd.service; }
chd_inactive() { ! chd_active; }
chd_loaded_inactive() { [[ $(uprop chd.service LoadState) == loaded ]] && chd_inactive; }
# chd's messages: the user unit's stderr, in the journal.
chd_journal() { journalctl --no-pager -o cat _UID="$uid" _SYSTEMD_USER_UNIT=chd.service 2>/dev/null; }
chd_logged() { chd_journal | grep -q "$1"; }
# chd_runs_as_unit PID: PID is chd --user, the user's, in chd.service below user@UID.service.
chd_runs_as_unit() {
    [[ $1 -gt 0 && $(stat -c %u "/proc/$1") == "$uid" ]] &&
        grep -q "^0::/user.slice/user-$uid.slice/user@$uid.service/app.slice/chd.service\$" "/proc/$1/cgroup" &&
        [[ $(tr '\0' ' ' <"/proc/$1/cmdline") == *"/chd --user "* ]]
}
# chd_replaced OLD: chd.service is active with a main process other than OLD, which is gone.
chd_replaced() {
    local now
    now=$(chd_main_pid)
    pid_gone "$1" && [[ $now -gt 0 && $now != "$1" ]] && chd_active
}
web1_runs() { pid_alive "$1" && [[ $(uprop chd-vm-web1.service ActiveState) == active ]]; }
# replaced_web1_runs OLD PID: a new chd replaced OLD, and web1's worker PID ran on.
replaced_web1_runs() { wait_until 20 chd_replaced "$1" && web1_runs "$2"; }
# found_again PID: chd (a new one) shows web1 running/reconnected, in the same unit with PID.
found_again() {
    wait_until 10 state_is web1 running/reconnected &&
        test "$(prop web1 WorkerPID)/$(uprop chd-vm-web1.service MainPID)" = "$1/$1"
}
found_again_controls() { found_again "$1" && suspend_resume; }
# stop_chd_web1_runs PID: systemctl --user stop chd; chd.service goes, web1's worker PID stays.
stop_chd_web1_runs() { as_user systemctl --user stop chd.service && wait_until 10 chd_inactive && web1_runs "$1"; }
# list_activates OLD: chctl --user list succeeds, having started chd.service anew (not OLD).
list_activates() { qctl list && chd_replaced "$1"; }
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
    echo "# chd.service's log (last 30 lines):"
    chd_journal | tail -n 30 | sed 's/^/#   /'
    echo "# journal of user $uid and its manager (last 40 lines):"
    journalctl --no-pager -n 40 _UID="$uid" + _SYSTEMD_UNIT="user@$uid.service" 2>&1 | sed 's/^/#   /'
    for f in "$work"/*.console.log; do
        [[ -f $f ]] || continue
        echo "# $f (last 10 lines):"
        tail -n 10 "$f" | tr -d '\r' | sed 's/^/#   /'
    done
}

echo "1..38"
echo "# guest kernel $("$testhost" kit kernel-release); user $user ($uid), groups $(id -Gn "$user")"

# Install like a package (the user unit and the session bus activation file among the rest),
# before the user's manager and session bus start and read their folders.
meson install -C "$build" --no-rebuild --quiet >"$work/install.log" 2>&1 || bail "meson install failed: $(tail -n 5 "$work/install.log")"
check "installed: the user unit chd.service and the session bus activation file" \
    test -f /usr/lib/systemd/user/chd.service -a -f /usr/share/dbus-1/services/org.cloudhypervisor.chd1.service

check "systemctl start user@$uid.service: the user's manager runs" systemctl start "user@$uid.service"
check "... with its session bus at $runtime/bus" wait_until 10 test -S "$runtime/bus"
check "the user manager knows chd.service, which is not running before anyone calls it" chd_loaded_inactive
check "chctl --user list with no chd running succeeds (session bus activation)" qctl list
check "... which started the user unit: systemctl --user is-active chd.service" chd_active
chd_pid=$(chd_main_pid)
check "... whose main process ($chd_pid) is chd --user, the user's, in user@$uid.service/app.slice/chd.service" \
    chd_runs_as_unit "$chd_pid"
check "... and runs workers as units of the user manager in app-chd.slice" \
    wait_until 10 chd_logged "transient units of the user service manager in app-chd.slice"

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
check "kill -9 chd: the user manager restarts chd.service (Restart=on-failure)" \
    wait_until 20 chd_replaced "$chd_pid"
check "... the worker ($pid) and its unit ran on" web1_runs "$pid"
chd_pid=$(chd_main_pid)
check "... the new chd ($chd_pid) finds web1 again: running, reconnected, same worker and unit" \
    found_again "$pid"
check "... and controls it: suspend -> paused, resume -> running" suspend_resume

check "systemctl --user restart chd" as_user systemctl --user restart chd.service
check "... a new chd (was $chd_pid); web1's worker ($pid) and its unit ran on" \
    replaced_web1_runs "$chd_pid" "$pid"
chd_pid=$(chd_main_pid)
check "... finds web1 again, same worker and unit, and controls it" found_again_controls "$pid"

check "systemctl --user stop chd: chd.service is inactive, web1 runs on" stop_chd_web1_runs "$pid"
check "chctl --user list activates chd.service again (not the old chd, $chd_pid)" list_activates "$chd_pid"
check "... which finds web1 again, same worker and unit" found_again "$pid"

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

as_user systemctl --user stop chd.service 2>/dev/null || true
((failures == 0)) || diagnose
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
