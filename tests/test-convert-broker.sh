#!/bin/bash
# imgward convert as a user meets it: what it refuses, where the output
# goes (file through a temporary name, block device, stdout), what is left
# behind on failure (nothing), progress, and the sandbox of the converter.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img
requires python3

conv() {
	"$IMGWARD" convert "$@" 2>"$tmp/err"
	rc=$?
}

# a raw disk with random, zero and patterned extents, and a ragged tail
python3 - "$tmp/disk.raw" <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(40 * 2**20 + 4096 + 512)
    f.seek(0); f.write(os.urandom(3 * 2**20))
    f.seek(10 * 2**20); f.write(bytes([0x5a]) * (2**20 + 1234))
    f.seek(20 * 2**20 + 512); f.write(os.urandom(70000))
    f.seek(40 * 2**20); f.write(os.urandom(4096 + 512))
EOF

# ---- raw to raw: identical, sparse, nothing left over --------------------
conv "$tmp/disk.raw" "$tmp/out.raw"
check "raw -> raw succeeds" test "$rc" = 0
check "... byte for byte" cmp -s "$tmp/disk.raw" "$tmp/out.raw"
alloc=$(( $(stat -c %b "$tmp/out.raw") * 512 ))
check "... sparse (allocated $alloc bytes < 10 MiB)" test "$alloc" -lt $((10 * 2**20))
check "... no temporary file left in the directory" sh -c "! ls -A '$tmp' | grep -q imgward-convert"

conv "$tmp/disk.raw" - > "$tmp/stream.raw"
check "raw -> stdout streams every byte" cmp -s "$tmp/disk.raw" "$tmp/stream.raw"

out=$("$IMGWARD" convert --json "$tmp/disk.raw" "$tmp/out2.raw" 2>/dev/null)
check "--json result: virtual size" jq_is "$out" '."virtual-size"' "$(stat -c %s "$tmp/disk.raw")"
check "--json result: the converter's sandbox" jq_is "$out" '.sandbox.seccomp + " " + .sandbox.capabilities' "filter none"
check "--json result: the output's RLIMIT_FSIZE is the virtual size" \
	jq_is "$out" '.sandbox.limits."file-size"' "$(stat -c %s "$tmp/disk.raw")"

"$IMGWARD" convert --progress=json "$tmp/disk.raw" "$tmp/out3.raw" 2>"$tmp/prog" >/dev/null
check "--progress=json prints progress lines" grep -q '"progress": 1.0000' "$tmp/prog"

# ---- qcow2 output, and every input format through the whole path ----------
conv -O qcow2 "$tmp/disk.raw" "$tmp/out.qcow2"
check "raw -> qcow2 succeeds" test "$rc" = 0
check "... qemu-img check finds no errors" sh -c "qemu-img check '$tmp/out.qcow2' | grep -q 'No errors were found'"
qemu-img convert -f qcow2 -O raw "$tmp/out.qcow2" "$tmp/back.raw"
check "... and it converts back byte for byte" cmp -s "$tmp/disk.raw" "$tmp/back.raw"
for spec in qcow2: qcow2:-c vmdk: vmdk:subformat=streamOptimized vpc: vpc:subformat=fixed vhdx: vdi:; do
	fmt=${spec%%:*}
	opt=${spec#*:}
	case $opt in
	-c) flags=(-c) ;;
	"") flags=() ;;
	*) flags=(-o "$opt") ;;
	esac
	qemu-img convert -q -f raw -O "$fmt" "${flags[@]}" "$tmp/disk.raw" "$tmp/in.$fmt"
	qemu-img convert -q -f "$fmt" -O raw "$tmp/in.$fmt" "$tmp/ref.raw"
	conv "$tmp/in.$fmt" "$tmp/got.raw"
	if [ "$rc" = 0 ] && cmp -s "$tmp/ref.raw" "$tmp/got.raw"; then
		pass "$fmt ${opt:-default} -> raw equals qemu-img convert"
	else
		echo "#   exit $rc: $(cat "$tmp/err")"
		fail "$fmt ${opt:-default} -> raw equals qemu-img convert"
	fi
	rm -f "$tmp/got.raw"
done

# ---- refusals: nothing at DST ---------------------------------------------
qemu-img create -q -f qcow2 -F raw -b /etc/passwd "$tmp/backing.qcow2" 1M
conv "$tmp/backing.qcow2" "$tmp/bk.raw"
check "an unsafe image is refused (exit 1)" test "$rc" = 1
check "... with its findings on stderr" grep -q backing-file "$tmp/err"
check "... and nothing is created" test ! -e "$tmp/bk.raw"

printf 'version=1\ncreateType="monolithicFlat"\nRW 2 FLAT "/etc/passwd" 0\n' > "$tmp/flat.vmdk"
conv "$tmp/flat.vmdk" "$tmp/flat.raw"
check "a VMDK flat descriptor is refused" test "$rc" = 1 -a ! -e "$tmp/flat.raw"

conv -f qcow2 "$tmp/disk.raw" "$tmp/mis.raw"
check "-f qcow2 on a raw image is refused (exit 1)" test "$rc" = 1 -a ! -e "$tmp/mis.raw"

printf 'QFI\xfb\0\0\0\3' > "$tmp/trunc.qcow2"
conv "$tmp/trunc.qcow2" "$tmp/trunc.raw"
check "a truncated qcow2 is refused (invalid, exit 2)" test "$rc" = 2 -a ! -e "$tmp/trunc.raw"

echo "precious" > "$tmp/keep.raw"
conv "$tmp/backing.qcow2" "$tmp/keep.raw"
check "a refused conversion leaves an existing DST untouched" grep -q precious "$tmp/keep.raw"
conv "$tmp/disk.raw" "$tmp/keep.raw"
check "a successful one replaces it" cmp -s "$tmp/disk.raw" "$tmp/keep.raw"

mkdir "$tmp/dir"
conv "$tmp/disk.raw" "$tmp/dir"
check "DST a directory: output-error (exit 73)" test "$rc" = 73
conv "$tmp/disk.raw" "$tmp/disk.raw"
check "DST the same file as SRC: usage error" test "$rc" = 64
check "... and SRC is intact" test "$(stat -c %s "$tmp/disk.raw")" = $((40 * 2**20 + 4096 + 512))
conv "$tmp/disk.raw" "$tmp/no/such/dir/x.raw"
check "DST in a missing directory: output-error" test "$rc" = 73
conv -O vmdk "$tmp/disk.raw" "$tmp/x.vmdk"
check "-O vmdk is a usage error" test "$rc" = 64

# ---- block devices ------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	truncate -s 48M "$tmp/dev.img"
	if dev=$(losetup -f --show "$tmp/dev.img" 2>/dev/null) && [ -b "$dev" ]; then
		cleanup_fn "losetup -d $dev"
		conv "$tmp/disk.raw" "$dev"
		check "raw -> block device" test "$rc" = 0
		check "... the device holds the disk" cmp -s -n "$(stat -c %s "$tmp/disk.raw")" "$tmp/disk.raw" "$dev"
		truncate -s 8M "$tmp/small.img"
		small=$(losetup -f --show "$tmp/small.img")
		cleanup_fn "losetup -d $small"
		conv "$tmp/disk.raw" "$small"
		check "a device smaller than the disk: target-too-small (exit 73)" \
			test "$rc" = 73 && grep -q target-too-small "$tmp/err"
	else
		echo "# no loop device here: block-device output not exercised"
	fi
fi

check "no helper process is left behind" sh -c '! pgrep -x imgward-convert && ! pgrep -x imgward-sniff'
finish
