# SPDX-License-Identifier: Apache-2.0
# Sourced by bash scripts that need the real chd without touching the machine: a private
# dbus-daemon and chd on it, with every folder below one work folder. tools/demo and
# tests/integration/chd-console.sh use it.
#
#   private_chd_start WORK CHD VMM_WORKER   starts both; exports CHCTL_BUS_ADDRESS for chctl
#   private_chd_stop                        stops chd, the workers it left, then the bus
#   private_chd_definition NAME KERNEL INITRAMFS MIB VCPUS DEVICES
#                                           prints a domain XML booting KERNEL with a serial console
#
# chd's own messages go to WORK/chd.log, each worker's to WORK/log/NAME.worker.log, each VM's
# console log to WORK/log/NAME.log.

private_chd_bus_pid=
private_chd_pid=
private_chd_work=

# Waits up to 10 s for a command to succeed.
private_chd_wait() {
    local i
    for i in $(seq 200); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

private_chd_start() {
    local work=$1 chd=$2 vmm=$3
    private_chd_work=$work
    mkdir -p "$work"
    # chd validates definitions against schemas/domain.rng: the source tree's, unless installed.
    : "${CHD_SCHEMA_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../schemas" && pwd)}"
    export CHD_SCHEMA_DIR
    # The session bus configuration (same user only) on a socket of our own.
    dbus-daemon --session --address="unix:path=$work/bus" --nofork --nopidfile \
        --print-address=3 3>"$work/bus.address" 2>>"$work/chd.log" &
    private_chd_bus_pid=$!
    private_chd_wait test -s "$work/bus.address" || {
        echo "dbus-daemon did not start" >&2
        return 1
    }
    export CHCTL_BUS_ADDRESS
    CHCTL_BUS_ADDRESS=$(head -n1 "$work/bus.address")
    "$chd" --user --bus-address="$CHCTL_BUS_ADDRESS" --config-dir="$work/config" \
        --runtime-dir="$work/run" --log-dir="$work/log" --worker="$vmm" --no-autostart --spawn=fork \
        >>"$work/chd.log" 2>&1 &
    private_chd_pid=$!
    private_chd_wait busctl --address="$CHCTL_BUS_ADDRESS" status org.cloudhypervisor.chd1 || {
        echo "chd did not start; its messages:" >&2
        tail -n 5 "$work/chd.log" >&2
        return 1
    }
}

private_chd_stop() {
    local p
    if [[ -n $private_chd_pid ]]; then
        kill "$private_chd_pid" 2>/dev/null
        wait "$private_chd_pid" 2>/dev/null
    fi
    # chd leaves running workers alone when it stops (it finds them again when it restarts).
    for p in "$private_chd_work"/run/vms/*/pid; do
        [[ -f $p ]] && kill -9 "$(cat "$p")" 2>/dev/null
    done
    if [[ -n $private_chd_bus_pid ]]; then
        kill "$private_chd_bus_pid" 2>/dev/null
        wait "$private_chd_bus_pid" 2>/dev/null
    fi
    private_chd_pid=
    private_chd_bus_pid=
    return 0
}

private_chd_definition() {
    local name=$1 kernel=$2 initramfs=$3 mib=$4 vcpus=$5 devices=$6
    printf "%s\n" "<domain type='kvm'>" "  <name>$name</name>" "  <memory unit='MiB'>$mib</memory>" \
        "  <vcpu>$vcpus</vcpu>" "  <os>" "    <type>hvm</type>" "    <kernel>$kernel</kernel>" \
        "    <initrd>$initramfs</initrd>" "    <cmdline>console=ttyS0 quiet panic=-1</cmdline>" "  </os>" \
        "  <devices>" "$devices" "  </devices>" "</domain>"
}
