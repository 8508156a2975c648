#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# chd with a real Linux guest: a private dbus-daemon, the real chd and vmm-worker, and Debian's
# cloud kernel from the test host's guest kit.  Output is TAP.
#
#   chd-lifecycle.sh CHD VMM_WORKER
#
# Runs where /dev/kvm can boot Linux: inside the nested test host (meson runs it through
# tests/testhost/testhost run) or on a machine with hardware KVM.
#
# What it checks, in one L1 boot:
#  define -> start -> the guest reaches userspace (its console log in chd's log folder) ->
#  Shutdown presses the ACPI power button -> the guest's handler powers off -> shut-off/shutdown;
#  start again -> kill -9 chd -> a new chd finds the VM running (reason reconnected, same worker)
#  and controls it (suspend/resume) -> kill -9 the worker -> crashed; and a CreateTransient VM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
boot_timeout=${CHD_BOOT_TIMEOUT:-90}
# shellcheck source=lib-chd.sh
source "$here/lib-chd.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 CHD VMM_WORKER" >&2; exit 2; }
chd=$1
vmm=$2
[[ -x $chd && -x $vmm ]] || bail "$chd or $vmm is not an executable file (meson compile -C build)"
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $chd $vmm"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
command -v dbus-daemon >/dev/null || bail "dbus-daemon is missing (tools/setup-host installs it)"

work=$(mktemp -d)
bus_pid=
chd_pid=
cleanup() {
    [[ -n $chd_pid ]] && kill -9 "$chd_pid" 2>/dev/null
    # Workers chd left behind (their pid files) and the bus.
    for p in "$work"/run/vms/*/pid; do
        [[ -f $p ]] && kill -9 "$(cat "$p")" 2>/dev/null
    done
    [[ -n $bus_pid ]] && kill "$bus_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

make_guest

cat >"$work/bus.conf" <<EOF
<busconfig>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context='default'>
    <allow user='*'/><allow own='*'/><allow send_destination='*'/><allow receive_sender='*'/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=3 3>"$work/address" 2>/dev/null &
bus_pid=$!
for _ in $(seq 100); do [[ -s $work/address ]] && break; sleep 0.05; done
address=$(head -n1 "$work/address")
[[ -n $address ]] || bail "dbus-daemon did not start"

start_chd() {
    "$chd" --user --bus-address="$address" --config-dir="$work/config" --runtime-dir="$work/run" \
        --log-dir="$work/log" --worker="$vmm" --no-autostart --debug >>"$work/chd.log" 2>&1 &
    chd_pid=$!
    disown "$chd_pid" # the test kills it with SIGKILL on purpose: no "Killed" job notice
    for _ in $(seq 200); do
        busctl --address="$address" status org.cloudhypervisor.chd1 >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

bus() { busctl --address="$address" "$@"; }
mgr() { bus call org.cloudhypervisor.chd1 /org/cloudhypervisor/chd1 org.cloudhypervisor.chd1.Manager "$@"; }
vm() { local path=$1; shift; bus call org.cloudhypervisor.chd1 "$path" org.cloudhypervisor.chd1.VM "$@"; }
prop() { bus get-property org.cloudhypervisor.chd1 "$1" org.cloudhypervisor.chd1.VM "$2" | sed 's/^[a-z] //; s/"//g'; }

diagnose() {
    echo "# chd log (last 30 lines):"
    tail -n 30 "$work/chd.log" | sed 's/^/#   /'
    for f in "$work"/log/*; do
        [[ -f $f ]] || continue
        echo "# $f (last 20 lines):"
        tail -n 20 "$f" | tr -d '\r' | sed 's/^/#   /'
    done
}

echo "1..17"
echo "# guest kernel $("$testhost" kit kernel-release); modules: $guest_modules"
start_chd || bail "chd did not start: $(tail -n 5 "$work/chd.log")"

path=$(mgr Define s "$(definition web1)" | sed 's/^o "\(.*\)"$/\1/')
check "Define returns the VM object ($path)" test "$path" = /org/cloudhypervisor/chd1/vm/web1
check "Start" vm "$path" Start
console=$(prop "$path" ConsoleLog)
check "the guest reaches userspace (CHD-GUEST-USERSPACE in $console)" \
    wait_console "$console" CHD-GUEST-USERSPACE "$boot_timeout"
check "State is running" wait_prop "$path" State running 1

check "Shutdown(60) presses the power button" vm "$path" Shutdown u 60
check "the guest powers off by itself: shut-off" wait_prop "$path" State shut-off 60
check "StateReason is shutdown (not destroyed by the timeout)" wait_prop "$path" StateReason shutdown 1
check "the guest saw the power button" wait_console "$work/web1.console.log" CHD-GUEST-POWER-BUTTON 1
# Should the guest have ignored it, Shutdown's timeout ends it; start from a clean state.
wait_prop "$path" State shut-off 70 || true

check "Start again" vm "$path" Start
pid=$(prop "$path" WorkerPID)
wait_console "$console" CHD-GUEST-USERSPACE "$boot_timeout" || true
kill -9 "$chd_pid"
for _ in $(seq 50); do pid_gone "$chd_pid" && break; sleep 0.1; done
chd_pid=
check "the worker survives kill -9 of chd (pid $pid)" pid_alive "$pid"
start_chd || bail "chd did not start again"
check "the restarted chd finds the VM running" wait_prop "$path" State running 5
check "... with reason reconnected and the same worker" \
    test "$(prop "$path" StateReason)/$(prop "$path" WorkerPID)" = "reconnected/$pid"
check "... and controls it: Suspend -> paused" \
    bash -c "busctl --address='$address' call org.cloudhypervisor.chd1 '$path' org.cloudhypervisor.chd1.VM Suspend && [[ \$(busctl --address='$address' get-property org.cloudhypervisor.chd1 '$path' org.cloudhypervisor.chd1.VM State) == 's \"paused\"' ]]"
check "... Resume -> running" vm "$path" Resume
kill -9 "$pid"
check "kill -9 of the worker: crashed" wait_prop "$path" State crashed 10

tpath=$(mgr CreateTransient s "$(definition scratch)" | sed 's/^o "\(.*\)"$/\1/')
check "CreateTransient starts a transient VM" wait_prop "$tpath" State running 5
check "Destroy removes it" bash -c "busctl --address='$address' call org.cloudhypervisor.chd1 '$tpath' org.cloudhypervisor.chd1.VM Destroy && ! busctl --address='$address' call org.cloudhypervisor.chd1 /org/cloudhypervisor/chd1 org.cloudhypervisor.chd1.Manager LookupByName s scratch 2>/dev/null"

((failures == 0)) || diagnose
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
