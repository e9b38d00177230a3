/*
 * Attribute helpers.  See attr.h.
 */
#include "attr.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ring/transport.h"

#define ATTR_MAX 4096
#define SERIAL_PREFIX "T10 VPD Unit Serial Number:"

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int attr_read_u64(struct lunar_transport *t, const char *name, uint64_t *out)
{
	char buf[64];
	ssize_t n = transport_read_attr(t, name, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return parse_u64(buf, out);
}

int attr_info_u64(struct lunar_transport *t, const char *key, uint64_t *out)
{
	char buf[ATTR_MAX], pattern[64];
	const char *p;
	char *end;
	ssize_t n = transport_read_attr(t, "info", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	if (strlen(key) > sizeof(pattern) - 3)
		return -EINVAL;
	strcpy(pattern, key);
	strcat(pattern, ": ");
	for (p = buf; (p = strstr(p, pattern)); p++)
		if (p == buf || isspace((unsigned char)p[-1]))
			break;
	if (!p)
		return -ENOENT;
	p += strlen(pattern);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno ? -ERANGE : 0;
}

int attr_unit_serial(struct lunar_transport *t, char *buf, size_t size)
{
	char raw[512];
	const char *p = raw;
	size_t len;
	ssize_t n = transport_read_attr(t, "wwn/vpd_unit_serial", raw, sizeof(raw));

	if (n < 0)
		return (int)n;
	if (!strncmp(p, SERIAL_PREFIX, strlen(SERIAL_PREFIX)))
		p += strlen(SERIAL_PREFIX);
	while (isspace((unsigned char)*p))
		p++;
	len = strcspn(p, "\r\n");
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (!len)
		return -ENODATA;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}
