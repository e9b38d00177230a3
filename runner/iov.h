/*
 * iovec helpers that do not modify the iovec array (offset-addressed).
 * The libtcmu-compatible consuming variants live in compat/iovec.c.
 */
#ifndef LUNAR_IOV_H
#define LUNAR_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

size_t iov_length(const struct iovec *iov, size_t cnt);

/* Copy len bytes of src into the iovec starting at byte off.  Returns bytes copied. */
size_t iov_copy_to(const struct iovec *iov, size_t cnt, size_t off,
		   const void *src, size_t len);
/* Copy len bytes starting at byte off of the iovec into dst.  Returns bytes copied. */
size_t iov_copy_from(void *dst, const struct iovec *iov, size_t cnt,
		     size_t off, size_t len);
/* Zero len bytes starting at byte off. */
void iov_zero(const struct iovec *iov, size_t cnt, size_t off, size_t len);

/*
 * Compare len bytes of mem with the iovec from byte off.  Returns -1 if
 * equal, else the offset (from off) of the first differing byte.
 */
ssize_t iov_compare(const struct iovec *iov, size_t cnt, size_t off,
		    const void *mem, size_t len);

/*
 * Build in out[] (room for max entries) the sub-vector covering bytes
 * [off, off + len) of iov.  Returns the entry count, or -1 if out is too
 * small or the range runs past the data.
 */
int iov_slice(const struct iovec *iov, size_t cnt, size_t off, size_t len,
	      struct iovec *out, size_t max);

#endif
