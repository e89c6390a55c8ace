/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * validate_scan_report(): the broker's schema check of what imgward-ntfs
 * sends. A well-formed scan passes; each lie a compromised scanner could
 * tell (an unknown key or code, a wrong type, an oversized string, a
 * control character, a Windows object that points nowhere, a flag that
 * does not follow from the volumes) is refused as protocol-violation.
 * Each case edits the good scan with one textual substitution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlimits.h"
#include "tap.h"
#include "validate.h"

static const char good[] =
	"{\"partition-table\":{\"type\":\"gpt\","
	"\"disk-guid\":\"63E53380-3F43-CA48-8650-A42A8BCB1BD6\","
	"\"hybrid-mbr\":false,\"backup-gpt-used\":false},"
	"\"partitions\":["
	"{\"index\":1,\"start\":1048576,\"size\":104857600,"
	"\"type\":\"C12A7328-F81F-11D2-BA4B-00A0C93EC93B\","
	"\"type-name\":\"EFI System\",\"name\":\"EFI system partition\","
	"\"guid\":\"54A41F69-E7B1-8A43-B021-C807413F1075\","
	"\"flags\":[\"no-automount\"],\"filesystem\":\"vfat\","
	"\"filesystem-version\":\"FAT32\",\"label\":\"SYSTEM\","
	"\"uuid\":\"1234-ABCD\",\"ntfs\":null,\"problems\":[]},"
	"{\"index\":2,\"start\":105906176,\"size\":1000000000,"
	"\"type\":\"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\","
	"\"type-name\":\"Microsoft basic data\",\"name\":null,"
	"\"guid\":\"77629D18-6AA3-CD4E-9952-EB812E90D914\",\"flags\":[],"
	"\"filesystem\":\"ntfs\",\"filesystem-version\":null,"
	"\"label\":\"Windows\",\"uuid\":\"1A2B3C4D5E6F7081\","
	"\"ntfs\":{\"version\":\"3.1\",\"label\":\"Windows\","
	"\"serial\":\"1A2B3C4D5E6F7081\",\"dirty\":false,"
	"\"cluster-size\":4096,\"mft-record-size\":1024,\"hiberfil\":true,"
	"\"hibernated\":false},"
	"\"problems\":[{\"code\":\"hive-cell\",\"message\":\"cell at 0x20\"}]}],"
	"\"windows\":{\"product-name\":\"Windows Server 2019 Standard\","
	"\"major\":10,\"minor\":0,\"build\":\"17763\","
	"\"current-version\":\"6.3\",\"edition\":\"ServerStandard\","
	"\"installation-type\":\"Server\",\"arch\":\"x86_64\","
	"\"hostname\":\"WIN-ABC\",\"systemroot\":\"\\\\Windows\","
	"\"partition\":2,\"control-set\":1,\"virtio-drivers\":{"
	"\"viostor\":{\"service\":true,\"start\":0,\"file\":true},"
	"\"vioscsi\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"netkvm\":{\"service\":true,\"start\":3,\"file\":true},"
	"\"balloon\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"vioser\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"viorng\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"pvpanic\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"fwcfg\":{\"service\":false,\"start\":null,\"file\":false},"
	"\"vioinput\":{\"service\":false,\"start\":null,\"file\":false}},"
	"\"virtio-installed\":true},"
	"\"hibernated\":false,\"problems\":[]}";

/* good with the first occurrence of from replaced by to */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	size_t n = strlen(good) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);

	if (!at || !s) {
		printf("# BAIL: '%s' not in the good scan\n", from);
		exit(1);
	}
	snprintf(s, n, "%.*s%s%s", (int)(at - good), good, to,
		 at + strlen(from));
	return s;
}

static int check(const char *json, bool want)
{
	struct iw_failure f = { 0 };
	json_object *o = NULL;
	bool got;

	if (iw_json_parse_bounded(json, strlen(json), &o) < 0)
		return -1;
	got = validate_scan_report(o, &f);
	json_object_put(o);
	if (!got && f.code != IW_E_PROTOCOL_VIOLATION)
		return -1;
	return got == want;
}

static void refused(const char *what, const char *from, const char *to)
{
	char *s = edit(from, to);

	ok(check(s, false) == 1, "refused: %s", what);
	free(s);
}

int main(void)
{
	char big[8192], *s;

	ok(check(good, true) == 1, "a well-formed scan is accepted");
	/* without a Windows object; then an unpartitioned disk, one
	 * index-0 volume, NTFS and Windows on it */
	{
		struct iw_failure f = { 0 };
		json_object *o = NULL, *parts, *p;

		if (iw_json_parse_bounded(good, strlen(good), &o) < 0)
			return 1;
		json_object_object_add(o, "windows", NULL);
		ok(validate_scan_report(o, &f), "accepted: windows null");
		json_object_object_get_ex(o, "partitions", &parts);
		p = json_object_get(json_object_array_get_idx(parts, 1));
		json_object_object_add(o, "partitions", json_object_new_array());
		json_object_object_get_ex(o, "partitions", &parts);
		json_object_array_add(parts, p);
		json_object_object_add(o, "partition-table", NULL);
		json_object_object_add(p, "index", json_object_new_int(0));
		json_object_object_add(p, "type", NULL);
		json_object_object_add(p, "type-name", NULL);
		json_object_object_add(p, "guid", NULL);
		ok(validate_scan_report(o, &f),
		   "accepted: an unpartitioned NTFS disk");
		json_object_object_add(p, "index", json_object_new_int(1));
		ok(!validate_scan_report(o, &f),
		   "refused: a whole-disk volume with an index");
		json_object_put(o);
	}

	refused("unknown top-level key", "\"hibernated\":false,\"problems\"",
		"\"hibernated\":false,\"extra\":1,\"problems\"");
	refused("missing key", ",\"hibernated\":false", "");
	refused("unknown problem code", "\"hive-cell\"", "\"hive-boom\"");
	refused("problem with an extra key", "\"message\":\"cell at 0x20\"",
		"\"message\":\"x\",\"detail\":\"y\"");
	refused("control character in a message", "cell at 0x20",
		"cell\\u001b[31m");
	refused("escape sequence in a label", "\"label\":\"SYSTEM\"",
		"\"label\":\"\\u001b]0;pwned\\u0007\"");
	refused("NUL inside a label", "\"label\":\"SYSTEM\"",
		"\"label\":\"SYS\\u0000TEM\"");
	refused("unknown filesystem", "\"filesystem\":\"vfat\"",
		"\"filesystem\":\"zfs\"");
	refused("filesystem not a string", "\"filesystem\":\"vfat\"",
		"\"filesystem\":7");
	refused("ntfs details on a FAT volume", "\"ntfs\":null",
		"\"ntfs\":{}");
	refused("bad GUID", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
		"C12A7328-F81F-11D2-BA4B-00A0C93EC93G");
	refused("MBR type on a GPT disk",
		"\"C12A7328-F81F-11D2-BA4B-00A0C93EC93B\"", "\"0x07\"");
	refused("index 0 in a partition table", "\"index\":1", "\"index\":0");
	refused("duplicate index", "\"index\":2", "\"index\":1");
	refused("negative start", "\"start\":1048576", "\"start\":-1");
	refused("unknown flag", "[\"no-automount\"]", "[\"evil\"]");
	refused("repeated flag", "[\"no-automount\"]",
		"[\"no-automount\",\"no-automount\"]");
	refused("cluster size not a power of 2", "\"cluster-size\":4096",
		"\"cluster-size\":4097");
	refused("serial not 16 hex digits", "\"serial\":\"1A2B3C4D5E6F7081\"",
		"\"serial\":\"1A2B\"");
	refused("version not N.N", "\"version\":\"3.1\"",
		"\"version\":\"3.1;rm\"");
	refused("hibernated does not follow from the volumes",
		"\"hibernated\":false,\"problems\":[]}",
		"\"hibernated\":true,\"problems\":[]}");
	refused("a hibernated volume, not reported",
		"\"hiberfil\":true,\"hibernated\":false",
		"\"hiberfil\":true,\"hibernated\":true");
	refused("virtio-installed does not follow from the drivers",
		"\"virtio-installed\":true", "\"virtio-installed\":false");
	refused("unknown virtio driver", "\"vioinput\":", "\"viofoo\":");
	refused("Windows on a partition that is not NTFS",
		"\"partition\":2", "\"partition\":1");
	refused("Windows on no partition", "\"partition\":2",
		"\"partition\":9");
	refused("Windows without a system root",
		"\"systemroot\":\"\\\\Windows\"", "\"systemroot\":\"\"");
	refused("major not a number", "\"major\":10", "\"major\":\"10\"");
	refused("control set out of range", "\"control-set\":1",
		"\"control-set\":0");
	refused("MBR table claiming a backup GPT",
		"{\"type\":\"gpt\",\"disk-guid\":\"63E53380-3F43-CA48-8650-"
		"A42A8BCB1BD6\",\"hybrid-mbr\":false,\"backup-gpt-used\":false}",
		"{\"type\":\"mbr\",\"disk-signature\":\"0x1234abcd\","
		"\"hybrid-mbr\":false,\"backup-gpt-used\":true}");
	refused("partition table of another type",
		"{\"type\":\"gpt\"", "{\"type\":\"apm\"");

	/* a product name far beyond any real one */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = malloc(sizeof(big) + 64);
	if (!s)
		return 1;
	snprintf(s, sizeof(big) + 64, "\"product-name\":\"%s\"", big);
	refused("oversized product name",
		"\"product-name\":\"Windows Server 2019 Standard\"", s);
	free(s);

	/* more partitions than any table holds */
	{
		size_t cap = 300 * 400 + 1024, n;
		char *many = malloc(cap);

		if (!many)
			return 1;
		n = (size_t)snprintf(many, cap,
				     "{\"partition-table\":{\"type\":\"mbr\","
				     "\"disk-signature\":\"0x00000000\","
				     "\"hybrid-mbr\":false,\"backup-gpt-used\":"
				     "false},\"partitions\":[");
		for (int i = 1; i <= 300; i++)
			n += (size_t)snprintf(
				many + n, cap - n,
				"%s{\"index\":%d,\"start\":0,\"size\":0,"
				"\"type\":\"0x83\",\"type-name\":null,"
				"\"name\":null,\"guid\":null,\"flags\":[],"
				"\"filesystem\":null,\"filesystem-version\":"
				"null,\"label\":null,\"uuid\":null,\"ntfs\":"
				"null,\"problems\":[]}",
				i > 1 ? "," : "", i);
		snprintf(many + n, cap - n,
			 "],\"windows\":null,\"hibernated\":false,"
			 "\"problems\":[]}");
		ok(check(many, false) == 1, "refused: 300 partitions");
		free(many);
	}
	return tap_done();
}
