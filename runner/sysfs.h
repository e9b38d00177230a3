/*
 * Whole-value reads and writes of sysfs and configfs files (one read or
 * write call each, as those file systems expect).  0 / length or -errno;
 * never log (callers log once, with the context).
 */
#ifndef LUNAR_SYSFS_H
#define LUNAR_SYSFS_H

#include <stddef.h>
#include <sys/types.h>

/* Up to size - 1 bytes of path into buf, NUL-terminated; their count. */
ssize_t sysfs_read(const char *path, char *buf, size_t size);

/* len bytes of value to path; 0, or -EIO if the kernel took fewer. */
int sysfs_write(const char *path, const char *value, size_t len);

/*
 * Names in directory path (without "." and ".."), sorted, one per line,
 * into buf.  Length, or -errno (-E2BIG if they do not fit).
 */
ssize_t sysfs_list(const char *path, char *buf, size_t size);

#endif
