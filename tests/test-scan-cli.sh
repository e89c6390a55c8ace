#!/bin/bash
# imgward scan through the real broker and sandbox: partition tables (GPT;
# MBR with an extended partition and logical ones) holding NTFS, FAT and
# ext4 filesystems made by mkntfs/mkfs.vfat/mkfs.ext4, the same disk as
# qcow2 (plain and compressed), VMDK (sparse and streamOptimized), VHD,
# VHDX and VDI: every format must give the raw disk's answer, and each
# volume blkid's type, label and UUID. Then an unpartitioned NTFS disk,
# refused inputs (unsafe, -f mismatch), the human summary, the sandbox
# report, a lying helper, and (as root) the same scan from an
# unprivileged broker.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img
requires sfdisk
requires mkntfs
requires mkfs.vfat
requires mkfs.ext4
requires blkid

if sanitized; then
	skip "ASan helpers cannot run in the sandbox's empty root"
fi

scanj() { "$IMGWARD" scan --json "$@"; }
MiB=1048576

# Filesystems, made on their own files, then written at their partitions'
# offsets (dd conv=notrunc), as an installer would.
truncate -s $((24 * MiB)) "$tmp/ntfs.fs"
mkntfs -q -F -Q -L "Win Data" "$tmp/ntfs.fs" >/dev/null 2>&1 ||
	skip "mkntfs cannot make a volume in a file here"
truncate -s $((16 * MiB)) "$tmp/fat.fs"
mkfs.vfat -F 16 -n EFIBOOT -i 1234ABCD "$tmp/fat.fs" >/dev/null
truncate -s $((16 * MiB)) "$tmp/ext4.fs"
mkfs.ext4 -q -F -L rootfs -U 0e5f3a1c-9d2b-4c8e-a7f6-1b2c3d4e5f60 \
	"$tmp/ext4.fs"

put() { # put DISK FS START_SECTOR
	dd if="$2" of="$1" bs=512 seek="$3" conv=notrunc status=none
}

# GPT: 1 ESP (FAT), 2 basic data (NTFS), 3 Linux (ext4)
truncate -s $((64 * MiB)) "$tmp/gpt.img"
sfdisk -q "$tmp/gpt.img" >/dev/null <<'EOF'
label: gpt
start=2048, size=32768, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=34816, size=49152, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data", attrs="GUID:63"
start=83968, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
EOF
put "$tmp/gpt.img" "$tmp/fat.fs" 2048
put "$tmp/gpt.img" "$tmp/ntfs.fs" 34816
put "$tmp/gpt.img" "$tmp/ext4.fs" 83968

# MBR: 1 NTFS (bootable), 2 extended holding 5 FAT and 6 ext4
truncate -s $((96 * MiB)) "$tmp/mbr.img"
sfdisk -q "$tmp/mbr.img" >/dev/null <<'EOF'
label: dos
start=2048, size=49152, type=7, bootable
start=53248, size=77824, type=5
start=55296, size=32768, type=e
start=90112, size=32768, type=83
EOF
put "$tmp/mbr.img" "$tmp/ntfs.fs" 2048
put "$tmp/mbr.img" "$tmp/fat.fs" 55296
put "$tmp/mbr.img" "$tmp/ext4.fs" 90112

# ---- the raw GPT disk ----------------------------------------------------
j=$(scanj "$tmp/gpt.img")
check "gpt: exit 0" [ $? = 0 ]
check "gpt: format and size" jq_is "$j" '"\(.format) \(."virtual-size")"' "raw $((64 * MiB))"
check "gpt: table" jq_is "$j" '."partition-table" | "\(.type) \(."hybrid-mbr") \(."backup-gpt-used")"' "gpt false false"
check "gpt: disk GUID as sfdisk says" jq_is "$j" '."partition-table"."disk-guid"' \
	"$(sfdisk --disk-id "$tmp/gpt.img")"
check "gpt: three partitions" jq_is "$j" '[.partitions[] | "\(.index):\(.start):\(.size)"] | join(" ")' \
	"1:$((2048 * 512)):$((32768 * 512)) 2:$((34816 * 512)):$((49152 * 512)) 3:$((83968 * 512)):$((32768 * 512))"
check "gpt: types and names" jq_is "$j" '[.partitions[] | "\(.type)/\(."type-name")/\(.name)"] | join(" ")' \
	"C12A7328-F81F-11D2-BA4B-00A0C93EC93B/EFI System/EFI system partition EBD0A0A2-B9E5-4433-87C0-68B6B72699C7/Microsoft basic data/Basic data 0FC63DAF-8483-4772-8E79-3D69D8477DE4/Linux filesystem/root"
check "gpt: partition GUIDs as sfdisk says" jq_is "$j" '[.partitions[].guid] | join(" ")' \
	"$(for i in 1 2 3; do sfdisk --part-uuid "$tmp/gpt.img" $i; done | tr '\n' ' ' | sed 's/ $//')"
check "gpt: attribute 63 is no-automount" jq_is "$j" '.partitions[1].flags | join(",")' "no-automount"

# every volume as blkid sees it on its own
blkid_is() { # blkid_is JSON INDEX FSFILE
	local t l u want got
	t=$(blkid -p -o value -s TYPE "$3")
	l=$(blkid -p -o value -s LABEL "$3")
	u=$(blkid -p -o value -s UUID "$3")
	want="$t|$l|$u"
	got=$(printf '%s' "$1" | jq -r --argjson i "$2" \
		'.partitions[] | select(.index == $i) | "\(.filesystem // "")|\(.label // "")|\(.uuid // "")"')
	[ "$got" = "$want" ] && return 0
	echo "#   partition $2: got '$got', blkid says '$want'"
	return 1
}
check "gpt: FAT volume as blkid" blkid_is "$j" 1 "$tmp/fat.fs"
check "gpt: NTFS volume as blkid" blkid_is "$j" 2 "$tmp/ntfs.fs"
check "gpt: ext4 volume as blkid" blkid_is "$j" 3 "$tmp/ext4.fs"
check "gpt: FAT16 version" jq_is "$j" '.partitions[0]."filesystem-version"' "FAT16"
check "gpt: NTFS details" jq_is "$j" \
	'.partitions[1].ntfs | "\(.version) \(.label) \(.dirty) \(."cluster-size") \(."mft-record-size") \(.hiberfil) \(.hibernated)"' \
	"3.1 Win Data false 4096 1024 false false"
check "gpt: NTFS serial is blkid's UUID" jq_is "$j" '.partitions[1].ntfs.serial' \
	"$(blkid -p -o value -s UUID "$tmp/ntfs.fs")"
check "gpt: no ntfs object for FAT/ext4" jq_is "$j" '[.partitions[0].ntfs, .partitions[2].ntfs] | map(tostring) | join(",")' "null,null"
check "gpt: no Windows, not hibernated, no problems" jq_is "$j" \
	'"\(.windows) \(.hibernated) \([.problems[], .partitions[].problems[]] | length)"' "null false 0"

# ---- the same disk in every format with a block map ----------------------
ref=$(printf '%s' "$j" | jq -S -c '{t: ."partition-table", p: .partitions}')
same_as_raw() { # same_as_raw FILE FMT
	local k
	k=$(scanj "$1") || { echo "#   exit $?"; return 1; }
	[ "$(printf '%s' "$k" | jq -r .format)" = "$2" ] || { echo "#   format $(printf '%s' "$k" | jq -r .format)"; return 1; }
	[ "$(printf '%s' "$k" | jq -S -c '{t: ."partition-table", p: .partitions}')" = "$ref" ] && return 0
	diff <(printf '%s' "$ref" | jq .) <(printf '%s' "$k" | jq -S '{t: ."partition-table", p: .partitions}') | head -20 | sed 's/^/#   /'
	return 1
}
conv() { # conv NAME QEMU-FMT OPTIONS...
	local name=$1 fmt=$2
	shift 2
	qemu-img convert -q -f raw -O "$fmt" "$@" "$tmp/gpt.img" "$tmp/$name"
}
conv gpt.qcow2 qcow2
check "qcow2: same as raw" same_as_raw "$tmp/gpt.qcow2" qcow2
conv gpt-c.qcow2 qcow2 -c
check "qcow2 -c (zlib): same as raw" same_as_raw "$tmp/gpt-c.qcow2" qcow2
if conv gpt-zstd.qcow2 qcow2 -c -o compression_type=zstd 2>/dev/null; then
	check "qcow2 -c (zstd): same as raw" same_as_raw "$tmp/gpt-zstd.qcow2" qcow2
fi
conv gpt.vmdk vmdk
check "vmdk: same as raw" same_as_raw "$tmp/gpt.vmdk" vmdk
conv gpt-stream.vmdk vmdk -o subformat=streamOptimized
check "vmdk streamOptimized: same as raw" same_as_raw "$tmp/gpt-stream.vmdk" vmdk
conv gpt.vhd vpc -o force_size=on
check "vhd: same as raw" same_as_raw "$tmp/gpt.vhd" vhd
conv gpt.vhdx vhdx
check "vhdx: same as raw" same_as_raw "$tmp/gpt.vhdx" vhdx
conv gpt.vdi vdi
check "vdi: same as raw" same_as_raw "$tmp/gpt.vdi" vdi
check "-f qcow2 on a qcow2" same_as_raw "$tmp/gpt.qcow2" qcow2

# ---- MBR with logical partitions ------------------------------------------
j=$(scanj "$tmp/mbr.img")
check "mbr: exit 0" [ $? = 0 ]
check "mbr: table and signature" jq_is "$j" '."partition-table" | "\(.type) \(."disk-signature")"' \
	"mbr $(sfdisk --disk-id "$tmp/mbr.img")"
check "mbr: 1, 5, 6 (the extended container is not a volume)" jq_is "$j" \
	'[.partitions[] | "\(.index):\(.start):\(.type):\(.flags | join(","))"] | join(" ")' \
	"1:$((2048 * 512)):0x07:bootable 5:$((55296 * 512)):0x0e:logical 6:$((90112 * 512)):0x83:logical"
check "mbr: NTFS volume as blkid" blkid_is "$j" 1 "$tmp/ntfs.fs"
check "mbr: logical FAT volume as blkid" blkid_is "$j" 5 "$tmp/fat.fs"
check "mbr: logical ext4 volume as blkid" blkid_is "$j" 6 "$tmp/ext4.fs"
check "mbr: no GUIDs or names" jq_is "$j" '[.partitions[] | .guid, .name] | map(tostring) | unique | join(",")' "null"
qemu-img convert -q -f raw -O qcow2 -c "$tmp/mbr.img" "$tmp/mbr.qcow2"
k=$(scanj "$tmp/mbr.qcow2")
check "mbr: qcow2 -c gives the same partitions" [ \
	"$(printf '%s' "$k" | jq -S -c .partitions)" = "$(printf '%s' "$j" | jq -S -c .partitions)" ]

# ---- an unpartitioned NTFS disk --------------------------------------------
j=$(scanj "$tmp/ntfs.fs")
check "whole disk: exit 0" [ $? = 0 ]
check "whole disk: no table, one index-0 volume" jq_is "$j" \
	'"\(."partition-table") \(.partitions | length) \(.partitions[0].index) \(.partitions[0].start) \(.partitions[0].type)"' \
	"null 1 0 0 null"
check "whole disk: NTFS as blkid" blkid_is "$j" 0 "$tmp/ntfs.fs"
check "whole disk: NTFS details" jq_is "$j" '.partitions[0].ntfs.label' "Win Data"

# ---- an empty disk: nothing to list ---------------------------------------
truncate -s $((8 * MiB)) "$tmp/empty.img"
j=$(scanj "$tmp/empty.img")
check "empty disk: exit 0, nothing found" jq_is "$j" \
	'"\(."partition-table") \(.partitions | length) \(.windows) \(.problems | length)"' "null 0 null 0"

# ---- an unreadable compressed cluster: a problem, not a failure ------------
# The sniffer does not inflate data clusters, so the image is safe; the
# scanner cannot read the partition table in cluster 0 and says so.
qemu-img convert -q -f raw -O qcow2 -c "$tmp/gpt.img" "$tmp/broken-c.qcow2"
python3 - "$tmp/broken-c.qcow2" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
h = f.read(72)
cluster_bits, = struct.unpack(">I", h[20:24])
l1_offset, = struct.unpack(">Q", h[40:48])
f.seek(l1_offset)
l2_offset = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
f.seek(l2_offset)
entry, = struct.unpack(">Q", f.read(8))
assert entry & (1 << 62), "cluster 0 is not compressed"
x = 62 - (cluster_bits - 8)
f.seek(entry & ((1 << x) - 1))
f.write(b"\xff" * 64)
PY
j=$(scanj "$tmp/broken-c.qcow2")
check "corrupt compressed cluster: exit 0" [ $? = 0 ]
check "corrupt compressed cluster: io-error for the disk, no table" jq_is "$j" \
	'"\(."partition-table") \(.partitions | length) \([.problems[].code] | join(","))"' "null 0 io-error"

# ---- refused inputs ---------------------------------------------------------
qemu-img create -q -f qcow2 -b "$tmp/gpt.img" -F raw "$tmp/backed.qcow2"
"$IMGWARD" probe "$tmp/backed.qcow2" >/dev/null 2>&1
probe_rc=$?
out=$(scanj "$tmp/backed.qcow2" 2>"$tmp/err")
rc=$?
check "backing file: refused with the probe's status ($probe_rc)" [ "$rc" = "$probe_rc" -a "$rc" = 1 ]
check "backing file: the finding is shown" grep -q "backing-file" "$tmp/err"
check "backing file: --json has the error and the probe" jq_is "$out" \
	'"\(.error.code) \([.probe.findings[].code] | index("backing-file") != null)"' "scan-refused true"
out=$("$IMGWARD" scan --json -f vmdk "$tmp/gpt.qcow2" 2>"$tmp/err")
rc=$?
check "-f vmdk on a qcow2: refused, exit 1" [ "$rc" = 1 ]
check "-f vmdk on a qcow2: format-mismatch" grep -q "format-mismatch" "$tmp/err"
"$IMGWARD" scan -f nosuchformat "$tmp/gpt.img" >/dev/null 2>&1
check "-f unknown: usage error" [ $? = 64 ]
"$IMGWARD" scan "$tmp/does-not-exist" >/dev/null 2>&1
check "missing input: exit 66" [ $? = 66 ]
ln -s "$tmp/gpt.img" "$tmp/link.img"
"$IMGWARD" scan "$tmp/link.img" >/dev/null 2>&1
check "symlink: refused, exit 66" [ $? = 66 ]
printf 'not a gzip stream' | gzip -c > "$tmp/disk.gz"
"$IMGWARD" scan "$tmp/disk.gz" >/dev/null 2>&1
check "a compressed wrapper is unsupported: exit 3" [ $? = 3 ]

# ---- human summary ----------------------------------------------------------
h=$("$IMGWARD" scan "$tmp/gpt.qcow2")
check "summary: exit 0" [ $? = 0 ]
check "summary: format line" grep -q "gpt.qcow2: qcow2, virtual size 64.0 MiB" <<<"$h"
check "summary: table line" grep -q "^partition table: gpt, disk GUID" <<<"$h"
check "summary: NTFS partition line" grep -Eq '^ +2 +17825792 +24.0 MiB +Microsoft basic data +ntfs +"Win Data"$' <<<"$h"
check "summary: ext4 partition line" grep -Eq '^ +3 .*Linux filesystem +ext4 +"rootfs"$' <<<"$h"
check "summary: no Windows" grep -q "^Windows: not found$" <<<"$h"

# ---- the sandbox, as verified by the broker --------------------------------
j=$(scanj "$tmp/gpt.img")
check "sandbox: the ntfs helper" jq_is "$j" '.sandbox.helper' "imgward-ntfs"
check "sandbox: seccomp filter, no capabilities, no new privileges" jq_is "$j" \
	'"\(.sandbox.seccomp) \(.sandbox.capabilities) \(.sandbox."no-new-privs")"' "filter none true"
check "sandbox: the ntfs limits" jq_is "$j" \
	'"\(.sandbox.limits."file-size") \(.sandbox.limits.processes) \(.sandbox.limits."cpu-seconds")"' "0 0 30"
check "sandbox: unprivileged ids" jq_is "$j" '.sandbox.uid != 0 and .sandbox.gid != 0' "true"
j=$("$IMGWARD" scan --json --limit cpu-seconds=5 "$tmp/gpt.img")
check "--limit reaches the scanner" jq_is "$j" '.sandbox.limits."cpu-seconds"' "5"

# ---- a lying scanner ---------------------------------------------------------
if [ -x "$B/tests/fake-scan" ]; then
	mkdir "$tmp/fake"
	cp "$B/imgward-sniff" "$tmp/fake/"
	cp "$B/tests/fake-scan" "$tmp/fake/imgward-ntfs"
	lie() { # lie BEHAVIOUR: the broker's exit status and error code
		printf '%s\n' "$1" > "$tmp/lie"
		"$IMGWARD" scan --json --helper-dir "$tmp/fake" "$tmp/lie" 2>/dev/null
	}
	out=$(lie scan-ok)
	check "fake scanner: a well-formed scan is printed" jq_is "$out" '.partitions[0].label' "FAKE"
	for b in scan-garbage scan-not-object scan-missing scan-extra-key \
		scan-unknown-code scan-escape scan-hibernated-lie; do
		out=$(lie "$b")
		rc=$?
		check "fake scanner: $b is a protocol violation (exit 70)" \
			jq_is "$out" "\"\\(.error.code) $rc\"" "protocol-violation 70"
	done
	out=$(lie scan-escape)
	check "fake scanner: no escape sequence reaches the output" [ -n "$out" -a "$(printf '%s' "$out" | tr -d -c '\033' | wc -c)" = 0 ]
else
	fail "build/tests/fake-scan is missing"
fi

# ---- as an unprivileged broker (a user namespace instead of root) -----------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 0644 "$tmp/gpt.qcow2"
	k=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		env IMGWARD_HELPER_DIR="$IMGWARD_HELPER_DIR" "$IMGWARD" scan --json "$tmp/gpt.qcow2" 2>"$tmp/err")
	rc=$?
	if [ $rc = 69 ] && grep -q "sandbox-unavailable" "$tmp/err"; then
		echo "# unprivileged user namespaces unavailable: $(cat "$tmp/err")"
	else
		check "unprivileged broker: exit 0" [ $rc = 0 ]
		check "unprivileged broker: same partitions" [ \
			"$(printf '%s' "$k" | jq -S -c '{t: ."partition-table", p: .partitions}')" = "$ref" ]
		check "unprivileged broker: helper in a user namespace" jq_is "$k" \
			'.sandbox.namespaces | index("user") != null' "true"
	fi
fi

finish
