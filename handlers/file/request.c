/*
 * The request bookkeeping every engine shares.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "file.h"
#include "tcmu-runner.h"

struct file_req *file_req_dup(const struct file_req *req)
{
	struct file_req *copy = malloc(sizeof(*copy));

	if (copy)
		*copy = *req;
	return copy;
}

const char *file_op_name(enum file_op op)
{
	static const char *const names[] = {
		[FILE_READ] = "read", [FILE_WRITE] = "write",
		[FILE_FLUSH] = "flush", [FILE_UNMAP] = "unmap",
	};

	return names[op];
}

bool file_req_advance(struct file_req *req, size_t res)
{
	size_t used;

	if (res >= req->len) {
		req->len = 0;
		return true;
	}
	if (!res && req->op == FILE_READ) {
		/* End of a block device or a file shorter than the LUN. */
		tcmu_iovec_zero(req->iov, req->iov_cnt);
		req->len = 0;
		return true;
	}
	used = tcmu_iovec_seek(req->iov, res);
	req->iov += used;
	req->iov_cnt -= used;
	req->off += res;
	req->len -= res;
	return false;
}

static int run_rw(int fd, struct file_req *req)
{
	while (req->len) {
		int cnt = req->iov_cnt > IOV_MAX ? IOV_MAX : (int)req->iov_cnt;
		ssize_t n = req->op == FILE_READ ?
			preadv(fd, req->iov, cnt, (off_t)req->off) :
			pwritev(fd, req->iov, cnt, (off_t)req->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n && req->op == FILE_WRITE)
			return -EIO;
		if (file_req_advance(req, (size_t)n))
			break;
	}
	return 0;
}

int file_req_run_sync(int fd, struct file_req *req)
{
	switch (req->op) {
	case FILE_READ:
	case FILE_WRITE:
		return run_rw(fd, req);
	case FILE_FLUSH:
		return fdatasync(fd) ? -errno : 0;
	case FILE_UNMAP:
		return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)req->off, (off_t)req->len) ? -errno : 0;
	}
	return -EINVAL;
}
