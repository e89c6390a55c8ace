#!/bin/bash
# The documentation keeps up with the code: README lists every finding
# code (lib/findings.def) and every broker error code (broker/errors.h),
# and `imgward probe --help` documents every exit status.
. "$(dirname "$0")/functions.sh"

codes=$(sed -n 's/^FINDING([A-Z_0-9]*, "\([a-z-]*\)".*/\1/p' "$top/lib/findings.def")
check "findings.def has codes" test -n "$codes"
missing=
for c in $codes; do
	grep -q "\`$c\`" "$top/README.md" || missing="$missing $c"
done
if [ -z "$missing" ]; then pass "README documents every finding code"; else
	echo "#   missing:$missing"; fail "README documents every finding code"; fi

errors=$(sed -n 's/^[[:space:]]*X([A-Z_]*, "\([a-z-]*\)".*/\1/p' "$top/broker/errors.h")
check "errors.h has codes" test -n "$errors"
missing=
for c in $errors; do
	grep -q "\`$c\`" "$top/README.md" || missing="$missing $c"
done
if [ -z "$missing" ]; then pass "README documents every error code"; else
	echo "#   missing:$missing"; fail "README documents every error code"; fi

help=$("$IMGWARD" probe --help)
for s in 0 1 2 3 64 65 66 69 70 71 73; do
	check "--help documents exit status $s" grep -qE "^ +$s " <<<"$help"
	check "README documents exit status $s" grep -qE "^\| *$s *\|" "$top/README.md"
done
finish
