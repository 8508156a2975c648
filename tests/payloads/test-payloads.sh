#!/usr/bin/env bash
# Fast end-to-end tests of vmm-worker on this machine's /dev/kvm with the tiny PVH payloads built
# next to this script, plus the command-line and file errors a user can make. Prints TAP.
#
# usage: test-payloads.sh VMM_WORKER PAYLOAD_DIR
set -uo pipefail

vmm=$1
payloads=$2
work=$(mktemp -d)
# Only the script itself cleans up: a background child that the SIGTERM race below kills before
# it has exec'd the worker is still bash, and it would run this EXIT trap and remove $work.
cleanup() {
	[[ $BASHPID == "$$" ]] || return 0
	rm -rf "$work"
	[[ -n "${bgpid:-}" ]] && kill -9 "$bgpid" 2>/dev/null
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	shift
	for f in "$@"; do [[ -f $f ]] && sed 's/^/#   /' "$f"; done
}
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc" "$work/out" "$work/err"; fi; }

if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	echo "1..0 # SKIP /dev/kvm is not usable here"
	exit 0
fi

# run NAME ARGS...: runs vmm-worker with a time limit, output in $work/out, $work/err, status in $rc.
run() {
	timeout -k 5 20 "$vmm" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}

# wait_for FILE PATTERN COUNT: waits up to 10 s for COUNT lines matching PATTERN.
wait_for() {
	for _ in $(seq 100); do
		[[ $(grep -c -- "$2" "$1" 2>/dev/null) -ge $3 ]] && return 0
		sleep 0.1
	done
	return 1
}

# -- boot, talk, power off ---------------------------------------------------------------------
for cpus in 1 2 4; do
	run --kernel "$payloads/hello.elf" --cpus boot=$cpus --memory size=64M --serial tty --console off
	check "hello with $cpus vCPU(s) powers off with status 0 (got $rc)" test "$rc" -eq 0
	check "hello with $cpus vCPU(s) prints on the serial console" grep -q "payload: hello from the guest" "$work/out"
done
check "unclaimed PCI configuration reads return all-ones" grep -q "reads all-ones" "$work/out"
check "0xCF8/0xCFC reach the PCI host bridge at 00:00.0" grep -q "PCI host bridge 1b36:0008" "$work/out"

for mem in 16M 1G 4G; do
	run --kernel "$payloads/hello.elf" --memory size=$mem --serial tty --console off
	check "hello with $mem of RAM powers off with status 0 (got $rc)" test "$rc" -eq 0
done

run --kernel "$payloads/hello.elf" --serial "file=$work/serial.log" --console off -v -v --log-file "$work/vmm.log"
check "--serial file= writes the guest's output to the file" grep -q "payload: hello from the guest" "$work/serial.log"
check "--serial file= keeps the guest's output off stdout" test ! -s "$work/out"
check "--log-file records the power-off request" grep -q "power-off" "$work/vmm.log"
check "the debug port records boot-progress markers" grep -q "boot progress 0x02" "$work/vmm.log"

run --kernel "$payloads/hello.elf" --serial null --console off
check "--serial null discards the output and still powers off (got $rc)" test "$rc" -eq 0 -a ! -s "$work/out"

# -- --serial pty: a pseudo-terminal named on stderr and in the control socket's Info -------------
"$vmm" --kernel "$payloads/halt.elf" --serial pty --console off --control-socket "$work/ctl.sock" \
	</dev/null >"$work/out" 2>"$work/err" &
bgpid=$!
if wait_for "$work/err" "--serial pty: /dev/pts/" 1; then
	pty=$(grep -o '/dev/pts/[0-9]*' "$work/err" | head -n1)
	ok "--serial pty names its terminal ($pty)"
	if command -v busctl >/dev/null; then
		for _ in $(seq 50); do [[ -S $work/ctl.sock ]] && break; sleep 0.1; done
		info=$(busctl --address="unix:path=$work/ctl.sock" call org.cloudhypervisor.chd1 \
			/org/cloudhypervisor/chd1/worker org.cloudhypervisor.chd1.Worker Info 2>&1)
		check "Info reports it as SerialPty" grep -q "\"SerialPty\" s \"$pty\"" <<<"$info"
	fi
	# Output written before anybody opened the terminal waits there for the first reader.
	timeout 3 cat "$pty" >"$work/pty.out" 2>/dev/null
	check "the guest's output arrives on the pseudo-terminal" grep -q "payload: halting" "$work/pty.out"
else
	not_ok "--serial pty names its terminal" "$work/err"
fi
kill -TERM "$bgpid"
wait "$bgpid"; rc=$?; bgpid=
check "a VM with --serial pty stops on SIGTERM with status 0 (got $rc)" test "$rc" -eq 0

# -- halt: sleeps without spinning, stops cleanly on SIGTERM ----------------------------------------
"$vmm" --kernel "$payloads/halt.elf" --serial "file=$work/halt.log" --console off </dev/null >"$work/out" 2>"$work/err" &
bgpid=$!
if wait_for "$work/halt.log" "payload: halting" 1; then
	ok "halt payload reached HLT"
	t0=$(awk '{print $14 + $15}' "/proc/$bgpid/stat")
	sleep 1
	t1=$(awk '{print $14 + $15}' "/proc/$bgpid/stat")
	# A halted guest must cost (almost) no host CPU: HLT sleeps in the kernel's LAPIC emulation.
	check "a halted guest does not spin on the host CPU (used $((t1 - t0)) ticks in 1 s)" test $((t1 - t0)) -lt 20
else
	not_ok "halt payload reached HLT" "$work/err"
fi
kill -TERM "$bgpid"
timeout 10 tail --pid="$bgpid" -f /dev/null
wait "$bgpid"; rc=$?; bgpid=
check "SIGTERM stops a running VM with status 0 (got $rc)" test "$rc" -eq 0

# -- fatal guest errors ---------------------------------------------------------------------
run --kernel "$payloads/triple-fault.elf" --serial tty --console off
check "a triple fault ends vmm-worker with status 1 (got $rc)" test "$rc" -eq 1
check "a triple fault is reported with its RIP" grep -q "triple fault.*RIP 0x" "$work/err"
check "the fatal-exit report shows the instruction bytes" grep -q "instruction bytes: [0-9a-f][0-9a-f]" "$work/err"

# -- guest resets reboot the guest ----------------------------------------------------------
for p in reset i8042-reset bios-reset; do
	"$vmm" --kernel "$payloads/$p.elf" --serial "file=$work/$p.log" --console off </dev/null >"$work/out" 2>"$work/err" &
	bgpid=$!
	if wait_for "$work/$p.log" "payload: booted" 3; then
		ok "$p: the guest boots again after a reset"
	else
		not_ok "$p: the guest boots again after a reset" "$work/$p.log" "$work/err"
	fi
	kill -TERM "$bgpid" 2>/dev/null
	wait "$bgpid"; rc=$?; bgpid=
	check "$p: SIGTERM during reboots exits with status 0 (got $rc)" test "$rc" -eq 0
done

# A SIGTERM that races the guest's own reset must still stop the worker (it once started a new
# boot instead, about once in 20 tries).
hung=0
for i in $(seq 30); do
	"$vmm" --kernel "$payloads/reset.elf" --serial null --console off </dev/null >/dev/null 2>&1 &
	bgpid=$!
	sleep "0.0$((i % 10))"
	kill -TERM "$bgpid" 2>/dev/null
	if ! timeout 5 tail -s 0.05 --pid="$bgpid" -f /dev/null; then
		hung=$((hung + 1))
		kill -KILL "$bgpid" 2>/dev/null
	fi
	wait "$bgpid" 2>/dev/null; bgpid=
done
check "SIGTERM racing guest resets stops the worker every time ($hung of 30 hung)" test "$hung" -eq 0

# -- bad input: clear errors, non-zero status ---------------------------------------------------
expect_error() {
	local desc=$1 want_rc=$2 pattern=$3
	shift 3
	run "$@"
	if [[ $rc -eq $want_rc ]] && grep -qi -- "$pattern" "$work/err"; then
		ok "$desc"
	else
		not_ok "$desc (status $rc, wanted $want_rc and /$pattern/)" "$work/err"
	fi
}
head -c 100 "$payloads/hello.elf" >"$work/truncated.elf"
head -c 300 /dev/urandom >"$work/garbage"
: >"$work/empty"
cp "$payloads/hello.elf" "$work/hello.elf"

expect_error "a missing kernel file is named in the error" 1 "$work/nonexistent" \
	--kernel "$work/nonexistent" --console off
expect_error "a truncated kernel is refused" 1 "truncated" --kernel "$work/truncated.elf" --console off
expect_error "a file that is no kernel is refused" 1 "cannot load kernel" --kernel "$work/garbage" --console off
expect_error "a missing initramfs is named in the error" 1 "$work/no-initrd" \
	--kernel "$work/hello.elf" --initramfs "$work/no-initrd" --console off
expect_error "an empty initramfs is refused" 1 "initramfs" --kernel "$work/hello.elf" --initramfs "$work/empty" --console off
expect_error "an unknown option is named" 2 "unknown option '--bogus'" --kernel "$work/hello.elf" --bogus
expect_error "a bad --cpus value names the option and the syntax" 2 "--cpus.*boot=" --kernel "$work/hello.elf" --cpus boot=x
expect_error "a bad --memory value names the option" 2 "--memory" --kernel "$work/hello.elf" --memory size=lots
expect_error "more memory than the VMM can address is refused" 2 "--memory.*too large" --kernel "$work/hello.elf" --memory size=100000G
expect_error "an unwritable --serial file is named" 2 "/nonexistent-dir/x" \
	--kernel "$work/hello.elf" --serial file=/nonexistent-dir/x

echo "1..$n"
[[ $failed -eq 0 ]]
