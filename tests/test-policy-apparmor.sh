#!/bin/bash
# Every AppArmor profile template in policy/apparmor/ compiles with
# apparmor_parser once its placeholders are filled in as `make install`
# does, follows the house rules (abi pinned, local override, a why-comment
# per rule group), and the check can fail. The kernels we test on have no
# AppArmor, so this is a compile check only (-Q: skip kernel load, -K:
# skip cache); runtime confinement is tested on an AppArmor host.
. "$(dirname "$0")/functions.sh"

requires apparmor_parser

# A fixed feature set so the result does not float with the kernel, and
# so --Werror does not trip over "Cache read/write disabled: interface
# file missing" on kernels without AppArmor (reference/sandboxing.md §5).
FEATURES=
for f in /usr/share/apparmor-features/features /etc/apparmor.d/abi/3.0; do
	if [ -f "$f" ]; then
		FEATURES=$f
		break
	fi
done
if [ -n "$FEATURES" ]; then
	PARSER=(apparmor_parser -QK --Werror -M "$FEATURES")
	echo "# apparmor_parser $(apparmor_parser --version | head -1 | awk '{print $NF}'), features $FEATURES"
else
	# Without a feature file the parser warns about the missing cache
	# interface on every run, so --Werror cannot be used.
	PARSER=(apparmor_parser -QK)
	echo "# no apparmor feature file found: compiling without --Werror"
fi

HELPERDIR=/usr/local/libexec/imgward
BINDIR=/usr/local/bin

not_grep() { ! grep -q "$@"; }

# substitute IN OUT: the Makefile's install substitution
substitute() {
	sed -e "s|@HELPERDIR@|$HELPERDIR|g" -e "s|@BINDIR@|$BINDIR|g" "$1" >"$2"
}

# why_comments FILE: every run of rule lines inside a profile starts
# right after a comment line
why_comments() {
	awk '
		/^[ \t]*profile / { inside = 1; prev = "blank"; next }
		inside && /^}/ { inside = 0; next }
		!inside { next }
		/^[ \t]*$/ { prev = "blank"; next }
		/^[ \t]*#/ { prev = "comment"; next }
		{
			if (prev == "blank") {
				printf "%s:%d: rule group without a why-comment: %s\n", FILENAME, NR, $0
				bad = 1
			}
			prev = "rule"
		}
		END { exit bad }
	' "$1"
}

n=0
for in in "$top"/policy/apparmor/*.in; do
	[ -f "$in" ] || continue
	n=$((n + 1))
	name=$(basename "$in" .in)
	out=$tmp/$name
	substitute "$in" "$out"
	if "${PARSER[@]}" "$out" 2>"$tmp/err"; then
		pass "$name: compiles"
	else
		fail "$name: apparmor_parser: $(head -c 400 "$tmp/err")"
	fi
	check "$name: defines exactly the profile '$name'" \
		test "$(apparmor_parser -N "$out" 2>/dev/null)" = "$name"
	check "$name: pins abi 3.0" grep -q '^abi <abi/3.0>,$' "$in"
	check "$name: site overrides through local/$name" \
		grep -q "^  include if exists <local/$name>$" "$in"
	check "$name: no placeholder left after substitution" \
		not_grep '@[A-Z]*@' "$out"
	check "$name: a why-comment on every rule group" why_comments "$in"
done
check "at least one profile is shipped" test "$n" -gt 0

# ---- what each profile must say ---------------------------------------
sniff=$tmp/imgward-sniff
if [ -f "$sniff" ]; then
	check "imgward-sniff: attached to the installed helper" \
		grep -q "^profile imgward-sniff $HELPERDIR/imgward-sniff " "$sniff"
	for rule in 'deny capability,' 'deny ptrace (trace, read, tracedby),' 'deny mount,' \
		'deny network inet,' 'deny network inet6,' \
		'deny @{PROC}/\*\* rwklmx,' 'deny @{sys}/\*\* rwklmx,' \
		'deny @{HOME}/\*\* rwklmx,' 'deny /\*\* wl,'; do
		check "imgward-sniff: has '$rule'" grep -q "^  $rule\$" "$sniff"
	done
	# it grants nothing by path but its own binary
	check "imgward-sniff: its only allowed path is its own binary" \
		test "$(grep -E '^  /' "$sniff")" = "  $HELPERDIR/imgward-sniff mr,"
	check "imgward-sniff: no base abstraction (static binary)" \
		not_grep -E '^[[:space:]]*#?include.*abstractions/base' "$sniff"
fi
broker=$tmp/imgward
if [ -f "$broker" ]; then
	check "imgward: attached to the installed broker" \
		grep -q "^profile imgward $BINDIR/imgward {" "$broker"
	check "imgward: helpers run only through a change of profile (no ix/px/ux)" \
		not_grep -E "imgward-\\*? .*[iPpUuCc]x" "$broker"
	check "imgward: may change to the helper profiles on exec" \
		grep -q "^  change_profile $HELPERDIR/imgward-\\* -> imgward-\\*,$" "$broker"
	check "imgward: no network" grep -q '^  deny network inet,$' "$broker"
fi

# ---- the check can fail -----------------------------------------------
cat >"$tmp/broken" <<'EOF'
abi <abi/3.0>,
include <tunables/global>
profile broken /usr/bin/broken {
  /etc/hostname r
  /etc/hosts r,
}
EOF
if "${PARSER[@]}" "$tmp/broken" 2>"$tmp/err"; then
	fail "a profile with a syntax error compiles"
else
	pass "a profile with a syntax error fails ($(head -1 "$tmp/err"))"
fi
printf 'abi <abi/3.0>,\nprofile bogus /usr/bin/bogus {\n  capability frobnicate,\n}\n' >"$tmp/badcap"
if "${PARSER[@]}" "$tmp/badcap" 2>"$tmp/err"; then
	fail "a profile with an unknown capability compiles"
else
	pass "an unknown capability fails ($(head -1 "$tmp/err"))"
fi
in=$top/policy/apparmor/imgward-sniff.in
if [ -f "$in" ]; then
	if "${PARSER[@]}" "$in" 2>"$tmp/err"; then
		fail "an unsubstituted template compiles"
	else
		pass "an unsubstituted template fails ($(head -1 "$tmp/err"))"
	fi
fi
printf 'abi <abi/3.0>,\nprofile t /usr/bin/t {\n  # why\n  /a r,\n\n  /b r,\n}\n' >"$tmp/nowhy"
if why_comments "$tmp/nowhy" >/dev/null; then
	fail "the why-comment check passes a rule group without one"
else
	pass "the why-comment check catches a rule group without one"
fi

finish
