/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Filesystem identification (fsid.h): which filesystem or volume
 * container starts at the beginning of a view, with blkid's names and
 * its forms of LABEL, UUID and VERSION (`blkid -p -o export`, util-linux
 * 2.38's libblkid/src/superblocks/: the rules below follow its probers,
 * re-written from the on-disk formats; differences are commented).
 *
 * Order. Probes run in libblkid's order (superblocks.c idinfos[]):
 * volume containers first (LVM2, LUKS, BitLocker), then vfat, swap,
 * xfs, ext4/ext3/ext2, ntfs, ReFS, btrfs, exfat. The first VALID match
 * wins. blkid stops at the first container too (a container's contents
 * are another device's business), but for two plain filesystems it
 * reports "ambivalent" and gives nothing; a scanner must say something,
 * so the first in that order wins. Examples:
 *  - an LVM2 label (sector 1) over a stale FAT boot sector (sector 0):
 *    LVM2_member. pvcreate writes the label and leaves sector 0 alone
 *    unless it wipes; the label is the newer intent, and blkid agrees
 *    (containers stop its search).
 *  - a FAT boot sector whose OEM name reads "NTFS    ": vfat, once, as
 *    blkid (vfat before ntfs; a FAT BPB has reserved sectors, which NTFS
 *    requires to be zero, so the NTFS check fails on it anyway).
 *  - a Windows FAT32 boot sector ("MSWIN4.1", BitLocker To Go's OEM id):
 *    BitLocker only when its FVE metadata block is there, else vfat.
 * Only when no type matches validly is a signature whose superblock is
 * impossible reported: the first such, with `invalid` set and a
 * filesystem-invalid problem. A valid filesystem over a broken stale
 * signature is thus never hidden, and a broken superblock is never
 * reported as some other type.
 *
 * Reads: the first 4 KiB once (every fixed superblock but btrfs's and
 * the larger swap pages' lives there), then a handful of small reads
 * per type (FAT/exFAT root directory for the label, NTFS $MFT records,
 * FSInfo, BitLocker's FVE header), each range-checked against the view:
 * a superblock that does not fit is "not this type", a structure it
 * points to outside the view makes it invalid.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bytes.h"
#include "../formats/part.h"
#include "../formats/utf16.h"
#include "../util.h"
#include "fsid.h"

/* blkid ignores devices of 1 KiB or less (superblocks_probe()) */
#define FSID_MIN_SIZE 1024
/* the head read once: covers every probe's first sector(s) */
#define FSID_HEAD 4096
/* label searches (FAT and exFAT root directories): blkid reads the
 * whole FAT12/16 root directory and up to 100 FAT32 clusters / 10000
 * exFAT entries; labels are the first entries mkfs and Windows write,
 * so 16 KiB (512 entries) in 4 KiB reads is plenty and stays small */
#define FSID_DIR_CHUNK 4096
#define FSID_DIR_SCAN_MAX (16 * 1024)
/* clusters of a root directory chain followed (blkid's maxloop) */
#define FSID_DIR_CLUSTERS_MAX 100
/* NTFS: $Volume's attributes are read from the first 4 KiB of its
 * record (records are 1 or 4 KiB); records above 64 KiB are impossible
 * (ntfs-3g and Windows use at most 4 KiB) */
#define NTFS_REC_READ 4096
#define NTFS_REC_MAX (64 * 1024)
/* UTF-16 labels: NTFS allows 128 units (ntfs-3g, Windows 32), exFAT
 * 11; converted, then cut at a character boundary to what the label
 * buffer holds (blkid stops at its buffer's end likewise) */
#define FSID_UTF16_UNITS 128

enum {
	P_NONE = 0, /* not this type */
	P_FOUND,    /* this type, valid */
	P_INVALID,  /* this type's signature, impossible superblock */
};

struct ctx {
	const struct iw_view *v;
	uint8_t head[FSID_HEAD];
	size_t head_len;
	char why[160]; /* what made a P_INVALID invalid */
};

_printf_(2, 3) static int invalid(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return P_INVALID;
}

/* Read [off, off+len): 0, -ERANGE when outside the view, or the view's
 * error (-E2BIG for the budget, -EIO...). */
static int rd(struct ctx *c, void *buf, size_t len, uint64_t off)
{
	if (off <= c->head_len && len <= c->head_len - off) {
		memcpy(buf, c->head + off, len);
		return 0;
	}
	if (!iw_view_contains(c->v, off, len))
		return -ERANGE;
	return iw_view_read(c->v, buf, len, off);
}

/* ---- strings in blkid's forms -------------------------------------- */

/* blkid_probe_set_label(): the bytes up to the first NUL, trailing
 * whitespace (isspace in the C locale) removed. */
static bool is_space(uint8_t ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_space((uint8_t)s[n - 1]))
		n--;
	s[n] = '\0';
}

/* A byte string (ext, XFS, btrfs, swap, LUKS): copied as is (the
 * caller sanitises what it prints), up to a NUL, trimmed. */
static void set_str(char *dst, size_t dst_size, const uint8_t *src,
		    size_t len)
{
	size_t n = 0;

	while (n < len && n + 1 < dst_size && src[n] != 0)
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
	rtrim(dst);
}

static void set_utf16(char *dst, const uint8_t *src, size_t units)
{
	char tmp[UTF16_UTF8_MAX(FSID_UTF16_UNITS)];
	size_t n;

	if (units > FSID_UTF16_UNITS)
		units = FSID_UTF16_UNITS;
	n = utf16_to_utf8(src, units, false, tmp);
	if (n >= FSID_LABEL_MAX) {
		n = FSID_LABEL_MAX - 1;
		while (n > 0 && ((uint8_t)tmp[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, tmp, n);
	dst[n] = '\0';
	rtrim(dst);
}

/* FAT short names are in the DOS (OEM) codepage; blkid passes the bytes
 * through, which is not UTF-8. Code page 850 is what mkfs.fat and
 * fatlabel (dosfstools) encode labels in by default, and agrees with
 * 437 (Linux's default for vfat) on the accented letters. */
static const uint16_t cp850[128] = {
	0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7,
	0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5,
	0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
	0x00ff, 0x00d6, 0x00dc, 0x00f8, 0x00a3, 0x00d8, 0x00d7, 0x0192,
	0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba,
	0x00bf, 0x00ae, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00c1, 0x00c2, 0x00c0,
	0x00a9, 0x2563, 0x2551, 0x2557, 0x255d, 0x00a2, 0x00a5, 0x2510,
	0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x00e3, 0x00c3,
	0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x00a4,
	0x00f0, 0x00d0, 0x00ca, 0x00cb, 0x00c8, 0x0131, 0x00cd, 0x00ce,
	0x00cf, 0x2518, 0x250c, 0x2588, 0x2584, 0x00a6, 0x00cc, 0x2580,
	0x00d3, 0x00df, 0x00d4, 0x00d2, 0x00f5, 0x00d5, 0x00b5, 0x00fe,
	0x00de, 0x00da, 0x00db, 0x00d9, 0x00fd, 0x00dd, 0x00af, 0x00b4,
	0x00ad, 0x00b1, 0x2017, 0x00be, 0x00b6, 0x00a7, 0x00f7, 0x00b8,
	0x00b0, 0x00a8, 0x00b7, 0x00b9, 0x00b3, 0x00b2, 0x25a0, 0x00a0,
};

static void set_fat_label(char *dst, const uint8_t name[11])
{
	size_t o = 0;

	for (size_t i = 0; i < 11 && name[i] != 0; i++) {
		uint16_t cp = name[i] < 0x80 ? name[i] : cp850[name[i] - 0x80];

		if (cp < 0x80) {
			dst[o++] = (char)cp;
		} else if (cp < 0x800) {
			dst[o++] = (char)(0xc0 | cp >> 6);
			dst[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			dst[o++] = (char)(0xe0 | cp >> 12);
			dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			dst[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	dst[o] = '\0';
	rtrim(dst);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* a size in bytes from a count and a unit, 0 (unknown) if it wraps */
static uint64_t mul_or_0(uint64_t n, uint64_t unit)
{
	uint64_t r;

	return MUL_OVERFLOW(n, unit, &r) ? 0 : r;
}

/* blkid_probe_set_uuid(): the standard form, nothing for all zeros */
static void set_uuid16(char *dst, const uint8_t u[16])
{
	if (all_zero(u, 16))
		return;
	snprintf(dst, FSID_UUID_MAX,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* FAT and exFAT serials: "XXXX-XXXX", most significant byte first */
static void set_serial32(char *dst, const uint8_t s[4])
{
	if (all_zero(s, 4))
		return;
	snprintf(dst, FSID_UUID_MAX, "%02X%02X-%02X%02X", s[3], s[2], s[1],
		 s[0]);
}

/* ---- LVM2 physical volume (blkid lvm.c) ---------------------------- */

#define LVM_SECTOR 512
#define LVM_LABEL_SECTORS 4 /* the label is in one of sectors 0-3 */
#define LVM_ID_LEN 32

/* LVM2's label CRC: CRC-32 (reflected 0xEDB88320) from LVM's own
 * initial value, no final inversion (lib/misc/crc.c) */
static uint32_t lvm_crc(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xf597a6cf;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc;
}

static int probe_lvm2(struct ctx *c, struct fsid *f)
{
	for (unsigned s = 0; s < LVM_LABEL_SECTORS; s++) {
		const uint8_t *l;
		char *u = f->uuid;

		if ((s + 1) * LVM_SECTOR > c->head_len)
			break;
		l = c->head + s * LVM_SECTOR;
		if (memcmp(l, "LABELONE", 8) != 0 ||
		    memcmp(l + 24, "LVM2 001", 8) != 0)
			continue;
		snprintf(f->type, sizeof(f->type), "LVM2_member");
		if (get_le64(l + 8) != s)
			return invalid(c, "LVM2 label in sector %u says it is "
					  "in sector %" PRIu64,
				       s, get_le64(l + 8));
		if (lvm_crc(l + 20, LVM_SECTOR - 20) != get_le32(l + 16))
			return invalid(c, "LVM2 label in sector %u: bad "
					  "checksum",
				       s);
		snprintf(f->version, sizeof(f->version), "LVM2 001");
		/* PV UUID, 32 characters shown 6-4-4-4-4-4-6 (blkid's
		 * format_lvm_uuid; printed with %s, so up to a NUL) */
		if (!all_zero(l + 32, LVM_ID_LEN)) {
			for (unsigned i = 0; i < LVM_ID_LEN && l[32 + i]; i++) {
				if ((1u << i) & 0x4444440u)
					*u++ = '-';
				*u++ = (char)l[32 + i];
			}
			*u = '\0';
		}
		/* pv_header: the UUID, then the device size */
		f->size = get_le64(l + 32 + LVM_ID_LEN);
		return P_FOUND;
	}
	return P_NONE;
}

/* ---- LUKS (blkid luks.c, cryptsetup's on-disk format) -------------- */

#define LUKS_PHDR 512
static const uint64_t luks2_hdr2_offsets[] = {
	0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000,
	0x200000, 0x400000,
};

static int probe_luks(struct ctx *c, struct fsid *f)
{
	uint8_t h[LUKS_PHDR];
	uint64_t at = 0;
	unsigned ver;
	int r;

	if (c->head_len < LUKS_PHDR)
		return P_NONE;
	memcpy(h, c->head, LUKS_PHDR);
	if (memcmp(h, "LUKS\xba\xbe", 6) != 0) {
		/* no primary header: LUKS2's secondary one at its known
		 * offsets (blkid does the same) */
		size_t i;

		for (i = 0; i < ARRAY_SIZE(luks2_hdr2_offsets); i++) {
			r = rd(c, h, sizeof(h), luks2_hdr2_offsets[i]);
			if (r == -ERANGE)
				return P_NONE;
			if (r < 0)
				return r;
			if (memcmp(h, "SKUL\xba\xbe", 6) == 0)
				break;
		}
		if (i == ARRAY_SIZE(luks2_hdr2_offsets))
			return P_NONE;
		at = luks2_hdr2_offsets[i];
	}
	snprintf(f->type, sizeof(f->type), "crypto_LUKS");
	ver = get_be16(h + 6);
	snprintf(f->version, sizeof(f->version), "%u", ver);
	if (ver == 1) {
		uint32_t key_bytes = get_be32(h + 108);

		/* phdr: payloadOffset, keyBytes (a key is 1..64 bytes in
		 * cryptsetup's LUKS1) */
		if (key_bytes == 0 || key_bytes > 64)
			return invalid(c, "LUKS1 key size %" PRIu32
					  " bytes is impossible",
				       key_bytes);
		set_str(f->uuid, sizeof(f->uuid), h + 168, 40);
		return P_FOUND;
	}
	if (ver == 2) {
		uint64_t hdr_size = get_be64(h + 8);

		/* cryptsetup: the binary+JSON header is 16 KiB..4 MiB,
		 * a power of 2, and says where it is */
		if (hdr_size < 0x4000 || hdr_size > 0x400000 ||
		    !is_power_of_2(hdr_size))
			return invalid(c, "LUKS2 header size %" PRIu64
					  " is impossible",
				       hdr_size);
		if (get_be64(h + 256) != at)
			return invalid(c, "LUKS2 header at %" PRIu64
					  " says it is at %" PRIu64,
				       at, get_be64(h + 256));
		set_str(f->label, sizeof(f->label), h + 24, 48);
		set_str(f->uuid, sizeof(f->uuid), h + 168, 40);
		set_str(f->subsystem, sizeof(f->subsystem), h + 208, 48);
		return P_FOUND;
	}
	return invalid(c, "LUKS version %u is unknown", ver);
}

/* ---- BitLocker (blkid bitlocker.c; libbde's format documentation) -- */

static int probe_bitlocker(struct ctx *c, struct fsid *f)
{
	const uint8_t *b = c->head;
	uint8_t fve[12];
	uint64_t off;
	bool togo;
	int r;

	if (c->head_len < 512)
		return P_NONE;
	/* Vista: the OEM id only (its metadata offsets are elsewhere and
	 * blkid checks nothing more) */
	if (memcmp(b, "\xeb\x52\x90-FVE-FS-", 11) == 0) {
		snprintf(f->type, sizeof(f->type), "BitLocker");
		return P_FOUND;
	}
	if (memcmp(b, "\xeb\x58\x90-FVE-FS-", 11) == 0) {
		togo = false;
		off = get_le64(b + 176);
	} else if (memcmp(b, "\xeb\x58\x90MSWIN4.1", 11) == 0) {
		/* To Go: a FAT32-looking sector; plain Windows FAT32 volumes
		 * carry the same OEM id, so without the FVE block this is
		 * not BitLocker at all (vfat's turn) */
		togo = true;
		off = get_le64(b + 440);
	} else {
		return P_NONE;
	}
	r = off ? rd(c, fve, sizeof(fve), off) : -ERANGE;
	if (r < 0 && r != -ERANGE)
		return r;
	if (r < 0 || memcmp(fve, "-FVE-FS-", 8) != 0) {
		if (togo)
			return P_NONE;
		snprintf(f->type, sizeof(f->type), "BitLocker");
		return invalid(c, "BitLocker FVE metadata at %" PRIu64
				  " is missing",
			       off);
	}
	snprintf(f->type, sizeof(f->type), "BitLocker");
	snprintf(f->version, sizeof(f->version), "%u", get_le16(fve + 10));
	if (!togo && get_le32(b + 67) != 0)
		/* blkid: "%016d" of the (32-bit) serial */
		snprintf(f->uuid, sizeof(f->uuid), "%016d",
			 (int)(int32_t)get_le32(b + 67));
	return P_FOUND;
}

/* ---- FAT (blkid vfat.c; Microsoft's FAT specification) ------------- */

#define FAT12_MAX 0xff4
#define FAT16_MAX 0xfff4
#define FAT32_MAX 0x0ffffff6
#define FAT_ATTR_VOLUME_ID 0x08
#define FAT_ATTR_DIR 0x10
#define FAT_ATTR_LONG_NAME 0x0f
#define FAT_ATTR_MASK 0x3f

/* One directory stretch [off, off+len): the volume-label entry, as
 * blkid's search_fat_label(). 1 found (name copied), 0 not here, 2 end
 * of directory, <0 error. *budget counts bytes still allowed. */
static int fat_dir_label(struct ctx *c, uint64_t off, uint64_t len,
			 size_t *budget, uint8_t name[11])
{
	uint8_t buf[FSID_DIR_CHUNK];

	while (len > 0 && *budget > 0) {
		size_t n = (size_t)MIN(MIN(len, (uint64_t)sizeof(buf)),
				       (uint64_t)*budget);
		int r;

		n -= n % 32;
		if (n == 0)
			return 2;
		r = rd(c, buf, n, off);
		if (r == -ERANGE)
			return 2; /* blkid: unreadable = no label */
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i += 32) {
			const uint8_t *e = buf + i;
			uint8_t attr = e[11];

			if (e[0] == 0x00)
				return 2;
			if (e[0] == 0xe5 || get_le16(e + 20) != 0 ||
			    get_le16(e + 26) != 0 ||
			    (attr & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME)
				continue;
			if ((attr & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIR)) ==
			    FAT_ATTR_VOLUME_ID) {
				memcpy(name, e, 11);
				if (name[0] == 0x05)
					name[0] = 0xe5;
				return 1;
			}
		}
		off += n;
		len -= n;
		*budget -= n;
	}
	return *budget > 0 ? 0 : 2;
}

/* Does sector 0 look like a partition table rather than a boot
 * sector? (an MBR with at least one entry in use: four 16-byte entries
 * from 0x1be, the type at +4) */
#define FSID_MBR_TABLE 0x1be
#define FSID_MBR_ENTRY 16
static bool looks_like_mbr(const uint8_t *s)
{
	if (!mbr_sector_plausible(s))
		return false;
	for (unsigned i = 0; i < 4; i++)
		if (s[FSID_MBR_TABLE + i * FSID_MBR_ENTRY + 4] != 0)
			return true;
	return false;
}

static int probe_vfat(struct ctx *c, struct fsid *f)
{
	const uint8_t *b = c->head;
	bool magic_str, magic_weak, strong, fat32;
	uint16_t ss, reserved, dir_entries;
	uint8_t spc, nfats, media, label[11];
	uint32_t fat_length, max_count;
	uint64_t sect_count, fat_size, dir_size, meta, clusters;
	size_t budget = FSID_DIR_SCAN_MAX;
	bool have_label = false;
	int r;

	if (c->head_len < 512)
		return P_NONE;
	/* blkid's magics: FAT type strings, else a jump opcode or the
	 * boot signature (then the signature is required) */
	magic_str = memcmp(b + 0x52, "MSWIN", 5) == 0 ||
		    memcmp(b + 0x52, "FAT32   ", 8) == 0 ||
		    memcmp(b + 0x36, "MSDOS", 5) == 0 ||
		    memcmp(b + 0x36, "FAT16   ", 8) == 0 ||
		    memcmp(b + 0x36, "FAT12   ", 8) == 0 ||
		    memcmp(b + 0x36, "FAT     ", 8) == 0;
	magic_weak = b[0] == 0xeb || b[0] == 0xe9 ||
		     (b[0x1fe] == 0x55 && b[0x1ff] == 0xaa);
	if (!magic_str) {
		if (!magic_weak || b[0x1fe] != 0x55 || b[0x1ff] != 0xaa)
			return P_NONE;
		/* OS/2 puts FAT-like pseudo BPBs on JFS and HPFS */
		if (memcmp(b + 0x36, "JFS     ", 8) == 0 ||
		    memcmp(b + 0x36, "HPFS    ", 8) == 0)
			return P_NONE;
	}
	/* Only a type string together with a boot-sector shape (jump or
	 * signature) makes a broken BPB "a broken FAT"; anything less is
	 * just not FAT: an MBR, boot code, random data. An MBR listing
	 * partitions is never a broken FAT either. */
	strong = magic_str && magic_weak && !looks_like_mbr(b);

	ss = get_le16(b + 0x0b);
	spc = b[0x0d];
	reserved = get_le16(b + 0x0e);
	nfats = b[0x10];
	dir_entries = get_le16(b + 0x11);
	media = b[0x15];
	sect_count = get_le16(b + 0x13);
	if (sect_count == 0)
		sect_count = get_le32(b + 0x20);
	fat_length = get_le16(b + 0x16);
	fat32 = fat_length == 0 && get_le32(b + 0x24) != 0;
	if (fat_length == 0)
		fat_length = get_le32(b + 0x24);

#define FAT_BAD(...) (strong ? invalid(c, __VA_ARGS__) : P_NONE)
	if (strong)
		snprintf(f->type, sizeof(f->type), "vfat");
	if (nfats == 0)
		return FAT_BAD("FAT boot sector: no FATs");
	if (reserved == 0)
		return FAT_BAD("FAT boot sector: no reserved sectors");
	if (!(media >= 0xf8 || media == 0xf0))
		return FAT_BAD("FAT boot sector: media type 0x%02x", media);
	if (!is_power_of_2(spc))
		return FAT_BAD("FAT boot sector: %u sectors per cluster", spc);
	if (!is_power_of_2(ss) || ss < 512 || ss > 4096)
		return FAT_BAD("FAT boot sector: sector size %u", ss);
	fat_size = (uint64_t)fat_length * nfats;
	dir_size = ((uint64_t)dir_entries * 32 + ss - 1) / ss;
	meta = reserved + fat_size + dir_size;
	if (sect_count <= meta)
		return FAT_BAD("FAT boot sector: %" PRIu64 " sectors, %" PRIu64
			       " of them metadata",
			       sect_count, meta);
	clusters = (sect_count - meta) / spc;
	if (fat32)
		max_count = FAT32_MAX;
	else
		max_count = clusters > FAT12_MAX ? FAT16_MAX : FAT12_MAX;
	if (clusters > max_count)
		return FAT_BAD("FAT boot sector: %" PRIu64 " clusters", clusters);

	snprintf(f->type, sizeof(f->type), "vfat");
	if (!fat32 && get_le16(b + 0x16) == 0) {
		/* neither FAT length: blkid still says vfat, without a
		 * version, label or serial */
	} else if (!fat32) {
		uint64_t root = (reserved + fat_size) * ss;

		r = fat_dir_label(c, root, (uint64_t)dir_entries * 32, &budget,
				  label);
		if (r < 0)
			return r;
		have_label = r == 1;
		if (b[0x26] == 0x28 || b[0x26] == 0x29)
			set_serial32(f->uuid, b + 0x27);
		if (clusters < FAT12_MAX)
			snprintf(f->version, sizeof(f->version), "FAT12");
		else if (clusters < FAT16_MAX)
			snprintf(f->version, sizeof(f->version), "FAT16");
	} else {
		uint64_t cluster_bytes = (uint64_t)spc * ss;
		uint64_t data = reserved + fat_size;
		uint64_t entries = (uint64_t)get_le32(b + 0x24) * ss / 4;
		uint32_t next = get_le32(b + 0x2c);
		uint16_t fsinfo = get_le16(b + 0x30);

		for (unsigned loop = 0; next >= 2 && next < entries &&
					loop < FSID_DIR_CLUSTERS_MAX;
		     loop++) {
			uint8_t e[4];
			uint64_t off = (data + (uint64_t)(next - 2) * spc) * ss;

			r = fat_dir_label(c, off, cluster_bytes, &budget,
					  label);
			if (r < 0)
				return r;
			if (r == 1)
				have_label = true;
			if (r != 0)
				break;
			r = rd(c, e, 4, (uint64_t)reserved * ss + next * 4ull);
			if (r == -ERANGE)
				break;
			if (r < 0)
				return r;
			next = get_le32(e) & 0x0fffffff;
		}
		snprintf(f->version, sizeof(f->version), "FAT32");
		set_serial32(f->uuid, b + 0x43);
		/* FSInfo: its signatures, or zeros (some tools leave them
		 * out); anything else is not FAT32 to blkid */
		if (fsinfo) {
			uint8_t fi[512];

			r = rd(c, fi, sizeof(fi), (uint64_t)fsinfo * ss);
			if (r < 0 && r != -ERANGE)
				return r;
			if (r == -ERANGE) {
				f->uuid[0] = f->version[0] = '\0';
				return FAT_BAD("FAT32 FSInfo sector %u is "
					       "outside the volume",
					       fsinfo);
			}
			if ((memcmp(fi, "RRaA", 4) != 0 &&
			     memcmp(fi, "RRdA", 4) != 0 && !all_zero(fi, 4)) ||
			    (memcmp(fi + 484, "rrAa", 4) != 0 &&
			     !all_zero(fi + 484, 4))) {
				f->uuid[0] = f->version[0] = '\0';
				return FAT_BAD("FAT32 FSInfo sector %u has no "
					       "signature",
					       fsinfo);
			}
		}
	}
#undef FAT_BAD
	/* blkid's LABEL is the root directory's volume-label entry only
	 * (the boot sector's copy is its LABEL_FATBOOT): Windows renames
	 * a volume there and leaves the boot sector's "NO NAME" */
	if (have_label)
		set_fat_label(f->label, label);
	f->size = sect_count * ss;
	f->block_size = (uint32_t)(spc * ss);
	return P_FOUND;
}

/* ---- swap (blkid swap.c; linux/swap.h) ----------------------------- */

#define SWAP_MIN_SIZE (10 * 4096) /* blkid: 10 pages */

static int probe_swap(struct ctx *c, struct fsid *f)
{
	static const uint32_t pages[] = { 4096, 8192, 16384, 32768, 65536 };
	uint8_t magic[10];
	uint32_t ps = 0;
	bool v1 = false;
	int r;

	if (c->v->size < SWAP_MIN_SIZE || c->head_len < 1024 + 512)
		return P_NONE;
	/* TuxOnIce keeps a valid swap header behind its own */
	if (memcmp(c->head, "\xed\xc3\x02\xe9\x98\x56\xe5\x0c", 8) == 0)
		return P_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		r = rd(c, magic, sizeof(magic), pages[i] - 10);
		if (r == -ERANGE)
			break;
		if (r < 0)
			return r;
		if (memcmp(magic, "SWAP-SPACE", 10) == 0 ||
		    memcmp(magic, "SWAPSPACE2", 10) == 0) {
			ps = pages[i];
			v1 = magic[4] == 'S';
			break;
		}
	}
	if (!ps)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "swap");
	f->block_size = ps;
	if (!v1) {
		/* the old bitmap format: no label, no UUID */
		snprintf(f->version, sizeof(f->version), "0");
		return P_FOUND;
	} else {
		const uint8_t *h = c->head + 1024;
		uint32_t ver = get_le32(h), last = get_le32(h + 4);

		/* a swap made on a big-endian machine has its fields
		 * swapped */
		if (ver != 1 && __builtin_bswap32(ver) == 1)
			last = __builtin_bswap32(last);
		else if (ver != 1)
			return invalid(c, "swap header version %" PRIu32, ver);
		if (last == 0)
			return invalid(c, "swap header: no pages");
		snprintf(f->version, sizeof(f->version), "1");
		/* blkid: label and UUID only when the padding is clean */
		if (get_le32(h + 44 + 32 * 4) == 0 &&
		    get_le32(h + 44 + 33 * 4) == 0) {
			if (h[28])
				set_str(f->label, sizeof(f->label), h + 28, 16);
			set_uuid16(f->uuid, h + 12);
		}
		f->size = ((uint64_t)last + 1) * ps;
		return P_FOUND;
	}
}

/* ---- XFS (blkid xfs.c; xfs_format.h) ------------------------------- */

static int probe_xfs(struct ctx *c, struct fsid *f)
{
	const uint8_t *s = c->head;
	uint32_t bsize, agblocks, agcount, rextsize;
	uint16_t sectsize, inodesize;
	uint8_t blocklog, sectlog, inodelog, inopblog, imax_pct;
	uint64_t dblocks, rext;

	if (c->head_len < 512 || memcmp(s, "XFSB", 4) != 0)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "xfs");
	bsize = get_be32(s + 4);
	dblocks = get_be64(s + 8);
	rextsize = get_be32(s + 80);
	agblocks = get_be32(s + 84);
	agcount = get_be32(s + 88);
	sectsize = get_be16(s + 102);
	inodesize = get_be16(s + 104);
	blocklog = s[120];
	sectlog = s[121];
	inodelog = s[122];
	inopblog = s[123];
	imax_pct = s[127];
	rext = (uint64_t)rextsize * bsize;
	/* xfs_verify_sb() in blkid, the same bounds as the kernel's */
	if (agcount == 0)
		return invalid(c, "XFS: no allocation groups");
	if (sectsize < 512 || sectsize > 32768 || sectlog < 9 || sectlog > 15 ||
	    sectsize != 1u << sectlog)
		return invalid(c, "XFS: sector size %u (log %u)", sectsize,
			       sectlog);
	if (bsize < 512 || bsize > 65536 || blocklog < 9 || blocklog > 16 ||
	    bsize != 1u << blocklog)
		return invalid(c, "XFS: block size %" PRIu32 " (log %u)", bsize,
			       blocklog);
	if (inodesize < 256 || inodesize > 2048 || inodelog < 8 ||
	    inodelog > 11 || inodesize != 1u << inodelog ||
	    blocklog - inodelog != inopblog)
		return invalid(c, "XFS: inode size %u (log %u)", inodesize,
			       inodelog);
	if (rext > 1024 * 1024 * 1024 || rext < 4096)
		return invalid(c, "XFS: realtime extent size %" PRIu64, rext);
	if (imax_pct > 100)
		return invalid(c, "XFS: inode space %u%%", imax_pct);
	if (dblocks == 0 || dblocks > (uint64_t)agcount * agblocks ||
	    dblocks < (uint64_t)(agcount - 1) * agblocks + 64)
		return invalid(c, "XFS: %" PRIu64 " blocks in %" PRIu32
				  " groups of %" PRIu32,
			       dblocks, agcount, agblocks);
	if (s[108])
		set_str(f->label, sizeof(f->label), s + 108, 12);
	set_uuid16(f->uuid, s + 32);
	f->size = mul_or_0(dblocks, bsize);
	f->block_size = bsize;
	return P_FOUND;
}

/* ---- ext2/3/4 (blkid ext.c; ext4 superblock) ----------------------- */

#define EXT_SB 1024
#define EXT3_COMPAT_HAS_JOURNAL 0x0004
#define EXT3_INCOMPAT_JOURNAL_DEV 0x0008
#define EXT4_INCOMPAT_64BIT 0x0080
#define EXT2_FLAGS_TEST_FILESYS 0x0004
/* what ext2 / ext3 understand (blkid's *_SUPP masks) */
#define EXT2_RO_SUPP 0x0007   /* sparse_super, large_file, btree_dir */
#define EXT2_INCOMPAT_SUPP 0x0012 /* filetype, meta_bg */
#define EXT3_RO_SUPP 0x0007
#define EXT3_INCOMPAT_SUPP 0x0016 /* filetype, recover, meta_bg */
/* the largest block ext4 knows is 64 KiB: 1024 << 6 */
#define EXT_MAX_LOG_BLOCK 6

static int probe_ext(struct ctx *c, struct fsid *f)
{
	const uint8_t *s = c->head + EXT_SB;
	uint32_t fc, fi, frc, log_bs;
	uint64_t blocks;

	if (c->head_len < EXT_SB + 512 || get_le16(s + 0x38) != 0xef53)
		return P_NONE;
	fc = get_le32(s + 0x5c);
	fi = get_le32(s + 0x60);
	frc = get_le32(s + 0x64);
	/* an external journal (blkid: jbd) is no filesystem */
	if (fi & EXT3_INCOMPAT_JOURNAL_DEV)
		return P_NONE;
	/* blkid's rules: ext4 when some feature is beyond ext3's (or the
	 * test_fs flag: blkid's ext4dev, reported as ext4 here), else ext3
	 * with a journal, else ext2 */
	if ((frc & ~(uint32_t)EXT3_RO_SUPP) || (fi & ~(uint32_t)EXT3_INCOMPAT_SUPP) ||
	    (get_le32(s + 0x160) & EXT2_FLAGS_TEST_FILESYS))
		snprintf(f->type, sizeof(f->type), "ext4");
	else if (fc & EXT3_COMPAT_HAS_JOURNAL)
		snprintf(f->type, sizeof(f->type), "ext3");
	else if (!(frc & ~(uint32_t)EXT2_RO_SUPP) &&
		 !(fi & ~(uint32_t)EXT2_INCOMPAT_SUPP))
		snprintf(f->type, sizeof(f->type), "ext2");
	else
		/* needs_recovery without a journal: no blkid type fits;
		 * the nearest is ext4 (a kernel ext4 would mount it) */
		snprintf(f->type, sizeof(f->type), "ext4");

	log_bs = get_le32(s + 0x18);
	blocks = get_le32(s + 0x04);
	if (fi & EXT4_INCOMPAT_64BIT)
		blocks |= (uint64_t)get_le32(s + 0x150) << 32;
	if (log_bs > EXT_MAX_LOG_BLOCK)
		return invalid(c, "%s: block size shift %" PRIu32, f->type,
			       log_bs);
	if (blocks == 0 || get_le32(s + 0x00) == 0)
		return invalid(c, "%s: %" PRIu64 " blocks, %" PRIu32 " inodes",
			       f->type, blocks, get_le32(s + 0x00));
	if (get_le32(s + 0x20) == 0 || get_le32(s + 0x28) == 0)
		return invalid(c, "%s: empty block groups", f->type);
	if (get_le32(s + 0x14) >= blocks)
		return invalid(c, "%s: first data block %" PRIu32
				  " past the end",
			       f->type, get_le32(s + 0x14));
	if (s[0x78])
		set_str(f->label, sizeof(f->label), s + 0x78, 16);
	set_uuid16(f->uuid, s + 0x68);
	snprintf(f->version, sizeof(f->version), "%" PRIu32 ".%u",
		 get_le32(s + 0x4c), get_le16(s + 0x3e));
	f->block_size = 1024u << log_bs;
	f->size = mul_or_0(blocks, 1024u << log_bs);
	return P_FOUND;
}

/* ---- NTFS (blkid ntfs.c; ntfs-3g layout.h) ------------------------- */

#define NTFS_MAX_CLUSTER (2 * 1024 * 1024) /* Windows 10 1703 and later */
#define NTFS_ATTR_VOLUME_NAME 0x60
#define NTFS_ATTR_END 0xffffffffu

static int probe_ntfs(struct ctx *c, struct fsid *f)
{
	const uint8_t *b = c->head;
	uint8_t rec[NTFS_REC_READ];
	uint16_t ss;
	uint32_t spc, rec_size, rec_read, attr_off, allocated;
	int8_t cpr;
	uint64_t sectors, nr_clusters, mft, mft_off, off3;
	int r;

	if (c->head_len < 512 || memcmp(b + 3, "NTFS    ", 8) != 0)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "ntfs");
	ss = get_le16(b + 0x0b);
	if (ss < 256 || ss > 4096)
		return invalid(c, "NTFS: sector size %u", ss);
	switch (b[0x0d]) {
	case 1: case 2: case 4: case 8: case 16: case 32: case 64: case 128:
		spc = b[0x0d];
		break;
	default:
		/* 2^(256-n) for n in 240..249: clusters above 64 KiB */
		if (b[0x0d] < 240 || b[0x0d] > 249)
			return invalid(c, "NTFS: %u sectors per cluster",
				       b[0x0d]);
		spc = 1u << (256 - b[0x0d]);
	}
	if ((uint64_t)ss * spc > NTFS_MAX_CLUSTER)
		return invalid(c, "NTFS: cluster size %" PRIu64,
			       (uint64_t)ss * spc);
	/* the FAT fields NTFS keeps zero */
	if (get_le16(b + 0x0e) || get_le16(b + 0x11) || get_le16(b + 0x13) ||
	    get_le16(b + 0x16) || get_le32(b + 0x20) || b[0x10])
		return invalid(c, "NTFS: FAT fields in the boot sector are "
				  "not zero");
	cpr = (int8_t)b[0x40];
	if (cpr > 0) {
		if (!is_power_of_2((uint64_t)cpr))
			return invalid(c, "NTFS: %d clusters per MFT record",
				       cpr);
		uint64_t sz = (uint64_t)cpr * spc * ss;

		if (sz > NTFS_REC_MAX)
			return invalid(c, "NTFS: MFT record size %" PRIu64, sz);
		rec_size = (uint32_t)sz;
	} else {
		/* 2^-n bytes, n in 9..31 (blkid: 0xe1..0xf7) */
		if (cpr < -31 || cpr > -9)
			return invalid(c, "NTFS: MFT record size code %d", cpr);
		if (-cpr > 16) /* > 64 KiB */
			return invalid(c, "NTFS: MFT record size 2^%d", -cpr);
		rec_size = 1u << -cpr;
	}
	if (rec_size > NTFS_REC_MAX || rec_size < 256)
		return invalid(c, "NTFS: MFT record size %" PRIu32, rec_size);
	sectors = get_le64(b + 0x28);
	nr_clusters = sectors / spc;
	mft = get_le64(b + 0x30);
	if (mft > nr_clusters || get_le64(b + 0x38) > nr_clusters)
		return invalid(c, "NTFS: $MFT at cluster %" PRIu64
				  " beyond the %" PRIu64 " clusters",
			       mft, nr_clusters);
	/* mft <= nr_clusters <= 2^64/spc, times a cluster <= 2 MiB */
	if (MUL_OVERFLOW(mft, (uint64_t)spc * ss, &mft_off) ||
	    ADD_OVERFLOW(mft_off, 3ull * rec_size, &off3))
		return invalid(c, "NTFS: $MFT offset overflows");
	rec_read = MIN(rec_size, (uint32_t)NTFS_REC_READ);
	r = rd(c, rec, 4, mft_off);
	if (r == 0 && memcmp(rec, "FILE", 4) == 0)
		r = rd(c, rec, rec_read, off3);
	else if (r == 0)
		return invalid(c, "NTFS: no MFT record at %" PRIu64, mft_off);
	if (r == -ERANGE)
		return invalid(c, "NTFS: $MFT at %" PRIu64
				  " is outside the volume",
			       mft_off);
	if (r < 0)
		return r;
	if (memcmp(rec, "FILE", 4) != 0)
		return invalid(c, "NTFS: no $Volume record at %" PRIu64, off3);

	/* $VOLUME_NAME in $Volume (record 3), as blkid: attributes walked
	 * by their lengths inside the record (no fixups applied: the name
	 * is near the start, far from the sectors' last two bytes) */
	attr_off = get_le16(rec + 0x14);
	allocated = get_le32(rec + 0x1c);
	while (attr_off + 22 <= rec_read && attr_off <= allocated) {
		const uint8_t *a = rec + attr_off;
		uint32_t type = get_le32(a), len = get_le32(a + 4);

		if (len == 0 || type == NTFS_ATTR_END)
			break;
		if (type == NTFS_ATTR_VOLUME_NAME) {
			uint32_t voff = get_le16(a + 20), vlen = get_le32(a + 16);

			if ((uint64_t)attr_off + voff + vlen <= rec_read)
				set_utf16(f->label, a + voff, vlen / 2);
			break;
		}
		if (len > rec_read - attr_off)
			break;
		attr_off += len;
	}
	snprintf(f->uuid, sizeof(f->uuid), "%016" PRIX64, get_le64(b + 0x48));
	if (get_le64(b + 0x48) == 0)
		f->uuid[0] = '\0';
	f->size = mul_or_0(sectors, ss);
	f->block_size = spc * ss;
	return P_FOUND;
}

/* ---- ReFS (blkid refs.c: the signature only; layout from libfsrefs'
 * documentation: "FSRS" recognition structure, sectors, sector size,
 * sectors per cluster) --------------------------------------------- */

static int probe_refs(struct ctx *c, struct fsid *f)
{
	const uint8_t *b = c->head;
	uint32_t ss, spc;

	if (c->head_len < 512 || memcmp(b, "\0\0\0ReFS\0", 8) != 0)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "ReFS");
	if (memcmp(b + 16, "FSRS", 4) != 0)
		return P_FOUND; /* blkid needs no more */
	ss = get_le32(b + 32);
	spc = get_le32(b + 36);
	if (!is_power_of_2(ss) || ss < 512 || ss > 4096)
		return invalid(c, "ReFS: sector size %" PRIu32, ss);
	/* clusters of 4 and 64 KiB are what Windows makes */
	if (!is_power_of_2(spc) || (uint64_t)spc * ss > 65536)
		return invalid(c, "ReFS: %" PRIu32 " sectors per cluster", spc);
	if (get_le64(b + 24) > UINT64_MAX / ss)
		return invalid(c, "ReFS: %" PRIu64 " sectors", get_le64(b + 24));
	f->size = get_le64(b + 24) * ss;
	f->block_size = spc * ss;
	return P_FOUND;
}

/* ---- btrfs (blkid btrfs.c; btrfs's ctree.h) ------------------------ */

#define BTRFS_SB 0x10000
#define BTRFS_SB_SIZE 4096
#define BTRFS_MIN_DEV (1024 * 1024) /* blkid's minsz */

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static int probe_btrfs(struct ctx *c, struct fsid *f)
{
	uint8_t s[BTRFS_SB_SIZE];
	uint32_t sectorsize, nodesize;
	int r;

	if (c->v->size < BTRFS_MIN_DEV)
		return P_NONE;
	r = rd(c, s, 8, BTRFS_SB + 0x40);
	if (r == -ERANGE)
		return P_NONE;
	if (r < 0)
		return r;
	if (memcmp(s, "_BHRfS_M", 8) != 0)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "btrfs");
	r = rd(c, s, sizeof(s), BTRFS_SB);
	if (r == -ERANGE)
		return invalid(c, "btrfs: superblock cut short");
	if (r < 0)
		return r;
	sectorsize = get_le32(s + 144);
	nodesize = get_le32(s + 148);
	if (get_le64(s + 48) != BTRFS_SB)
		return invalid(c, "btrfs: superblock says it is at %" PRIu64,
			       get_le64(s + 48));
	if (!is_power_of_2(sectorsize) || sectorsize < 512 ||
	    sectorsize > 65536)
		return invalid(c, "btrfs: sector size %" PRIu32, sectorsize);
	if (!is_power_of_2(nodesize) || nodesize < sectorsize ||
	    nodesize > 65536)
		return invalid(c, "btrfs: node size %" PRIu32, nodesize);
	/* checksum type 0 is crc32c, over the rest of the 4 KiB block
	 * (the others, xxhash/sha256/blake2, are not checked here) */
	if (get_le16(s + 196) == 0 &&
	    crc32c(s + 32, sizeof(s) - 32) != get_le32(s))
		return invalid(c, "btrfs: superblock checksum mismatch");
	if (s[0x12b])
		set_str(f->label, sizeof(f->label), s + 0x12b, 256);
	set_uuid16(f->uuid, s + 32);
	/* this device's share (dev_item.total_bytes) */
	f->size = get_le64(s + 201 + 8);
	f->block_size = sectorsize;
	return P_FOUND;
}

/* ---- exFAT (blkid exfat.c; Microsoft's exFAT specification) -------- */

static int probe_exfat(struct ctx *c, struct fsid *f)
{
	const uint8_t *b = c->head;
	uint8_t bps, spcs, buf[FSID_DIR_CHUNK];
	uint32_t heap, nclusters, root, fat_off, cluster;
	uint64_t cbytes, off, left;
	size_t budget = FSID_DIR_SCAN_MAX;
	unsigned hops = 0;
	int r;

	if (c->head_len < 512 || memcmp(b + 3, "EXFAT   ", 8) != 0)
		return P_NONE;
	snprintf(f->type, sizeof(f->type), "exfat");
	bps = b[108];
	spcs = b[109];
	fat_off = get_le32(b + 80);
	heap = get_le32(b + 88);
	nclusters = get_le32(b + 92);
	root = get_le32(b + 96);
	/* spec 3.1.14-3.1.16: sectors of 512 B..4 KiB, clusters up to
	 * 32 MiB, one or two FATs; 3.1.3: the BPB area is zero */
	if (bps < 9 || bps > 12)
		return invalid(c, "exFAT: bytes-per-sector shift %u", bps);
	if (spcs > 25 - bps)
		return invalid(c, "exFAT: sectors-per-cluster shift %u", spcs);
	if (b[110] != 1 && b[110] != 2)
		return invalid(c, "exFAT: %u FATs", b[110]);
	if (!all_zero(b + 11, 53))
		return invalid(c, "exFAT: the FAT BPB area is not zero");
	if (get_le64(b + 72) == 0 || fat_off < 24 || heap <= fat_off)
		return invalid(c, "exFAT: impossible layout (FAT at %" PRIu32
				  ", clusters at %" PRIu32 ")",
			       fat_off, heap);
	if (root < 2 || root - 2 >= nclusters)
		return invalid(c, "exFAT: root directory cluster %" PRIu32,
			       root);
	if (get_le64(b + 72) > UINT64_MAX >> bps)
		return invalid(c, "exFAT: volume length overflows");

	/* the volume-label entry (0x83) of the root directory, following
	 * the FAT chain; an end-of-directory entry ends the search */
	cbytes = 1ull << (bps + spcs);
	cluster = root;
	off = ((uint64_t)heap + ((uint64_t)(cluster - 2) << spcs)) << bps;
	left = cbytes;
	while (budget > 0) {
		size_t n = (size_t)MIN(MIN(left, (uint64_t)sizeof(buf)),
				       (uint64_t)budget);
		bool done = false;

		r = rd(c, buf, n, off);
		if (r == -ERANGE)
			break;
		if (r < 0)
			return r;
		for (size_t i = 0; i + 32 <= n; i += 32) {
			if (buf[i] == 0x00) {
				done = true;
				break;
			}
			if (buf[i] == 0x83) {
				size_t units = MIN((size_t)buf[i + 1], 11u);

				set_utf16(f->label, buf + i + 2, units);
				done = true;
				break;
			}
		}
		if (done)
			break;
		budget -= n;
		off += n;
		left -= n;
		if (left == 0) {
			uint8_t e[4];

			if (++hops >= FSID_DIR_CLUSTERS_MAX)
				break;
			r = rd(c, e, 4, ((uint64_t)fat_off << bps) +
						(uint64_t)cluster * 4);
			if (r == -ERANGE)
				break;
			if (r < 0)
				return r;
			cluster = get_le32(e);
			if (cluster < 2 || cluster - 2 >= nclusters)
				break;
			off = ((uint64_t)heap + ((uint64_t)(cluster - 2) << spcs))
			      << bps;
			left = cbytes;
		}
	}
	set_serial32(f->uuid, b + 100);
	snprintf(f->version, sizeof(f->version), "%u.%u", b[105], b[104]);
	f->size = get_le64(b + 72) << bps;
	f->block_size = (uint32_t)cbytes;
	return P_FOUND;
}

/* ---- the probe ----------------------------------------------------- */

typedef int (*probe_fn)(struct ctx *c, struct fsid *f);

/* libblkid's order (superblocks.c idinfos[]), the types we know */
static const probe_fn probes[] = {
	probe_lvm2, probe_luks, probe_bitlocker, probe_vfat, probe_swap,
	probe_xfs, probe_ext, probe_ntfs, probe_refs, probe_btrfs,
	probe_exfat,
};

int fsid_probe(const struct iw_view *v, struct fsid *out, struct iw_diag *d)
{
	struct ctx *c;
	struct fsid cand, bad;
	char bad_why[sizeof(c->why)];
	bool have_bad = false;
	int r;

	memset(out, 0, sizeof(*out));
	if (v->size <= FSID_MIN_SIZE)
		return -ENOENT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return iw_diag_fail(d, -ENOMEM, SCAN_E_NO_MEMORY,
				    "filesystem probe");
	c->v = v;
	c->head_len = (size_t)MIN(v->size, (uint64_t)FSID_HEAD);
	r = iw_view_read(v, c->head, c->head_len, 0);
	if (r < 0)
		goto io;
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		memset(&cand, 0, sizeof(cand));
		c->why[0] = '\0';
		r = probes[i](c, &cand);
		if (r < 0)
			goto io;
		if (r == P_FOUND) {
			*out = cand;
			free(c);
			return 0;
		}
		if (r == P_INVALID && !have_bad) {
			/* only the type survives an impossible superblock */
			memset(&bad, 0, sizeof(bad));
			memcpy(bad.type, cand.type, sizeof(bad.type));
			bad.invalid = true;
			memcpy(bad_why, c->why, sizeof(bad_why));
			have_bad = true;
		}
	}
	free(c);
	if (!have_bad)
		return -ENOENT;
	*out = bad;
	(void)iw_diag_fail(d, -EINVAL, SCAN_E_FS_INVALID, "%s", bad_why);
	return 0;
io:
	free(c);
	return iw_diag_fail(d, r, SCAN_E_IO,
			    "filesystem probe: read failed: %s", strerror(-r));
}

/* ---- MBR partition type names (fdisk's, util-linux
 * include/pt-mbr-partnames.h) --------------------------------------- */

static const struct {
	uint8_t id;
	const char *name;
} mbr_names[] = {
	{ 0x00, "Empty" },
	{ 0x01, "FAT12" },
	{ 0x02, "XENIX root" },
	{ 0x03, "XENIX usr" },
	{ 0x04, "FAT16 <32M" },
	{ 0x05, "Extended" },
	{ 0x06, "FAT16" },
	{ 0x07, "HPFS/NTFS/exFAT" },
	{ 0x08, "AIX" },
	{ 0x09, "AIX bootable" },
	{ 0x0a, "OS/2 Boot Manager" },
	{ 0x0b, "W95 FAT32" },
	{ 0x0c, "W95 FAT32 (LBA)" },
	{ 0x0e, "W95 FAT16 (LBA)" },
	{ 0x0f, "W95 Ext'd (LBA)" },
	{ 0x10, "OPUS" },
	{ 0x11, "Hidden FAT12" },
	{ 0x12, "Compaq diagnostics" },
	{ 0x14, "Hidden FAT16 <32M" },
	{ 0x16, "Hidden FAT16" },
	{ 0x17, "Hidden HPFS/NTFS" },
	{ 0x18, "AST SmartSleep" },
	{ 0x1b, "Hidden W95 FAT32" },
	{ 0x1c, "Hidden W95 FAT32 (LBA)" },
	{ 0x1e, "Hidden W95 FAT16 (LBA)" },
	{ 0x24, "NEC DOS" },
	{ 0x27, "Hidden NTFS WinRE" },
	{ 0x39, "Plan 9" },
	{ 0x3c, "PartitionMagic recovery" },
	{ 0x40, "Venix 80286" },
	{ 0x41, "PPC PReP Boot" },
	{ 0x42, "SFS" },
	{ 0x4d, "QNX4.x" },
	{ 0x4e, "QNX4.x 2nd part" },
	{ 0x4f, "QNX4.x 3rd part" },
	{ 0x50, "OnTrack DM" },
	{ 0x51, "OnTrack DM6 Aux1" },
	{ 0x52, "CP/M" },
	{ 0x53, "OnTrack DM6 Aux3" },
	{ 0x54, "OnTrackDM6" },
	{ 0x55, "EZ-Drive" },
	{ 0x56, "Golden Bow" },
	{ 0x5c, "Priam Edisk" },
	{ 0x61, "SpeedStor" },
	{ 0x63, "GNU HURD or SysV" },
	{ 0x64, "Novell Netware 286" },
	{ 0x65, "Novell Netware 386" },
	{ 0x70, "DiskSecure Multi-Boot" },
	{ 0x75, "PC/IX" },
	{ 0x80, "Old Minix" },
	{ 0x81, "Minix / old Linux" },
	{ 0x82, "Linux swap / Solaris" },
	{ 0x83, "Linux" },
	{ 0x84, "OS/2 hidden or Intel hibernation" },
	{ 0x85, "Linux extended" },
	{ 0x86, "NTFS volume set" },
	{ 0x87, "NTFS volume set" },
	{ 0x88, "Linux plaintext" },
	{ 0x8e, "Linux LVM" },
	{ 0x93, "Amoeba" },
	{ 0x94, "Amoeba BBT" },
	{ 0x9f, "BSD/OS" },
	{ 0xa0, "IBM Thinkpad hibernation" },
	{ 0xa5, "FreeBSD" },
	{ 0xa6, "OpenBSD" },
	{ 0xa7, "NeXTSTEP" },
	{ 0xa8, "Darwin UFS" },
	{ 0xa9, "NetBSD" },
	{ 0xab, "Darwin boot" },
	{ 0xaf, "HFS / HFS+" },
	{ 0xb7, "BSDI fs" },
	{ 0xb8, "BSDI swap" },
	{ 0xbb, "Boot Wizard hidden" },
	{ 0xbc, "Acronis FAT32 LBA" },
	{ 0xbe, "Solaris boot" },
	{ 0xbf, "Solaris" },
	{ 0xc1, "DRDOS/sec (FAT-12)" },
	{ 0xc4, "DRDOS/sec (FAT-16 < 32M)" },
	{ 0xc6, "DRDOS/sec (FAT-16)" },
	{ 0xc7, "Syrinx" },
	{ 0xda, "Non-FS data" },
	{ 0xdb, "CP/M / CTOS / ..." },
	{ 0xde, "Dell Utility" },
	{ 0xdf, "BootIt" },
	{ 0xe1, "DOS access" },
	{ 0xe3, "DOS R/O" },
	{ 0xe4, "SpeedStor" },
	{ 0xea, "Linux extended boot" },
	{ 0xeb, "BeOS fs" },
	{ 0xee, "GPT" },
	{ 0xef, "EFI (FAT-12/16/32)" },
	{ 0xf0, "Linux/PA-RISC boot" },
	{ 0xf1, "SpeedStor" },
	{ 0xf2, "DOS secondary" },
	{ 0xf4, "SpeedStor" },
	{ 0xf8, "EBBR protective" },
	{ 0xfb, "VMware VMFS" },
	{ 0xfc, "VMware VMKCORE" },
	{ 0xfd, "Linux raid autodetect" },
	{ 0xfe, "LANstep" },
	{ 0xff, "BBT" },
};

const char *fsid_mbr_type_name(uint8_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(mbr_names); i++)
		if (mbr_names[i].id == type)
			return mbr_names[i].name;
	return NULL;
}
