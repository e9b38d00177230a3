/*
 * Offset-addressed iovec helpers.  See iov.h.
 */
#include "iov.h"

#include <stdint.h>
#include <string.h>

size_t iov_length(const struct iovec *iov, size_t cnt)
{
	size_t len = 0;

	for (size_t i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	return len;
}

/* Position (index, offset within entry) of byte off; false if past end. */
static bool seek(const struct iovec *iov, size_t cnt, size_t off, size_t *idx,
		 size_t *in)
{
	for (size_t i = 0; i < cnt; i++) {
		if (off < iov[i].iov_len) {
			*idx = i;
			*in = off;
			return true;
		}
		off -= iov[i].iov_len;
	}
	return false;
}

/* Walk len bytes from off, calling fn on each contiguous piece. */
static size_t walk(const struct iovec *iov, size_t cnt, size_t off, size_t len,
		   void (*fn)(uint8_t *p, size_t n, size_t done, void *arg),
		   void *arg)
{
	size_t idx, in, done = 0;

	if (!len || !seek(iov, cnt, off, &idx, &in))
		return 0;
	for (; idx < cnt && done < len; idx++, in = 0) {
		size_t n = iov[idx].iov_len - in;

		if (n > len - done)
			n = len - done;
		fn((uint8_t *)iov[idx].iov_base + in, n, done, arg);
		done += n;
	}
	return done;
}

struct source {
	const uint8_t *bytes;
};

static void do_copy_to(uint8_t *p, size_t n, size_t done, void *arg)
{
	const struct source *src = arg;

	memcpy(p, src->bytes + done, n);
}

static void do_copy_from(uint8_t *p, size_t n, size_t done, void *arg)
{
	memcpy((uint8_t *)arg + done, p, n);
}

static void do_zero(uint8_t *p, size_t n, size_t done, void *arg)
{
	(void)done;
	(void)arg;
	memset(p, 0, n);
}

size_t iov_copy_to(const struct iovec *iov, size_t cnt, size_t off,
		   const void *src, size_t len)
{
	struct source s = { src };

	return walk(iov, cnt, off, len, do_copy_to, &s);
}

size_t iov_copy_from(void *dst, const struct iovec *iov, size_t cnt,
		     size_t off, size_t len)
{
	return walk(iov, cnt, off, len, do_copy_from, dst);
}

void iov_zero(const struct iovec *iov, size_t cnt, size_t off, size_t len)
{
	walk(iov, cnt, off, len, do_zero, NULL);
}

struct compare_state {
	const uint8_t *mem;
	ssize_t first_diff;
};

static void do_compare(uint8_t *p, size_t n, size_t done, void *arg)
{
	struct compare_state *st = arg;

	if (st->first_diff >= 0 || !memcmp(p, st->mem + done, n))
		return;
	for (size_t i = 0; i < n; i++)
		if (p[i] != st->mem[done + i]) {
			st->first_diff = (ssize_t)(done + i);
			return;
		}
}

ssize_t iov_compare(const struct iovec *iov, size_t cnt, size_t off,
		    const void *mem, size_t len)
{
	struct compare_state st = { mem, -1 };

	walk(iov, cnt, off, len, do_compare, &st);
	return st.first_diff;
}

int iov_slice(const struct iovec *iov, size_t cnt, size_t off, size_t len,
	      struct iovec *out, size_t max)
{
	size_t idx, in, n = 0;

	if (!len)
		return 0;
	if (!seek(iov, cnt, off, &idx, &in))
		return -1;
	for (; idx < cnt && len; idx++, in = 0) {
		size_t take = iov[idx].iov_len - in;

		if (n == max)
			return -1;
		if (take > len)
			take = len;
		out[n].iov_base = (uint8_t *)iov[idx].iov_base + in;
		out[n].iov_len = take;
		len -= take;
		n++;
	}
	return len ? -1 : (int)n;
}
