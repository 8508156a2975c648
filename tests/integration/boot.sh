#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Boot matrix for the VMM: Debian's cloud kernel (bzImage and PVH vmlinux) with 1, 2 and 4 vCPUs
# and 256 MiB, 1 GiB and 2 GiB, plus a reboot case.  Output is TAP.
#
# Runs where /dev/kvm can boot Linux: inside the nested test host (meson runs it through
# tests/testhost/testhost run) or on a machine with hardware KVM.
#
#   boot.sh VMM [CASE...]      VMM takes Cloud Hypervisor's options, e.g. build/vmm-worker/vmm-worker
#                              CASE: run only the named cases (see --list)
#   boot.sh --list
#
# Environment: CHD_BOOT_TIMEOUT (seconds per boot, default 60), CHD_BOOT_LOGS (folder to keep each
# case's VMM output in; share it with `testhost run --share DIR` to read it on the host).
#
# What each boot checks, and how (markers are printed by the guest init, see guest_init below):
# - userspace reached: CHD-GUEST-USERSPACE, written to /dev/kmsg.  printk polls the UART, so
#   this line needs no serial interrupt and tells "no userspace" apart from "no tty output".
# - userspace writes to the serial console: CHD-GUEST-ECHO, an echo to the console tty, which
#   needs the 8250's transmit interrupt.
# - CPUs: nproc and /proc/cpuinfo both equal --cpus boot=.
# - memory: the kernel's "Memory: A/BK available" total B (RAM the firmware map gave it) within
#   [size - 1 MiB - size/64, size], and MemTotal at least 3/4 of size.
# - power-off: the guest printed CHD-GUEST-POWEROFF, ran `poweroff -f`, and the VMM exited with
#   status 0 by itself within the time limit.
# The reboot case runs `reboot -f` on every boot; the test waits for the second boot to reach
# userspace and see all its CPUs, then sends SIGTERM and expects the VMM to exit with status 0
# (Cloud Hypervisor's behaviour), because nothing a guest can do survives a reset in every VMM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
boot_timeout=${CHD_BOOT_TIMEOUT:-60}
log_limit_mib=64
cmdline="console=ttyS0 quiet"

# name kernel cpus MiB kind: 8 VMs, 10 guest boots.  Every memory size with each kernel; 1 and 2
# vCPUs with each kernel, 4 vCPUs once: in the nested test host (QEMU 7.2's TCG), guests with
# more vCPUs than L1 has hang L1 now and then (about one boot in 20-40, see
# tests/testhost/README.md), so one such VM keeps the flake rate of this test low.
cases=(
    "bzimage-1cpu-256M  bzimage 1 256  poweroff"
    "bzimage-2cpu-1G    bzimage 2 1024 poweroff"
    "bzimage-4cpu-2G    bzimage 4 2048 poweroff"
    "vmlinux-1cpu-2G    vmlinux 1 2048 poweroff"
    "vmlinux-2cpu-256M  vmlinux 2 256  poweroff"
    "vmlinux-2cpu-1G    vmlinux 2 1024 poweroff"
    "vmlinux-2cpu-512M-reboot vmlinux 2 512 reboot"
    "bzimage-1cpu-256M-reboot bzimage 1 256 reboot"
)

if [[ ${1:-} == --list ]]; then
    for c in "${cases[@]}"; do
        echo "${c%% *}"
    done
    exit 0
fi
if [[ $# -lt 1 || ${1:-} == -* ]]; then
    echo "usage: $0 VMM [CASE...] | --list" >&2
    exit 2
fi
vmm=$1
shift
vmm_name=$(basename "$vmm")

# shellcheck source=tests/integration/tap.sh
source "$here/tap.sh"

[[ -x $vmm ]] || bail "$vmm is not an executable file (build it first: meson compile -C build)"
# A Linux guest needs a /dev/kvm that runs a kernel: the test host's, or hardware KVM.
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $vmm"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"

selected=()
for c in "${cases[@]}"; do
    name=${c%% *}
    if (($# == 0)); then
        selected+=("$c")
        continue
    fi
    for want in "$@"; do
        [[ $want != "$name" ]] || selected+=("$c")
    done
done
((${#selected[@]})) || bail "no such case: $* (see $0 --list)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"
vmlinux=$("$testhost" kit vmlinux) || bail "testhost kit vmlinux failed"

# The guest's /init runs this after mounting /proc, /sys and /dev.  $1: what to do at the end.
guest_init() {
    cat <<EOF
#!/bin/sh
echo "<2>CHD-GUEST-USERSPACE" >/dev/kmsg
echo "CHD-GUEST-ECHO from userspace"
present=\$(dmesg | sed -n 's/.*Memory: [0-9]*K\/\([0-9]*\)K available.*/\1/p')
echo "CHD-GUEST-FACTS nproc=\$(nproc) cpuinfo=\$(grep -c ^processor /proc/cpuinfo)" \
    "memtotal_kb=\$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) present_kb=\$present"
echo "CHD-GUEST-${1^^}"
$1 -f
EOF
}
for kind in poweroff reboot; do
    guest_init "$kind" >"$work/init-$kind.sh"
    "$testhost" guest-initramfs --init "$work/init-$kind.sh" -o "$work/initramfs-$kind.cpio.gz" \
        || bail "cannot build the guest initramfs"
done

elapsed() {
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# Run the VMM with its output in LOG.  With a stop pattern, send SIGTERM once it appeared
# STOP_COUNT times.  Sets vmm_status (exit status, "timeout" or "hung-after-sigterm"), vmm_secs,
# and vmm_stopped (1 when the test sent SIGTERM).
run_vmm() {
    local log=$1 stop_pattern=$2 stop_count=$3
    shift 3
    local t0=$EPOCHREALTIME deadline=$((SECONDS + boot_timeout)) kill_at
    vmm_stopped=0
    # Own session and process group, so that a timeout also kills anything the VMM started;
    # output capped (SIGXFSZ) so that a VMM printing in a loop cannot fill L1's memory.
    (
        ulimit -f $((log_limit_mib * 1024))
        exec setsid "$@" </dev/null >"$log" 2>&1
    ) &
    local pid=$!
    kill_at=$deadline
    while kill -0 "$pid" 2>/dev/null; do
        if [[ -n $stop_pattern && $vmm_stopped == 0 ]] &&
            (($(marker_count "$stop_pattern" "$log") >= stop_count)); then
            kill -TERM "$pid" 2>/dev/null || true
            vmm_stopped=1
            kill_at=$((SECONDS + 10))
        fi
        if ((SECONDS >= kill_at)); then
            if ((vmm_stopped)); then vmm_status=hung-after-sigterm; else vmm_status=timeout; fi
            stuck_report "$pid" >>"$log"
            disown "$pid" # no "Killed" job notice on stderr; its status is not needed
            kill -KILL -- "-$pid" 2>/dev/null || true
            # Bounded: a process stuck in the kernel does not die of SIGKILL, and the remaining
            # cases must still run.
            local i
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                vmm_status=unkillable
                echo "boot.sh: $vmm_name (pid $pid) survives SIGKILL, left behind" >>"$log"
            fi
            vmm_secs=$(elapsed "$t0")
            return
        fi
        sleep 0.1
    done
    if wait "$pid"; then vmm_status=0; else vmm_status=$?; fi
    vmm_secs=$(elapsed "$t0")
}

# Where each thread of a stuck VMM is: state, kernel wait channel and kernel stack.
stuck_report() {
    local pid=$1 t
    echo "boot.sh: $vmm_name did not exit in time; its threads:"
    for t in /proc/"$pid"/task/*; do
        [[ -d $t ]] || continue
        echo "  thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)): $(sed -n 's/^State:\t//p' "$t/status" 2>/dev/null), wchan $(cat "$t/wchan" 2>/dev/null)"
        sed 's/^/    /' "$t/stack" 2>/dev/null | head -n 12
    done
}

marker_count() {
    grep -ac -- "$1" "$2" || true
}

# facts_of LOG INDEX: the INDEX-th (1-based) CHD-GUEST-FACTS line.
facts_of() {
    grep -a 'CHD-GUEST-FACTS' "$1" | sed -n "${2}p" | tr -d '\r'
}
# fact KEY FACTS: the number after KEY= ("none" when the guest did not report it).
fact() {
    local v
    v=$(sed -n "s/.* $1=\([0-9][0-9]*\).*/\1/p" <<<"$2")
    echo "${v:-none}"
}

cpus_ok() {
    [[ $1 == "$3" && $2 == "$3" ]]
}
check_cpus() {
    local name=$1 want=$2 facts=$3 got_nproc got_cpuinfo
    got_nproc=$(fact nproc "$facts")
    got_cpuinfo=$(fact cpuinfo "$facts")
    check "$name: guest sees $want CPU(s) (nproc=$got_nproc, /proc/cpuinfo=$got_cpuinfo)" \
        cpus_ok "$got_nproc" "$got_cpuinfo" "$want"
}

# The firmware map leaves out the legacy hole below 1 MiB and may reserve a few pages: "present"
# is at most the size and at least size - 1 MiB - 1/64.  The kernel's own reservations (page
# structs, ...) only shrink MemTotal, which must still be 3/4 of the size.
memory_ok() {
    local size_kb=$1 present=$2 memtotal=$3
    [[ $present != none && $memtotal != none ]] || return 1
    ((present <= size_kb && present >= size_kb - 1024 - size_kb / 64 &&
        memtotal <= present && memtotal >= size_kb * 3 / 4))
}
check_memory() {
    local name=$1 mib=$2 facts=$3 present memtotal
    present=$(fact present_kb "$facts")
    memtotal=$(fact memtotal_kb "$facts")
    check "$name: guest sees $mib MiB (kernel: $present kB present, MemTotal $memtotal kB)" \
        memory_ok $((mib * 1024)) "$present" "$memtotal"
}

count_is() {
    (($1 == $2))
}
count_at_least() {
    (($1 >= $2))
}
powered_off() {
    [[ $vmm_status == 0 ]] && grep -aq CHD-GUEST-POWEROFF "$1"
}
rebooted() {
    (($(marker_count CHD-GUEST-USERSPACE "$1") >= 2)) && grep -aq CHD-GUEST-REBOOT "$1"
}
stopped_cleanly() {
    [[ $vmm_stopped == 1 && $vmm_status == 0 ]]
}

diagnose() {
    local log=$1
    echo "# $vmm_name output (last 40 of $(wc -l <"$log") lines):"
    tail -n 40 "$log" | tr -d '\r' | sed 's/^/#   /'
}

run_case() {
    local name=$1 kernel_kind=$2 cpus=$3 mib=$4 kind=$5 kernel log users
    kernel=$bzimage
    [[ $kernel_kind == bzimage ]] || kernel=$vmlinux
    log=$work/$name.log
    failed_case=0
    local cmd=("$vmm" --kernel "$kernel" --initramfs "$work/initramfs-$kind.cpio.gz"
        --cmdline "$cmdline" --cpus "boot=$cpus" --memory "size=${mib}M"
        --serial tty --console off)
    echo "# $name: $(printf "%q " "${cmd[@]}")"
    if [[ $kind == poweroff ]]; then
        run_vmm "$log" "" 0 "${cmd[@]}"
        users=$(marker_count CHD-GUEST-USERSPACE "$log")
        check "$name: guest reaches userspace (CHD-GUEST-USERSPACE seen $users times, want 1)" \
            count_is "$users" 1
        check "$name: userspace writes to the serial console (CHD-GUEST-ECHO)" \
            count_is "$(marker_count CHD-GUEST-ECHO "$log")" 1
        check_cpus "$name" "$cpus" "$(facts_of "$log" 1)"
        check_memory "$name" "$mib" "$(facts_of "$log" 1)"
        check "$name: guest powers off, $vmm_name exits with status 0 (status $vmm_status after $vmm_secs s)" \
            powered_off "$log"
    else
        # Stop once the second boot has reported its facts.
        run_vmm "$log" CHD-GUEST-FACTS 2 "${cmd[@]}"
        users=$(marker_count CHD-GUEST-USERSPACE "$log")
        check "$name: first boot reaches userspace" count_at_least "$users" 1
        check "$name: guest runs reboot -f and boots to userspace again ($users boots seen)" \
            rebooted "$log"
        check_cpus "$name: second boot" "$cpus" "$(facts_of "$log" 2)"
        check "$name: $vmm_name exits with status 0 on SIGTERM (status $vmm_status after $vmm_secs s)" \
            stopped_cleanly
    fi
    if [[ -n ${CHD_BOOT_LOGS:-} ]]; then
        mkdir -p "$CHD_BOOT_LOGS" && cp "$log" "$CHD_BOOT_LOGS/"
    fi
    if ((failed_case)); then
        diagnose "$log"
    fi
}

planned=0
for c in "${selected[@]}"; do
    read -r _ _ _ _ kind <<<"$c"
    if [[ $kind == poweroff ]]; then
        planned=$((planned + 5))
    else
        planned=$((planned + 4))
    fi
done
echo "1..$planned"
echo "# VMM: $vmm; guest kernel $("$testhost" kit kernel-release); cmdline: $cmdline"

t_all=$EPOCHREALTIME
for c in "${selected[@]}"; do
    # shellcheck disable=SC2086 # the case line is split into its fields on purpose
    run_case $c
done
echo "# $((n - failures)) of $n checks passed in $(elapsed "$t_all") s"
((failures == 0))
