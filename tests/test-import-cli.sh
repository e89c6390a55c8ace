#!/bin/bash
# imgward import without an appliance: --conversion format from qcow2,
# VMDK and VHD sources into a file target (byte-compared with qemu-img
# convert -O raw) and, as root, into a loop block device; --conversion
# none (raw only, copied as it is); the refusals (unsafe source, target
# too small for --max-size or for the device, none on a qcow2) with their
# codes, exit statuses and the target untouched (a file target never
# created); a conversion that fails leaves no file; format,virtio on a
# disk without Windows skips the injector, and --conversion format never
# starts it (a helper directory without imgward-inject proves both); the
# state file: its keys for success and for failure, and that a reader
# polling it during an import never sees a partial file.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img
requires python3

imp() { "$IMGWARD" import --json "$@"; }
state() { jq -c "$1" "$tmp/state.json"; }

# a source with data in it: a GPT and a few MiB of pattern
truncate -s 64M "$tmp/base.raw"
printf 'label: gpt\n,32M\n' | sfdisk -q "$tmp/base.raw" >/dev/null 2>&1 || :
python3 - "$tmp/base.raw" <<'EOF' 2>/dev/null || dd if=/dev/urandom of="$tmp/base.raw" bs=1M seek=4 count=4 conv=notrunc status=none
import sys
with open(sys.argv[1], "r+b") as f:
    for i in range(4, 12):
        f.seek(i << 20)
        f.write(bytes((i * 7 + k) & 0xff for k in range(65536)))
EOF
mkdir "$tmp/no-injector"
for h in sniff ntfs convert; do ln -s "$B/imgward-$h" "$tmp/no-injector/"; done

# ---- format: qcow2, vmdk, vhd into a file ---------------------------------
for fmt in qcow2 vmdk vpc; do
	qemu-img convert -q -f raw -O $fmt "$tmp/base.raw" "$tmp/src.$fmt"
	qemu-img convert -q -f $fmt -O raw "$tmp/src.$fmt" "$tmp/want.$fmt.raw"
	rm -f "$tmp/t.raw" "$tmp/state.json"
	out=$(imp --helper-dir "$tmp/no-injector" --conversion format \
		--target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/src.$fmt" 2>"$tmp/err")
	rc=$?
	check "$fmt: exit 0" test $rc = 0
	check "$fmt: the target is qemu-img's conversion" cmp -s "$tmp/t.raw" "$tmp/want.$fmt.raw"
	name=$fmt
	[ $fmt = vpc ] && name=vhd # our name for it
	check "$fmt: the JSON names the format" jq_is "$out" .format $name
	check "$fmt: no injection asked, none reported" jq_is "$out" 'has("inject")' false
	check "$fmt: state: finished, progress 100, return_code 0, no failed" \
		test "$(state '[.started, .finished, .disks[0].progress, .return_code, has("failed"), .disk_count]')" = '[true,true,100,0,false,1]'
	check "$fmt: state: the pid and the target path" \
		test "$(state '[(.pid | type), .disks[0].path]')" = "[\"number\",\"$tmp/t.raw\"]"
done
check "the default conversion is format" \
	jq_is "$(rm -f "$tmp/t.raw"; imp --target "$tmp/t.raw" "$tmp/src.qcow2")" .format qcow2
out=$("$IMGWARD" import --target "$tmp/t2.raw" "$tmp/src.qcow2" 2>&1)
check "the summary names the target" grep -q "imported into $tmp/t2.raw" <<<"$out"

# ---- none: raw only, copied as it is --------------------------------------
rm -f "$tmp/t.raw"
imp --conversion none --target "$tmp/t.raw" "$tmp/base.raw" >/dev/null 2>&1
check "none: a raw source is copied as it is" cmp -s "$tmp/t.raw" "$tmp/base.raw"
rm -f "$tmp/t.raw"
out=$(imp --conversion none --target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/src.qcow2" 2>/dev/null)
rc=$?
check "none on a qcow2: exit 65" test $rc = 65
check "none on a qcow2: import-refused" jq_is "$out" .error.code import-refused
check "none on a qcow2: no target" test ! -e "$tmp/t.raw"
check "none on a qcow2: state failed with the code" \
	test "$(state '[.finished, .failed, .error.code, .return_code]')" = '[true,true,"import-refused",65]'

# ---- usage ----------------------------------------------------------------
imp --conversion virtio --target "$tmp/t.raw" "$tmp/src.qcow2" >/dev/null 2>&1
check "virtio without format: usage (64)" test $? = 64
imp --conversion format,bogus --target "$tmp/t.raw" "$tmp/src.qcow2" >/dev/null 2>&1
check "an unknown step: usage (64)" test $? = 64
imp --conversion none,format --target "$tmp/t.raw" "$tmp/src.qcow2" >/dev/null 2>&1
check "none with format: usage (64)" test $? = 64
imp "$tmp/src.qcow2" >/dev/null 2>&1
check "no --target: usage (64)" test $? = 64
imp --max-size 12Q --target "$tmp/t.raw" "$tmp/src.qcow2" >/dev/null 2>&1
check "--max-size 12Q: usage (64)" test $? = 64

# ---- refusals: the target untouched ---------------------------------------
qemu-img create -q -f qcow2 -b "$tmp/base.raw" -F raw "$tmp/backed.qcow2"
rm -f "$tmp/t.raw"
out=$(imp --target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/backed.qcow2" 2>/dev/null)
rc=$?
check "unsafe (backing file): exit 1" test $rc = 1
check "unsafe: import-refused" jq_is "$out" .error.code import-refused
check "unsafe: the findings come along" \
	jq_is "$out" '[.probe.findings[].code] | index("backing-file") != null' true
check "unsafe: no target" test ! -e "$tmp/t.raw"
check "unsafe: state failed, return_code 1" \
	test "$(state '[.failed, .error.code, .return_code, .disks[0].progress]')" = '[true,"import-refused",1,0]'

out=$(imp --max-size 63M --target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/src.qcow2" 2>/dev/null)
rc=$?
check "--max-size below the virtual size: exit 73" test $rc = 73
check "--max-size: target-too-small" jq_is "$out" .error.code target-too-small
check "--max-size: no target" test ! -e "$tmp/t.raw"
check "--max-size: state failed" test "$(state '.error.code')" = '"target-too-small"'
imp --max-size 64M --target "$tmp/t.raw" "$tmp/src.qcow2" >/dev/null 2>&1
check "--max-size equal to the virtual size: imported" test $? = 0

# an existing target is replaced only on success
echo "keep me" >"$tmp/keep.raw"
imp --target "$tmp/keep.raw" "$tmp/backed.qcow2" >/dev/null 2>&1
check "a refused import leaves an existing target as it was" \
	test "$(cat "$tmp/keep.raw")" = "keep me"

# a conversion that fails: a qcow2 whose L1 table points past its end
cp "$tmp/src.qcow2" "$tmp/bad.qcow2"
python3 - "$tmp/bad.qcow2" <<'EOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(40)
    l1 = struct.unpack(">Q", f.read(8))[0]
    f.seek(l1)
    f.write(struct.pack(">Q", (1 << 63) | (1 << 40)))
EOF
rm -f "$tmp/t.raw"
out=$(imp --target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/bad.qcow2" 2>/dev/null)
rc=$?
check "a broken qcow2: a failure (exit $rc)" test $rc != 0
check "a broken qcow2: no target file left" test ! -e "$tmp/t.raw"
check "a broken qcow2: state failed" test "$(state '[.finished, .failed]')" = '[true,true]'
check "a broken qcow2: no temporary file left" \
	test -z "$(find "$tmp" -maxdepth 1 -name '.*t.raw*' -o -maxdepth 1 -name 'state.json.*')"

# ---- virtio: no Windows, no injector --------------------------------------
rm -f "$tmp/t.raw"
out=$(imp --helper-dir "$tmp/no-injector" --conversion format,virtio \
	--target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/src.qcow2" 2>"$tmp/err")
rc=$?
check "format,virtio, no Windows: exit 0" test $rc = 0
check "format,virtio, no Windows: skipped" jq_is "$out" .inject.action skipped
check "format,virtio, no Windows: the target is converted" cmp -s "$tmp/t.raw" "$tmp/want.qcow2.raw"
check "format,virtio: state done" test "$(state '[.step, .finished]')" = '["done",true]'

# ---- virtio on Windows without drivers for it (root: the fixture) --------
if [ "$(id -u)" = 0 ] && command -v mkntfs >/dev/null && command -v ntfs-3g >/dev/null &&
	"$top/tests/images/windows-disk.sh" "$tmp/win.raw" 2>/dev/null; then
	qemu-img convert -q -f raw -O qcow2 "$tmp/win.raw" "$tmp/win.qcow2"
	"$top/tests/images/virtio-win-tree.sh" "$tmp/w7tree" --os w7 >/dev/null
	rm -f "$tmp/t.raw"
	out=$(imp --conversion format,virtio --virtio-win "$tmp/w7tree" \
		--target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/win.qcow2" 2>/dev/null)
	rc=$?
	check "no drivers for Server 2019: exit 78, not success" test $rc = 78
	check "no drivers: no-drivers" jq_is "$out" .error.code no-drivers
	check "no drivers: state failed at the inject step" \
		test "$(state '[.failed, .step, .error.code, .return_code]')" = '[true,"inject","no-drivers",78]'
	check "no drivers: the target is the complete conversion, without drivers" \
		cmp -s "$tmp/t.raw" "$tmp/win.raw"
	"$top/tests/images/windows-disk.sh" "$tmp/winv.raw" --virtio 2>/dev/null
	rm -f "$tmp/t.raw"
	out=$(imp --helper-dir "$tmp/no-injector" --conversion format,virtio \
		--target "$tmp/t.raw" "$tmp/winv.raw" 2>/dev/null)
	check "drivers already there: imported, injection skipped" \
		jq_is "$out" '[.inject.action, (.inject.reason | test("already installed"))] | @text' '["skipped",true]'
else
	echo "# Windows cases skipped (need root, mkntfs, ntfs-3g)"
fi

# ---- the state file is never seen half-written ----------------------------
qemu-img create -q -f qcow2 "$tmp/big.qcow2" 2G
qemu-io -f qcow2 -c 'write -P 0x5a 0 600M' "$tmp/big.qcow2" >/dev/null 2>&1 ||
	qemu-img convert -q -f raw -O qcow2 "$tmp/base.raw" "$tmp/big.qcow2"
rm -f "$tmp/t.raw" "$tmp/state.json"
imp --target "$tmp/t.raw" --state-file "$tmp/state.json" "$tmp/big.qcow2" >/dev/null 2>&1 &
pid=$!
reads=0 bad=0
while kill -0 $pid 2>/dev/null; do
	if [ -e "$tmp/state.json" ]; then
		jq -e .started "$tmp/state.json" >/dev/null 2>&1 || bad=$((bad + 1))
		reads=$((reads + 1))
	fi
done
wait $pid
check "polling the state file during an import: $reads reads, none partial" test $bad = 0
check "the polled import finished" test "$(state .finished)" = true

# ---- a block device target (root: losetup) --------------------------------
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	truncate -s 64M "$tmp/dev.img"
	if dev=$(losetup -f --show "$tmp/dev.img" 2>/dev/null); then
		cleanup_fn "losetup -d $dev"
		imp --target "$dev" "$tmp/src.qcow2" >/dev/null 2>&1
		check "block device: imported" test $? = 0
		check "block device: the device holds the conversion" \
			cmp -s "$dev" "$tmp/want.qcow2.raw"
		truncate -s 32M "$tmp/small.img"
		small=$(losetup -f --show "$tmp/small.img")
		cleanup_fn "losetup -d $small"
		dd if=/dev/zero of="$small" bs=1M count=1 status=none
		out=$(imp --target "$small" "$tmp/src.qcow2" 2>/dev/null)
		rc=$?
		check "block device too small: exit 73" test $rc = 73
		check "block device too small: target-too-small" jq_is "$out" .error.code target-too-small
		check "block device too small: untouched" \
			cmp -s <(head -c 1M "$small") <(head -c 1M /dev/zero)
	else
		echo "# losetup failed: block device cases skipped"
	fi
else
	echo "# not root: block device cases skipped"
fi

finish
