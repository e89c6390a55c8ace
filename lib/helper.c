/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "helper.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fd-util.h"

int iw_helper_send(json_object *msg)
{
	const char *s;
	size_t len;
	int r;

	s = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	if (!s)
		return -ENOMEM;
	r = iw_write_all(IW_FD_CONTROL, s, len);
	if (r < 0)
		return r;
	return iw_write_all(IW_FD_CONTROL, "\n", 1);
}

void iw_helper_fail(const char *code, const char *fmt, ...)
{
	char message[512];
	json_object *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	m = json_object_new_object();
	if (m) {
		json_object_object_add(m, "type", json_object_new_string("error"));
		json_object_object_add(m, "code", json_object_new_string(code));
		json_object_object_add(m, "message",
				       json_object_new_string(message));
		(void)iw_helper_send(m);
	}
	_exit(1);
}

void iw_helper_warm_up(void)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "warm", json_object_new_int(1));
		json_object_put(o);
	}
}

int iw_helper_enter_sandbox(struct iw_helper *h,
			    const struct iw_seccomp_policy *policy)
{
	int r;

	/* no core dump with image bytes in it, no ptrace or /proc/<pid>
	 * access by other processes of the helper's uid */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;

	r = iw_landlock_deny_all(&h->landlock);
	if (r < 0)
		return r;
	r = iw_seccomp_apply(policy);
	if (r < 0)
		return r;
	h->seccomp = true;
	return 0;
}

int iw_helper_ready(struct iw_helper *h)
{
	json_object *m, *sb, *ll;
	char go;
	ssize_t n;
	int r;

	m = json_object_new_object();
	sb = json_object_new_object();
	ll = json_object_new_object();
	if (!m || !sb || !ll) {
		json_object_put(m);
		json_object_put(sb);
		json_object_put(ll);
		return -ENOMEM;
	}
	json_object_object_add(ll, "abi", json_object_new_int(h->landlock.abi));
	json_object_object_add(ll, "enforced",
			       json_object_new_boolean(h->landlock.enforced));
	if (!h->landlock.enforced && h->landlock.unavailable_errno)
		json_object_object_add(
			ll, "reason",
			json_object_new_string(
				h->landlock.unavailable_errno == EOPNOTSUPP
					? "disabled at boot"
					: "not in this kernel"));
	json_object_object_add(sb, "landlock", ll);
	json_object_object_add(sb, "seccomp-policy",
			       json_object_new_string(h->name));
	json_object_object_add(m, "type", json_object_new_string("ready"));
	json_object_object_add(m, "helper", json_object_new_string(h->name));
	json_object_object_add(m, "sandbox", sb);
	r = iw_helper_send(m);
	json_object_put(m);
	if (r < 0)
		return r;

	do
		n = read(IW_FD_CONTROL, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'g')
		return -EPIPE;
	return 0;
}
