/* sysfs and configfs file access.  See sysfs.h. */
#include "sysfs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int sysfs_write(const char *path, const char *value, size_t len)
{
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

ssize_t sysfs_list(const char *path, char *buf, size_t size)
{
	struct dirent **names;
	size_t len = 0;
	int n = scandir(path, &names, not_dot, by_name);

	if (n < 0)
		return -errno;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s\n",
						names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return len < size ? (ssize_t)len : -E2BIG;
}
