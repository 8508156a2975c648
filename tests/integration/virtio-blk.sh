#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-blk with a real Linux guest (Debian's cloud kernel, virtio_pci and virtio_blk as
# modules).  Output is TAP.  Runs where /dev/kvm boots Linux: inside the nested test host (meson
# runs it through tests/testhost/testhost run) or on hardware KVM.
#
#   virtio-blk.sh VMM
#
# Two VMs, 2 vCPUs each, one guest initramfs whose init reads its case from the kernel command line:
# - "disks": two disks.  vda: 64 MiB image filled with 0x5a, serial chd-blk-vda, num_queues=2.
#   vdb: 8 MiB, readonly=on, default serial.  The guest prints size, serial, read-only flag and the
#   number of blk-mq hardware queues of each; writes a 64 KiB pattern at 1 MiB with dd conv=fsync;
#   tries to write vdb (must fail); blkdiscard's 1 MiB at 2 MiB; write-zeroes (util-linux
#   blkdiscard -z, BLKZEROOUT) 1 MiB at 4 MiB; powers off.  The host then checks the image: the
#   pattern at 1 MiB, zeroes at 2 and 4 MiB, 0x5a around them, vdb unchanged.
# - "kill": one disk (direct=on in the O_DIRECT folder, see below).  The guest writes the pattern
#   with dd conv=fsync, prints CHD-BLK-SYNCED once dd returned, and sleeps; the host reads the
#   device's counters through the control socket, kills vmm-worker with SIGKILL and checks that the
#   pattern is in the file.
# - "direct": one disk with direct=on in the O_DIRECT folder.  While vmm-worker runs the host
#   checks in /proc/PID/fdinfo that it opened the image with O_DIRECT (flags 040000); the guest
#   writes the pattern with dd conv=fsync, reads it back from the device after dropping its
#   caches, and powers off; the host finds the pattern in the image.
#
# The O_DIRECT folder: the test folder when its file system takes O_DIRECT, else (L1's tmpfs
# overlay refuses it) an ext4 file system on a loop device, made by the script (root, the loop and
# ext4 modules: the test host's L1 has them).  Where neither works the direct=on cases are skipped,
# except inside the test host, where that is a failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-90}

. "$here/lib.sh"
[[ $# -eq 1 && -x $1 ]] || bail "usage: $0 VMM (an executable, e.g. build/vmm-worker/vmm-worker)"
vmm=$1
require_kvm "$vmm"
blkdiscard=$(command -v blkdiscard) || bail "util-linux's blkdiscard is missing (tools/setup-host)"

work=$(mktemp -d)
vmm_pid=
loopdev=
cleanup() {
    [[ -z $vmm_pid ]] || kill -9 "$vmm_pid" 2>/dev/null || true
    if [[ -n $loopdev ]]; then
        umount "$work/odirect" 2>/dev/null || true
        losetup -d "$loopdev" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

# 64 KiB the guest writes and the host looks for: numbered lines, no two alike.
awk 'BEGIN { for (i = 0; i < 2048; i++) printf "CHD-BLK-%06d-PATTERN-%08d\n", i, i * 7919 }' >"$work/pattern"
[[ $(stat -c %s "$work/pattern") == 65536 ]] || bail "the pattern is not 64 KiB"

cat >"$work/init.sh" <<'GUEST'
#!/bin/sh
echo "<2>CHD-GUEST-USERSPACE" >/dev/kmsg
case=$(sed -n 's/.*chd.case=\([a-z]*\).*/\1/p' /proc/cmdline)
dev_info() {
    d=$1
    echo "CHD-BLK-DEV $d size=$(cat /sys/block/$d/size) serial=$(cat /sys/block/$d/serial)" \
        "ro=$(cat /sys/block/$d/ro) mq=$(ls /sys/block/$d/mq | wc -l)" \
        "lbs=$(cat /sys/block/$d/queue/logical_block_size)" \
        "discard=$(cat /sys/block/$d/queue/discard_max_bytes)" \
        "zeroes=$(cat /sys/block/$d/queue/write_zeroes_max_bytes)"
}
case $case in
disks)
    dev_info vda
    dev_info vdb
    dd if=/pattern of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null && echo CHD-BLK-WRITE-OK
    if dd if=/pattern of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; then
        echo CHD-BLK-RO-WRITE-ACCEPTED
    else
        echo CHD-BLK-RO-WRITE-REFUSED
    fi
    echo "CHD-BLK-RO-READ $(dd if=/dev/vdb bs=8 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
    blkdiscard -o 2097152 -l 1048576 /dev/vda && echo CHD-BLK-DISCARD-OK
    /usr/bin/ul-blkdiscard -z -o 4194304 -l 1048576 /dev/vda && echo CHD-BLK-ZEROES-OK
    # What the guest reads back, from the device rather than its page cache.
    echo 3 >/proc/sys/vm/drop_caches
    echo "CHD-BLK-READBACK $(dd if=/dev/vda bs=65536 skip=16 count=1 2>/dev/null | md5sum)"
    dmesg -r | grep -E '^<[0-4]>' | grep -i -E 'virtio|blk|I/O error' | sed 's/^/CHD-WARN /'
    echo CHD-GUEST-POWEROFF
    poweroff -f
    ;;
kill)
    dev_info vda
    dd if=/pattern of=/dev/vda bs=4096 seek=100 conv=fsync 2>/dev/null && echo CHD-BLK-SYNCED
    sleep 600
    ;;
direct)
    dev_info vda
    dd if=/pattern of=/dev/vda bs=4096 seek=512 conv=fsync 2>/dev/null && echo CHD-BLK-WRITE-OK
    echo 3 >/proc/sys/vm/drop_caches
    echo "CHD-BLK-READBACK $(dd if=/dev/vda bs=65536 skip=32 count=1 2>/dev/null | md5sum)"
    dmesg -r | grep -E '^<[0-4]>' | grep -i -E 'virtio|blk|I/O error' | sed 's/^/CHD-WARN /'
    echo CHD-GUEST-POWEROFF
    poweroff -f
    ;;
esac
GUEST

libs=()
for l in $(ldd "$blkdiscard" | grep -o '/[^ ]*'); do
    libs+=(--file "$l:${l#/}")
done
"$testhost" guest-initramfs --init "$work/init.sh" --modules "virtio_pci virtio_blk" \
    --file "$work/pattern:pattern" --file "$blkdiscard:usr/bin/ul-blkdiscard" "${libs[@]}" \
    -o "$work/initramfs.cpio.gz" >/dev/null || bail "cannot build the guest initramfs"

field() { # field LINE KEY
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# Bytes [off, off+len) of file: all zero / all 0x5a (as $work/fill, up to 1 MiB) / equal to the
# pattern.  No process substitution: L1 has no /dev/fd.
region_is() {
    local file=$1 off=$2 len=$3 what=$4
    case $what in
    zero) cmp -s -n "$len" -i "$off:0" "$file" /dev/zero ;;
    fill) cmp -s -n "$len" -i "$off:0" "$file" "$work/fill" ;;
    pattern) cmp -s -n "$len" -i "$off:0" "$file" "$work/pattern" ;;
    esac
}

# check_written CASE: in $log, the guest's dd conv=fsync succeeded and it read the pattern back
# from the device, no warnings, then power-off with vmm-worker's exit status $status 0.
check_written() {
    check "$1: dd conv=fsync to /dev/vda succeeds" grep -aq '^CHD-BLK-WRITE-OK' "$log"
    check "$1: the guest reads its pattern back from the device" \
        grep -aq "^CHD-BLK-READBACK $(md5sum <"$work/pattern" | cut -d' ' -f1)" "$log"
    check "$1: no virtio/block warnings in dmesg" test -z "$(grep -a '^CHD-WARN' "$log" || true)"
    check "$1: guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
}

vm_cmd() {
    local case=$1
    shift
    cmd=("$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz"
        --cmdline "console=ttyS0 quiet chd.case=$case" --cpus boot=2 --memory size=512M
        --serial tty --console off "$@")
    echo "# $case: $(printf '%q ' "${cmd[@]}")"
}

show_log() {
    echo "# vmm-worker output (last 30 lines):"
    tail -n 30 "$1" | tr -d '\r' | sed 's/^/#   /'
}

# --- VM 1: two disks, num_queues=2, read-only, discard, write zeroes, fsync then poweroff
head -c $((1 << 20)) /dev/zero | tr '\0' '\132' >"$work/fill"
for i in $(seq 64); do cat "$work/fill"; done >"$work/vda.img"
head -c $((8 << 20)) /dev/urandom >"$work/vdb.img"
vdb_sum=$(md5sum <"$work/vdb.img")
vdb_head=$(head -c 8 "$work/vdb.img" | od -An -tx1 | tr -d ' \n')
log=$work/disks.log
failed_case=0
vm_cmd disks --disk "path=$work/vda.img,serial=chd-blk-vda,num_queues=2,id=vda" \
    "path=$work/vdb.img,readonly=on,id=vdb"
status=0
timeout -k 5 "$timeout_s" setsid "${cmd[@]}" </dev/null >"$log" 2>&1 || status=$?
vda=$(grep -a '^CHD-BLK-DEV vda' "$log" | tr -d '\r' || true)
vdb=$(grep -a '^CHD-BLK-DEV vdb' "$log" | tr -d '\r' || true)
expected_vdb_serial=$(stat -c '%d %i' "$work/vdb.img" | { read -r dev ino; printf '%x0%x' "$dev" "$ino"; } | cut -c1-20)
check "disks: guest reaches userspace" grep -aq CHD-GUEST-USERSPACE "$log"
check "disks: /dev/vda is 64 MiB ($(field "$vda" size) sectors)" test "$(field "$vda" size)" = 131072
check "disks: /dev/vda serial is chd-blk-vda ('$(field "$vda" serial)')" test "$(field "$vda" serial)" = chd-blk-vda
check "disks: /dev/vda has 2 blk-mq queues (num_queues=2)" test "$(field "$vda" mq)" = 2
check "disks: /dev/vda is writable, 512-byte blocks" test "$(field "$vda" ro) $(field "$vda" lbs)" = "0 512"
check "disks: /dev/vda offers discard and write zeroes" \
    test "$(field "$vda" discard)" -gt 0 -a "$(field "$vda" zeroes)" -gt 0
check "disks: /dev/vdb is 8 MiB, read-only, one queue" \
    test "$(field "$vdb" size) $(field "$vdb" ro) $(field "$vdb" mq)" = "16384 1 1"
check "disks: /dev/vdb's default serial comes from the image ('$(field "$vdb" serial)')" \
    test "$(field "$vdb" serial)" = "$expected_vdb_serial"
check "disks: the guest reads the read-only disk's bytes" grep -aq "^CHD-BLK-RO-READ $vdb_head" "$log"
check "disks: writing the read-only disk fails in the guest" grep -aq '^CHD-BLK-RO-WRITE-REFUSED' "$log"
check "disks: blkdiscard succeeds" grep -aq '^CHD-BLK-DISCARD-OK' "$log"
check "disks: blkdiscard -z (write zeroes) succeeds" grep -aq '^CHD-BLK-ZEROES-OK' "$log"
check_written disks
check "disks: the pattern is in the image at 1 MiB" region_is "$work/vda.img" $((1 << 20)) 65536 pattern
check "disks: the discarded MiB at 2 MiB reads as zeroes" region_is "$work/vda.img" $((2 << 20)) $((1 << 20)) zero
check "disks: the zeroed MiB at 4 MiB reads as zeroes" region_is "$work/vda.img" $((4 << 20)) $((1 << 20)) zero
for r in "$(((1 << 20) + 65536)) $(((1 << 20) - 65536))" "$((3 << 20)) $((1 << 20))" "$((5 << 20)) $((1 << 20))"; do
    read -r off len <<<"$r"
    check "disks: bytes $off+$len around them are untouched" region_is "$work/vda.img" "$off" "$len" fill
    region_is "$work/vda.img" "$off" "$len" fill ||
        { cmp -l -n "$len" -i "$off:0" "$work/vda.img" "$work/fill" 2>&1 || true; } |
        head -n 3 | sed 's/^/#   differs (offset, octal bytes): /'
done
check "disks: the read-only image is unchanged" test "$(md5sum <"$work/vdb.img")" = "$vdb_sum"
((failed_case == 0)) || show_log "$log"

# --- A folder whose file system takes O_DIRECT, for the direct=on cases
takes_odirect() {
    dd if=/dev/zero of="$1/.odirect" bs=4096 count=1 oflag=direct 2>/dev/null
    local r=$?
    rm -f "$1/.odirect"
    return $r
}
odirect=
odirect_why=
if takes_odirect "$work"; then
    odirect=$work
else
    # L1's tmpfs overlay (and tmpfs before Linux 6.6) has no O_DIRECT: ext4 on a loop device.
    mkdir "$work/odirect"
    if ! truncate -s 64M "$work/ext4.img" || ! mkfs.ext4 -q -F "$work/ext4.img" 2>"$work/odirect.err"; then
        odirect_why="mkfs.ext4 failed: $(tail -n 1 "$work/odirect.err")"
    elif ! loopdev=$(losetup -f --show "$work/ext4.img" 2>"$work/odirect.err"); then
        loopdev=
        odirect_why="losetup failed: $(tail -n 1 "$work/odirect.err")"
    elif ! mount -t ext4 "$loopdev" "$work/odirect" 2>"$work/odirect.err"; then
        odirect_why="mounting ext4 on $loopdev failed: $(tail -n 1 "$work/odirect.err")"
    elif ! takes_odirect "$work/odirect"; then
        odirect_why="ext4 on $loopdev refuses O_DIRECT"
    else
        odirect=$work/odirect
        echo "# $(df --output=fstype "$work" | tail -n 1) refuses O_DIRECT: direct=on images on ext4 on $loopdev"
    fi
fi
# skip_or_fail DESCRIPTION: the direct=on cases cannot run here.  Inside the test host they must.
skip_or_fail() {
    if [[ ${CHD_TESTHOST:-} == 1 ]]; then
        check "$1 (no O_DIRECT folder: $odirect_why)" false
    else
        n=$((n + 1))
        echo "ok $n - $1 # SKIP no O_DIRECT folder: $odirect_why"
    fi
}

# --- VM 2: SIGKILL once the guest's fsync returned
direct=off
killdir=$work
if [[ -n $odirect ]]; then
    direct=on
    killdir=$odirect
else
    echo "# the kill case runs with direct=off: $odirect_why"
fi
head -c $((16 << 20)) /dev/zero >"$killdir/kill.img"
log=$work/kill.log
failed_case=0
vm_cmd kill --disk "path=$killdir/kill.img,direct=$direct" --control-socket "$work/kill.sock"
setsid "${cmd[@]}" </dev/null >"$log" 2>&1 &
vmm_pid=$!
synced=0
for ((i = 0; i < timeout_s * 10; i++)); do
    if grep -aq '^CHD-BLK-SYNCED' "$log"; then
        synced=1
        break
    fi
    kill -0 "$vmm_pid" 2>/dev/null || break
    sleep 0.1
done
# The device's counters, through the control socket, while the guest sleeps.
counters=$(busctl --address="unix:path=$work/kill.sock" --json=short call org.cloudhypervisor.chd1 \
    /org/cloudhypervisor/chd1/worker org.cloudhypervisor.chd1.Worker Counters 2>&1 || true)
blk_counters=$(python3 -c 'import json, sys
d = json.load(sys.stdin)["data"][0]["virtio-blk0"]
print(d["write-ops"], d["write-bytes"], d["errors"])' <<<"$counters" 2>/dev/null || echo "none")
kill -9 "$vmm_pid" 2>/dev/null || true
status=0
wait "$vmm_pid" || status=$?
vmm_pid=
check "kill: the guest's dd conv=fsync returned (direct=$direct)" test "$synced" = 1
check "kill: vmm-worker died of SIGKILL (status $status)" test "$status" = 137
read -r blk_writes blk_bytes blk_errors <<<"$blk_counters"
check "kill: Counters has virtio-blk0 with the guest's writes, no errors ($blk_counters)" \
    test "${blk_writes:-0}" -gt 0 -a "${blk_bytes:-0}" -ge 65536 -a "${blk_errors:-x}" = 0
check "kill: the synced pattern is in the image after kill -9" region_is "$killdir/kill.img" $((100 * 4096)) 65536 pattern
((failed_case == 0)) || show_log "$log"

# --- VM 3: direct=on: opened with O_DIRECT, the guest's synced write reaches the image
# fdinfo_direct PID FILE: every descriptor PID has open on FILE has O_DIRECT (octal 040000) in its
# flags; prints the flags it found.
fdinfo_direct() {
    local pid=$1 file=$2 fd flags found=0 all=1
    for fd in /proc/"$pid"/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "$file" ]] || continue
        flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null) || continue
        ((found == 0)) || printf ', '
        printf 'fd %s flags %s' "${fd##*/}" "$flags"
        found=1
        ((8#$flags & 8#040000)) || all=0
    done
    ((found && all))
}
if [[ -z $odirect ]]; then
    skip_or_fail "direct: a direct=on disk in a real guest"
else
    img=$odirect/direct.img
    head -c $((16 << 20)) /dev/zero >"$img"
    log=$work/direct.log
    failed_case=0
    vm_cmd direct --disk "path=$img,direct=on"
    setsid "${cmd[@]}" </dev/null >"$log" 2>&1 &
    vmm_pid=$!
    # vmm-worker opens its disks before the guest boots: look while it runs, whatever the guest does.
    fdinfo_ok=0
    for ((i = 0; i < timeout_s * 10; i++)); do
        if fdinfo=$(fdinfo_direct "$vmm_pid" "$img"); then
            fdinfo_ok=1
            break
        fi
        [[ -z $fdinfo ]] || break # open, but without O_DIRECT
        kill -0 "$vmm_pid" 2>/dev/null || break
        sleep 0.1
    done
    if ((!fdinfo_ok)); then
        echo "# descriptors of vmm-worker (pid $vmm_pid), looking for $img:"
        { ls -l "/proc/$vmm_pid/fd" 2>&1 || true; } | sed 's/^/#   /'
    fi
    status=0
    for ((i = 0; i < timeout_s * 10; i++)); do
        kill -0 "$vmm_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$vmm_pid" 2>/dev/null && status=timeout
    [[ $status == timeout ]] || wait "$vmm_pid" || status=$?
    vmm_pid=
    vda=$(grep -a '^CHD-BLK-DEV vda' "$log" | tr -d '\r' || true)
    check "direct: guest reaches userspace" grep -aq CHD-GUEST-USERSPACE "$log"
    check "direct: /dev/vda is 16 MiB, writable ($(field "$vda" size) sectors)" \
        test "$(field "$vda" size) $(field "$vda" ro)" = "32768 0"
    check "direct: vmm-worker opened the image with O_DIRECT (${fdinfo:-no descriptor})" \
        test "$fdinfo_ok" = 1
    check_written direct
    check "direct: the pattern is in the image at 2 MiB" region_is "$img" $((2 << 20)) 65536 pattern
    check "direct: the rest of the image is still zero" region_is "$img" 0 $((2 << 20)) zero
    ((failed_case == 0)) || show_log "$log"
fi

echo "1..$n"
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
