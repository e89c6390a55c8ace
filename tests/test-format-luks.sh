#!/bin/bash
# LUKS reader: LUKS1 (qemu-img) and LUKS2 (tests/images/luks.py) are
# detected as encrypted and unsupported, LUKS1 with qemu's virtual size;
# headers qemu would refuse are invalid.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires jq
requires python3

. "$top/tests/images/poke.sh"
# LUKS1 header offsets (big-endian)
OFF_CIPHER_NAME=8
OFF_PAYLOAD=104
OFF_MK_ITERS=164
OFF_SLOT0=208 # active, iterations, salt[32], key offset, stripes
OFF_SLOT1=256

# qemu-img create -f luks times PBKDF2 with the thread's CPU clock and
# gives up ("Unable to get accurate CPU usage") on a coarse or busy one:
# retry, then fall back to the same layout written by tests/images/luks.py
luks1=$tmp/luks1.img
for try in 1 2 3; do
	qemu-img create -q -f luks --object secret,id=s,data=imgward \
		-o key-secret=s,iter-time=10 "$luks1" 8M 2>/dev/null && break
	rm -f "$luks1"
done
if [ ! -s "$luks1" ]; then
	echo "# qemu-img create -f luks failed; using tests/images/luks.py"
	python3 "$top/tests/images/luks.py" 1 "$luks1"
fi

j=$(sniff "$luks1")
expect_sniff 'LUKS1 (qemu-img create) is unsupported + encrypted' "$luks1" unsupported encrypted
check 'LUKS1 virtual size equals qemu-img info -f luks' \
	jq_is "$j" '."virtual-size"' "$(qemu_vsize "$luks1" luks)"
check 'LUKS1 payload offset equals qemu' \
	jq_is "$j" '."format-specific".data."payload-offset"' \
	"$(qemu-img info -f luks --output=json "$luks1" | jq -r '."format-specific".data."payload-offset"')"
check 'LUKS1 slots equal qemu' \
	jq_is "$j" '."format-specific".data.slots | tojson' \
	"$(qemu-img info -f luks --output=json "$luks1" | jq -c '."format-specific".data.slots')"
check 'LUKS1 cipher as qemu names it' \
	jq_is "$j" '."format-specific".data | [.version, ."cipher-mode", ."ivgen-alg", ."hash-alg", ."active-slots"] | join(",")' \
	'1,xts,plain64,sha256,1'
check 'LUKS1 has no finding but encrypted' jq_is "$j" '[.findings[].code] | join(",")' encrypted

# qemu auto-detects LUKS1 (and not LUKS2, below)
check 'qemu-probe of LUKS1 agrees with qemu-img' \
	jq_is "$j" '."qemu-probe"' "$(qemu-img info --output=json "$luks1" | jq -r .format)"

# --- LUKS2 -------------------------------------------------------------
python3 "$top/tests/images/luks.py" 2 "$tmp/luks2.img"
j=$(sniff "$tmp/luks2.img")
expect_sniff 'LUKS2 is unsupported + encrypted' "$tmp/luks2.img" unsupported encrypted unsupported-version
check 'LUKS2 header facts' \
	jq_is "$j" '."format-specific".data | [.version, ."header-size", ."json-area-size", ."secondary-header", .uuid] | join(",")' \
	'2,16384,12288,true,12345678-90ab-cdef-1234-567890abcdef'
check 'qemu-probe of LUKS2 is raw, as qemu-img says' \
	jq_is "$j" '."qemu-probe"' "$(qemu-img info --output=json "$tmp/luks2.img" | jq -r .format)"
check 'qemu-img refuses LUKS2 (so no virtual size)' jq_is "$j" '."virtual-size" // "none"' none

cp "$tmp/luks2.img" "$tmp/luks2-size.img"
poke "$tmp/luks2-size.img" 8 8 12345 be
expect_sniff 'LUKS2 header size not a power of two is invalid' "$tmp/luks2-size.img" invalid bad-field encrypted

cp "$tmp/luks2.img" "$tmp/luks2-off.img"
poke "$tmp/luks2-off.img" 256 8 16384 be
expect_sniff 'LUKS2 primary header claiming another offset is invalid' "$tmp/luks2-off.img" invalid bad-field

head -c 1000 "$tmp/luks2.img" > "$tmp/luks2-trunc.img"
expect_sniff 'truncated LUKS2 header is invalid' "$tmp/luks2-trunc.img" invalid truncated encrypted

# --- broken LUKS1 headers (qemu's check_header rules) -------------------
cp "$luks1" "$tmp/payload.img"
poke "$tmp/payload.img" $OFF_PAYLOAD 4 4 be
expect_sniff 'LUKS1 payload overlapping the header is invalid' "$tmp/payload.img" invalid table-overlap

cp "$luks1" "$tmp/stripes.img"
poke "$tmp/stripes.img" $((OFF_SLOT0 + 44)) 4 1 be
expect_sniff 'LUKS1 slot with stripes != 4000 is invalid' "$tmp/stripes.img" invalid bad-field

cp "$luks1" "$tmp/state.img"
poke "$tmp/state.img" $OFF_SLOT1 4 0x12345678 be
expect_sniff 'LUKS1 slot with a garbage state is invalid' "$tmp/state.img" invalid bad-field

cp "$luks1" "$tmp/slotover.img"
poke "$tmp/slotover.img" $((OFF_SLOT1 + 40)) 4 8 be
expect_sniff 'LUKS1 slots sharing key material is invalid' "$tmp/slotover.img" invalid table-overlap

cp "$luks1" "$tmp/iters.img"
poke "$tmp/iters.img" $OFF_MK_ITERS 4 0 be
expect_sniff 'LUKS1 master key iterations 0 is invalid' "$tmp/iters.img" invalid bad-field

cp "$luks1" "$tmp/name.img"
poke_hex "$tmp/name.img" $OFF_CIPHER_NAME "$(printf '41%.0s' $(seq 96))"
expect_sniff 'LUKS1 names without NUL are invalid' "$tmp/name.img" invalid bad-field

head -c 65536 "$luks1" > "$tmp/short.img"
expect_sniff 'LUKS1 payload past EOF is invalid' "$tmp/short.img" invalid truncated

head -c 300 "$luks1" > "$tmp/trunc.img"
expect_sniff 'truncated LUKS1 header is invalid, not raw' "$tmp/trunc.img" invalid truncated
check 'truncated LUKS1 header is still luks' jq_is "$(sniff "$tmp/trunc.img")" .format luks

cp "$luks1" "$tmp/v3.img"
poke "$tmp/v3.img" 6 2 3 be
expect_sniff 'LUKS version 3 is unsupported' "$tmp/v3.img" unsupported unsupported-version encrypted

finish
