/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What qemu's format auto-detection would pick for these bytes.
 *
 * qemu (block.c find_image_format, bdrv_probe_all) reads the first
 * BLOCK_PROBE_BUF_SIZE = 512 bytes, zero-filled past the end of a short
 * file (an empty file is raw), asks every driver's probe function for a
 * score and keeps the highest. These are the rules of qemu 7.2's probes,
 * restated from their behaviour; the test suite checks them against
 * qemu-img itself. dmg is picked by file name only (".dmg" scores 2), and
 * we never look at names, so it never appears here.
 */
#include <string.h>

#include "bytes.h"
#include "probe.h"

#define QEMU_PROBE_BUF 512

/* qemu 7.2 vmdk_probe() for text descriptors, on the 512-byte probe
 * buffer: skip '#' comment lines and space-only lines, then the first
 * other line must be exactly "version=1|2|3" (LF or CRLF). An empty line
 * ends the search, as in qemu. */
bool iw_qemu_probes_vmdk_text(const uint8_t *head, size_t len)
{
	char buf[QEMU_PROBE_BUF] = { 0 };
	const char *p = buf, *end = buf + sizeof(buf);
	static const char *const versions[] = {
		"version=1\n",	 "version=2\n",	  "version=3\n",
		"version=1\r\n", "version=2\r\n", "version=3\r\n",
	};

	memcpy(buf, head, MIN(len, sizeof(buf)));
	while (p < end) {
		if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
			p++;
			continue;
		}
		if (*p == ' ') {
			while (p < end && *p == ' ')
				p++;
			if (p < end && *p == '\r')
				p++;
			/* only blank lines may precede "version=" */
			if (p == end || *p != '\n')
				return false;
			p++;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
			size_t n = strlen(versions[i]);
			if ((size_t)(end - p) >= n && memcmp(p, versions[i], n) == 0)
				return true;
		}
		return false;
	}
	return false;
}

const char *iw_qemu_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	uint8_t buf[QEMU_PROBE_BUF] = { 0 };
	const char *best = "raw";
	int best_score = 1;

	if (file_size == 0)
		return "raw";
	memcpy(buf, head, MIN(len, sizeof(buf)));

	/*
	 * Candidates in qemu's driver-list order for ties (drivers are
	 * inserted at the head of the list, so the last registered wins a
	 * tie); ties between score-100 drivers need polyglot input, which
	 * imgward reports as multiple-formats anyway.
	 */
	struct {
		const char *name;
		int score;
	} c[] = {
		{ "vpc", memcmp(buf, "conectix", 8) == 0 ? 100 : 0 },
		{ "vmdk", (get_be32(buf) == 0x4b444d56 /* KDMV */ ||
			   get_be32(buf) == 0x434f5744 /* COWD */)
				  ? 100
				  : iw_qemu_probes_vmdk_text(buf, sizeof(buf)) ? 100 : 0 },
		{ "vhdx", memcmp(buf, "vhdxfile", 8) == 0 ? 100 : 0 },
		{ "vdi", get_le32(buf + 0x40) == 0xbeda107f ? 100 : 0 },
		{ "qed", get_le32(buf) == 0x00444551 /* "QED\0" */ ? 100 : 0 },
		{ "qcow2", get_be32(buf) == 0x514649fb && get_be32(buf + 4) >= 2
				   ? 100
				   : 0 },
		{ "qcow", get_be32(buf) == 0x514649fb && get_be32(buf + 4) == 1
				  ? 100
				  : 0 },
		{ "parallels",
		  (memcmp(buf, "WithoutFreeSpace", 16) == 0 ||
		   memcmp(buf, "WithouFreSpacExt", 16) == 0) &&
				  get_le32(buf + 16) == 2
			  ? 100
			  : 0 },
		{ "bochs",
		  strcmp((const char *)buf, "Bochs Virtual HD Image") == 0 &&
				  strcmp((const char *)buf + 32, "Redolog") == 0 &&
				  strcmp((const char *)buf + 48, "Growing") == 0 &&
				  (get_le32(buf + 64) == 0x00020000 ||
				   get_le32(buf + 64) == 0x00010000)
			  ? 100
			  : 0 },
		{ "luks", memcmp(buf, "LUKS\xba\xbe", 6) == 0 &&
				  get_be16(buf + 6) == 1
			  ? 100
			  : 0 },
		{ "cloop",
		  memcmp(buf,
			 "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && "
			 "mount -r -t iso9660 /dev/cloop $1\n",
			 82) == 0
			  ? 2
			  : 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		if (c[i].score > best_score) {
			best_score = c[i].score;
			best = c[i].name;
		}
	}
	return best;
}
