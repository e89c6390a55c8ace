#!/bin/bash
# SLOW (a libguestfs appliance under TCG, a minute or more per disk; runs
# only with IMGWARD_SLOW_TESTS=1 / make check-slow): the Windows answer
# of imgward scan against virt-inspector's on the same synthetic disks
# (tests/images/windows-disk.sh): Windows Server 2019 on GPT (x86-64,
# version from the Major/Minor DWORDs) and Windows 7 on MBR (x86, version
# from CurrentVersion). Compared: product name, major/minor version,
# architecture, host name, system root, the partition holding it (root
# device /dev/sdaN), the current control set, the product variant
# (InstallationType). Through imgward scan in the sandbox, or
# build/tests/win-inspect when the helpers cannot run here (ASan build).
. "$(dirname "$0")/functions.sh"
requires_slow "virt-inspector boots a libguestfs appliance"
requires virt-inspector
requires jq
requires python3
requires ntfs-3g
requires mkntfs
requires sfdisk
requires mkfs.vfat
requires_root

# No KVM on our build machines: TCG, as the issue says
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}

ours() {
	if ! sanitized && [ -x "$IMGWARD" ] && [ -x "$B/imgward-ntfs" ]; then
		"$IMGWARD" scan --json "$1"
	else
		"$B/tests/win-inspect" "$1"
	fi
}

# virt-inspector's XML -> the fields we compare, as JSON
vi_json() {
	python3 - "$1" <<'EOF'
import json, sys
import xml.etree.ElementTree as ET
oses = ET.parse(sys.argv[1]).getroot().findall("operatingsystem")
out = None
for o in oses:
    if o.findtext("name") != "windows":
        continue
    t = lambda k: o.findtext(k)
    maj, mnr = t("major_version"), t("minor_version")
    cs = t("windows_current_control_set")
    out = {"product-name": t("product_name"),
           "major": int(maj) if maj is not None else None,
           "minor": int(mnr) if mnr is not None else None,
           "arch": t("arch"), "hostname": t("hostname"),
           "systemroot": (t("windows_systemroot") or "").replace("/", "\\"),
           "root": t("root"),
           "control-set": int(cs[len("ControlSet"):]) if cs else None,
           "installation-type": t("product_variant"),
           "drive-c": next((m.text for m in o.iter("drive_mapping")
                            if m.get("name") == "C"), None)}
    break
print(json.dumps(out))
EOF
}

compare() { # compare NAME DISK
	local name=$1 disk=$2 v o err
	err=$tmp/$name.vi.err
	if ! virt-inspector --format=raw -a "$disk" >"$tmp/$name.xml" 2>"$err"; then
		echo "# virt-inspector failed: $(tail -5 "$err")"
		return 1
	fi
	v=$(vi_json "$tmp/$name.xml")
	o=$(ours "$disk")
	echo "# virt-inspector: $v"
	echo "# imgward: $(printf '%s' "$o" | jq -c .windows)"
	check "$name: virt-inspector found Windows" [ "$v" != null ]
	for f in product-name major minor arch hostname systemroot control-set installation-type; do
		check "$name: $f agrees" jq_is "$o" ".windows.\"$f\" | tostring" \
			"$(printf '%s' "$v" | jq -r ".\"$f\" | tostring")"
	done
	check "$name: the root partition agrees (/dev/sdaN)" jq_is "$o" \
		'"/dev/sda\(.windows.partition)"' "$(printf '%s' "$v" | jq -r .root)"
	check "$name: C: is the system partition (MountedDevices as libguestfs maps it)" \
		[ "$(printf '%s' "$v" | jq -r '."drive-c"')" = "$(printf '%s' "$v" | jq -r .root)" ]
}

# Can libguestfs launch here at all? (also warms the appliance cache)
if ! guestfish -a /dev/null run >"$tmp/launch.log" 2>&1; then
	skip "libguestfs cannot launch an appliance here: $(tail -3 "$tmp/launch.log" | tr '\n' ' ')"
fi

build() {
	local rc=0
	"$top/tests/images/windows-disk.sh" "$@" || rc=$?
	[ $rc = 77 ] && skip "windows-disk.sh cannot build a disk here"
	[ $rc = 0 ] || { echo "# windows-disk.sh $* failed"; exit 1; }
}
build "$tmp/w2019.raw" --virtio
build "$tmp/w7.raw" --mbr --version win7 --arch x86 --hostname w7-box

compare w2019 "$tmp/w2019.raw" || fail "w2019: virt-inspector ran"
compare w7 "$tmp/w7.raw" || fail "w7: virt-inspector ran"

finish
