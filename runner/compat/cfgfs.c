/*
 * libtcmu configfs helpers for handlers.
 *
 * The tcmu_cfgfs_dev_* calls go through the device's transport, so a
 * handler asking for "info" or an attribute gets the kernel's configfs
 * value on a real device and the simulator's on a simring device.  The
 * path-based calls touch the real file system.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/attr.h"
#include "runner/device.h"
#include "runner/export.h"
#include "runner/log.h"
#include "runner/sysfs.h"

#define CFGFS_BUF 4096

LUNAR_EXPORT char *tcmu_cfgfs_get_str(const char *path)
{
	char buf[CFGFS_BUF];
	ssize_t n = sysfs_read(path, buf, sizeof(buf));

	if (n < 0) {
		errno = (int)-n;
		return NULL;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

LUNAR_EXPORT int tcmu_cfgfs_set_str(const char *path, const char *val,
				    int val_len)
{
	return sysfs_write(path, val, (size_t)val_len);
}

LUNAR_EXPORT int tcmu_cfgfs_get_int(const char *path)
{
	char *s = tcmu_cfgfs_get_str(path);
	uint64_t v;
	int ret;

	if (!s)
		return errno ? -errno : -EIO;
	ret = parse_u64(s, &v);
	free(s);
	if (ret)
		return ret;
	return v > INT_MAX ? -ERANGE : (int)v;
}

LUNAR_EXPORT int tcmu_cfgfs_set_u32(const char *path, uint32_t val)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", val);

	return tcmu_cfgfs_set_str(path, buf, n);
}

LUNAR_EXPORT int tcmu_cfgfs_mod_param_set_u32(const char *name, uint32_t val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", CFGFS_MOD_PARAM, name);
	return tcmu_cfgfs_set_u32(path, val);
}

LUNAR_EXPORT int tcmu_cfgfs_dev_get_attr_int(struct tcmu_device *dev,
					     const char *name)
{
	char attr[256];
	uint64_t v;
	int ret;

	snprintf(attr, sizeof(attr), "attrib/%s", name);
	ret = attr_read_u64(dev->transport, attr, &v);
	if (ret)
		return ret;
	return v > INT_MAX ? -ERANGE : (int)v;
}

LUNAR_EXPORT int tcmu_cfgfs_dev_exec_action(struct tcmu_device *dev,
					    const char *name, uint32_t val)
{
	char attr[256], buf[16];

	snprintf(attr, sizeof(attr), "action/%s", name);
	snprintf(buf, sizeof(buf), "%u", val);
	return transport_write_attr(dev->transport, attr, buf);
}

LUNAR_EXPORT int tcmu_cfgfs_dev_set_ctrl_u64(struct tcmu_device *dev,
					     const char *key, uint64_t val)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s=%llu", key, (unsigned long long)val);
	return transport_write_attr(dev->transport, "control", buf);
}

LUNAR_EXPORT uint64_t tcmu_cfgfs_dev_get_info_u64(struct tcmu_device *dev,
						  const char *name, int *fn_ret)
{
	uint64_t v = 0;
	int ret = attr_info_u64(dev->transport, name, &v);

	if (fn_ret)
		*fn_ret = ret;
	return ret ? 0 : v;
}

LUNAR_EXPORT char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev)
{
	return strdup(device_unit_serial(dev));
}
