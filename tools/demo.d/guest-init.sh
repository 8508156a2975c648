#!/bin/sh
# The demo guest's userspace (busybox; the guest kit's /init has mounted /proc, /sys and /dev and
# loaded the modules). It shows what the guest sees, from userspace, on the serial console, then
# waits for the ACPI power button (chctl shutdown) and powers off cleanly.

# Virtio device ids (virtio spec, "Device Types") the guest kit's kernel has drivers for.
virtio_name() {
    case $1 in
    0x0001) echo "network card (virtio-net)" ;;
    0x0002) echo "block device (virtio-blk)" ;;
    0x0003) echo "console (virtio-console)" ;;
    0x0004) echo "entropy source (virtio-rng)" ;;
    0x0005) echo "memory balloon (virtio-balloon)" ;;
    0x0013) echo "socket (virtio-vsock)" ;;
    0x0018) echo "memory device (virtio-mem)" ;;
    *) echo "device type $1" ;;
    esac
}

echo
echo "=================================================================="
echo " Hello from userspace: a Debian guest booted by chd + vmm-worker"
echo " kernel:  $(uname -r)"
echo " vCPUs:   $(nproc)"
echo " memory:  $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
echo " uptime:  $(cut -d' ' -f1 /proc/uptime) s since the kernel started"
found=0
for d in /sys/bus/virtio/devices/*; do
    [ -e "$d/device" ] || continue
    # The virtio device's parent is its PCI function, e.g. 0000:00:01.0.
    pci=$(basename "$(readlink -f "$d/..")")
    echo " virtio:  $(virtio_name "$(cat "$d/device")") at PCI $pci"
    found=1
done
[ $found = 1 ] || echo " virtio:  none found"
echo "=================================================================="
hwrng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
[ -n "$hwrng" ] && echo "random bytes from /dev/hwrng ($hwrng): $(head -c 8 /dev/hwrng | od -An -tx1 | tr -d ' \n')"

# The power button is an input device once the button and evdev modules are loaded.
button=
for e in /sys/class/input/event*; do
    grep -q "Power Button" "$e/device/name" 2>/dev/null && button=/dev/input/${e##*/}
done
if [ -z "$button" ]; then
    echo "demo guest: no ACPI power button found; powering off now"
    poweroff -f
fi
echo "The guest now waits for its power button (chctl shutdown)."
# One input event (24 bytes) is the press.
dd if="$button" bs=24 count=1 >/dev/null 2>&1
echo "Power button pressed: the guest powers off."
poweroff -f
