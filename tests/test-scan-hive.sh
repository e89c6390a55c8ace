#!/bin/bash
# Registry hive reader (lib/scan/hive.c): SOFTWARE- and SYSTEM-like hives
# written by tests/images/hive.py read back with build/tests/hive-tool
# byte for byte as hivex reads them (hivexget, hivexregedit --export);
# broken hives (tests/images/hive-corrupt.py) end in the exact problem
# code, a non-zero exit, no crash and no hang.
. "$(dirname "$0")/functions.sh"
requires python3
requires hivexget
requires hivexregedit
requires jq
py=$(python3 -c 'import sys; print(sys.executable)')
T=$B/tests/hive-tool
# a sanitizer report must not pass for an ordinary exit 1 or 2
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=87"
[ -x "$T" ] || skip "build/tests/hive-tool is not built"

# ---- fixtures ----------------------------------------------------------
# SOFTWARE: CurrentVersion with a value of every type (a 40000-byte one
# in big-data segments), a non-Latin-1 key name and a UTF-16-stored one,
# 3000 subkeys through an ri list, 2000 through one lh list, 600 through
# an li list and 300 through an lf list.
$py - "$tmp" <<'EOF'
import json, os, sys
sys.path.insert(0, os.environ.get("top", ".") + "/tests/images")
tmp = sys.argv[1]
sw = {"name": "ROOT", "file-name": "\\SystemRoot\\System32\\Config\\SOFTWARE",
 "keys": {
  "Microsoft": {"keys": {"Windows NT": {"keys": {"CurrentVersion": {"values": {
    "ProductName": {"type": "sz", "data": "Windows Server 2019 Standard"},
    "EditionID": {"type": "sz", "data": "ServerStandard"},
    "InstallationType": {"type": "sz", "data": "Server"},
    "CurrentVersion": {"type": "sz", "data": "6.3"},
    "CurrentBuildNumber": {"type": "sz", "data": "17763"},
    "CurrentMajorVersionNumber": {"type": "dword", "data": 10},
    "CurrentMinorVersionNumber": {"type": "dword", "data": 0},
    "BigEndian": {"type": "dword_be", "data": 258},
    "Negative": {"type": "dword", "data": 4294967295},
    "InstallTime": {"type": "qword", "data": 132000000000000000},
    "SystemRoot": {"type": "expand_sz", "data": "%SystemDrive%\\Windows"},
    "PathName": {"type": "multi_sz", "data": ["C:\\Windows", "é€"]},
    "DigitalProductId": {"type": "binary", "data": "a40000000300000030"},
    "Tiny": {"type": "binary", "data": "0102"},
    "Empty": {"type": "sz", "data": ""},
    "NoneType": {"type": "none", "data": ""},
    "Big": {"type": "binary", "data": {"size": 40000, "pattern": "0123456789abcdef"}},
    "BigString": {"type": "sz", "data": "x" * 8999},
    "Odd": {"type": "sz", "raw": "41004200430000"},
    "": {"type": "sz", "data": "(default)"},
    "Ünïcödé €": {"type": "sz", "data": "Grüße", "utf16-name": True}}}}}}},
  "Ключ": {"values": {"Значение": {"type": "sz", "data": "да"}}},
  "Wide": {"utf16-name": True, "values": {"v": {"type": "dword", "data": 1}}},
  "Classes": {"subkey-list": "ri", "ri-chunk": 512,
              "keys": {"Class%04d" % i: {} for i in range(3000)}},
  "Flat": {"keys": {"Flat%04d" % i: {} for i in range(2000)}},
  "Li": {"subkey-list": "li", "keys": {"li%03d" % i: {} for i in range(600)}},
  "Lf": {"subkey-list": "lf", "keys": {"lf%03d" % i: {"values": {"n": {"type": "dword", "data": i}}} for i in range(300)}}}}
sw["keys"]["Classes"]["keys"]["Class2999"] = {"values": {"last": {"type": "sz", "data": "found"},
                                                "n": {"type": "dword", "data": 2999}}}
json.dump(sw, open(tmp + "/software.json", "w"), ensure_ascii=False)
# big data whose last segment is not a multiple of 8 bytes: hivex
# (value.c) copies each segment's cell size - 8 bytes and loses the
# tail, Windows (and we) return the declared length
json.dump({"keys": {"K": {"values": {"Odd": {"type": "binary",
    "data": {"size": 20001, "pattern": "0102030405060708090a0b"}}}}}},
    open(tmp + "/bigodd.json", "w"))
# SYSTEM: Select\Current, the current control set's architecture, host
# name and services (viostor among 800)
svc = {"Svc%03d" % i: {"values": {"Start": {"type": "dword", "data": 3}}} for i in range(800)}
svc["viostor"] = {"values": {"Start": {"type": "dword", "data": 0},
                             "ImagePath": {"type": "expand_sz", "data": "System32\\drivers\\viostor.sys"}}}
sy = {"name": "ROOT", "file-name": "SYSTEM", "keys": {
  "Select": {"values": {"Current": {"type": "dword", "data": 1},
                        "Default": {"type": "dword", "data": 1}}},
  "ControlSet001": {"keys": {
    "Control": {"keys": {
      "Session Manager": {"keys": {"Environment": {"values": {
        "PROCESSOR_ARCHITECTURE": {"type": "sz", "data": "AMD64"}}}}},
      "ComputerName": {"keys": {"ComputerName": {"values": {
        "ComputerName": {"type": "sz", "data": "WIN-ABC123"}}}}}}},
    "Services": {"keys": svc}}}}}
json.dump(sy, open(tmp + "/system.json", "w"))
EOF
export top
$py "$top/tests/images/hive.py" "$tmp/SOFTWARE" "$tmp/software.json" ||
	fail "hive.py wrote SOFTWARE"
$py "$top/tests/images/hive.py" "$tmp/SYSTEM" "$tmp/system.json" ||
	fail "hive.py wrote SYSTEM"
# a version 1.3 hive: big values in one cell, as hivex writes them
jq '.minor = 3' "$tmp/software.json" > "$tmp/software13.json"
$py "$top/tests/images/hive.py" "$tmp/SOFTWARE13" "$tmp/software13.json"
# 64 KiB bins: most cells pages away from their bin's header
jq '."bin-size" = 65536' "$tmp/software.json" > "$tmp/software64k.json"
$py "$top/tests/images/hive.py" "$tmp/SOFTWARE64K" "$tmp/software64k.json"

$py "$top/tests/images/hive.py" "$tmp/BIGODD" "$tmp/bigodd.json"

CV='Microsoft\Windows NT\CurrentVersion'

# same_as_hivex HIVE KEY VALUE: hive-tool get prints what hivexget prints
same_as_hivex() {
	local a b
	a=$(timeout 10 "$T" get "$1" "$2" "$3" | od -An -tx1) || return 1
	b=$(hivexget "$1" "$2" "$3" | od -An -tx1) || return 1
	[ "$a" = "$b" ] && return 0
	echo "#   $2 $3: hive-tool and hivexget differ"
	return 1
}

for hive in SOFTWARE SOFTWARE13; do
	ok=1
	for v in ProductName EditionID InstallationType CurrentVersion \
		CurrentBuildNumber CurrentMajorVersionNumber \
		CurrentMinorVersionNumber Negative InstallTime SystemRoot PathName \
		DigitalProductId Tiny Empty Big BigString Odd '' 'Ünïcödé €'; do
		same_as_hivex "$tmp/$hive" "$CV" "$v" || ok=0
	done
	check "$hive: every CurrentVersion value as hivexget reads it" [ $ok = 1 ]
done
check "the big-data value is 40000 bytes" \
	[ "$("$T" get "$tmp/SOFTWARE" "$CV" Big | wc -c)" = 40000 ]
check "big data with a short last segment: all 20001 bytes" \
	[ "$("$T" get "$tmp/BIGODD" K Odd | od -An -tx1 -v | tr -d ' \n')" = \
	  "$($py -c 'print(((bytes(range(1, 12)) * 2000)[:20001]).hex())')" ]
check "non-Latin-1 key and value names" \
	[ "$("$T" get "$tmp/SOFTWARE" 'Ключ' 'Значение')" = "да" ]
check "a UTF-16-stored key name" \
	[ "$("$T" dword "$tmp/SOFTWARE" 'Wide' v)" = 1 ]

# whole hives, every key and value, as hivexregedit --export prints them
for hive in SOFTWARE SOFTWARE13 SOFTWARE64K SYSTEM; do
	"$T" export "$tmp/$hive" > "$tmp/$hive.ours" 2>"$tmp/err"
	hivexregedit --export "$tmp/$hive" '\' > "$tmp/$hive.hivex" 2>/dev/null
	check "$hive: export equals hivexregedit --export ($(grep -c '^\[' "$tmp/$hive.hivex") keys)" \
		cmp -s "$tmp/$hive.ours" "$tmp/$hive.hivex"
done

# lookups: case-insensitive, leading/doubled backslashes, every list kind
check "case-insensitive lookup" \
	[ "$("$T" string "$tmp/SOFTWARE" 'MICROSOFT\windows nt\currentVERSION' productname)" = "Windows Server 2019 Standard" ]
check "leading and doubled backslashes" \
	[ "$("$T" string "$tmp/SOFTWARE" '\Microsoft\\Windows NT\CurrentVersion' EditionID)" = ServerStandard ]
check "string cut at the first NUL" \
	[ "$("$T" string "$tmp/SOFTWARE" "$CV" Odd)" = ABC ]
check "a string longer than the caller's buffer is cut (255 bytes)" \
	[ "$("$T" string "$tmp/SOFTWARE" "$CV" BigString | tr -d '\n' | wc -c)" = 255 ]
check "DWORD_BIG_ENDIAN" [ "$("$T" dword "$tmp/SOFTWARE" "$CV" BigEndian)" = 258 ]
check "the last of 3000 subkeys (ri list)" \
	[ "$("$T" string "$tmp/SOFTWARE" 'Classes\class2999' last)" = found ]
check "ri: 3000 subkeys listed" [ "$("$T" ls "$tmp/SOFTWARE" Classes | wc -l)" = 3000 ]
check "lh: 2000 subkeys listed" [ "$("$T" ls "$tmp/SOFTWARE" Flat | wc -l)" = 2000 ]
check "li: a subkey found" "$T" ls "$tmp/SOFTWARE" 'Li\LI599'
check "lf: a subkey found" [ "$("$T" dword "$tmp/SOFTWARE" 'Lf\lf299' n)" = 299 ]
check "missing key: exit 1, no problem" \
	bash -c '"$1" ls "$2" "Microsoft\\Nope" 2>&1 | grep -q "not found"; [ ${PIPESTATUS[0]} = 1 ]' _ "$T" "$tmp/SOFTWARE"
check "missing value: exit 1" \
	bash -c '"$1" get "$2" Microsoft nope 2>/dev/null; [ $? = 1 ]' _ "$T" "$tmp/SOFTWARE"
check "a DWORD read as a string is hive-value" \
	bash -c '"$1" string "$2" "$3" CurrentMajorVersionNumber 2>&1 | grep -q "problem hive-value"' _ "$T" "$tmp/SOFTWARE" "$CV"

# SYSTEM: what the Windows inspector reads
check "SYSTEM: Select\\Current" [ "$("$T" dword "$tmp/SYSTEM" Select Current)" = 1 ]
check "SYSTEM: PROCESSOR_ARCHITECTURE" \
	[ "$("$T" string "$tmp/SYSTEM" 'ControlSet001\Control\Session Manager\Environment' PROCESSOR_ARCHITECTURE)" = AMD64 ]
check "SYSTEM: Services\\viostor Start" \
	[ "$("$T" dword "$tmp/SYSTEM" 'ControlSet001\Services\viostor' Start)" = 0 ]
check "SYSTEM: the host name" \
	[ "$("$T" get "$tmp/SYSTEM" 'ControlSet001\Control\ComputerName\ComputerName' ComputerName)" = WIN-ABC123 ]
j=$("$T" dump "$tmp/SYSTEM")
check "dump: JSON with every key" jq_is "$j" '.keys | length' 810
check "dump: values typed" \
	jq_is "$j" '.keys[] | select(.path == "\\ControlSet001\\Services\\viostor") | .values[] | select(.name == "Start") | .data' 0

# speed: Services\viostor\Start among 801 services, from the root, in
# one process (the page cache warm, as in the Windows inspector)
us=$("$T" bench "$tmp/SYSTEM" 'ControlSet001\Services\viostor' Start 20000)
echo "# lookup of ControlSet001\\Services\\viostor + Start: $us us"
check "a lookup takes under 100 us" $py -c "import sys; sys.exit(not $us < 100)"
us=$("$T" bench "$tmp/SOFTWARE" 'Classes\Class2999' n 500)
echo "# lookup of Classes\\Class2999 (3000 subkeys, ri of li lists: no hash) + n: $us us"
check "through an ri list of 3000 in under 10 ms" $py -c "import sys; sys.exit(not $us < 10000)"

# ---- broken hives: the exact problem code -----------------------------
$py "$top/tests/images/hive-corrupt.py" "$tmp/bad" || fail "hive-corrupt.py"
check "the corruption base reads" \
	[ "$("$T" string "$tmp/bad/good.hive" "$CV" ProductName)" = "Windows 10 Pro" ]
check "the corruption base's big value" \
	[ "$("$T" get "$tmp/bad/good.hive" "$CV" Big | wc -c)" = 40000 ]

# expect_problem CASE CODE CMD [ARGS...]: hive-tool CMD on bad/CASE.hive
# exits 2 (not a signal, not a timeout) and names CODE
expect_problem() {
	local c=$1 code=$2 cmd=$3 out rc
	shift 3
	out=$(timeout 10 "$T" "$cmd" "$tmp/bad/$c.hive" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = 2 ] && grep -q "problem $code:" <<<"$out"; then
		pass "$c: $code"
	else
		echo "#   exit $rc: $out"
		fail "$c: $code"
	fi
}
pn=(get "$CV" ProductName)
expect_problem bad-checksum hive-header "${pn[@]}"
expect_problem bad-signature hive-header "${pn[@]}"
expect_problem bad-version hive-header "${pn[@]}"
expect_problem root-past-data hive-header "${pn[@]}"
expect_problem data-size-odd hive-header "${pn[@]}"
expect_problem truncated hive-header "${pn[@]}"
expect_problem hbin-offset hive-cell "${pn[@]}"
expect_problem hbin-size hive-cell "${pn[@]}"
expect_problem cell-size-zero hive-cell "${pn[@]}"
expect_problem cell-size-huge hive-cell "${pn[@]}"
expect_problem cell-past-bin hive-cell "${pn[@]}"
expect_problem cell-free hive-cell "${pn[@]}"
expect_problem cell-unaligned hive-cell "${pn[@]}"
expect_problem nk-name-past-cell hive-cell "${pn[@]}"
expect_problem nk-signature hive-cell "${pn[@]}"
expect_problem nk-too-many-subkeys hive-limit "${pn[@]}"
expect_problem nk-too-many-values hive-limit "${pn[@]}"
expect_problem list-self hive-loop "${pn[@]}"
expect_problem list-ancestor hive-loop get 'Microsoft\Windows NT\Microsoft' x
expect_problem list-ancestor hive-loop export
expect_problem list-parent hive-loop ls Loop
expect_problem list-count hive-cell ls 'Microsoft\Windows NT'
expect_problem list-entries-past-cell hive-cell "${pn[@]}"
expect_problem list-signature hive-cell "${pn[@]}"
expect_problem ri-self hive-loop get 'Many\k1199' x
expect_problem ri-self hive-loop ls Many
expect_problem ri-nested hive-cell ls Many
expect_problem vk-data-past-cell hive-value "${pn[@]}"
expect_problem vk-inline-too-long hive-value "${pn[@]}"
expect_problem vk-name-past-cell hive-cell "${pn[@]}"
expect_problem vk-9mb hive-limit get "$CV" Big
expect_problem vk-dword-size hive-value dword "$CV" CurrentMajorVersionNumber
expect_problem db-too-many-segments hive-limit get "$CV" Big
expect_problem db-too-few-segments hive-value get "$CV" Big
expect_problem db-segment-small hive-value get "$CV" Big
# every case through every reading path: no crash, no hang
ok=1
for f in "$tmp"/bad/*.hive; do
	for args in "export" "dump" "ls Many" "get $CV Big"; do
		# shellcheck disable=SC2086
		timeout 10 "$T" ${args%% *} "$f" ${args#* } >/dev/null 2>&1
		rc=$?
		[ "$args" = export ] || [ "$args" = dump ] || :
		if [ $rc -gt 2 ]; then
			echo "#   $f $args: exit $rc"
			ok=0
		fi
	done
done
check "every broken hive, every command: exit 0-2, no crash or hang" [ $ok = 1 ]

# random damage: 300 hives with bytes of the hive data overwritten
$py - "$tmp/bad/good.hive" "$tmp/rand" <<'EOF'
import os, random, sys
data = open(sys.argv[1], "rb").read()
os.makedirs(sys.argv[2], exist_ok=True)
rng = random.Random(5)
for i in range(300):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        off = rng.randrange(4096, len(b) - 4)
        b[off:off + 4] = rng.choice([b"\xff\xff\xff\xff", b"\0\0\0\0",
                                     rng.randbytes(4), b"\x00\x10\x00\x00"])
    open("%s/r%03d.hive" % (sys.argv[2], i), "wb").write(b)
EOF
ok=1
for f in "$tmp"/rand/*.hive; do
	timeout 10 "$T" export "$f" >/dev/null 2>&1
	rc=$?
	[ $rc -le 2 ] || { echo "#   $f: exit $rc"; ok=0; }
done
check "300 randomly damaged hives: exit 0-2, no crash or hang" [ $ok = 1 ]

finish
