#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Seeds for fuzz/fuzz-virtio-win.c: the listings of fake virtio-win trees
# (tests/images/virtio-win-tree.sh, ISO and RPM layouts) after 8 bytes of
# guest facts (Server 2019, Windows 10, Windows 7 x86, Windows 11 arm64).
# Run by fuzz/make-seeds as `virtio-win.sh OUTDIR CAP` in a scratch dir.
set -eu
out=$1
cap=$2
mkdir -p "$out"
for layout in iso rpm; do
	"$TOP/tests/images/virtio-win-tree.sh" "tree-$layout" --layout $layout \
		--os "w7 w10 2k19 w11" --arch "x86 amd64 ARM64"
	(cd "tree-$layout" && find . -type f | sed 's|^\./||' | sort) >"list-$layout"
	# major minor build(hi, lo: x2) server arch driver-database pad
	for g in '\x0a\x00\x22\xa8\x01\x00\x00\x00' '\x0a\x00\x25\x1a\x00\x00\x01\x00' \
		'\x06\x01\x0e\xd8\x00\x01\x00\x00' '\x0a\x00\x2b\x0c\x00\x02\x01\x00'; do
		f=$out/$layout-$(printf '%s' "$g" | md5sum | cut -c1-8)
		{ printf "$g"; cat "list-$layout"; } | head -c "$cap" >"$f"
	done
done
