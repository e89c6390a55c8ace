#!/bin/bash
# Driver injection for real, in the libguestfs appliance (slow: two
# appliance launches under TCG here). A synthetic Windows Server 2019 disk
# (tests/images/windows-disk.sh) and a fake virtio-win tree laid out as
# the real one (tests/images/virtio-win-tree.sh):
#   A. imgward import --conversion format,virtio from a qcow2 source into a
#      raw target, virtio-win as a directory, a fake rhsrvany.exe in
#      VIRT_TOOLS_DATA_DIR: the target is the source's conversion plus the
#      drivers; the files are in Windows\Drivers\VirtIO (and the block
#      drivers in System32\drivers); the SYSTEM hive has the services and
#      their device bindings; DevicePath names the directory; the first-boot
#      service and its script are there; imgward scan then reports the
#      drivers installed; a second inject skips.
#   B. imgward inject straight into a qcow2 disk, virtio-win as an ISO, no
#      service wrapper: the qcow2 grows and stays valid (qemu-img check),
#      the first-boot step is a RunOnce entry.
# The guest is read back on the host with ntfs-3g (read-only, on a copy of
# the partition) and hivexget/hivexregedit: tools that are not ours.
. "$(dirname "$0")/functions.sh"
requires_slow "two libguestfs appliance launches"
requires_root
for t in jq qemu-img hivexget hivexregedit ntfs-3g mkntfs python3 mtools; do
	requires "$t"
done
[ -x "$B/imgward-inject" ] || skip "imgward-inject is not built"
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
command -v libguestfs-test-tool >/dev/null || skip "libguestfs is not installed"
[ -n "$(ls /boot/vmlinuz-* 2>/dev/null)" ] || skip "no kernel for the appliance (linux-image-*)"

"$top/tests/images/windows-disk.sh" "$tmp/win.raw" --bcd || {
	[ $? = 77 ] && skip "windows-disk.sh cannot build a disk here"
	exit 1
}
"$top/tests/images/virtio-win-tree.sh" "$tmp/vw" --layout iso \
	--iso "$tmp/virtio-win.iso" >/dev/null ||
	{ echo "# virtio-win-tree.sh failed"; exit 1; }
mkdir "$tmp/tools"
printf 'MZ fake rhsrvany\n' >"$tmp/tools/rhsrvany.exe"

# mount_win IMG DIR: the Windows partition (3) of a raw disk, read-only,
# from a copy (no partition devices needed)
win_start=$(sfdisk -J "$tmp/win.raw" | jq '.partitiontable.partitions[2].start')
win_size=$(sfdisk -J "$tmp/win.raw" | jq '.partitiontable.partitions[2].size')
mount_win() {
	dd if="$1" of="$tmp/part.fs" bs=512 skip="$win_start" count="$win_size" \
		status=none
	mkdir -p "$2"
	ntfs-3g -o ro "$tmp/part.fs" "$2" && cleanup_fn "umount '$2' 2>/dev/null"
}
hget() { hivexget "$@" 2>/dev/null; }

# ---- A: import --conversion format,virtio ---------------------------------
qemu-img convert -f raw -O qcow2 "$tmp/win.raw" "$tmp/src.qcow2"
out=$(VIRT_TOOLS_DATA_DIR="$tmp/tools" "$IMGWARD" import --json \
	--conversion format,virtio --virtio-win "$tmp/vw" \
	--target "$tmp/target.raw" --state-file "$tmp/state.json" \
	"$tmp/src.qcow2" 2>"$tmp/err")
rc=$?
check "A: import exits 0" test $rc = 0
[ $rc = 0 ] || { echo "# $(head -c 600 "$tmp/err")"; echo "# $out" | head -c 600; }
check "A: the result says injected" jq_is "$out" '.inject.action' injected
check "A: with viostor and vioscsi" \
	jq_is "$out" '[.inject.drivers[]] | (index("viostor") != null and index("vioscsi") != null)' true
check "A: first boot through the service wrapper" jq_is "$out" .inject.firstboot service
check "A: the state file says finished, not failed" \
	jq_is "$(cat "$tmp/state.json")" '[.finished, has("failed")] | @text' '[true,false]'

mount_win "$tmp/target.raw" "$tmp/a"
vio=$tmp/a/Windows/Drivers/VirtIO
for f in viostor.sys viostor.inf viostor.cat vioscsi.sys vioscsi.inf netkvm.sys netkvm.inf; do
	check "A: $f in Windows\\Drivers\\VirtIO" test -f "$vio/$f"
done
check "A: viostor.sys is the tree's file" \
	cmp -s "$vio/viostor.sys" "$(find "$tmp/vw" -ipath '*viostor/2k19/amd64/viostor.sys' | head -1)"
check "A: no .pdb copied" test -z "$(find "$vio" -iname '*.pdb')"
check "A: viostor.sys in System32\\drivers" test -f "$tmp/a/Windows/System32/drivers/viostor.sys"
check "A: vioscsi.sys in System32\\drivers" test -f "$tmp/a/Windows/System32/drivers/vioscsi.sys"
check "A: the first-boot script runs pnputil on the drivers" \
	grep -q 'pnputil -i -a "%SystemRoot%\\Drivers\\VirtIO\\\*.inf"' "$vio/imgward-firstboot.cmd"
check "A: rhsrvany.exe copied" test -f "$vio/rhsrvany.exe"
sys=$tmp/a/Windows/System32/config/SYSTEM
soft=$tmp/a/Windows/System32/config/SOFTWARE
for drv in viostor vioscsi; do
	check "A: Services\\$drv Start = 0 (boot)" \
		test "$(hget "$sys" "ControlSet001\\Services\\$drv" Start)" = 0
	check "A: Services\\$drv Type = 1 (kernel driver)" \
		test "$(hget "$sys" "ControlSet001\\Services\\$drv" Type)" = 1
	check "A: Services\\$drv ImagePath" \
		test "$(hget "$sys" "ControlSet001\\Services\\$drv" ImagePath)" = "system32\\drivers\\$drv.sys"
	check "A: Services\\$drv Group" \
		test "$(hget "$sys" "ControlSet001\\Services\\$drv" Group)" = "SCSI miniport"
done
cdd=$(hivexregedit --export "$sys" 'ControlSet001\Control\CriticalDeviceDatabase' 2>/dev/null)
check "A: virtio-blk bound to viostor (CriticalDeviceDatabase)" \
	grep -qi 'pci#ven_1af4&dev_1001' <<<"$cdd"
check "A: virtio-scsi bound to vioscsi (CriticalDeviceDatabase)" \
	grep -qi 'pci#ven_1af4&dev_1004' <<<"$cdd"
check "A: the first-boot service (rhsrvany, automatic start)" \
	test "$(hget "$sys" 'ControlSet001\Services\imgward-firstboot' Start)" = 2
check "A: the service runs the script" \
	grep -q imgward-firstboot.cmd <<<"$(hget "$sys" 'ControlSet001\Services\imgward-firstboot\Parameters' CommandLine)"
check "A: DevicePath names Drivers\\VirtIO" \
	grep -qF '%SystemRoot%\Drivers\VirtIO' <<<"$(hget "$soft" 'Microsoft\Windows\CurrentVersion' DevicePath)"
umount "$tmp/a"

scan=$("$IMGWARD" scan --json "$tmp/target.raw")
check "A: imgward scan now finds viostor installed" \
	jq_is "$scan" '.windows."virtio-drivers".viostor | [.service, .start, .file] | @text' '[true,0,true]'
check "A: and virtio-installed" jq_is "$scan" '.windows."virtio-installed"' true
out=$("$IMGWARD" inject --json --virtio-win "$tmp/vw" "$tmp/target.raw")
check "A: a second inject skips" jq_is "$out" .inject.action skipped

# ---- B: inject into a qcow2 disk, virtio-win as an ISO ---------------------
qemu-img convert -f raw -O qcow2 "$tmp/win.raw" "$tmp/b.qcow2"
size0=$(stat -c %s "$tmp/b.qcow2")
out=$(env -u VIRT_TOOLS_DATA_DIR VIRT_TOOLS_DATA_DIR="$tmp/no-tools" \
	"$IMGWARD" inject --json --virtio-win "$tmp/virtio-win.iso" "$tmp/b.qcow2" \
	2>"$tmp/err")
rc=$?
check "B: inject into qcow2 from an ISO exits 0" test $rc = 0
[ $rc = 0 ] || echo "# $(head -c 600 "$tmp/err")"
check "B: injected" jq_is "$out" .inject.action injected
check "B: first boot through RunOnce (no service wrapper)" \
	jq_is "$out" .inject.firstboot runonce
check "B: the qcow2 grew" test "$(stat -c %s "$tmp/b.qcow2")" -gt "$size0"
check "B: the qcow2 is consistent (qemu-img check)" qemu-img check -q "$tmp/b.qcow2"
qemu-img convert -f qcow2 -O raw "$tmp/b.qcow2" "$tmp/b.raw"
mount_win "$tmp/b.raw" "$tmp/b"
check "B: viostor.sys in Windows\\Drivers\\VirtIO" test -f "$tmp/b/Windows/Drivers/VirtIO/viostor.sys"
check "B: RunOnce runs the first-boot script" \
	grep -q imgward-firstboot.cmd <<<"$(hget "$tmp/b/Windows/System32/config/SOFTWARE" \
		'Microsoft\Windows\CurrentVersion\RunOnce' imgward-firstboot)"
check "B: Services\\viostor Start = 0" \
	test "$(hget "$tmp/b/Windows/System32/config/SYSTEM" 'ControlSet001\Services\viostor' Start)" = 0
umount "$tmp/b"

finish
