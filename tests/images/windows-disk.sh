#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build a synthetic Windows disk for the scanner's tests and benchmark:
# nothing of Windows in it but what an inspection reads (libguestfs'
# daemon/inspect_fs_windows.ml and ours, lib/scan/windows.c): the system
# root with System32\config\SOFTWARE and SYSTEM hives (written by
# tests/images/hive.py), System32\cmd.exe (a PE stub for the
# architecture, tests/images/pe-stub.py: libguestfs takes the arch from
# what file(1) says of it), a few driver files, hiberfil.sys.
#
#   windows-disk.sh OUT.raw [options]
#
#   --mbr               MBR: a 32 MiB "System Reserved" NTFS (0x07,
#                       bootable, no system root) + the Windows NTFS (0x07)
#                       (default GPT: EFI system partition (FAT, 32 MiB),
#                       MSR (16 MiB), the Windows NTFS "basic data")
#   --version V         win2019 (default): "Windows Server 2019 Standard",
#                         10.0 (CurrentMajor/MinorVersionNumber DWORDs,
#                         CurrentVersion "6.3"), build 17763,
#                         ServerStandard, Server
#                       win10: "Windows 10 Pro", 10.0, build 19045,
#                         Professional, Client
#                       win7: "Windows 7 Professional", CurrentVersion
#                         "6.1" only (no Major/Minor DWORDs), build 7601,
#                         Professional, Client
#   --arch A            amd64 (default), x86, arm64: PROCESSOR_ARCHITECTURE
#                       AMD64 / x86 / ARM64 and cmd.exe's PE machine
#   --hostname NAME     ComputerName and Tcpip\Parameters Hostname
#                       (default WIN-IMGWARD01)
#   --control-set N     Select\Current = N (default 1); ControlSet001 is
#                       always there, ControlSet00N holds the real values
#                       when N != 1 (ControlSet001 then says "WRONG-SET")
#   --systemroot NAME   the system root directory (default Windows)
#   --virtio            viostor.sys, vioscsi.sys, netkvm.sys in
#                       System32\drivers and their Services keys (Start 0,
#                       0, 3)
#   --hibernated        \hiberfil.sys whose header starts "HIBR" (a live
#                       Vista+ hibernation / Fast Startup image)
#   --hiberfil          \hiberfil.sys with a zeroed header (hibernation
#                       enabled, system shut down normally)
#   --no-windows        the Windows partition is an NTFS data volume only
#                       (a few files, no system root)
#   --corrupt-software  SOFTWARE is 8 KiB that is not a hive
#   --select-current N  Select\Current = N whatever control sets exist
#                       (0, or one that is missing: broken SYSTEM hives)
#   --processor NAME    PROCESSOR_ARCHITECTURE = NAME (default from --arch)
#   --current-version S CurrentVersion = S (with win7, the only version)
#   --compressed-hiberfil  hiberfil.sys ("HIBR") NTFS-compressed (the
#                       scanner does not read compressed data)
#   --keep-dir DIR      leave the partition images and hives in DIR
#   --volume-only       OUT is the Windows NTFS volume alone, no partition
#                       table (a whole-disk filesystem; small fuzz seeds)
#   --ntfs-kib N        the Windows NTFS volume's size in KiB (default
#                       204800; with --volume-only 2048 is enough)
#   --bcd               GPT: an (empty) BCD hive in the ESP at
#                       EFI\Microsoft\Boot\BCD, which virt-v2v opens
#                       (bench/inject-vs-v2v); needs mtools
#
# The disk is 256 MiB, sparse; the Windows NTFS is 200 MiB, made by mkntfs
# in a separate file, filled through an ntfs-3g FUSE mount (root and
# /dev/fuse needed), and copied into the disk at its offset. The GPT
# partition GUIDs and the MBR disk signature are fixed, so that SYSTEM's
# MountedDevices maps C: to the Windows partition (libguestfs reports it
# as a drive mapping). Exit 77 when a tool is missing or FUSE does not
# work here (tests skip), 1 on other failures.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=""
scheme=gpt version=win2019 arch=amd64 hostname=WIN-IMGWARD01
control_set=1 systemroot=Windows virtio=0 hiber="" no_windows=0
corrupt_software=0 keep_dir="" volume_only=0 ntfs_kib=204800
select_current="" processor="" current_version="" compressed_hiberfil=0
bcd=0

usage() { sed -n '/^#   windows-disk.sh/,/^#   --keep-dir/p' "$0" >&2; exit 64; }
while [ $# -gt 0 ]; do
	case $1 in
	--mbr) scheme=mbr ;;
	--gpt) scheme=gpt ;;
	--version) version=$2; shift ;;
	--arch) arch=$2; shift ;;
	--hostname) hostname=$2; shift ;;
	--control-set) control_set=$2; shift ;;
	--systemroot) systemroot=$2; shift ;;
	--virtio) virtio=1 ;;
	--hibernated) hiber=HIBR ;;
	--hiberfil) hiber=zero ;;
	--no-windows) no_windows=1 ;;
	--corrupt-software) corrupt_software=1 ;;
	--keep-dir) keep_dir=$2; shift ;;
	--volume-only) volume_only=1 ;;
	--select-current) select_current=$2; shift ;;
	--processor) processor=$2; shift ;;
	--current-version) current_version=$2; shift ;;
	--compressed-hiberfil) hiber=HIBR compressed_hiberfil=1 ;;
	--ntfs-kib) ntfs_kib=$2; shift ;;
	--bcd) bcd=1 ;;
	-*) usage ;;
	*) [ -z "$out" ] || usage; out=$1 ;;
	esac
	shift
done
[ -n "$out" ] || usage
case $version in win2019 | win10 | win7) ;; *) usage ;; esac
case $arch in amd64 | x86 | arm64) ;; *) usage ;; esac
case $control_set in [1-9]) ;; *) usage ;; esac
case $ntfs_kib in '' | *[!0-9]*) usage ;; esac
case $select_current in *[!0-9]*) usage ;; esac
[ "$ntfs_kib" -ge 1024 ] || usage
[ $volume_only = 1 ] || [ "$ntfs_kib" -le 204800 ] || usage

for t in mkntfs ntfs-3g sfdisk mkfs.vfat python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "windows-disk.sh: $t is not installed" >&2; exit 77; }
done
if [ $compressed_hiberfil = 1 ] && ! command -v setfattr >/dev/null 2>&1; then
	echo "windows-disk.sh: setfattr (attr) is not installed" >&2; exit 77
fi
[ "$(id -u)" = 0 ] && [ -c /dev/fuse ] ||
	{ echo "windows-disk.sh: needs root and /dev/fuse (ntfs-3g mount)" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/windows-disk.XXXXXX")
mnt=$work/mnt
ntfs_pid=""
cleanup() {
	if [ -n "$ntfs_pid" ]; then
		umount "$mnt" 2>/dev/null || :
		wait "$ntfs_pid" 2>/dev/null || :
	fi
	if [ -n "$keep_dir" ]; then
		mkdir -p "$keep_dir" && cp -a "$work"/*.hive "$work"/*.fs "$keep_dir"/ 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# run a chatty tool, show what it said only when it fails
quiet() { "$@" >"$work/cmd.log" 2>&1 || { cat "$work/cmd.log" >&2; return 1; }; }

MiB=$((1 << 20))
# Fixed identities: MountedDevices refers to them
disk_guid=6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B01
esp_guid=6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B02
msr_guid=6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B03
win_guid=6B1C4E2A-0D7F-4C55-9E3A-2F5D8C1A7B04
mbr_signature=0x1a2b3c4d

if [ $scheme = gpt ]; then
	esp_start=$((1 * MiB)) esp_size=$((32 * MiB))
	msr_start=$((esp_start + esp_size)) msr_size=$((16 * MiB))
	win_start=$((msr_start + msr_size))
	win_index=3
else
	sr_start=$((1 * MiB)) sr_size=$((32 * MiB))
	win_start=$((sr_start + sr_size))
	win_index=2
fi
win_size=$((ntfs_kib * 1024))
[ $volume_only = 0 ] || win_start=0

# ---- the hives and PE stubs (one python3 run: its start-up is the slow
# part of this script on a loaded machine) ---------------------------------
if [ $no_windows = 0 ]; then
	PYTHONPATH=$here python3 - "$work" "$version" "$arch" "$hostname" \
		"$control_set" "$systemroot" "$virtio" "$scheme" "$win_guid" \
		"$mbr_signature" "$win_start" "$select_current" "$processor" \
		"$current_version" <<'EOF'
import importlib.util, os, struct, sys, uuid
import hive

_spec = importlib.util.spec_from_file_location(
    "pe_stub", os.path.join(os.environ["PYTHONPATH"], "pe-stub.py"))
pe_stub = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pe_stub)

(work, version, arch, hostname, control_set, systemroot, virtio, scheme,
 win_guid, mbr_signature, win_start, select_current, processor,
 current_version) = sys.argv[1:]
control_set, virtio, win_start = int(control_set), virtio == "1", int(win_start)

VERSIONS = {
    "win2019": dict(ProductName="Windows Server 2019 Standard",
                    CurrentVersion="6.3", CurrentBuildNumber="17763",
                    EditionID="ServerStandard", InstallationType="Server",
                    major=10, minor=0),
    "win10": dict(ProductName="Windows 10 Pro", CurrentVersion="6.3",
                  CurrentBuildNumber="19045", EditionID="Professional",
                  InstallationType="Client", major=10, minor=0),
    "win7": dict(ProductName="Windows 7 Professional", CurrentVersion="6.1",
                 CurrentBuildNumber="7601", EditionID="Professional",
                 InstallationType="Client", major=None, minor=None),
}
PROC = {"amd64": "AMD64", "x86": "x86", "arm64": "ARM64"}

def sz(s): return {"type": "sz", "data": s}
def expand(s): return {"type": "expand_sz", "data": s}
def dword(n): return {"type": "dword", "data": n}
def key(values=None, keys=None):
    return {"values": values or {}, "keys": keys or {}}

v = dict(VERSIONS[version])
if current_version:
    v["CurrentVersion"] = current_version
cv = {k: sz(v[k]) for k in ("ProductName", "CurrentVersion",
                             "CurrentBuildNumber", "EditionID",
                             "InstallationType")}
cv["CurrentBuild"] = sz(v["CurrentBuildNumber"])
cv["SystemRoot"] = sz("C:\\" + systemroot)
cv["RegisteredOwner"] = sz("imgward tests")
if v["major"] is not None:
    cv["CurrentMajorVersionNumber"] = dword(v["major"])
    cv["CurrentMinorVersionNumber"] = dword(v["minor"])
software = {"name": "ROOT", "file-name": "SOFTWARE", "keys": {
    "Microsoft": key(keys={
        "Windows NT": key(keys={"CurrentVersion": key(cv)}),
        "Windows": key(keys={"CurrentVersion": key(
            {"ProgramFilesDir": sz("C:\\Program Files")})}),
    }),
    "Classes": key(),
}}

def service(image, start, typ=1, group=None):
    vals = {"Start": dword(start), "Type": dword(typ),
            "ErrorControl": dword(1), "ImagePath": expand(image)}
    if group:
        vals["Group"] = sz(group)
    return key(vals)

def control_set_key(real):
    name = hostname if real else "WRONG-SET"
    services = {
        "disk": service("System32\\drivers\\disk.sys", 0, group="SCSI Class"),
        "atapi": service("System32\\drivers\\atapi.sys", 0, group="SCSI miniport"),
        "storahci": service("System32\\drivers\\storahci.sys", 3, group="SCSI miniport"),
        "Tcpip": key({"Start": dword(1), "Type": dword(1)}, {
            "Parameters": key({"Hostname": sz(name),
                               "NV Hostname": sz(name),
                               "Domain": sz("")})}),
    }
    if real and virtio:
        services["viostor"] = service("System32\\drivers\\viostor.sys", 0,
                                      group="SCSI miniport")
        services["vioscsi"] = service("System32\\drivers\\vioscsi.sys", 0,
                                      group="SCSI miniport")
        services["netkvm"] = service("System32\\drivers\\netkvm.sys", 3,
                                     group="NDIS")
    return key(keys={
        "Control": key(keys={
            "Session Manager": key(keys={"Environment": key({
                "PROCESSOR_ARCHITECTURE": sz((processor or PROC[arch]) if real else "IA64"),
                "NUMBER_OF_PROCESSORS": sz("2"),
                "OS": sz("Windows_NT")})}),
            "ComputerName": key(keys={
                "ComputerName": key({"ComputerName": sz(name.upper())}),
                "ActiveComputerName": key({"ComputerName": sz(name.upper())})}),
        }),
        "Services": key(keys=services),
    })

sets = {"ControlSet001": control_set_key(control_set == 1)}
if control_set != 1:
    sets["ControlSet%03d" % control_set] = control_set_key(True)

# MountedDevices: \DosDevices\C: -> the Windows partition. GPT: "DMIO:ID:"
# and the partition GUID (mixed-endian, as on disk); MBR: the disk
# signature and the partition's byte offset.
if scheme == "gpt":
    blob = b"DMIO:ID:" + uuid.UUID(win_guid).bytes_le
else:
    blob = struct.pack("<IQ", int(mbr_signature, 16), win_start)
mounted = {"\\DosDevices\\C:": {"type": "binary", "data": blob.hex()}}

system = {"name": "ROOT", "file-name": "SYSTEM", "keys": dict(sets, **{
    "Select": key({"Current": dword(int(select_current or control_set)),
                   "Default": dword(control_set),
                   "LastKnownGood": dword(control_set),
                   "Failed": dword(0)}),
    "MountedDevices": key(mounted),
    "Setup": key({"SystemSetupInProgress": dword(0)}),
})}

with open(f"{work}/SOFTWARE.hive", "wb") as f:
    f.write(hive.build(software))
with open(f"{work}/SYSTEM.hive", "wb") as f:
    f.write(hive.build(system))
for sub in ("console", "native", "gui"):
    with open(f"{work}/pe-{sub}.exe", "wb") as f:
        f.write(pe_stub.build(arch, sub))
EOF
fi

# ---- the Windows NTFS volume --------------------------------------------
winfs=$work/windows.fs
truncate -s $win_size "$winfs"
# -p: hidden sectors = where the partition starts, as Windows' own
# format sets it; -f: no zeroing (the file is sparse)
quiet mkntfs -q -f -F -L Windows -c 4096 -s 512 -p $((win_start / 512)) \
	-H 255 -S 63 "$winfs"

mkdir -p "$mnt"
# no_detach: we own the process and can wait for it to have written
# everything back after umount
ntfs-3g -o no_detach "$winfs" "$mnt" 2>"$work/ntfs-3g.log" &
ntfs_pid=$!
for _ in $(seq 100); do
	mountpoint -q "$mnt" && break
	kill -0 $ntfs_pid 2>/dev/null || break
	sleep 0.05
done
if ! mountpoint -q "$mnt"; then
	echo "windows-disk.sh: ntfs-3g could not mount: $(cat "$work/ntfs-3g.log")" >&2
	ntfs_pid=""
	exit 77
fi

mkdir -p "$mnt/Program Files" "$mnt/Users/Public"
echo "imgward test volume" >"$mnt/Users/Public/readme.txt"
if [ $no_windows = 0 ]; then
	sr=$mnt/$systemroot
	mkdir -p "$sr/System32/config" "$sr/System32/drivers" "$sr/Temp" \
		"$sr/SysWOW64"
	cp "$work/SOFTWARE.hive" "$sr/System32/config/SOFTWARE"
	cp "$work/SYSTEM.hive" "$sr/System32/config/SYSTEM"
	if [ $corrupt_software = 1 ]; then
		# 8 KiB that is no hive: a wrong signature, then noise
		{ printf 'NOTAHIVE'; head -c 8184 /dev/urandom; } >"$sr/System32/config/SOFTWARE"
	fi
	cp "$work/pe-console.exe" "$sr/System32/cmd.exe"
	cp "$work/pe-native.exe" "$sr/System32/ntoskrnl.exe"
	cp "$work/pe-gui.exe" "$sr/explorer.exe"
	drivers="disk atapi storahci ntfs"
	[ $virtio = 1 ] && drivers="$drivers viostor vioscsi netkvm"
	for d in $drivers; do
		cp "$work/pe-native.exe" "$sr/System32/drivers/$d.sys"
	done
	printf '; for 16-bit app support\r\n' >"$sr/win.ini"
fi
if [ $compressed_hiberfil = 1 ]; then
	# files created in a directory with the compressed attribute are
	# compressed by ntfs-3g (LZNT1, 4 KiB clusters)
	mkdir "$mnt/packed"
	setfattr -h -v 0x00000800 -n system.ntfs_attrib_be "$mnt/packed"
	{ printf 'HIBR'; head -c $((64 * 1024 - 4)) /dev/zero; } >"$mnt/packed/hiberfil.sys"
	mv "$mnt/packed/hiberfil.sys" "$mnt/hiberfil.sys"
	rmdir "$mnt/packed"
	hiber=""
fi
case $hiber in
HIBR)
	# a Vista+ image header: signature, then the rest of its first page
	{ printf 'HIBR'; head -c $((64 * 1024 - 4)) /dev/zero; } >"$mnt/hiberfil.sys" ;;
zero)
	head -c $((64 * 1024)) /dev/zero >"$mnt/hiberfil.sys" ;;
esac
umount "$mnt"
wait $ntfs_pid || :
ntfs_pid=""

# ---- the disk -------------------------------------------------------------
rm -f "$out"
if [ $volume_only = 1 ]; then
	cp --sparse=always "$winfs" "$out"
	exit 0
fi
truncate -s $((256 * MiB)) "$out"
if [ $scheme = gpt ]; then
	sfdisk -q --no-reread --no-tell-kernel "$out" >/dev/null <<EOF
label: gpt
label-id: $disk_guid
unit: sectors
start=$((esp_start / 512)), size=$((esp_size / 512)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$esp_guid, name="EFI system partition"
start=$((msr_start / 512)), size=$((msr_size / 512)), type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, uuid=$msr_guid, name="Microsoft reserved partition"
start=$((win_start / 512)), size=$((win_size / 512)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=$win_guid, name="Basic data partition"
EOF
	esp=$work/esp.fs
	truncate -s $esp_size "$esp"
	# (FAT16 with --bcd: mtools cannot write a FAT32 this small)
	quiet mkfs.vfat -F $([ $bcd = 1 ] && echo 16 || echo 32) -n SYSTEM \
		-i 1A2B3C4D -h $((esp_start / 512)) "$esp"
	if [ $bcd = 1 ]; then
		# the boot configuration store virt-v2v opens (an empty one:
		# no graphicsmodedisabled element to remove)
		echo '{"name": "ROOT", "keys": {"Description": {}, "Objects": {}}}' |
			python3 "$here/hive.py" "$work/BCD" -
		mmd -i "$esp" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot
		mcopy -i "$esp" "$work/BCD" ::/EFI/Microsoft/Boot/BCD
	fi
	dd if="$esp" of="$out" bs=1M seek=$((esp_start / MiB)) conv=notrunc,sparse status=none
else
	sfdisk -q --no-reread --no-tell-kernel "$out" >/dev/null <<EOF
label: dos
label-id: $mbr_signature
unit: sectors
start=$((sr_start / 512)), size=$((sr_size / 512)), type=7, bootable
start=$((win_start / 512)), size=$((win_size / 512)), type=7
EOF
	srfs=$work/sysres.fs
	truncate -s $sr_size "$srfs"
	quiet mkntfs -q -f -F -L "System Reserved" -c 4096 -s 512 \
		-p $((sr_start / 512)) -H 255 -S 63 "$srfs"
	dd if="$srfs" of="$out" bs=1M seek=$((sr_start / MiB)) conv=notrunc,sparse status=none
fi
dd if="$winfs" of="$out" bs=1M seek=$((win_start / MiB)) conv=notrunc,sparse status=none
[ -z "${WINDOWS_DISK_VERBOSE:-}" ] ||
	echo "windows partition: index $win_index, start $win_start, size $win_size" >&2
