#!/bin/sh
# The demo guest's userspace: show that a real Debian kernel reached userspace on vmm-worker,
# written from userspace to the serial console, then power off through ACPI.
mount -t proc proc /proc 2>/dev/null
echo
echo "=================================================================="
echo " Hello from userspace in a Debian guest booted by vmm-worker"
echo " kernel:  $(uname -r)"
echo " vCPUs:   $(nproc)"
echo " memory:  $(grep MemTotal /proc/meminfo | tr -s ' ')"
echo " uptime:  $(cut -d' ' -f1 /proc/uptime) s"
echo "=================================================================="
echo
poweroff -f
