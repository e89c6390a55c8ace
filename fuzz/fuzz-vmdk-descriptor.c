/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness: the VMDK text descriptor parser
 * (vmdk_parse_descriptor(), lib/formats/vmdk.h) on the input as text, cut
 * at its first NUL as every caller cuts it. What the parser returns points
 * into the text: every pointer is checked to lie inside it and every
 * byte it names is read, so a bad pointer is an abort or an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vmdk.h"

/* qemu's vmdk_read_desc reads at most this much of a descriptor, and so
 * do our callers. */
#define MAX_INPUT VMDK_DESC_MAX_SIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* p[0..len) must lie inside text[0..text_len); touch every byte. */
static void check_text(const char *text, size_t text_len, const char *p,
		       size_t len)
{
	volatile uint8_t sum = 0;

	if (!p) {
		if (len != 0)
			abort();
		return;
	}
	if (p < text || len > text_len || (size_t)(p - text) > text_len - len)
		abort();
	for (size_t i = 0; i < len; i++)
		sum ^= (uint8_t)p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmdk_descriptor *d;
	const uint8_t *nul;
	size_t len;
	char *text;

	if (size > MAX_INPUT)
		return 0;
	nul = memchr(data, '\0', size);
	len = nul ? (size_t)(nul - data) : size;
	/* a copy of exactly len bytes: a read past the text is an ASan
	 * report, not a read of the fuzzer's bytes after the NUL */
	text = malloc(len ? len : 1);
	d = malloc(sizeof(*d));
	if (!text || !d)
		goto out;
	memcpy(text, data, len);
	vmdk_parse_descriptor(text, len, d);

	if (d->n_bad_lines > d->n_lines ||
	    d->n_salvaged > VMDK_DESC_MAX_SALVAGED)
		abort();
	if (d->n_bad_lines > 0 && !d->first_bad_reason)
		abort();
	check_text(text, len, d->create_type.p, d->create_type.len);
	check_text(text, len, d->parent_hint.p, d->parent_hint.len);
	check_text(text, len, d->change_track.p, d->change_track.len);
	for (size_t i = 0; i < d->n_extents && i < VMDK_DESC_MAX_EXTENTS; i++) {
		const struct vmdk_extent_line *e = &d->extents[i];

		check_text(text, len, e->name, e->name_len);
		if (strcmp(vmdk_extent_type_name(e->type), "?") == 0 ||
		    e->line == 0 ||
		    e->line > d->n_lines)
			abort();
	}
	for (size_t i = 0; i < d->n_salvaged; i++)
		check_text(text, len, d->salvaged[i].p, d->salvaged[i].len);
out:
	free(d);
	free(text);
	return 0;
}
