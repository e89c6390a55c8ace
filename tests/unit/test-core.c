/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sniffer's framework: views, reports, the finding table, the reader
 * registry, the qemu probe emulation, and the orchestrator's decisions on
 * in-memory images.
 */
#include <string.h>

#include "bytes.h"
#include "formats/formats.h"
#include "jsonlimits.h"
#include "probe.h"
#include "tap.h"

static void test_views(void)
{
	static const uint8_t data[16] = "0123456789abcdef";
	struct iw_view v, sub;
	uint8_t buf[8];
	size_t got;

	iw_view_init_mem(&v, data, sizeof(data));
	is_int(iw_view_read(&v, buf, 4, 12), 0, "read at the end");
	is_int(iw_view_read(&v, buf, 5, 12), -ERANGE, "read past the end");
	is_int(iw_view_read(&v, buf, 1, UINT64_MAX), -ERANGE,
	       "offset + length wraps");
	is_int(iw_view_read_upto(&v, buf, 8, 12, &got), 0, "read_upto");
	is_int(got, 4, "... clamps to the view");
	is_int(iw_view_init_sub(&sub, &v, 4, 8), 0, "sub-view");
	is_int(iw_view_read(&sub, buf, 8, 0), 0, "read a whole sub-view");
	ok(memcmp(buf, "456789ab", 8) == 0, "... at the right offset");
	is_int(iw_view_read(&sub, buf, 1, 8), -ERANGE, "sub-view is bounded");
	is_int(iw_view_init_sub(&sub, &v, 10, 8), -ERANGE,
	       "a sub-view cannot exceed its parent");
	v.own_budget = 6;
	is_int(iw_view_read(&v, buf, 4, 0), 0, "within the read budget");
	is_int(iw_view_read(&v, buf, 4, 0), -E2BIG, "budget spent");
}

static void test_findings_table(void)
{
	bool unique = true, named = true;

	for (int i = 0; i < _IW_F_MAX; i++) {
		const char *n = iw_code_name((enum iw_code)i);

		if (iw_code_from_name(n) != i)
			unique = false;
		for (const char *p = n; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '-'))
				named = false;
	}
	ok(unique, "finding codes are unique");
	ok(named, "finding codes are lower-case-with-dashes");
	is_int(iw_code_from_name("no-such-code"), -1, "unknown code");
	is_int(iw_verdict_of_class(iw_code_class(IW_F_BACKING_FILE)), IW_UNSAFE,
	       "backing-file forces unsafe");
	is_int(iw_verdict_of_class(iw_code_class(IW_F_DIRTY)), IW_SAFE,
	       "dirty is information only");
}

static void test_registry_names(void)
{
	size_t n_names = 0;
	bool all = true;

	for (size_t i = 0; iw_format_names[i]; i++)
		n_names++;
	for (size_t i = 0; i < iw_formats_count; i++)
		if (!iw_format_name_is_reader(iw_formats[i]->name)) {
			printf("# %s missing from format-names.c\n",
			       iw_formats[i]->name);
			all = false;
		}
	ok(all, "every reader is in format-names.c");
	is_int(n_names, iw_formats_count, "format-names.c lists no extra name");
	ok(iw_format_name_known("vpc") && iw_format_name_known("iso") &&
		   iw_format_name_known("raw") && !iw_format_name_known("floppy"),
	   "--expect-format names");
}

static void test_report(void)
{
	struct iw_report r;
	json_object *j, *refs, *ref, *v;
	_cleanup_free_ char *s = NULL;
	bool lossless;

	s = iw_sanitize("a\x1b[31mb\xff\xc0\x80", 9, &lossless);
	ok(s && !lossless && !strchr(s, 0x1b), "sanitize drops escapes");
	ok(s && strstr(s, "\xef\xbf\xbd") != NULL, "... as U+FFFD");
	free(TAKE_PTR(s));
	s = iw_sanitize("d\xc3\xa9j\xc3\xa0", 6, &lossless);
	ok(s && lossless && strcmp(s, "d\xc3\xa9j\xc3\xa0") == 0,
	   "valid UTF-8 is kept");

	iw_report_init(&r);
	iw_reference(&r, "backing-file", "json:{\"file\":{}}", 16);
	iw_reference(&r, "extent", "nbd://host/x", 12);
	iw_reference(&r, "extent", "/dev/sda", 8);
	iw_reference(&r, "extent", "dir/file:x", 10);
	iw_reference(&r, "extent", "bad\0name", 8);
	is_int(r.verdict, IW_UNSAFE, "protocol references are unsafe");
	j = iw_report_to_json(&r);
	json_object_object_get_ex(j, "references", &refs);
	is_int(json_object_array_length(refs), 5, "all references kept");
	ref = json_object_array_get_idx(refs, 4);
	ok(json_object_object_get_ex(ref, "hex", &v) &&
		   strcmp(json_object_get_string(v), "626164006e616d65") == 0,
	   "a name with a NUL keeps its bytes in hex");
	{
		int n = 0;
		json_object *f;
		json_object_object_get_ex(j, "findings", &f);
		for (size_t i = 0; i < json_object_array_length(f); i++) {
			json_object *c;
			json_object_object_get_ex(json_object_array_get_idx(f, i),
						  "code", &c);
			if (strcmp(json_object_get_string(c),
				   "protocol-reference") == 0)
				n++;
		}
		is_int(n, 2, "json: and nbd:// flagged; /dev/sda and "
			     "dir/file:x are paths");
	}
	json_object_put(j);
	for (int i = 0; i < 200; i++)
		iw_finding(&r, IW_F_DIRTY, "finding %d", i);
	ok(r.n_findings_dropped > 0, "findings are capped");
	iw_finding(&r, IW_F_TRUNCATED, "after the cap");
	is_int(r.verdict, IW_UNSAFE, "a dropped finding still counts");
	iw_report_done(&r);
}

static const char *sniff_mem(const void *buf, size_t len, struct iw_report *r)
{
	struct iw_view v;

	iw_view_init_mem(&v, buf, len);
	iw_report_init(r);
	if (iw_probe(&v, r) < 0)
		return NULL;
	return r->format;
}

static void test_orchestrator(void)
{
	static uint8_t img[4096];
	struct iw_report r;

	memset(img, 0, sizeof(img));
	is_str(sniff_mem(img, sizeof(img), &r), "raw", "zeros are raw");
	is_int(r.verdict, IW_SAFE, "... and safe");
	iw_report_done(&r);

	is_str(sniff_mem(img, 0, &r), "raw", "an empty file is raw");
	is_int(r.virtual_size, 0, "... of size 0");
	iw_report_done(&r);

	/* qcow2 magic with nothing valid after it: never raw */
	memcpy(img, "QFI\xfb\0\0\0\3", 8);
	is_str(sniff_mem(img, 64, &r), "qcow2",
	       "a truncated qcow2 header is qcow2");
	ok(r.verdict == IW_INVALID || r.verdict == IW_UNSAFE,
	   "... and not safe");
	iw_report_done(&r);

	/* qcow2 + VDI signature: two image formats */
	memset(img, 0, sizeof(img));
	memcpy(img, "QFI\xfb\0\0\0\3", 8);
	put_le32(img + 0x40, 0xbeda107f);
	sniff_mem(img, sizeof(img), &r);
	is_int(r.verdict, IW_UNSAFE, "qcow2+vdi polyglot is unsafe");
	iw_report_done(&r);
}

static void test_qemu_probe(void)
{
	static uint8_t b[512];

	memset(b, 0, sizeof(b));
	is_str(iw_qemu_probe(b, sizeof(b), 512), "raw", "zeros");
	memcpy(b, "QFI\xfb\0\0\0\1", 8);
	is_str(iw_qemu_probe(b, sizeof(b), 512), "qcow", "qcow v1");
	b[7] = 2;
	is_str(iw_qemu_probe(b, sizeof(b), 512), "qcow2", "qcow2 v2");
	b[7] = 9;
	is_str(iw_qemu_probe(b, sizeof(b), 512), "qcow2",
	       "qcow2 any version >= 2");
	memset(b, 0, sizeof(b));
	memcpy(b, "# x\n  \nversion=1\n", 17);
	is_str(iw_qemu_probe(b, sizeof(b), 512), "vmdk",
	       "descriptor after comment and space-only lines");
	memcpy(b, "# x\n\nversion=1\n", 14);
	is_str(iw_qemu_probe(b, sizeof(b), 512), "raw",
	       "an empty line stops qemu's descriptor probe");
	memset(b, 0, sizeof(b));
	memcpy(b, "conectix", 8);
	is_str(iw_qemu_probe(b, sizeof(b), 512), "vpc", "vhd footer copy");
	is_str(iw_qemu_probe(b, 0, 0), "raw", "empty file");
	memset(b, 0, sizeof(b));
	memcpy(b, "LUKS\xba\xbe\0\2", 8);
	is_str(iw_qemu_probe(b, sizeof(b), 512), "raw",
	       "qemu 7.2 probes LUKS version 1 only");
}

static void test_json_limits(void)
{
	json_object *o = NULL;
	char deep[200];

	is_int(iw_json_parse_bounded("{\"a\":1}", 7, &o), 0, "plain object");
	json_object_put(o);
	ok(iw_json_parse_bounded("{\"a\":1} x", 9, &o) < 0, "trailing bytes");
	ok(iw_json_parse_bounded("{\"a\":\"\xff\"}", 9, &o) < 0,
	   "invalid UTF-8");
	ok(iw_json_parse_bounded("{a:1}", 5, &o) < 0, "non-strict JSON");
	ok(iw_json_parse_bounded("{\"a\":", 5, &o) < 0, "incomplete");
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ok(iw_json_parse_bounded(deep, 200, &o) < 0, "100 levels deep");
}

int main(void)
{
	test_views();
	test_findings_table();
	test_registry_names();
	test_report();
	test_orchestrator();
	test_qemu_probe();
	test_json_limits();
	return tap_done();
}
