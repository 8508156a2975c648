#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What chd stores must be readable by libvirt's own tooling: every canonical golden output and
# every example definition validates against libvirt's domain.rng (virt-xml-validate, package
# libvirt-clients), and the examples also against ours. TAP output.
set -u
srcdir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$srcdir/../.." && pwd)

if ! command -v virt-xml-validate >/dev/null 2>&1; then
	echo "1..0 # SKIP virt-xml-validate is missing (tools/setup-host installs libvirt-clients)"
	exit 0
fi

set -- "$srcdir"/data/domain/good/*.out.xml "$top"/schemas/examples/*.xml
echo "1..$(( $# + $(ls "$top"/schemas/examples/*.xml | wc -l) ))"
n=0
for f in "$@"; do
	n=$((n + 1))
	name=${f#"$top"/}
	if out=$(virt-xml-validate "$f" domain 2>&1); then
		echo "ok $n - libvirt accepts $name"
	else
		echo "not ok $n - libvirt refuses $name"
		echo "$out" | sed 's/^/# /'
	fi
done
for f in "$top"/schemas/examples/*.xml; do
	n=$((n + 1))
	name=${f#"$top"/}
	if out=$(xmllint --noout --relaxng "$top/schemas/domain.rng" "$f" 2>&1); then
		echo "ok $n - schemas/domain.rng accepts $name"
	else
		echo "not ok $n - schemas/domain.rng refuses $name"
		echo "$out" | sed 's/^/# /'
	fi
done
