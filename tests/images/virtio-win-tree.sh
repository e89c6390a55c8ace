#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A fake virtio-win tree, laid out as the real one (the virtio-win ISO, or
# the RPM's /usr/share/virtio-win), for the injector's tests and benchmark.
# Every file is small and names itself; .sys files are PE stubs
# (tests/images/pe-stub.py) for the directory's architecture; .inf files
# carry the PCI hardware ids of their driver.
#
#   virtio-win-tree.sh OUTDIR [options]
#
#   --layout iso|rpm    iso (default): <Driver>/<os>/<arch>/<file>
#                       rpm: drivers/by-os/<arch>/<os>/<file>
#   --iso FILE          also make an ISO of the tree (genisoimage, Joliet
#                       and Rock Ridge: names keep their case)
#   --os LIST           OS directories (default: xp 2k3 2k8 2k8R2 w7 w8
#                       w8.1 2k12 2k12R2 w10 2k16 2k19 w11 2k22)
#   --arch LIST         architectures (default: x86 amd64 ARM64)
#
# Decoys the selection must skip: .pdb files next to every driver, an
# sriov/ directory of NetKVM, a README at the top.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="" layout=iso iso=""
oses="xp 2k3 2k8 2k8R2 w7 w8 w8.1 2k12 2k12R2 w10 2k16 2k19 w11 2k22"
arches="x86 amd64 ARM64"
usage() { sed -n '/^#   virtio-win-tree.sh/,/^#   --arch/p' "$0" >&2; exit 64; }
while [ $# -gt 0 ]; do
	case $1 in
	--layout) layout=$2; shift ;;
	--iso) iso=$2; shift ;;
	--os) oses=$2; shift ;;
	--arch) arches=$2; shift ;;
	-*) usage ;;
	*) [ -z "$out" ] || usage; out=$1 ;;
	esac
	shift
done
[ -n "$out" ] || usage
case $layout in iso | rpm) ;; *) usage ;; esac

# driver directory (as the ISO spells it), file stem, PCI device ids
drivers="viostor:viostor:1001,1042 vioscsi:vioscsi:1004,1048
NetKVM:netkvm:1000,1041 Balloon:balloon:1002,1045
vioserial:vioser:1003,1043 viorng:viorng:1005,1044
pvpanic:pvpanic:0011 qemupciserial:qemupciserial:0002"

mkdir -p "$out"
python3 - "$here" "$out" "$layout" "$oses" "$arches" "$drivers" <<'PYEOF'
import os, sys
sys.path.insert(0, sys.argv[1])
import importlib.util
spec = importlib.util.spec_from_file_location("pe_stub", os.path.join(sys.argv[1], "pe-stub.py"))
pe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pe)
out, layout = sys.argv[2], sys.argv[3]
oses, arches = sys.argv[4].split(), sys.argv[5].split()
machine = {"x86": "x86", "amd64": "amd64", "ARM64": "arm64"}
for line in sys.argv[6].split():
    ddir, stem, ids = line.split(":")
    for osd in oses:
        for arch in arches:
            if layout == "iso":
                d = os.path.join(out, ddir, osd, arch)
            else:
                d = os.path.join(out, "drivers", "by-os", arch, osd)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, stem + ".sys"), "wb") as f:
                # a native (driver) PE for the architecture, then a line
                # that tells the files apart in a test
                f.write(bytes(pe.build(machine[arch], subsystem="native"))
                        + f"\n{stem}.sys {osd} {arch}\n".encode())
            with open(os.path.join(d, stem + ".inf"), "w", newline="\r\n") as f:
                f.write(f"; {stem}.inf for {osd} {arch} (imgward test tree)\n"
                        "[Version]\nSignature=\"$WINDOWS NT$\"\n"
                        "Provider=%RHEL%\n\n[Standard.NT{0}]\n".format(arch))
                for i in ids.split(","):
                    f.write(f"%{stem}.DeviceDesc% = {stem}_inst, "
                            f"PCI\\VEN_1AF4&DEV_{i}\n")
            with open(os.path.join(d, stem + ".cat"), "w") as f:
                f.write(f"{stem}.cat {osd} {arch}\n")
            with open(os.path.join(d, stem + ".pdb"), "w") as f:
                f.write(f"{stem}.pdb {osd} {arch} (debug symbols: never copied)\n")
            if stem == "netkvm":
                with open(os.path.join(d, "netkvmco.dll"), "w") as f:
                    f.write(f"netkvmco.dll {osd} {arch}\n")
                if layout == "iso":
                    s = os.path.join(out, ddir, "sriov", osd, arch)
                    os.makedirs(s, exist_ok=True)
                    with open(os.path.join(s, "vioprot.sys"), "w") as f:
                        f.write("sriov decoy\n")
with open(os.path.join(out, "README.txt"), "w") as f:
    f.write("imgward's fake virtio-win tree (tests/images/virtio-win-tree.sh)\n")
PYEOF
if [ -n "$iso" ]; then
	genisoimage -quiet -J -joliet-long -R -V virtio-win -o "$iso" "$out"
fi
