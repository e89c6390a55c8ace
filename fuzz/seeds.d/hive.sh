#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-hive.c: small hives from tests/images/hive.py (every
# subkey list kind, every value type, big data, UTF-16 names, version 1.3)
# and the broken ones of tests/images/hive-corrupt.py. Run by
# fuzz/make-seeds as `hive.sh OUTDIR CAP` in a scratch directory, TOP set.
set -eu
out=$1
cap=$2
py=$(python3 -c 'import sys; print(sys.executable)')
mkdir -p "$out"
"$py" - "$TOP/tests/images" "$out" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import hive
out = sys.argv[2]
cv = {"values": {
    "ProductName": {"type": "sz", "data": "Windows 10 Pro"},
    "CurrentMajorVersionNumber": {"type": "dword", "data": 10},
    "CurrentMinorVersionNumber": {"type": "dword", "data": 0},
    "CurrentVersion": {"type": "sz", "data": "6.3"},
    "CurrentBuildNumber": {"type": "sz", "data": "19045"},
    "EditionID": {"type": "sz", "data": "Professional"},
    "InstallationType": {"type": "sz", "data": "Client"},
    "InstallTime": {"type": "qword", "data": 1},
    "Path": {"type": "expand_sz", "data": "%SystemRoot%"},
    "Multi": {"type": "multi_sz", "data": ["a", "b"]},
    "Bin": {"type": "binary", "data": "00ff"},
    "BE": {"type": "dword_be", "data": 7}}}
software = {"keys": {"Microsoft": {"keys": {"Windows NT": {"keys": {
    "CurrentVersion": cv}}}}}}
system = {"keys": {
    "Select": {"values": {"Current": {"type": "dword", "data": 1}}},
    "ControlSet001": {"keys": {
        "Control": {"keys": {
            "Session Manager": {"keys": {"Environment": {"values": {
                "PROCESSOR_ARCHITECTURE": {"type": "sz", "data": "AMD64"}}}}},
            "ComputerName": {"keys": {"ComputerName": {"values": {
                "ComputerName": {"type": "sz", "data": "WIN"}}}}}}},
        "Services": {"keys": {
            "viostor": {"values": {"Start": {"type": "dword", "data": 0}}},
            "vioscsi": {"values": {"Start": {"type": "dword", "data": 3}}},
            "netkvm": {"values": {"ImagePath": {"type": "expand_sz",
                                                "data": "x.sys"}}}}}}}}}
lists = {"keys": {
    "Ri": {"subkey-list": "ri", "ri-chunk": 4,
           "keys": {"r%02d" % i: {} for i in range(12)}},
    "RiLh": {"subkey-list": "ri", "ri-leaf": "lh", "ri-chunk": 3,
             "keys": {"h%02d" % i: {} for i in range(7)}},
    "Li": {"subkey-list": "li", "keys": {"i%d" % i: {} for i in range(5)}},
    "Lf": {"subkey-list": "lf", "keys": {"f%d" % i: {} for i in range(5)}},
    "K": {"values": {"": {"type": "sz", "data": "default"}}},
    "Ключ": {"utf16-name": True,
             "values": {"Ü": {"type": "sz", "data": "ü", "utf16-name": True}}}}}
big = {"keys": {"K": {"values": {"": {"type": "binary",
                                      "data": {"size": 20000, "pattern": "a5"}}}}}}
old = dict(big, minor=3)
for name, spec in [("software", software), ("system", system),
                   ("lists", lists), ("bigdata", big), ("v13", old)]:
    hive.write("%s/%s.hive" % (out, name), spec)
PYEOF
"$py" "$TOP/tests/images/hive-corrupt.py" corrupt --small
for f in corrupt/*.hive; do
	cp "$f" "$out/corrupt-${f##*/}"
done
# a seed the harness would skip is not written
find "$out" -type f -size +"$cap"c -delete
