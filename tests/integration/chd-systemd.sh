#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# chd under systemd: installed like a package, started by D-Bus activation on the real system bus,
# workers as transient units in machine.slice, registered with systemd-machined. Output is TAP.
#
#   chd-systemd.sh BUILD_DIR
#
# Runs inside the nested test host with systemd as PID 1 (meson runs it through
# `tests/testhost/testhost run --systemd`): it installs BUILD_DIR into L1's throwaway root with
# `meson install`, so never run it on a machine you care about; it refuses to run elsewhere.
#
# What it checks, in one L1 boot:
#  a busctl call activates chd.service -> the autostart VM (defined on disk before chd ever ran)
#  is running, as chd-vm-auto1.service in machine.slice -> define + start web1 (Debian's cloud
#  kernel reaches userspace) -> machinectl lists it (class vm, service chd, leader = the worker)
#  -> systemctl restart chd: same worker, found again, controllable (suspend/resume) -> the
#  autostart VM, destroyed meanwhile, is not started again by the restarted chd -> a VM whose
#  worker fails gets a clear error and leaves no unit -> Shutdown (ACPI power button): the guest
#  powers off, its unit is gone and machinectl lists nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
boot_timeout=${CHD_BOOT_TIMEOUT:-90}
# shellcheck source=lib-chd.sh
source "$here/lib-chd.sh"

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$1
[[ -x $build/chd/chd && -x $build/vmm-worker/vmm-worker ]] || bail "$build has no chd or vmm-worker (meson compile -C $build)"
if [[ ${CHD_TESTHOST:-} != 1 || $(readlink /proc/1/exe) != */systemd ]]; then
    bail "run me in the nested test host with systemd: tests/testhost/testhost run --systemd -- $0 $build"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
command -v machinectl >/dev/null || bail "machinectl is missing (systemd-container; tools/setup-host installs it)"

# Not below /tmp: chd.service has PrivateTmp=yes.
work=/var/lib/chd-systemd-test
mkdir -p "$work"

diagnose() {
    echo "# journal of chd and the VM units (last 40 lines):"
    journalctl --no-pager -n 40 -u chd.service -u 'chd-vm-*' -u systemd-machined.service 2>&1 | sed 's/^/#   /'
    for f in "$work"/*.console.log; do
        [[ -f $f ]] || continue
        echo "# $f (last 10 lines):"
        tail -n 10 "$f" | tr -d '\r' | sed 's/^/#   /'
    done
}

mgr() { busctl call org.cloudhypervisor.chd1 /org/cloudhypervisor/chd1 org.cloudhypervisor.chd1.Manager "$@"; }
vm() { local path=$1; shift; busctl call org.cloudhypervisor.chd1 "$path" org.cloudhypervisor.chd1.VM "$@"; }
prop() { busctl get-property org.cloudhypervisor.chd1 "$1" org.cloudhypervisor.chd1.VM "$2" | sed 's/^[a-z] //; s/"//g'; }
unit_prop() { systemctl show -P "$2" "$1"; }
unit_gone() { [[ $(unit_prop "$1" LoadState) == not-found ]]; }
unit_active() { [[ $(unit_prop "$1" ActiveState) == active ]]; }
machine_prop() { machinectl show --value -p "$2" "$1" 2>/dev/null || true; }
machines() { machinectl list --no-legend 2>/dev/null | awk '{ print $1 }' | sort | tr '\n' ' '; }
machines_are() { [[ $(machines) == "$1" ]]; }
in_slice() { grep -q "^0::/machine.slice/$2\$" "/proc/$1/cgroup"; }
state_is() { [[ $(prop "$1" State)/$(prop "$1" StateReason) == "$2" ]]; }
restarted_in_unit() {
    local now
    now=$(prop "$1" WorkerPID)
    [[ $now -gt 0 && $now != "$2" ]] && prop_is "$1" State running && [[ $(unit_prop "$3" MainPID) == "$now" ]]
}
unit_and_machine_gone() { wait_until 10 unit_gone "$1" && wait_until 10 machines_are "$2"; }
chd_restarted() { [[ $(unit_prop chd.service MainPID) != "$1" ]] && pid_alive "$2"; }
suspend_resume() { vm "$1" Suspend && prop_is "$1" State paused && vm "$1" Resume && prop_is "$1" State running; }
not_started_again() { sleep 2; prop_is "$1" State shut-off && ! systemctl -q is-active "$2"; }
status_shows_slice() {
    local out
    out=$(systemctl status --no-pager "$1") || return 1
    [[ $out == *"CGroup: /machine.slice/$1"* && $out == *"$2"* ]]
}

echo "1..32"
make_guest
echo "# guest kernel $("$testhost" kit kernel-release); modules: $guest_modules"

# Install like a package, then tell systemd, sysusers/tmpfiles and the bus.
meson install -C "$build" --no-rebuild --quiet >"$work/install.log" 2>&1 || bail "meson install failed: $(tail -n 5 "$work/install.log")"
systemd-sysusers >/dev/null 2>&1 || true
systemd-tmpfiles --create chd.conf >/dev/null 2>&1 || true
systemctl daemon-reload
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig

# The autostart VM is on disk before chd ever runs in this boot.
definition auto1 6c1b9a4e-3f0d-4b8e-9a52-0d1f2e3a4b5c >/etc/chd/vms/auto1.xml
ln -sf ../auto1.xml /etc/chd/vms/autostart/auto1.xml
auto=/org/cloudhypervisor/chd1/vm/auto1

check "chd.service is not running before anyone calls it" bash -c "! systemctl -q is-active chd.service"
check "a D-Bus call to org.cloudhypervisor.chd1 activates chd.service" \
    busctl call org.cloudhypervisor.chd1 /org/cloudhypervisor/chd1 org.freedesktop.DBus.Peer Ping
check "... which is active now" systemctl -q is-active chd.service
chd_pid=$(unit_prop chd.service MainPID)

check "the autostart VM runs after chd's first start in this boot" wait_prop "$auto" State running "$boot_timeout"
auto_pid=$(prop "$auto" WorkerPID)
check "... as unit chd-vm-auto1.service (active, Slice=machine.slice)" \
    test "$(unit_prop chd-vm-auto1.service ActiveState)/$(unit_prop chd-vm-auto1.service Slice)" = active/machine.slice
check "... whose main process is the worker ($auto_pid)" \
    test "$auto_pid" -gt 0 -a "$(unit_prop chd-vm-auto1.service MainPID)" = "$auto_pid"
check "... and the autostart marker is in /run/chd" test -e /run/chd/autostarted

path=$(mgr Define s "$(definition web1)" | sed 's/^o "\(.*\)"$/\1/')
check "Define web1" test "$path" = /org/cloudhypervisor/chd1/vm/web1
check "Start web1" vm "$path" Start
pid=$(prop "$path" WorkerPID)
check "the guest reaches userspace" wait_console "$work/web1.console.log" CHD-GUEST-USERSPACE "$boot_timeout"
check "the worker ($pid) is in machine.slice/chd-vm-web1.service" in_slice "$pid" chd-vm-web1.service
check "systemctl status shows the unit in machine.slice, described with the VM's name" \
    status_shows_slice chd-vm-web1.service "chd virtual machine web1"
check "machinectl lists auto1 and web1" wait_until 5 machines_are "auto1 web1 "
machine=$(machine_prop web1 Class)/$(machine_prop web1 Service)/$(machine_prop web1 Leader)/$(machine_prop web1 Unit)
echo "# machinectl show web1: class/service/leader/unit = $machine"
check "... web1: class vm, service chd, leader = the worker, unit chd-vm-web1.service" \
    test "$machine" = "vm/chd/$pid/chd-vm-web1.service"

# systemctl restart chd: the workers are not in chd's cgroup.
check "Destroy auto1 (autostart must not bring it back)" vm "$auto" Destroy
check "... its unit is gone and machinectl lists only web1" unit_and_machine_gone chd-vm-auto1.service "web1 "
check "systemctl restart chd" systemctl restart chd.service
check "... a new chd ($(unit_prop chd.service MainPID), was $chd_pid); web1's worker still runs" \
    chd_restarted "$chd_pid" "$pid"
check "... finds web1 again: running, reconnected" wait_until 10 state_is "$path" running/reconnected
check "... with the same worker" test "$pid" -gt 0 -a "$(prop "$path" WorkerPID)" = "$pid"
check "... and controls it: Suspend -> paused, Resume -> running" suspend_resume "$path"
check "... and does not start the autostart VM a second time in this boot" \
    not_started_again "$auto" chd-vm-auto1.service

# A worker that fails before it is ready: a clear error, and no unit left behind.
bad=$(definition bad1 | sed "s|<kernel>[^<]*</kernel>|<kernel>$work/no-such-kernel</kernel>|")
bpath=$(mgr Define s "$bad" | sed 's/^o "\(.*\)"$/\1/')
err=$(vm "$bpath" Start 2>&1 || true)
echo "# Start bad1: $err"
check "a worker that fails: Start says so and points at the journal" \
    test "${err#*did not start*journalctl -u chd-vm-bad1.service}" != "$err"
check "... and leaves no unit behind" wait_until 10 unit_gone chd-vm-bad1.service

# on_crash=restart: the old unit of the name must be gone before the new one starts.
crashy=$(definition crashy | sed 's|</os>|</os>\n  <on_crash>restart</on_crash>|')
cpath=$(mgr Define s "$crashy" | sed 's/^o "\(.*\)"$/\1/')
check "Start crashy (on_crash=restart)" vm "$cpath" Start
cpid=$(prop "$cpath" WorkerPID)
kill -9 "$cpid" 2>/dev/null || true
check "kill -9 of its worker ($cpid): chd starts it again in a new chd-vm-crashy.service" \
    wait_until 60 restarted_in_unit "$cpath" "$cpid" chd-vm-crashy.service
check "Destroy crashy" vm "$cpath" Destroy
check "... its unit is gone and machinectl lists only web1" unit_and_machine_gone chd-vm-crashy.service "web1 "

# Shutdown through the power button: the guest powers off; nothing stays behind.
check "Shutdown(60) presses web1's power button" vm "$path" Shutdown u 60
check "the guest powers off by itself: shut-off (shutdown)" wait_until 60 state_is "$path" shut-off/shutdown
check "chd-vm-web1.service is gone" wait_until 10 unit_gone chd-vm-web1.service
check "machinectl lists no machine" wait_until 10 machines_are ""

((failures == 0)) || diagnose
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
