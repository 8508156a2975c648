# SPDX-License-Identifier: Apache-2.0
# Sourced by tools/demo and tools/demo.d/run-vm: numbered step headers and failures that say
# where the demo stopped. DEMO_STEP carries the step count from the host into the test host.

DEMO_STEPS=8
DEMO_STEP=${DEMO_STEP:-0}
DEMO_TITLE=

demo_step() {
	DEMO_STEP=$((DEMO_STEP + 1))
	DEMO_TITLE=$1
	printf '\n==> [%d/%d] %s\n' "$DEMO_STEP" "$DEMO_STEPS" "$1"
}

# demo_die MESSAGE [STATUS]: names the step that failed; status 1 unless given.
demo_die() {
	echo "demo: ${DEMO_TITLE:+step $DEMO_STEP/$DEMO_STEPS ($DEMO_TITLE) failed: }$1" >&2
	exit "${2:-1}"
}

# Shows a command, then runs it: the demo is also a lesson in which command does what.
demo_run() {
	echo "\$ ${1##*/} ${*:2}"
	"$@"
}
