#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz-scan-result (validate_scan_report on what imgward-ntfs
# sends): the pure scanner's results on the fuzz-scan seed disks
# (build/tests/scan-file, as {"type":"result","scan":{...}} lines), and a
# hand-written scan with every field set (a Windows object, NTFS details,
# problems). fuzz/seeds.d/scan-result.sh OUTDIR CAP.
set -u
out=$1
cap=$2
mkdir -p "$out" disks || exit 1
B=${IMGWARD_BUILD:-$TOP/build}
SCAN_FILE=$B/tests/scan-file
bash "$TOP/fuzz/seeds.d/scan.sh" disks $((4 << 20)) >/dev/null 2>&1
if [ -x "$SCAN_FILE" ] && command -v python3 >/dev/null; then
	for d in disks/*; do
		[ -f "$d" ] || continue
		"$SCAN_FILE" "$d" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
s.pop("format", None); s.pop("virtual-size", None)
print(json.dumps({"type": "result", "scan": s}, separators=(",", ":")))
' > "$out/${d##*/}.json" 2>/dev/null || rm -f "$out/${d##*/}.json"
	done
fi
drv='{"service":false,"start":null,"file":false}'
cat > "$out/windows.json" <<JSON
{"type":"result","scan":{"partition-table":{"type":"gpt","disk-guid":"63E53380-3F43-CA48-8650-A42A8BCB1BD6","hybrid-mbr":false,"backup-gpt-used":false},"partitions":[{"index":2,"start":105906176,"size":1000000000,"type":"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7","type-name":"Microsoft basic data","name":"Basic data partition","guid":"77629D18-6AA3-CD4E-9952-EB812E90D914","flags":["no-automount","hidden"],"filesystem":"ntfs","filesystem-version":null,"label":"Windows","uuid":"1A2B3C4D5E6F7081","ntfs":{"version":"3.1","label":"Windows","serial":"1A2B3C4D5E6F7081","dirty":true,"cluster-size":4096,"mft-record-size":1024,"hiberfil":true,"hibernated":true},"problems":[{"code":"hive-cell","message":"cell at 0x1020: size 0"},{"code":"ntfs-fixup","message":"MFT record 42: sector 1"}]}],"windows":{"product-name":"Windows Server 2019 Standard","major":10,"minor":0,"build":"17763","current-version":"6.3","edition":"ServerStandard","installation-type":"Server","arch":"x86_64","hostname":"WIN-ABC","systemroot":"\\\\Windows","partition":2,"control-set":1,"virtio-drivers":{"viostor":{"service":true,"start":0,"file":true},"vioscsi":$drv,"netkvm":{"service":true,"start":3,"file":false},"balloon":$drv,"vioser":$drv,"viorng":$drv,"pvpanic":$drv,"fwcfg":$drv,"vioinput":$drv},"virtio-installed":true},"hibernated":true,"problems":[{"code":"read-budget","message":"stopped"}]}}
JSON
exit 0
