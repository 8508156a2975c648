#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-net with a real Linux guest (Debian's cloud kernel, virtio_net as a module) on a tap.
# Output is TAP.  Runs where /dev/kvm boots Linux: inside the nested test host (meson runs it
# through tests/testhost/testhost run) or on hardware KVM, as root (taps).
#
#   virtio-net.sh VMM
#
# Two VMs, one L1 boot:
# - tap-2pairs: --net tap=NAME (created by vmm-worker, ip/mask on the host side), a fixed MAC,
#   num_queues=4 (two pairs), 2 vCPUs.  The guest switches to one pair and back with ethtool -L
#   (the control queue's VIRTIO_NET_CTRL_MQ).
# - fd-1pair: --net fd=N, a tap opened by a helper (python3: TUNSETIFF) that passes the fd on.
# In each: the guest's eth0 has the configured MAC; the guest pings the host and the host the
# guest over the tap; 2 MiB of random bytes go guest to host and host to guest over TCP (busybox
# nc), compared by MD5 on both ends; the guest powers off and vmm-worker exits 0.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-180}
host_ip=192.168.249.1
guest_ip=192.168.249.2

# shellcheck source=tests/integration/tap.sh
source "$here/tap.sh"

[[ $# -eq 1 && -x $1 ]] || bail "usage: $0 VMM (an executable vmm-worker)"
vmm=$1
if [[ ${CHD_TESTHOST:-} != 1 && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
    bail "no hardware KVM here: run me through tests/testhost/testhost run -- $0 $vmm"
fi
[[ -c /dev/kvm ]] || bail "/dev/kvm is missing"
[[ -c /dev/net/tun ]] || bail "/dev/net/tun is missing (the tun module)"
[[ $(id -u) == 0 ]] || bail "needs root for taps"
ethtool=$(command -v ethtool) || bail "ethtool is missing (tools/setup-host installs it)"

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

cat >"$work/init.sh" <<GUEST
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
H=$host_ip
G=$guest_ip
GUEST
cat >>"$work/init.sh" <<'GUEST'
echo "<2>CHD-GUEST-USERSPACE" >/dev/kmsg
combined() { ethtool -l eth0 | awk -v s="$1" '$0 ~ "^" s { p = 1 } p && /^Combined/ { print $2; exit }'; }
echo "CHD-NET-MAC $(cat /sys/class/net/eth0/address)"
ip addr add $G/24 dev eth0
ip link set eth0 up
echo "CHD-NET-QUEUES $(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
max=$(combined Pre-set)
echo "CHD-NET-MAX-COMBINED $max"
if [ "$max" -gt 1 ]; then
    ethtool -L eth0 combined 1 && echo "CHD-NET-COMBINED-ONE $(combined Current)"
    ethtool -L eth0 combined "$max" && echo "CHD-NET-COMBINED-MAX $(combined Current)"
fi
ethtool -k eth0 | grep -E '^(tx-checksumming|rx-checksumming|tcp-segmentation-offload|generic-receive-offload):' |
    tr -d '\t' | sed 's/^/CHD-NET-FEATURE /'
# The link needs a moment before the first ARP answer (and the host its listener).
for i in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 2 $H >/dev/null 2>&1 && break; done
ping -c 3 -W 5 $H >/dev/null && echo CHD-NET-PING-HOST-OK
dd if=/dev/urandom of=/tmp/out bs=64k count=32 2>/dev/null
echo "CHD-NET-OUT-MD5 $(md5sum </tmp/out | cut -d' ' -f1)"
nc -l -p 5002 -e sh -c 'cat >/tmp/in' &
rx=$!
sleep 1
echo CHD-NET-READY
timeout 90 nc $H 5001 </tmp/out && echo CHD-NET-SENT
i=0
while kill -0 $rx 2>/dev/null && [ $i -lt 90 ]; do sleep 1; i=$((i + 1)); done
echo "CHD-NET-IN-MD5 $(md5sum </tmp/in | cut -d' ' -f1)"
echo "CHD-NET-STATS rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets) tx_packets=$(cat /sys/class/net/eth0/statistics/tx_packets)"
grep -E 'virtio.*(input|output)' /proc/interrupts | sed 's/  */ /g; s/^/CHD-NET-IRQ /'
echo "CHD-GUEST-POWEROFF"
poweroff -f
GUEST
# ethtool and the shared libraries it loads, at the same paths in the guest.
files=(--file "$ethtool:/usr/sbin/ethtool")
for lib in $(ldd "$ethtool" | grep -o '/[^ ]*'); do
    files+=(--file "$lib:$lib")
done
"$testhost" guest-initramfs --init "$work/init.sh" --modules "virtio_pci virtio_net" "${files[@]}" \
    -o "$work/initramfs.cpio.gz" >/dev/null || bail "cannot build the guest initramfs"

# Opens a tap the way chd does (TUNSETIFF, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR), configures the host
# side, and runs the rest of the command line with the tap as fd 3.
cat >"$work/tap-fd.py" <<'PY'
import fcntl, os, struct, subprocess, sys
name, ip = sys.argv[1], sys.argv[2]
fd = os.open("/dev/net/tun", os.O_RDWR)
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, TUNSETIFF = 0x0002, 0x1000, 0x4000, 0x400454ca
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
subprocess.run(["ip", "addr", "add", ip + "/24", "dev", name], check=True)
subprocess.run(["ip", "link", "set", name, "up"], check=True)
os.dup2(fd, 3)
os.execv(sys.argv[3], sys.argv[3:])
PY

value() {
    grep -a "^$1" "$log" | tr -d '\r' | head -n 1 | sed "s/^$1 *//" || true
}

run_case() {
    local name=$1 mac=$2 cpus=$3 pairs=$4
    shift 4
    log=$work/$name.log
    failed_case=0
    head -c 2097152 /dev/urandom >"$work/$name.to-guest"
    rm -f "$work/$name.from-guest"
    timeout 240 busybox nc -l -p 5001 -e sh -c "cat >'$work/$name.from-guest'" &
    local listener=$!
    pids+=("$listener")
    local cmd=("$@" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz"
        --cmdline "console=ttyS0 quiet" --cpus "boot=$cpus" --memory size=512M
        --serial tty --console off)
    echo "# $name: $(printf '%q ' "${cmd[@]}")"
    timeout -k 5 "$timeout_s" setsid "${cmd[@]}" </dev/null >"$log" 2>&1 &
    local vmpid=$!
    pids+=("$vmpid")

    local ready=0 ping_ok=0 sent=1
    for _ in $(seq 1 $((timeout_s * 2))); do
        if grep -aq CHD-NET-READY "$log"; then ready=1; break; fi
        kill -0 "$vmpid" 2>/dev/null || break
        sleep 0.5
    done
    if ((ready)); then
        busybox ping -c 3 -W 5 "$guest_ip" >/dev/null && ping_ok=1
        timeout 90 busybox nc "$guest_ip" 5002 <"$work/$name.to-guest" || sent=0
    fi
    local status=0
    wait "$vmpid" || status=$?
    wait "$listener" 2>/dev/null || true

    check "$name: guest reaches userspace" grep -aq CHD-GUEST-USERSPACE "$log"
    check "$name: eth0 has the configured MAC ($(value CHD-NET-MAC))" test "$(value CHD-NET-MAC)" = "$mac"
    local q
    q=$(value CHD-NET-QUEUES)
    check "$name: $pairs RX and $pairs TX queues in sysfs ($q)" \
        test "$(tr ' ' '\n' <<<"$q" | grep -c '^rx-')$(tr ' ' '\n' <<<"$q" | grep -c '^tx-')" = "$pairs$pairs"
    check "$name: ethtool -l shows $pairs combined channel(s)" test "$(value CHD-NET-MAX-COMBINED)" = "$pairs"
    if ((pairs > 1)); then
        check "$name: ethtool -L combined 1 (control queue MQ command)" test "$(value CHD-NET-COMBINED-ONE)" = 1
        check "$name: ethtool -L combined $pairs again" test "$(value CHD-NET-COMBINED-MAX)" = "$pairs"
    fi
    check "$name: guest pings the host" grep -aq CHD-NET-PING-HOST-OK "$log"
    check "$name: host pings the guest" test "$ping_ok" = 1
    local out_md5 got_md5
    out_md5=$(value CHD-NET-OUT-MD5)
    got_md5=$(md5sum <"$work/$name.from-guest" 2>/dev/null | cut -d' ' -f1 || true)
    check "$name: 2 MiB guest to host over TCP, same MD5 ($out_md5 / $got_md5)" \
        test -n "$out_md5" -a "$out_md5" = "$got_md5"
    local in_md5 sent_md5
    in_md5=$(value CHD-NET-IN-MD5)
    sent_md5=$(md5sum <"$work/$name.to-guest" | cut -d' ' -f1)
    check "$name: 2 MiB host to guest over TCP, same MD5 ($sent_md5 / $in_md5)" \
        test "$sent" = 1 -a "$in_md5" = "$sent_md5"
    check "$name: guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
    echo "# $(value CHD-NET-STATS)"
    grep -a '^CHD-NET-FEATURE' "$log" | tr -d '\r' | sed 's/^CHD-NET-FEATURE /#   /'
    grep -a '^CHD-NET-IRQ' "$log" | tr -d '\r' | sed 's/^CHD-NET-IRQ /#   /'
    if ((failed_case)); then
        echo "# vmm-worker output (last 40 lines):"
        tail -n 40 "$log" | tr -d '\r' | sed 's/^/#   /'
    fi
}

echo "1..20"
run_case tap-2pairs 52:54:00:c4:d0:01 2 2 \
    "$vmm" --net "tap=chdnet0,mac=52:54:00:c4:d0:01,ip=$host_ip,mask=255.255.255.0,num_queues=4"
run_case fd-1pair 52:54:00:c4:d0:02 1 1 \
    python3 "$work/tap-fd.py" chdnet1 "$host_ip" "$vmm" --net "fd=3,mac=52:54:00:c4:d0:02,id=net0"
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
