/*
 * UIO + configfs transport.  See uio.h.
 */
#define _GNU_SOURCE
#include "uio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner/ring/transport.h"
#include "runner/sysfs.h"

#define UIO_SYSFS "/sys/class/uio"
#define UIO_PREFIX "tcm-user/"
/* configfs directory path: the core root, hba and a 127-byte device name. */
#define CFGFS_DIR_MAX 256

struct uio_transport {
	struct lunar_transport t;	/* first: the ops get this pointer */
	char cfgfs_dir[CFGFS_DIR_MAX];
};

static struct uio_transport *to_uio(struct lunar_transport *t)
{
	return (struct uio_transport *)t;
}

/* Copy [s, s+len) into out (size bytes).  -EINVAL if it does not fit or is empty. */
static int take(const char *s, size_t len, char *out, size_t size)
{
	if (!len || len >= size)
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int uio_parse_name(const char *name, struct uio_identity *id)
{
	const char *hba, *dev, *cfg;

	if (strncmp(name, UIO_PREFIX, strlen(UIO_PREFIX)))
		return -EINVAL;
	hba = name + strlen(UIO_PREFIX);
	dev = strchr(hba, '/');
	if (!dev)
		return -EINVAL;
	cfg = strchr(++dev, '/');
	if (!cfg || !cfg[1])
		return -EINVAL;
	cfg++;
	if (snprintf(id->hba, sizeof(id->hba), "user_%.*s",
		     (int)(dev - 1 - hba), hba) >= (int)sizeof(id->hba) ||
	    dev - 1 == hba)
		return -EINVAL;
	if (take(dev, (size_t)(cfg - 1 - dev), id->dev, sizeof(id->dev)))
		return -EINVAL;
	return take(cfg, strcspn(cfg, "\n"), id->cfgstring, sizeof(id->cfgstring));
}

int uio_read_name(const char *uio_name, char *buf, size_t size)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), UIO_SYSFS "/%s/name", uio_name);
	n = sysfs_read(path, buf, size);
	if (n < 0)
		return (int)n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int map_size(const char *uio_name, size_t *size)
{
	char path[128], buf[64];
	unsigned long long v;
	char *end;

	snprintf(path, sizeof(path), UIO_SYSFS "/%s/maps/map0/size", uio_name);
	if (sysfs_read(path, buf, sizeof(buf)) < 0)
		return -errno ? -errno : -EIO;
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || !v)
		return -EINVAL;
	*size = (size_t)v;
	return 0;
}

static int uio_ack(struct lunar_transport *t)
{
	uint32_t count;

	if (read(t->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int uio_kick(struct lunar_transport *t)
{
	uint32_t zero = 0;

	return write(t->event_fd, &zero, sizeof(zero)) < 0 ? -errno : 0;
}

/* "target/..." names the fabric side (ALUA member ports), else the device. */
static void attr_path(struct lunar_transport *t, const char *name, char *path,
		      size_t size)
{
	if (!strncmp(name, "target/", 7))
		snprintf(path, size, CONFIGFS_TARGET "/%s", name + 7);
	else
		snprintf(path, size, "%s/%s", to_uio(t)->cfgfs_dir, name);
}

static ssize_t uio_read_attr(struct lunar_transport *t, const char *name,
			     char *buf, size_t size)
{
	char path[CFGFS_DIR_MAX + 256];

	attr_path(t, name, path, sizeof(path));
	return sysfs_read(path, buf, size);
}

static ssize_t uio_list_dir(struct lunar_transport *t, const char *name,
			    char *buf, size_t size)
{
	char path[CFGFS_DIR_MAX + 256];

	attr_path(t, name, path, sizeof(path));
	return sysfs_list(path, buf, size);
}

int uio_cfgfs_write(const char *hba, const char *dev, const char *name,
		    const char *value)
{
	char path[CFGFS_DIR_MAX + 256];

	snprintf(path, sizeof(path), CONFIGFS_CORE "/%s/%s/%s", hba, dev, name);
	return sysfs_write(path, value, strlen(value));
}

int uio_fail_inflight(const char *hba, const char *dev)
{
	return uio_cfgfs_write(hba, dev, "action/reset_ring", "2");
}

static int uio_write_attr(struct lunar_transport *t, const char *name,
			  const char *value)
{
	char path[CFGFS_DIR_MAX + 256];

	snprintf(path, sizeof(path), "%s/%s", to_uio(t)->cfgfs_dir, name);
	return sysfs_write(path, value, strlen(value));
}

static void uio_destroy(struct lunar_transport *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	if (t->event_fd >= 0)
		close(t->event_fd);
	free(to_uio(t));
}

static const struct lunar_transport_ops uio_ops = {
	.ack = uio_ack,
	.kick = uio_kick,
	.read_attr = uio_read_attr,
	.list_dir = uio_list_dir,
	.write_attr = uio_write_attr,
	.destroy = uio_destroy,
};

int uio_transport_open(const char *uio_name, const struct uio_identity *id,
		       struct lunar_transport **out)
{
	struct uio_transport *ut = calloc(1, sizeof(*ut));
	char path[64];
	int ret;

	if (!ut)
		return -ENOMEM;
	ut->t.ops = &uio_ops;
	ut->t.event_fd = -1;
	snprintf(ut->t.uio_name, sizeof(ut->t.uio_name), "%s", uio_name);
	snprintf(ut->cfgfs_dir, sizeof(ut->cfgfs_dir), CONFIGFS_CORE "/%s/%s",
		 id->hba, id->dev);
	ret = map_size(uio_name, &ut->t.map_len);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "/dev/%s", uio_name);
	ut->t.event_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ut->t.event_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ut->t.map = mmap(NULL, ut->t.map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, ut->t.event_fd, 0);
	if (ut->t.map == MAP_FAILED) {
		ut->t.map = NULL;
		ret = -errno;
		goto fail;
	}
	*out = &ut->t;
	return 0;
fail:
	uio_destroy(&ut->t);
	return ret;
}
