# SPDX-License-Identifier: Apache-2.0
"""The modules of testhost, chd's nested test host (tests/testhost/testhost is the entry script).

One job each, leaves first:
  common     exit statuses, the Failure exception, messages, running helper programs
  packages   Debian packages: which kernel is current, apt-get download, dpkg-deb -x, depmod
  kmod       kernel modules: names, modules.dep, the load order a set of modules needs
  cpio       a reproducible "newc" cpio writer (device nodes without root)
  vmlinux    the PVH vmlinux inside a bzImage: extraction and the Xen entry note
  cache      the cache folder: entry and pointer names, atomic builds under a lock, pruning
  l1         what L1 is: its cache entry (vmlinux, initramfs, init script) and QEMU command line
  kit        the guest kit: its cache entry and its items (`testhost kit`)
  initramfs  guest initramfs images (`testhost guest-initramfs`)
  job        the job folder L1 mounts: run.sh, environment, shares, systemd units
  streams    the command's output on its way to stdout: marker lines out, TAP kept valid on retries
  console    L1's kernel console: heartbeat and lockup watch, tails, SysRq dumps
  run        `testhost run`: boot L1, supervise it, retries, timeouts, the exit status
  selftest   `testhost selftest`: L1 boots and its /dev/kvm boots the guest kit
  options    the command line (argparse)
  cli        main(): dispatch, `fetch`, `cache`, errors to exit status 125

Python 3 standard library only, on purpose: it runs on a bare CI machine and inside L1.
"""
