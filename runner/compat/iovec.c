/*
 * libtcmu iovec helpers for handlers.  Unlike runner/iov.c these consume
 * the iovec array the way tcmu-runner 1.5.4's do: the memcpy helpers and
 * tcmu_iovec_seek() advance iov_base and shrink iov_len.
 */
#include <string.h>

#include "runner/export.h"
#include "runner/iov.h"
#include "libtcmu_common.h"

LUNAR_EXPORT size_t tcmu_iovec_length(struct iovec *iovec, size_t iov_cnt)
{
	return iov_length(iovec, iov_cnt);
}

/* Consume count bytes; returns how many entries were used up entirely. */
LUNAR_EXPORT size_t tcmu_iovec_seek(struct iovec *iovec, size_t count)
{
	size_t consumed = 0;

	while (count) {
		if (count >= iovec->iov_len) {
			count -= iovec->iov_len;
			iovec->iov_base = (char *)iovec->iov_base + iovec->iov_len;
			iovec->iov_len = 0;
			iovec++;
			consumed++;
		} else {
			iovec->iov_base = (char *)iovec->iov_base + count;
			iovec->iov_len -= count;
			count = 0;
		}
	}
	return consumed;
}

LUNAR_EXPORT void tcmu_cmd_seek(struct tcmulib_cmd *cmd, size_t count)
{
	size_t used = tcmu_iovec_seek(cmd->iovec, count);

	cmd->iovec += used;
	cmd->iov_cnt -= used;
}

LUNAR_EXPORT void tcmu_iovec_zero(struct iovec *iovec, size_t iov_cnt)
{
	for (size_t i = 0; i < iov_cnt; i++)
		memset(iovec[i].iov_base, 0, iovec[i].iov_len);
}

LUNAR_EXPORT bool tcmu_iovec_zeroed(struct iovec *iovec, size_t iov_cnt)
{
	for (size_t i = 0; i < iov_cnt; i++) {
		const unsigned char *p = iovec[i].iov_base;

		for (size_t j = 0; j < iovec[i].iov_len; j++)
			if (p[j])
				return false;
	}
	return true;
}

/* -1 when equal, else offset of the first differing byte. */
LUNAR_EXPORT off_t tcmu_iovec_compare(void *mem, struct iovec *iovec,
				      size_t size)
{
	/* 1.5.4 takes no iov_cnt: the caller guarantees size bytes exist. */
	for (size_t i = 0, off = 0; off < size; i++) {
		size_t n = iovec[i].iov_len < size - off ? iovec[i].iov_len :
							   size - off;
		ssize_t d = iov_compare(&iovec[i], 1, 0, (char *)mem + off, n);

		if (d >= 0)
			return (off_t)(off + (size_t)d);
		off += n;
	}
	return -1;
}

LUNAR_EXPORT size_t tcmu_memcpy_into_iovec(struct iovec *iovec, size_t iov_cnt,
					   void *src, size_t len)
{
	size_t done = 0;

	for (size_t i = 0; i < iov_cnt && done < len; i++) {
		size_t n = iovec[i].iov_len < len - done ? iovec[i].iov_len :
							   len - done;

		memcpy(iovec[i].iov_base, (char *)src + done, n);
		iovec[i].iov_base = (char *)iovec[i].iov_base + n;
		iovec[i].iov_len -= n;
		done += n;
	}
	return done;
}

LUNAR_EXPORT size_t tcmu_memcpy_from_iovec(void *dest, size_t len,
					   struct iovec *iovec, size_t iov_cnt)
{
	size_t done = 0;

	for (size_t i = 0; i < iov_cnt && done < len; i++) {
		size_t n = iovec[i].iov_len < len - done ? iovec[i].iov_len :
							   len - done;

		memcpy((char *)dest + done, iovec[i].iov_base, n);
		iovec[i].iov_base = (char *)iovec[i].iov_base + n;
		iovec[i].iov_len -= n;
		done += n;
	}
	return done;
}
