#!/bin/bash
# make install DESTDIR=... (default PREFIX, so the build is not redone) puts every piece where README says,
# and the installed broker runs the installed helper.
. "$(dirname "$0")/functions.sh"
requires make
requires jq

dest=$tmp/root
make -C "$top" -s install DESTDIR="$dest" B="$B" >"$tmp/log" 2>&1
check "make install succeeds" test $? = 0
check "broker in bin" test -x "$dest/usr/local/bin/imgward"
check "sniffer in libexec/imgward" test -x "$dest/usr/local/libexec/imgward/imgward-sniff"
check "seccomp policy installed" test -f "$dest/usr/local/share/imgward/policy/seccomp/sniff.policy"
check "limits installed" test -f "$dest/usr/local/share/imgward/policy/limits/sniff.conf"
check "AppArmor profile for the broker" test -f "$dest/etc/apparmor.d/imgward"
check "AppArmor profile for the sniffer" test -f "$dest/etc/apparmor.d/imgward-sniff"
check "profile paths filled in" grep -q '/usr/local/libexec/imgward/imgward-sniff' "$dest/etc/apparmor.d/imgward-sniff"
check "the broker looks for helpers in PREFIX/libexec/imgward" grep -aq '/usr/local/libexec/imgward' "$dest/usr/local/bin/imgward"
check "no template placeholder left" sh -c "! grep -q '@[A-Z]*@' '$dest/etc/apparmor.d/imgward' '$dest/etc/apparmor.d/imgward-sniff'"
if command -v apparmor_parser >/dev/null && [ -d /usr/share/apparmor-features ]; then
	check "installed profiles compile" apparmor_parser -QK -M /usr/share/apparmor-features/features \
		"$dest/etc/apparmor.d/imgward-sniff"
fi
truncate -s 1M "$tmp/disk.raw"
out=$("$dest/usr/local/bin/imgward" probe --json --helper-dir "$dest/usr/local/libexec/imgward" "$tmp/disk.raw")
check "the installed broker runs the installed helper" jq_is "$out" .verdict safe
make -C "$top" -s uninstall DESTDIR="$dest" B="$B" >/dev/null 2>&1
check "make uninstall removes the broker" test ! -e "$dest/usr/local/bin/imgward"
check "make uninstall removes the helpers" test ! -e "$dest/usr/local/libexec/imgward"
finish
