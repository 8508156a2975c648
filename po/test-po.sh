#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The message catalogue, as TAP: the template (chd.pot) lists exactly the messages the sources in
# POTFILES mark, every translation passes msgfmt --check and translates all of them, and chctl
# really speaks the translation when asked to.
#
# usage: test-po.sh SOURCE_ROOT CHCTL_BINARY LOCALEDIR (the build tree's po/, holding LL/LC_MESSAGES)
set -uo pipefail
src=$1 chctl=$2 localedir=$3
po=$src/po
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

check() { # description, command...
	local what=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# /' <<<"$out"
		failed=1
	fi
}

# The same keywords and flags as po/meson.build's glib preset, for the marks chctl uses.
(cd "$src" && xgettext --from-code=UTF-8 --add-comments=TRANSLATORS --keyword=_ --keyword=N_ \
	--files-from=po/POTFILES --output="$tmp/fresh.pot" 2>&1)
check "chd.pot has every marked message (else: meson compile -C build chd-pot)" \
	msgcmp --use-untranslated "$po/chd.pot" "$tmp/fresh.pot"
check "chd.pot has no message the sources dropped (else: meson compile -C build chd-pot)" \
	msgcmp --use-untranslated "$tmp/fresh.pot" "$po/chd.pot"

for lang in $(grep -v '^#' "$po/LINGUAS"); do
	check "$lang.po passes msgfmt --check" msgfmt --check --output-file=/dev/null "$po/$lang.po"
	check "$lang.po translates every message of chd.pot (else: chd-update-po, then translate)" \
		msgcmp "$po/$lang.po" "$po/chd.pot"
	check "$lang.po has no fuzzy translations" \
		test -z "$(msgattrib --only-fuzzy --no-obsolete "$po/$lang.po" | grep -v '^#' | grep -c . | grep -v '^0$')"
done

# LANGUAGE picks the catalogue; it needs a locale other than C, and C.UTF-8 always exists.
speak() {
	LC_ALL=C.UTF-8 LANGUAGE=fr CHCTL_LOCALEDIR=$localedir "$chctl" frobnicate 2>&1
	true
}
check "chctl speaks French with LANGUAGE=fr" grep -q "verbe inconnu « frobnicate »" <(speak)

echo "1..$n"
exit $failed
