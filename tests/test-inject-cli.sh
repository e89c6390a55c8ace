#!/bin/bash
# imgward inject without an appliance: every refusal and every skip, each
# with its stable code and exit status, and the disk unchanged afterwards
# (byte-compared). Usage errors; a missing disk; a directory; an unsafe
# qcow2 (backing file) and a safe VMDK (not raw/qcow2) refused; a disk
# with no Windows and a Windows disk that already has the drivers skipped
# without running the injector at all (a helper directory with no
# imgward-inject proves it); a hibernated Windows refused; a virtio-win
# path that does not exist; a virtio-win tree with drivers for Windows 7
# only, for a Server 2019 guest (no-drivers, decided by the injector before
# any appliance starts); an appliance that cannot start (an address-space
# limit qemu cannot live with): appliance-failed, disk unchanged.
# The real injection is tests/test-inject-slow.sh.
. "$(dirname "$0")/functions.sh"
requires jq
requires qemu-img

injectj() { "$IMGWARD" inject --json "$@"; }
same() { cmp -s "$1" "$2"; }

# ---- usage and inputs (no Windows needed) -------------------------------
"$IMGWARD" inject >/dev/null 2>&1
check "no DISK: usage (64)" test $? = 64
"$IMGWARD" inject -f vmdk "$tmp/x" >/dev/null 2>&1
check "-f vmdk: usage (64), inject modifies raw and qcow2 only" test $? = 64
out=$(injectj "$tmp/does-not-exist" 2>/dev/null)
rc=$?
check "missing disk: exit 66" test $rc = 66
check "missing disk: no-such-file" jq_is "$out" .error.code no-such-file
mkdir "$tmp/dir"
out=$(injectj "$tmp/dir" 2>/dev/null)
check "a directory: not-a-file" jq_is "$out" .error.code not-a-file

# unsafe: a qcow2 with a backing file
qemu-img create -q -f raw "$tmp/base.raw" 16M
qemu-img create -q -f qcow2 -b "$tmp/base.raw" -F raw "$tmp/backed.qcow2"
cp "$tmp/backed.qcow2" "$tmp/backed.orig"
out=$(injectj "$tmp/backed.qcow2" 2>"$tmp/err")
rc=$?
check "backing file: exit 1 (unsafe)" test $rc = 1
check "backing file: inject-refused" jq_is "$out" .error.code inject-refused
check "backing file: the probe's findings in the answer" \
	jq_is "$out" '[.probe.findings[].code] | index("backing-file") != null' true
check "backing file: disk unchanged" same "$tmp/backed.qcow2" "$tmp/backed.orig"

# safe, but a VMDK: inject modifies raw and qcow2 only
qemu-img create -q -f vmdk "$tmp/disk.vmdk" 16M
cp "$tmp/disk.vmdk" "$tmp/disk.vmdk.orig"
out=$(injectj "$tmp/disk.vmdk" 2>/dev/null)
rc=$?
check "vmdk: exit 65" test $rc = 65
check "vmdk: inject-refused" jq_is "$out" .error.code inject-refused
check "vmdk: unchanged" same "$tmp/disk.vmdk" "$tmp/disk.vmdk.orig"

# no Windows: skipped, and the injector never runs (it is not even there)
mkdir "$tmp/no-injector"
for h in sniff ntfs convert; do ln -s "$B/imgward-$h" "$tmp/no-injector/"; done
truncate -s 64M "$tmp/plain.raw"
printf 'label: gpt\n,32M\n' | sfdisk -q "$tmp/plain.raw" >/dev/null 2>&1 || :
cp "$tmp/plain.raw" "$tmp/plain.orig"
out=$(injectj --helper-dir "$tmp/no-injector" "$tmp/plain.raw" 2>"$tmp/err")
rc=$?
check "no Windows: exit 0" test $rc = 0
check "no Windows: skipped" jq_is "$out" .inject.action skipped
check "no Windows: the reason says so" \
	jq_is "$out" '.inject.reason | test("no Windows installation")' true
check "no Windows: unchanged" same "$tmp/plain.raw" "$tmp/plain.orig"
out=$("$IMGWARD" inject --helper-dir "$tmp/no-injector" "$tmp/plain.raw" 2>&1)
check "no Windows: the summary says nothing was injected" \
	grep -q "nothing injected: no Windows installation" <<<"$out"

# ---- a lying injector: nothing it says is taken unchecked ---------------
# fake-scan (as imgward-ntfs) answers with the Windows scan on the file's
# second line; fake-inject (as imgward-inject) with the lie its first
# line names.
if [ -x "$B/tests/fake-inject" ] && [ -x "$B/tests/fake-scan" ]; then
	mkdir -p "$tmp/liar" "$tmp/vw-any"
	ln -s "$B/imgward-sniff" "$tmp/liar/"
	cp "$B/tests/fake-scan" "$tmp/liar/imgward-ntfs"
	cp "$B/tests/fake-inject" "$tmp/liar/imgward-inject"
	scan='{"partition-table":{"type":"gpt","disk-guid":"6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B01","hybrid-mbr":false,"backup-gpt-used":false},"partitions":[{"index":1,"start":1048576,"size":33554432,"type":"C12A7328-F81F-11D2-BA4B-00A0C93EC93B","type-name":"EFI System","name":"EFI system partition","guid":"6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B02","flags":[],"filesystem":"vfat","filesystem-version":"FAT32","label":"SYSTEM","uuid":"1A2B-3C4D","ntfs":null,"problems":[]},{"index":2,"start":34603008,"size":16777216,"type":"E3C9E316-0B5C-4DB8-817D-F92DF00215AE","type-name":"Microsoft reserved","name":"Microsoft reserved partition","guid":"6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B03","flags":[],"filesystem":null,"filesystem-version":null,"label":null,"uuid":null,"ntfs":null,"problems":[]},{"index":3,"start":51380224,"size":209715200,"type":"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7","type-name":"Microsoft basic data","name":"Basic data partition","guid":"6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B04","flags":[],"filesystem":"ntfs","filesystem-version":null,"label":"Windows","uuid":"6124590D21F81892","ntfs":{"version":"3.1","label":"Windows","dirty":false,"serial":"6124590D21F81892","cluster-size":4096,"mft-record-size":1024,"hiberfil":false,"hibernated":false},"problems":[]}],"windows":{"product-name":"Windows Server 2019 Standard","major":10,"minor":0,"build":"17763","current-version":"6.3","edition":"ServerStandard","installation-type":"Server","arch":"x86_64","hostname":"WIN-IMGWARD01","systemroot":"\\Windows","partition":3,"control-set":1,"virtio-drivers":{"viostor":{"service":false,"start":null,"file":false},"vioscsi":{"service":false,"start":null,"file":false},"netkvm":{"service":false,"start":null,"file":false},"balloon":{"service":false,"start":null,"file":false},"vioser":{"service":false,"start":null,"file":false},"viorng":{"service":false,"start":null,"file":false},"pvpanic":{"service":false,"start":null,"file":false},"fwcfg":{"service":false,"start":null,"file":false},"vioinput":{"service":false,"start":null,"file":false}},"virtio-installed":false},"hibernated":false,"problems":[]}'
	lie() { # lie NAME: run inject on a file naming the lie
		printf '%s\n%s\n' "$1" "$scan" >"$tmp/lie.raw"
		truncate -s 256M "$tmp/lie.raw"
		injectj --helper-dir "$tmp/liar" --virtio-win "$tmp/vw-any" "$tmp/lie.raw" 2>/dev/null
	}
	out=$(lie inject-ok)
	check "fake injector, honest answer: injected" jq_is "$out" .inject.action injected
	check "fake injector: its answer rebuilt key by key" \
		jq_is "$out" '.inject | keys | join(",")' \
		"action,arch-dir,control-set,driver-database,drivers,files,firstboot,os-dir,registry-values,sandbox,seconds,virtio-win"
	out=$(lie inject-escape)
	check "a file name with a terminal escape is sanitised" \
		jq_is "$out" '.inject.files[0] | test("\u001b") | not' true
	for l in inject-extra-top inject-skipped-lie inject-wrong-type inject-long-name; do
		out=$(lie $l)
		rc=$?
		check "$l: protocol-violation (exit $rc)" \
			jq_is "$out" .error.code protocol-violation
	done
	out=$(lie inject-no-drivers)
	rc=$?
	check "the helper's no-drivers becomes the no-drivers code, exit 78" \
		test "$(jq -r .error.code <<<"$out") $rc" = "no-drivers 78"
else
	fail "build/tests/fake-inject or fake-scan is missing"
fi

# ---- Windows disks (root: the fixture needs ntfs-3g's FUSE mount) -------
if [ "$(id -u)" != 0 ] || ! command -v mkntfs >/dev/null ||
	! command -v ntfs-3g >/dev/null || ! command -v python3 >/dev/null; then
	echo "# the Windows cases need root, mkntfs, ntfs-3g and python3: skipped"
	finish
fi
mkdisk() { # mkdisk NAME [windows-disk.sh options]
	local name=$1 rc
	shift
	"$top/tests/images/windows-disk.sh" "$tmp/$name.raw" "$@" && return 0
	rc=$?
	if [ $rc = 77 ]; then
		echo "# windows-disk.sh cannot build a disk here: Windows cases skipped"
		finish
	fi
	echo "# windows-disk.sh $* failed ($rc)"
	exit 1
}

# drivers already there: skipped, no injector
mkdisk virtio --virtio
cp "$tmp/virtio.raw" "$tmp/virtio.orig"
out=$(injectj --helper-dir "$tmp/no-injector" "$tmp/virtio.raw" 2>"$tmp/err")
rc=$?
check "drivers present: exit 0" test $rc = 0
check "drivers present: skipped" jq_is "$out" .inject.action skipped
check "drivers present: the reason says so" \
	jq_is "$out" '.inject.reason | test("already installed")' true
check "drivers present: unchanged" same "$tmp/virtio.raw" "$tmp/virtio.orig"

# hibernated: refused before anything is written
mkdisk hib --hibernated
cp "$tmp/hib.raw" "$tmp/hib.orig"
out=$(injectj --virtio-win "$tmp/dir" "$tmp/hib.raw" 2>/dev/null)
rc=$?
check "hibernated: exit 65" test $rc = 65
check "hibernated: guest-unsupported" jq_is "$out" .error.code guest-unsupported
check "hibernated: the message says why" \
	jq_is "$out" '.error.message | test("hibernated")' true
check "hibernated: unchanged" same "$tmp/hib.raw" "$tmp/hib.orig"

mkdisk win
cp "$tmp/win.raw" "$tmp/win.orig"

# virtio-win missing
out=$(injectj --virtio-win "$tmp/no-such-tree" "$tmp/win.raw" 2>/dev/null)
rc=$?
check "virtio-win missing: exit 78" test $rc = 78
check "virtio-win missing: virtio-win-unavailable" \
	jq_is "$out" .error.code virtio-win-unavailable
out=$(env -u VIRTIO_WIN VIRTIO_WIN="$tmp/no-such-tree" \
	"$IMGWARD" inject --json "$tmp/win.raw" 2>/dev/null)
check "VIRTIO_WIN is honoured (and named in the error)" \
	jq_is "$out" '.error.message | contains("no-such-tree")' true
check "virtio-win missing: unchanged" same "$tmp/win.raw" "$tmp/win.orig"

# drivers for Windows 7 only: nothing for Server 2019
for d in viostor vioscsi NetKVM; do
	l=$(tr A-Z a-z <<<"$d")
	mkdir -p "$tmp/w7tree/$d/w7/amd64" "$tmp/w7tree/$d/w7/x86"
	for e in sys inf cat; do
		echo "$l.$e" >"$tmp/w7tree/$d/w7/amd64/$l.$e"
		echo "$l.$e" >"$tmp/w7tree/$d/w7/x86/$l.$e"
	done
done
out=$(injectj --virtio-win "$tmp/w7tree" "$tmp/win.raw" 2>/dev/null)
rc=$?
check "no drivers for Server 2019: exit 78" test $rc = 78
check "no drivers for Server 2019: no-drivers" jq_is "$out" .error.code no-drivers
check "no drivers: the message names the guest" \
	jq_is "$out" '.error.message | test("10\\.0 build 17763")' true
check "no drivers: unchanged" same "$tmp/win.raw" "$tmp/win.orig"

# the appliance cannot start: qemu cannot reserve the guest's memory
for d in viostor vioscsi NetKVM; do
	l=$(tr A-Z a-z <<<"$d")
	mkdir -p "$tmp/tree/$d/2k19/amd64"
	for e in sys inf cat; do echo "$l.$e" >"$tmp/tree/$d/2k19/amd64/$l.$e"; done
done
out=$(LIBGUESTFS_BACKEND_SETTINGS=force_tcg injectj --virtio-win "$tmp/tree" \
	--limit address-space=400M "$tmp/win.raw" 2>/dev/null)
rc=$?
check "appliance cannot start: exit 69" test $rc = 69
check "appliance cannot start: appliance-failed" \
	jq_is "$out" .error.code appliance-failed
check "appliance cannot start: unchanged" same "$tmp/win.raw" "$tmp/win.orig"
check "the helper's private directory is removed" \
	test -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'imgward-inject-*' -newer "$tmp/win.orig" 2>/dev/null)"

finish
