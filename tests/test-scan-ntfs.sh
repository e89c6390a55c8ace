#!/bin/bash
# NTFS reader (lib/scan/ntfs.c) through build/tests/ntfs-tool: volumes
# made by mkntfs (cluster sizes 512 B - 2 MiB, sector sizes 512 - 4096)
# and filled through an ntfs-3g FUSE mount read back byte for byte
# (resident, sparse, large, fragmented files, an $ATTRIBUTE_LIST
# resident and not, a directory with an INDX B+tree, mixed-case names
# looked up case-insensitively), label and serial as blkid and ntfsinfo
# see them; then every corruption of tests/images/ntfs-corrupt.py ends
# in its exact problem code, a non-zero exit, no crash and no hang.
. "$(dirname "$0")/functions.sh"
requires python3
requires mkntfs
requires ntfs-3g
requires blkid
requires jq
requires_root
[ -e /dev/fuse ] || skip "no /dev/fuse"
T=$B/tests/ntfs-tool
[ -x "$T" ] || skip "build/tests/ntfs-tool is not built"
py=$(python3 -c 'import sys; print(sys.executable)')
corrupt="$py $top/tests/images/ntfs-corrupt.py"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=87"
# the tool under a time limit: a hang is a failure (exit 124)
nt() { timeout 20 "$T" "$@"; }

mnt=$tmp/mnt
mkdir -p "$mnt"
cleanup_fn "mountpoint -q '$mnt' && umount '$mnt'"
mount_ntfs() {
	ntfs-3g "$@" "$mnt" 2>/dev/null || skip "ntfs-3g cannot mount here"
}

# ---- the main fixture ---------------------------------------------------
img=$tmp/main.img
ref=$tmp/ref
mkdir -p "$ref"
truncate -s 64M "$img"
mkntfs -F -f -q -L 'Fixture Vol' "$img" >/dev/null 2>&1 || skip "mkntfs failed"
mount_ntfs -o compression "$img"
$py - "$mnt" "$ref" <<'EOF' || { umount "$mnt"; fail "populate the fixture"; finish; }
import os, sys
m, ref = sys.argv[1], sys.argv[2]
def put(path, data):
    full = os.path.join(m, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    r = os.path.join(ref, path.replace("/", "_"))
    with open(r, "wb") as f:
        f.write(data)
put("Windows/System32/config/SOFTWARE", os.urandom(3 * 1024 * 1024 + 123))
put("Windows/System32/config/SYSTEM", os.urandom(1500000))
put("small.txt", b"a resident file\n")
put("Nested/MiXeD Case/ÜnïCödé Dir/deep.txt", b"deep\n" * 100)
put("large.bin", os.urandom(12 * 1024 * 1024 + 7))
# sparse: 10 MiB, data only at 5 MB
with open(os.path.join(m, "sparse.bin"), "wb") as f:
    f.truncate(10 * 1024 * 1024)
    f.seek(5000000)
    f.write(b"middle of nowhere")
data = bytearray(10 * 1024 * 1024)
data[5000000:5000017] = b"middle of nowhere"
open(os.path.join(ref, "sparse.bin"), "wb").write(data)
# a directory with hundreds of entries: an INDX B+tree
for i in range(400):
    put("Big/Entry Name Number %04d.txt" % i, b"entry %d\n" % i)
# many hard links: the $FILE_NAMEs move out, a resident $ATTRIBUTE_LIST
put("links/target", b"linked\n" * 10)
for i in range(40):
    os.link(os.path.join(m, "links/target"),
            os.path.join(m, "links/hard-link-with-a-long-name-%02d" % i))
# named streams (user.* xattrs): a non-resident $ATTRIBUTE_LIST
open(os.path.join(m, "ads.bin"), "wb").close()
for i in range(40):
    os.setxattr(os.path.join(m, "ads.bin"),
                "user.stream-with-a-longer-name-%02d" % i, os.urandom(100))
put("ads.bin", os.urandom(50000))
# a compressed file (the directory's compressed attribute is inherited)
os.makedirs(os.path.join(m, "comp"))
os.setxattr(os.path.join(m, "comp"), "system.ntfs_attrib_be", b"\0\0\x08\0")
with open(os.path.join(m, "comp/text"), "wb") as f:
    f.write(b"compressible " * 10000)
# 65 nested directories: deeper than a lookup follows
os.makedirs(os.path.join(m, *(["d"] * 65)))
EOF
umount "$mnt"

check "info: the volume opens" nt info "$img" >/dev/null
info=$(nt info "$img")
jq_is "$info" .label "Fixture Vol" && pass "label" || fail "label"
jq_is "$info" .version "3.1" && pass "version" || fail "version"
jq_is "$info" .dirty false && pass "not dirty" || fail "not dirty"
eval "$(blkid -p -o export "$img" | grep -E '^(UUID|LABEL)=')"
jq_is "$info" .serial "$UUID" && pass "serial is blkid's UUID" || fail "serial is blkid's UUID"
[ "$LABEL" = "Fixture Vol" ] && pass "blkid agrees on the label" || fail "blkid label '$LABEL'"
if command -v ntfslabel >/dev/null; then
	[ "$(ntfslabel "$img" 2>/dev/null)" = "Fixture Vol" ] && pass "ntfslabel agrees" || fail "ntfslabel agrees"
fi

same() { # same PATH REF: cat PATH equals REF
	nt cat "$img" "$1" > "$tmp/out" && cmp -s "$tmp/out" "$2"
}
check "cat SOFTWARE (\\Windows\\System32\\config)" same '\Windows\System32\config\SOFTWARE' "$ref/Windows_System32_config_SOFTWARE"
check "cat SYSTEM, other case" same 'WINDOWS/system32/CONFIG/system' "$ref/Windows_System32_config_SYSTEM"
check "cat a resident file" same /small.txt "$ref/small.txt"
check "cat through mixed-case and non-ASCII names" same '/nested/mixed case/üNÏcÖDÉ dir/DEEP.TXT' "$ref/Nested_MiXeD Case_ÜnïCödé Dir_deep.txt"
check "cat a large file" same /large.bin "$ref/large.bin"
check "cat a sparse file (holes read as zeros)" same /sparse.bin "$ref/sparse.bin"
check "cat a file in an INDX leaf" same '/Big/Entry Name Number 0399.txt' "$ref/Big_Entry Name Number 0399.txt"
check "cat a file with a resident \$ATTRIBUTE_LIST" same /links/hard-link-with-a-long-name-39 "$ref/links_target"
check "cat a file with a non-resident \$ATTRIBUTE_LIST" same /ads.bin "$ref/ads.bin"
st=$(nt stat "$img" /sparse.bin)
jq_is "$st" '.sparse' true && pass "stat: sparse" || fail "stat: sparse"
st=$(nt stat "$img" /small.txt)
jq_is "$st" '[.resident, .size] | @csv' 'true,16' && pass "stat: resident" || fail "stat: resident"
st=$(nt stat "$img" /Big)
jq_is "$st" '.directory' true && pass "stat: directory" || fail "stat: directory"

# every name of Big, in collation order, as created
nt ls "$img" /Big > "$tmp/ls" || fail "ls Big"
for i in $(seq 0 399); do printf 'f Entry Name Number %04d.txt\n' "$i"; done > "$tmp/ls.want"
check "ls: the 400 names of an INDX directory, in order" cmp -s "$tmp/ls" "$tmp/ls.want"
nt ls "$img" / | grep -v ' [$.]' | sort > "$tmp/ls"
printf '%s\n' "d Big" "d Nested" "d Windows" "d comp" "d d" "d links" "f ads.bin" "f large.bin" "f small.txt" "f sparse.bin" | sort > "$tmp/ls.want"
check "ls /: the names created" cmp -s "$tmp/ls" "$tmp/ls.want"
nt ls "$img" /links | wc -l | grep -qx 41 && pass "ls: 41 hard links" || fail "ls: 41 hard links"

# not there, refused, bounded
expect_fail() { # expect_fail 'what' CODE|- tool-args...
	local what=$1 code=$2 rc
	shift 2
	nt "$@" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "#   exit $rc"; sed 's/^/#   /' "$tmp/err" | head -5
		fail "$what"; return
	fi
	if [ "$code" != - ] && ! grep -q "^problem: $code: " "$tmp/err"; then
		echo "#   no $code problem:"; sed 's/^/#   /' "$tmp/err" | head -5
		fail "$what"; return
	fi
	pass "$what"
}
expect_fail "no such file" - cat "$img" /Windows/nothing
expect_fail "a file is no directory" - cat "$img" /small.txt/x
expect_fail "compressed data: ntfs-unsupported" ntfs-unsupported cat "$img" /comp/text
expect_fail "65 levels deep: ntfs-limit" ntfs-limit lookup "$img" "$(printf '/d%.0s' $(seq 65))"
check "64 levels deep are fine" nt lookup "$img" "$(printf '/d%.0s' $(seq 64))" >/dev/null

# ---- geometry: cluster and sector sizes -----------------------------------
geometry() { # geometry MKNTFS-ARGS...
	local g=$tmp/geo.img
	rm -f "$g"
	truncate -s 64M "$g"
	mkntfs -F -f -q -L geo "$@" "$g" >/dev/null 2>&1 || { echo "# mkntfs $* refused"; return 1; }
	mount_ntfs "$g"
	mkdir -p "$mnt/Dir/Sub"
	head -c 300000 "$ref/large.bin" > "$mnt/Dir/Sub/file"
	echo tiny > "$mnt/Dir/tiny"
	for i in $(seq 1 150); do : > "$mnt/Dir/name-$i"; done
	umount "$mnt"
	nt cat "$g" /dir/sub/FILE | cmp -s - <(head -c 300000 "$ref/large.bin") &&
		[ "$(nt cat "$g" /Dir/tiny)" = tiny ] &&
		[ "$(nt ls "$g" /Dir | wc -l)" = 152 ] &&
		[ "$(nt info "$g" | jq -r .label)" = geo ]
}
for c in 512 1024 2048 8192 16384 65536 131072 2097152; do
	check "cluster size $c" geometry -c "$c"
done
for s in 1024 2048 4096; do
	check "sector size $s" geometry -s "$s"
done

# ---- a fragmented file ---------------------------------------------------
frag=$tmp/frag.img
truncate -s 24M "$frag"
mkntfs -F -f -q "$frag" >/dev/null 2>&1
mount_ntfs "$frag"
# fill the volume with small files and one filler, free every other
# small file, then write: the data lands in the holes
$py - "$mnt" "$ref/frag" <<'EOF'
import os, sys
m, ref = sys.argv[1], sys.argv[2]
os.mkdir(m + "/fill")
blk = os.urandom(4096)
for i in range(1600):
    with open("%s/fill/f%04d" % (m, i), "wb") as f:
        f.write(blk)
try:
    with open(m + "/filler", "wb") as f:
        while True:
            f.write(os.urandom(65536))
            f.flush()
except OSError:
    pass
for i in range(0, 1600, 2):
    os.unlink("%s/fill/f%04d" % (m, i))
data = os.urandom(700 * 4096 + 1000)
open(ref, "wb").write(data)
open(m + "/fragmented.bin", "wb").write(data)
EOF
umount "$mnt"
runs=$(ntfsinfo -v -F /fragmented.bin "$frag" 2>/dev/null | sed -n 's/^Total runs: \([0-9]*\).*/\1/p')
echo "# fragmented.bin: ${runs:-?} runs"
[ "${runs:-0}" -ge 50 ] && pass "the fragmented file has many runs" || fail "fragmented file runs: ${runs:-?}"
check "cat a fragmented file" cmp -s <(nt cat "$frag" /fragmented.bin) "$ref/frag"

# ---- corruptions ---------------------------------------------------------
rec_of() { nt lookup "$img" "$1"; }
r_small=$(rec_of /small.txt)
r_large=$(rec_of /large.bin)
r_big=$(rec_of /Big)
r_nested=$(rec_of /Nested)
r_links=$(rec_of /links/target)
r_ads=$(rec_of /ads.bin)
# corrupted CASE RECORD CODE 'what' TOOL-ARGS...: damage a copy, run
corrupted() {
	local case=$1 rec=$2 code=$3 what=$4
	shift 4
	cp --sparse=always "$img" "$tmp/bad.img"
	$corrupt "$tmp/bad.img" "$case" $rec || { fail "$what (ntfs-corrupt.py $case)"; return; }
	expect_fail "$case: $what → $code" "$code" "${@/IMG/$tmp/bad.img}"
}
corrupted boot-cluster "" ntfs-boot-sector "impossible cluster size" info IMG
corrupted boot-mft-record "" ntfs-boot-sector "impossible MFT record size" info IMG
corrupted boot-size "" ntfs-boot-sector "total sectors past the partition" info IMG
corrupted fixup-stride "$r_small" ntfs-fixup "stride mismatch" cat IMG /small.txt
corrupted fixup-stride 0 ntfs-fixup "stride mismatch in \$MFT record 0" info IMG
corrupted usa-count-0 "$r_small" ntfs-fixup "update sequence count 0" cat IMG /small.txt
corrupted usa-ofs-odd "$r_small" ntfs-fixup "odd update sequence offset" cat IMG /small.txt
corrupted usa-ofs-past "$r_small" ntfs-fixup "update sequence past the record" cat IMG /small.txt
corrupted baad "$r_large" ntfs-fixup "BAAD record" cat IMG /large.bin
corrupted attrs-offset "$r_small" ntfs-record "attrs_offset past bytes_in_use" cat IMG /small.txt
corrupted attr-length-0 "$r_small" ntfs-attribute "attribute length 0" cat IMG /small.txt
corrupted attr-length-past "$r_small" ntfs-attribute "attribute past the record" cat IMG /small.txt
corrupted resident-value-past "$r_small" ntfs-attribute "resident value past the attribute" cat IMG /small.txt
corrupted runlist-9byte "$r_large" ntfs-runlist "9-byte run length" cat IMG /large.bin
corrupted lcn-past "$r_large" ntfs-runlist "LCN past the volume" cat IMG /large.bin
corrupted lcn-negative "$r_large" ntfs-runlist "negative LCN" cat IMG /large.bin
corrupted runs-past-alloc "$r_large" ntfs-runlist "runs beyond the allocated size" cat IMG /large.bin
corrupted encrypted "$r_large" ntfs-unsupported "encrypted \$DATA" cat IMG /large.bin
corrupted index-root-entry-0 "$r_nested" ntfs-index "\$INDEX_ROOT entry length 0" lookup IMG '/Nested/MiXeD Case'
corrupted indx-entry-0 "$r_big" ntfs-index "INDX entry length 0" ls IMG /Big
corrupted indx-entry-past "$r_big" ntfs-index "INDX entry past the node" ls IMG /Big
corrupted indx-loop "$r_big" ntfs-loop "INDX sub-node pointing to itself" ls IMG /Big
corrupted mft-truncated "" ntfs-mft "\$MFT's \$DATA truncated" info IMG
corrupted attr-list-self "$r_links" ntfs-loop "resident \$ATTRIBUTE_LIST listing itself" cat IMG /links/target
corrupted attr-list-self "$r_ads" ntfs-loop "non-resident \$ATTRIBUTE_LIST listing itself" cat IMG /ads.bin

# ---- random damage: no crash, no hang --------------------------------------
# 200 copies of a small volume, each with 16 random bytes of its first
# 1 MiB (boot sector, $MFT, root index) overwritten
small=$tmp/small.img
truncate -s 8M "$small"
mkntfs -F -f -q -L small "$small" >/dev/null 2>&1
mount_ntfs "$small"
mkdir -p "$mnt/Windows/System32/config"
head -c 20000 "$ref/large.bin" > "$mnt/Windows/System32/config/SOFTWARE"
for i in $(seq 1 60); do : > "$mnt/Windows/f$i"; done
umount "$mnt"
bad=$($py - "$small" "$tmp/r.img" "$T" <<'EOF'
import random, shutil, subprocess, sys
src, dst, tool = sys.argv[1:4]
bad = 0
for seed in range(1, 201):
    shutil.copyfile(src, dst)
    r = random.Random(seed)
    with open(dst, "r+b") as f:
        for _ in range(16):
            f.seek(r.choice([r.randrange(512), 16384 + r.randrange(16 * 1024),
                             r.randrange(1 << 20)]))
            f.write(bytes([r.randrange(256)]))
    for args in (["info"], ["cat", "/Windows/System32/config/SOFTWARE"],
                 ["ls", "/Windows"]):
        try:
            rc = subprocess.run(["timeout", "20", tool, args[0], dst] + args[1:],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode
        except OSError:
            rc = -1
        if rc not in (0, 1):
            print("# seed %d, %s: exit %d" % (seed, args[0], rc), file=sys.stderr)
            bad += 1
print(bad)
EOF
)
[ $bad = 0 ] && pass "200 randomly damaged volumes: no crash, no hang" || fail "$bad crashes or hangs"

finish
