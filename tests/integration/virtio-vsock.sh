#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-vsock with a real Linux guest (Debian's cloud kernel, vmw_vsock_virtio_transport as a
# module) on the hybrid unix-socket backend.  Output is TAP.  Runs where /dev/kvm boots Linux:
# inside the nested test host (meson runs it through tests/testhost/testhost run) or on hardware
# KVM.
#
#   virtio-vsock.sh VMM VSOCK_ECHO     VSOCK_ECHO: tests/integration/guest/vsock-echo.c, static
#
# One VM (--vsock cid=3,socket=S) whose init, with vsock-echo:
# - listens on vsock port 5000 and echoes one connection back (host-initiated: the host program
#   vsock-host.py connects to S, writes "CONNECT 5000", must read "OK <port>", then sends 1 MiB and
#   must get the same 1 MiB back, both ways at once, so credit updates must flow);
# - connects to host port 1234 (guest-initiated: reaches vsock-host.py's listener on S_1234) and
#   sends a line, which must arrive, and reads the listener's reply;
# - connects to host port 4321, where nobody listens: the connection must be refused (reset);
# - reads the device's CID, then powers off; vmm-worker must exit 0 and remove S.
# A second VM asks for a socket path that exists already and must fail to start with a message.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testhost=$here/../testhost/testhost
timeout_s=${CHD_BOOT_TIMEOUT:-90}

# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
[[ $# -eq 2 && -x $1 && -x $2 ]] || bail "usage: $0 VMM VSOCK_ECHO (executables)"
vmm=$1
echo_bin=$2
require_kvm "$vmm"

work=$(mktemp -d)
host_pid=
cleanup() {
    [[ -z $host_pid ]] || kill "$host_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
bzimage=$("$testhost" kit bzimage) || bail "testhost kit bzimage failed"

cat >"$work/init.sh" <<'GUEST'
#!/bin/sh
echo "<2>CHD-GUEST-USERSPACE" >/dev/kmsg
if [ -c /dev/vsock ]; then echo "CHD-VSOCK-DEV present"; else echo "CHD-VSOCK-DEV missing"; fi
timeout 60 /vsock-echo listen 5000 &
listener=$!
/vsock-echo connect 2 1234 CHD-GUEST-HELLO
/vsock-echo connect 2 4321 nobody-listens
wait $listener
echo "CHD-GUEST-LISTENER-DONE $?"
echo "CHD-GUEST-POWEROFF"
poweroff -f
GUEST
"$testhost" guest-initramfs --init "$work/init.sh" --modules "virtio_pci vmw_vsock_virtio_transport" \
    --file "$echo_bin:/vsock-echo" -o "$work/initramfs.cpio.gz" >/dev/null ||
    bail "cannot build the guest initramfs"

sock=$work/v.sock
log=$work/vsock.log
python3 "$here/vsock-host.py" "$sock" 1234 5000 1 "$timeout_s" >"$work/host.out" 2>&1 &
host_pid=$!
cmd=("$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz" --cmdline "console=ttyS0 quiet"
    --cpus boot=2 --memory size=512M --serial tty --console off --vsock "cid=3,socket=$sock")
echo "# $(printf '%q ' "${cmd[@]}")"
status=0
timeout -k 5 "$timeout_s" setsid "${cmd[@]}" </dev/null >"$log" 2>&1 || status=$?
wait "$host_pid" || true
host_pid=
host() {
    sed -n "s/^$1=//p" "$work/host.out"
}

check "guest reaches userspace" has CHD-GUEST-USERSPACE "$log"
check "/dev/vsock exists in the guest" has "CHD-VSOCK-DEV present" "$log"
check "host-initiated: CONNECT 5000 is answered 'OK <port>' ($(host ok_line))" grep -q '^ok_line=OK_[0-9]' "$work/host.out"
check "host-initiated: 1 MiB sent to the guest comes back ($(host echoed) bytes, $(host mib_per_s) MiB/s)" test "$(host echoed)" = 1048576
check "host-initiated: the echo is byte for byte what was sent" test "$(host match)" = yes
check "host-initiated: the guest's listener saw 1 MiB and EOF" has "CHD-VSOCK-ECHOED 1048576" "$log"
check "guest-initiated: the host listener on S_1234 got the guest's line ($(host listener))" test "$(host listener)" = got:CHD-GUEST-HELLO
check "guest-initiated: the guest read the host's reply" has "CHD-VSOCK-REPLY CHD-HOST-REPLY:CHD-GUEST-HELLO" "$log"
# ECONNRESET (104): the device answered the request with a reset.
check "guest-initiated: a port nobody listens on is refused" has "CHD-VSOCK-CONNECT-FAILED 104" "$log"
check "guest powers off, vmm-worker exits 0 (status $status)" test "$status" = 0
check "vmm-worker removed its socket" test ! -e "$sock"
if ((failed_case)); then
    echo "# host.out:"
    sed 's/^/#   /' "$work/host.out"
    echo "# vmm-worker output (last 30 lines):"
    tail -n 30 "$log" | tr -d '\r' | sed 's/^/#   /'
fi

# A socket path that is taken: refused with a message, nothing unlinked.
failed_case=0
touch "$work/taken.sock"
status=0
timeout -k 5 "$timeout_s" "$vmm" --kernel "$bzimage" --initramfs "$work/initramfs.cpio.gz" --serial null \
    --console off --vsock "cid=3,socket=$work/taken.sock" </dev/null >"$work/taken.log" 2>&1 || status=$?
check "a taken socket path: vmm-worker fails (status $status)" test "$status" != 0
check "a taken socket path: the message names --vsock and the path" grep -q -- "--vsock: '$work/taken.sock' exists already" "$work/taken.log"
check "a taken socket path: the file is left alone" test -f "$work/taken.sock"
((failed_case == 0)) || sed 's/^/#   /' "$work/taken.log"

echo "1..$n"
echo "# $((n - failures)) of $n checks passed"
((failures == 0))
