# Shared by the qcow2, qcow and QED shell tests (sourced after
# functions.sh): patch images with tests/images/qcow-patch.py and check
# verdicts with one jq run per image.

# patch FILE EDIT...: edit FILE in place (qcow-patch.py syntax)
patch() { python3 "$top/tests/images/qcow-patch.py" "$@"; }

# expect 'description' FILE VERDICT [FINDING...]: like expect_sniff, with
# one jq run per image
expect() {
	local what=$1 f=$2 verdict=$3 got c ok=1
	shift 3
	got=" $(sniff "$f" | jq -r '[.verdict, .findings[].code] | join(" ")') "
	case $got in " $verdict "*) ;; *) ok=0 ;; esac
	for c in "$@"; do case $got in *" $c "*) ;; *) ok=0 ;; esac; done
	if [ $ok = 1 ]; then pass "$what"; else
		echo "#   got:$got want: $verdict $*"; fail "$what"; fi
}

# bad 'description' VERDICT BASE 'EDITS' FINDING...: queue a copy of BASE
# patched with EDITS (tests/images/qcow-patch.py syntax, space separated);
# run_bad builds them all in one python run, then checks each verdict and
# finding codes.
bad_specs=()
bad() { bad_specs+=("$(printf '%s\t' "$@")"); }
run_bad() {
	local i line fields
	i=0
	for line in "${bad_specs[@]}"; do
		IFS=$'\t' read -r -a fields <<<"$line"
		echo "${fields[2]} $tmp/bad-$i.img ${fields[3]}"
		i=$((i + 1))
	done | python3 "$top/tests/images/qcow-patch.py" --batch
	i=0
	for line in "${bad_specs[@]}"; do
		IFS=$'\t' read -r -a fields <<<"$line"
		expect "${fields[0]}" "$tmp/bad-$i.img" "${fields[1]}" "${fields[@]:4}"
		i=$((i + 1))
	done
}
