#!/bin/bash
# Windows inspection (lib/scan/windows.c) on synthetic Windows disks built
# by tests/images/windows-disk.sh: the exact product name, version, build,
# edition, installation type, architecture, host name, system root and
# control set; virtio drivers absent and present (service key, Start,
# file); hiberfil.sys live ("HIBR"), zeroed, absent; no system root; a
# SOFTWARE that is not a hive (a hive-* problem, the SYSTEM facts still
# there); nonsense values (CurrentVersion, PROCESSOR_ARCHITECTURE, a
# missing control set: hive-value / windows-inspection) and a compressed
# hiberfil.sys (ntfs-unsupported, hibernation). First through build/tests/win-inspect (the module alone), then
# the same disks through scan-file (raw and qcow2: iw_scan over the block
# map) and imgward scan in the sandbox, which must give the same
# "windows" object.
. "$(dirname "$0")/functions.sh"
requires jq
requires python3
requires sfdisk
requires mkntfs
requires ntfs-3g
requires mkfs.vfat
requires setfattr
requires_root

WI=$B/tests/win-inspect
[ -x "$WI" ] || skip "$WI is not built"

mkdisk() { # mkdisk NAME [windows-disk.sh options]
	local name=$1 rc
	shift
	"$top/tests/images/windows-disk.sh" "$tmp/$name.raw" "$@" && return 0
	rc=$?
	[ $rc = 77 ] && skip "windows-disk.sh cannot build a disk here"
	echo "# windows-disk.sh $* failed ($rc)"
	exit 1
}
winspect() { "$WI" "$@"; }

# A: GPT, Windows Server 2019 Standard, x86-64, no virtio, hibernation
# enabled but shut down normally (zeroed hiberfil.sys)
mkdisk a --hiberfil
j=$(winspect "$tmp/a.raw")
check "2019: product name" jq_is "$j" '.windows."product-name"' "Windows Server 2019 Standard"
check "2019: version from the Major/Minor DWORDs" jq_is "$j" \
	'.windows | "\(.major).\(.minor) \(."current-version") \(.build)"' "10.0 6.3 17763"
check "2019: edition and installation type" jq_is "$j" \
	'.windows | "\(.edition) \(."installation-type")"' "ServerStandard Server"
check "2019: arch, hostname" jq_is "$j" '.windows | "\(.arch) \(.hostname)"' "x86_64 WIN-IMGWARD01"
check "2019: systemroot, partition, control set" jq_is "$j" \
	'.windows | "\(.systemroot) \(.partition) \(."control-set")"' '\Windows 3 1'
check "2019: no virtio driver" jq_is "$j" \
	'[.windows."virtio-drivers"[] | select(.service or .file or .start != null)] | length' 0
check "2019: virtio-installed false" jq_is "$j" '.windows."virtio-installed"' false
check "2019: all nine drivers listed, in order" jq_is "$j" \
	'.windows."virtio-drivers" | keys_unsorted | join(",")' \
	"viostor,vioscsi,netkvm,balloon,vioser,viorng,pvpanic,fwcfg,vioinput"
check "2019: zeroed hiberfil.sys: present, not hibernated" jq_is "$j" \
	'.volumes[] | select(.index == 3) | "\(.hiberfil) \(.hibernated) \(."hiberfil-signature")"' "true false null"
check "2019: hibernated false" jq_is "$j" '.hibernated' false
check "2019: no problems" jq_is "$j" '[.volumes[].problems[]] | length' 0
check "2019: the ESP is not NTFS, only partition 3 inspected" jq_is "$j" \
	'[.volumes[].index] | join(",")' 3
j2=$(winspect "$tmp/a.raw" $((49 * 1048576)))
check "2019: the volume alone, at its offset" jq_is "$j2" '.windows | "\(.systemroot) \(.build)"' '\Windows 17763'

# B: virtio drivers (services and files), live hibernation image,
# Select\Current = 2 (ControlSet001 carries decoy values), another name
mkdisk b --virtio --hibernated --control-set 2 --hostname web-01
j=$(winspect "$tmp/b.raw")
check "virtio: viostor service Start=0 and file" jq_is "$j" \
	'.windows."virtio-drivers".viostor | "\(.service) \(.start) \(.file)"' "true 0 true"
check "virtio: vioscsi service Start=0 and file" jq_is "$j" \
	'.windows."virtio-drivers".vioscsi | "\(.service) \(.start) \(.file)"' "true 0 true"
check "virtio: netkvm service Start=3 and file" jq_is "$j" \
	'.windows."virtio-drivers".netkvm | "\(.service) \(.start) \(.file)"' "true 3 true"
check "virtio: balloon still absent" jq_is "$j" \
	'.windows."virtio-drivers".balloon | "\(.service) \(.start) \(.file)"' "false null false"
check "virtio: virtio-installed" jq_is "$j" '.windows."virtio-installed"' true
check "control set 2: its values, not ControlSet001's" jq_is "$j" \
	'.windows | "\(."control-set") \(.hostname) \(.arch)"' "2 web-01 x86_64"
check "HIBR: hibernated" jq_is "$j" \
	'"\(.hibernated) " + (.volumes[] | select(.index == 3) | "\(.hiberfil) \(.hibernated) \(."hiberfil-signature")")' \
	"true true true HIBR"

# C: MBR, System Reserved NTFS + Windows 7 (CurrentVersion only), x86
mkdisk c --mbr --version win7 --arch x86
j=$(winspect "$tmp/c.raw")
check "win7: product name" jq_is "$j" '.windows."product-name"' "Windows 7 Professional"
check "win7: version from CurrentVersion" jq_is "$j" \
	'.windows | "\(.major).\(.minor) \(."current-version") \(.build)"' "6.1 6.1 7601"
check "win7: i386, Professional, Client" jq_is "$j" \
	'.windows | "\(.arch) \(.edition) \(."installation-type")"' "i386 Professional Client"
check "win7: partition 2; System Reserved has no system root" jq_is "$j" \
	'"\(.windows.partition) " + ([.volumes[] | "\(.index):\(.found)"] | join(","))' "2 1:false,2:true"

# D: Windows 10 on ARM64, the system root spelt in lower case
mkdisk d --version win10 --arch arm64 --systemroot windows
j=$(winspect "$tmp/d.raw")
check "win10 arm64: product, arch" jq_is "$j" '.windows | "\(."product-name") \(.arch)"' "Windows 10 Pro aarch64"
check "win10: systemroot as the directory is named" jq_is "$j" '.windows.systemroot' '\windows'
check "win10: Professional Client 10.0 19045" jq_is "$j" \
	'.windows | "\(.edition) \(."installation-type") \(.major).\(.minor) \(.build)"' "Professional Client 10.0 19045"

# E: an NTFS data volume (no system root) with a live hiberfil.sys
mkdisk e --no-windows --hibernated
j=$(winspect "$tmp/e.raw")
check "no windows: windows null" jq_is "$j" '.windows' null
check "no windows: found false" jq_is "$j" '[.volumes[].found] | join(",")' false
check "no windows: still hibernated (any NTFS volume)" jq_is "$j" '.hibernated' true

# F: SOFTWARE is not a hive: a hive-* problem, SYSTEM's facts still read
mkdisk f --corrupt-software --virtio
j=$(winspect "$tmp/f.raw")
check "corrupt SOFTWARE: still found" jq_is "$j" '.windows.systemroot' '\Windows'
check "corrupt SOFTWARE: a hive-header problem" jq_is "$j" \
	'[.volumes[].problems[].code] | index("hive-header") != null' true
check "corrupt SOFTWARE: and windows-inspection naming the hive" jq_is "$j" \
	'[.volumes[].problems[] | select(.code == "windows-inspection") | .message | test("SOFTWARE")] | any' true
check "corrupt SOFTWARE: no product, no version" jq_is "$j" \
	'.windows | "\(."product-name") \(.major) \(.build)"' "null null null"
check "corrupt SOFTWARE: SYSTEM facts" jq_is "$j" \
	'.windows | "\(.arch) \(.hostname) \(."control-set") \(."virtio-installed")"' "x86_64 WIN-IMGWARD01 1 true"

# G: values a hive holds but that make no sense, a hiberfil.sys we cannot
# read (NTFS-compressed): each its problem, the rest still reported
mkdisk g --version win7 --current-version six --processor MIPS --compressed-hiberfil
j=$(winspect "$tmp/g.raw")
has_problem() { # has_problem JSON CODE REGEX
	jq_is "$1" "[.volumes[].problems[] | select(.code == \"$2\") | .message | test(\"$3\")] | any" true
}
check "bad CurrentVersion: hive-value, version unknown" has_problem "$j" hive-value CurrentVersion
check "bad CurrentVersion: major/minor null, string kept" jq_is "$j" \
	'.windows | "\(.major) \(.minor) \(."current-version")"' "null null six"
check "unknown PROCESSOR_ARCHITECTURE: hive-value" has_problem "$j" hive-value PROCESSOR_ARCHITECTURE
check "unknown PROCESSOR_ARCHITECTURE: arch from cmd.exe's PE header" jq_is "$j" '.windows.arch' x86_64
check "compressed hiberfil.sys: ntfs-unsupported" has_problem "$j" ntfs-unsupported compressed
check "compressed hiberfil.sys: hibernation problem" has_problem "$j" hibernation hiberfil
check "compressed hiberfil.sys: present, counted as hibernated (unreadable)" jq_is "$j" \
	'"\(.hibernated) " + (.volumes[0] | "\(.hiberfil) \(."hiberfil-signature")")' "true true null"

# H: Select\Current names a control set that is not there
mkdisk h --select-current 5 --arch x86
j=$(winspect "$tmp/h.raw")
check "missing control set: windows-inspection names it" has_problem "$j" windows-inspection ControlSet005
check "missing control set: control-set and hostname null, product still read" jq_is "$j" \
	'.windows | "\(."control-set") \(.hostname) \(."product-name")"' "null null Windows Server 2019 Standard"
check "missing control set: arch from cmd.exe (PE32)" jq_is "$j" '.windows.arch' i386
check "missing control set: no service known" jq_is "$j" \
	'[.windows."virtio-drivers"[] | select(.service)] | length' 0

# ---- the same disks through iw_scan: raw and qcow2 ------------------------
SF=$B/tests/scan-file
if [ -x "$SF" ]; then
	for n in a b c f; do
		want=$(winspect "$tmp/$n.raw" | jq -cS '.windows')
		got=$("$SF" "$tmp/$n.raw" | jq -cS '.windows')
		check "scan-file raw $n: same windows object" [ "$got" = "$want" ]
		qemu-img convert -f raw -O qcow2 "$tmp/$n.raw" "$tmp/$n.qcow2"
		got=$("$SF" -f qcow2 "$tmp/$n.qcow2" | jq -cS '.windows')
		check "scan-file qcow2 $n: same windows object" [ "$got" = "$want" ]
	done
	check "scan-file: hibernated (b)" jq_is "$("$SF" "$tmp/b.raw")" '.hibernated' true
else
	echo "# $SF is not built: iw_scan cases left out"
fi

# ---- end to end: imgward scan in the sandbox --------------------------------
if sanitized; then
	echo "# ASan helpers cannot run in the sandbox's empty root: imgward scan cases left out"
elif [ -x "$IMGWARD" ] && [ -x "$B/imgward-ntfs" ]; then
	for n in a b; do
		want=$(winspect "$tmp/$n.raw" | jq -cS '.windows')
		got=$("$IMGWARD" scan --json "$tmp/$n.raw" | jq -cS '.windows')
		check "imgward scan raw $n: same windows object" [ "$got" = "$want" ]
		[ -f "$tmp/$n.qcow2" ] || qemu-img convert -f raw -O qcow2 "$tmp/$n.raw" "$tmp/$n.qcow2"
		got=$("$IMGWARD" scan --json "$tmp/$n.qcow2" | jq -cS '.windows')
		check "imgward scan qcow2 $n: same windows object" [ "$got" = "$want" ]
	done
	j=$("$IMGWARD" scan --json "$tmp/b.qcow2")
	check "imgward scan qcow2 b: hibernated, virtio installed" jq_is "$j" \
		'"\(.hibernated) \(.windows."virtio-installed") \(.format)"' "true true qcow2"
else
	echo "# imgward or imgward-ntfs is not built: imgward scan cases left out"
fi

finish
