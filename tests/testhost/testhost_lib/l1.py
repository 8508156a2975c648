# SPDX-License-Identifier: Apache-2.0
"""What L1 is: Debian's generic kernel as a PVH vmlinux, a busybox initramfs with the modules L1
needs and its init script (host root over 9p, tmpfs overlay, the job in chroot or under systemd),
the cache entry holding both, and the QEMU command line that boots it."""

import os

from .cache import cache_entry, recipe_hash
from .cpio import Cpio
from .kmod import module_closure
from .packages import fetch_kernel
from .vmlinux import extract_pvh_vmlinux

L1_META = "linux-image-amd64"  # generic flavour: has 9p, overlay and kvm-amd as modules

# L1 needs the host root over 9p (virtio-pci transport), an overlay to make it writable, kvm-amd
# for a working /dev/kvm, virtio-rng so that nothing in L1 waits for entropy, and tun (taps for
# the guests' virtio-net) with vhost_net (QEMU's vhost=on, for bench/net), loop and ext4 (a file
# system with O_DIRECT for disks with direct=on: the tmpfs overlay has none), crc32c_generic
# (ext4's metadata checksums; not built into Debian's kernel).
L1_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay", "kvm_amd", "virtio_rng", "tun", "vhost_net",
              "loop", "ext4", "crc32c_generic"]

L1_INIT = r"""#!/bin/sh
# PID 1 of the test host L1.  Mounts the host root read-only over 9p with a tmpfs overlay, then
# runs the job that testhost put in the job folder, with chroot or under systemd as PID 1.
# The command's output and its exit status go to ttyS1 (testhost reads them back); the kernel
# console (ttyS0) goes to a log that testhost shows when something goes wrong.
export PATH=/bin
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev

nonce= mode=chroot
for w in $(cat /proc/cmdline); do
    case "$w" in
    chd.nonce=*) nonce=${w#chd.nonce=} ;;
    chd.mode=*) mode=${w#chd.mode=} ;;
    esac
done

# raw: no \n -> \r\n and no echo, so the command's output reaches testhost byte for byte.
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
marker() { printf '@@CHD-TESTHOST-%s-%s@@\n' "$nonce" "$1" >&3; }

fail() {
    echo "testhost L1: $*" >&3
    echo "testhost L1: $*" >/dev/console
    marker EXIT=125
    exec 3>&-
    poweroff -f
}

# Like modprobe, give a module the MODULE.PARAM=VALUE words of the kernel command line.
module_params() {
    for w in $(cat /proc/cmdline); do
        case "$w" in "$1".*=*) printf '%s ' "${w#"$1".}" ;; esac
    done
}
while read -r m; do
    name=$(basename "$m" .ko | tr - _)
    # shellcheck disable=SC2046 # one word per parameter
    insmod "/lib/modules/$m" $(module_params "$name") || fail "cannot load the kernel module $m"
done </etc/modules.order

opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /job /host /rw /newroot
mount -t 9p -o "$opts" chdjob /job || fail "cannot mount the job folder (9p tag chdjob)"
mount -t 9p -o "$opts,ro,cache=loose" hostroot /host || fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work || fail "cannot make the overlay tmpfs"
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
    || fail "cannot mount the overlay on the host root"
for d in proc sys dev; do
    mount --move "/$d" "/newroot/$d" || fail "cannot move /$d into the new root"
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || fail "cannot mount /run"
mkdir -p /newroot/run/chd-testhost
mount --move /job /newroot/run/chd-testhost || fail "cannot move the job folder"
job=/newroot/run/chd-testhost

# Read-write host folders, at the same path as on the host (--share).
if [ -f "$job/shares" ]; then
    while read -r tag path; do
        mkdir -p "/newroot$path" && mount -t 9p -o "$opts" "$tag" "/newroot$path" \
            || fail "cannot mount the shared folder $path"
    done <"$job/shares"
fi

hostname chd-testhost
ip link set lo up
marker START

case "$mode" in
chroot)
    # Heartbeat on the kernel console: when it stops, testhost knows L1 froze (QEMU's TCG can
    # hang it) and stops waiting.  Only here: after switch_root this shell's /bin is gone.
    (while sleep 5; do echo @@CHD-TESTHOST-HEARTBEAT@@; done) </dev/null >/dev/console 2>&1 &
    mkdir -p /newroot/dev/pts /newroot/dev/shm
    mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/dev/shm
    mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup
    chroot /newroot /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh \
        /run/chd-testhost/run.sh </dev/null >&3 2>&3
    rc=$?
    marker "EXIT=$rc"
    echo "$rc" >"$job/status"
    exec 3>&-  # the last close of the tty waits until the UART has sent everything
    sync
    poweroff -f
    ;;
systemd)
    for f in chd-testhost.service chd-testhost.target; do
        cp "$job/$f" "/newroot/etc/systemd/system/$f" || fail "cannot install $f"
    done
    # Debian's tmp.conf ("D /tmp") empties /tmp at boot: keep it from reaching into --share
    # folders that live under /tmp.
    mkdir -p /newroot/etc/tmpfiles.d
    echo 'd /tmp 1777 root root -' >/newroot/etc/tmpfiles.d/tmp.conf
    exec 3>&-
    exec switch_root /newroot /lib/systemd/systemd --unit=chd-testhost.target
    ;;
*)
    fail "unknown mode '$mode'"
    ;;
esac
"""


def l1_recipe():
    """The recipe hash of the L1 entry: everything testhost puts into it besides the packages."""
    return recipe_hash(L1_INIT, " ".join(L1_MODULES))


def l1_initramfs(busybox, moddir, mods):
    """The L1 initramfs: busybox, device nodes, MODS (load order) from MODDIR, and the init."""
    cpio = Cpio()
    cpio.busybox(busybox)
    for d in ("proc", "sys", "dev", "run", "tmp", "etc"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    for m in mods:
        cpio.copy("lib/modules/" + m, os.path.join(moddir, m), 0o644)
    cpio.file("etc/modules.order", ("\n".join(mods) + "\n").encode())
    cpio.file("init", L1_INIT.encode(), 0o755)
    return cpio


def build_l1(out, scratch, kpkg, kver, bbver):
    """Fill the L1 cache entry OUT (see cache.build_entry)."""
    busybox, tree, rel, moddir = fetch_kernel(out, scratch, kpkg, kver, bbver)
    mods = module_closure(moddir, L1_MODULES)
    # L1 boots the uncompressed PVH vmlinux: decompressing the XZ bzImage under TCG would
    # cost about 3 s per boot.
    extract_pvh_vmlinux(os.path.join(tree, f"boot/vmlinuz-{rel}"),
                        os.path.join(out, "vmlinux"))
    l1_initramfs(busybox, moddir, mods).write_gz(os.path.join(out, "initramfs.cpio.gz"))
    os.remove(busybox)
    with open(os.path.join(out, "kernel-release"), "w") as f:
        f.write(rel + "\n")


def l1_entry():
    """The folder with L1's vmlinux and initramfs: $CHD_TESTHOST_L1, or the cache entry."""
    env = os.environ.get("CHD_TESTHOST_L1")
    if env:
        return env
    return cache_entry("l1", L1_META, l1_recipe(), build_l1)


def l1_cmdline(nonce, mode, append=None):
    """L1's kernel command line: just the nonce and the mode; the job is in the job folder."""
    # kvm_amd.npt=0: L1's KVM shadows L2's page tables instead of using nested paging.
    # QEMU 7.2's TCG emulation of nested paging corrupts L1 (stack guard page hits,
    # corrupted preempt_count, CPUs stuck in L2) once every 10-50 L2 boots; with shadow
    # paging about 150 boots of 1-2 vCPU guests in a row passed, no slower (README.md).
    # sysrq_always_enabled: on a timeout testhost asks L1 for task dumps (console.sysrq_dump).
    cmdline = (f"console=ttyS0 panic=-1 quiet mitigations=off sysrq_always_enabled "
               f"kvm_amd.npt=0 chd.nonce={nonce} chd.mode={mode}")
    if append:
        cmdline += " " + append
    return cmdline


def qemu_command(qemu, l1, mem, smp, cmdline, job, console, shares):
    """The QEMU command line of one L1 boot.  SHARES: (9p tag, host folder) pairs."""
    cmd = [
        qemu, "-accel", "tcg", "-cpu", "max,+svm", "-M", "pc",
        "-m", str(mem), "-smp", str(smp),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", os.path.join(l1, "vmlinux"),
        "-initrd", os.path.join(l1, "initramfs.cpio.gz"),
        "-append", cmdline,
        # ttyS0: L1's kernel console, to a log; ttyS1: the command's output, to our stdout.
        "-chardev", f"file,id=console,path={console}", "-serial", "chardev:console",
        "-chardev", "stdio,id=cmdout,signal=off", "-serial", "chardev:cmdout",
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
                   "multidevs=remap",
        "-virtfs", f"local,path={job},mount_tag=chdjob,security_model=none,multidevs=remap",
        "-device", "virtio-rng-pci",
        # For SysRq dumps on a timeout (see console.sysrq_dump).
        "-monitor", f"unix:{os.path.join(job, 'monitor.sock')},server=on,wait=off",
    ]
    for tag, path in shares:
        cmd += ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none,"
                           "multidevs=remap"]
    return cmd
