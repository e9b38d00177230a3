/*
 * The io_uring engine, driven by the device's command thread through
 * lunar's poller extension (include/lunar-handler-ext.h): callouts queue
 * SQEs, flush() submits the whole batch with one system call and reaps what
 * completed at once (page-cache hits), poll() reaps completions signalled
 * later on the ring's file descriptor.  Everything runs on one thread, so
 * the ring needs no lock and no thread is woken per I/O.
 *
 * Reads and writes are first tried inline, without blocking: with
 * RWF_NOWAIT where the file system supports it (a page-cache hit costs one
 * system call and no queueing), or plainly on memory-backed file systems
 * (tmpfs, ramfs: no device to wait for, and io_uring would hand every
 * request to a worker thread because they lack non-blocking reads).  Only
 * what would block goes through the ring, and large transfers: copying
 * one inline holds the command thread for its whole length (~100 us per
 * MiB on hardware, ~2 ms under QEMU/TCG), while io_uring's workers copy
 * several at once on other CPUs as the thread takes the next commands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/vfs.h>

#include "file.h"
#include "lunar-handler-ext.h"
#include "tcmu-runner.h"

#define RING_ENTRIES 256
/* Larger reads and writes are never tried inline (see above). */
#define INLINE_MAX_LEN (128u * 1024)

enum inline_mode {
	INLINE_NEVER,		/* every request through the ring */
	INLINE_NOWAIT,		/* try RWF_NOWAIT first */
	INLINE_ALWAYS,		/* memory-backed: plain synchronous I/O */
};

struct uring_engine {
	struct io_uring ring;
	int fd;
	enum inline_mode inline_mode;
	unsigned int queued;		/* SQEs prepared, not yet submitted */
	struct file_req *backlog, *backlog_tail;	/* waiting for an SQE */
	struct tcmu_device *dev;
};

static void prep(struct uring_engine *ue, struct io_uring_sqe *sqe,
		 struct file_req *req)
{
	unsigned int cnt = req->iov_cnt > IOV_MAX ? IOV_MAX : (unsigned int)req->iov_cnt;

	switch (req->op) {
	case FILE_READ:
		io_uring_prep_readv(sqe, ue->fd, req->iov, cnt, req->off);
		break;
	case FILE_WRITE:
		io_uring_prep_writev(sqe, ue->fd, req->iov, cnt, req->off);
		break;
	case FILE_FLUSH:
		io_uring_prep_fsync(sqe, ue->fd, IORING_FSYNC_DATASYNC);
		break;
	case FILE_UNMAP:
		io_uring_prep_fallocate(sqe, ue->fd,
					FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req->off, req->len);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
}

/* Queue req for the next submission, or park it until an SQE frees up. */
static void enqueue(struct uring_engine *ue, struct file_req *req)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ue->ring);

	if (!sqe) {
		req->next = NULL;
		if (ue->backlog_tail)
			ue->backlog_tail->next = req;
		else
			ue->backlog = req;
		ue->backlog_tail = req;
		return;
	}
	prep(ue, sqe, req);
	ue->queued++;
}

/* Complete and free a queued request. */
static void retire(struct file_req *req, int err)
{
	file_req_complete(req, err);
	free(req);
}

static void finish_one(struct uring_engine *ue, struct file_req *req, int res)
{
	if (res < 0) {
		retire(req, res);
		return;
	}
	if ((req->op != FILE_READ && req->op != FILE_WRITE) ||
	    file_req_advance(req, (size_t)res)) {
		retire(req, 0);
		return;
	}
	if (!res) {
		retire(req, -EIO);	/* a write that made no progress */
		return;
	}
	enqueue(ue, req);		/* short transfer: issue the rest */
}

/* Complete everything the ring has finished.  Returns how many. */
static unsigned int reap(struct uring_engine *ue)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;

	while (!io_uring_peek_cqe(&ue->ring, &cqe)) {
		struct file_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&ue->ring, cqe);
		finish_one(ue, req, res);
		n++;
	}
	return n;
}

static void move_backlog(struct uring_engine *ue)
{
	while (ue->backlog && io_uring_sq_space_left(&ue->ring)) {
		struct file_req *req = ue->backlog;

		ue->backlog = req->next;
		if (!ue->backlog)
			ue->backlog_tail = NULL;
		enqueue(ue, req);
	}
}

/*
 * Submit all queued SQEs, then reap; completions may queue follow-up work
 * (short transfers, the runner's next step), so repeat until quiet.
 */
static void uring_flush(struct tcmu_device *dev, void *arg)
{
	struct uring_engine *ue = arg;

	do {
		move_backlog(ue);
		if (ue->queued) {
			int ret = io_uring_submit(&ue->ring);

			if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
			    ret != -EBUSY) {
				tcmu_dev_err(dev, "io_uring submission failed: %s",
					     strerror(-ret));
				return;
			}
			if (ret > 0)
				ue->queued -= (unsigned int)ret;
		}
	} while (reap(ue) || (ue->backlog && io_uring_sq_space_left(&ue->ring)));
}

static void uring_poll(struct tcmu_device *dev, void *arg)
{
	struct uring_engine *ue = arg;

	(void)dev;
	reap(ue);
}

/*
 * Move what can be moved without blocking.  Returns true if req finished
 * (completed or failed), false if the rest must go through the ring.
 */
static bool try_inline(struct uring_engine *ue, struct file_req *req)
{
	int flags = ue->inline_mode == INLINE_NOWAIT ? RWF_NOWAIT : 0;

	while (req->len) {
		int cnt = req->iov_cnt > IOV_MAX ? IOV_MAX : (int)req->iov_cnt;
		ssize_t n = req->op == FILE_READ ?
			preadv2(ue->fd, req->iov, cnt, (off_t)req->off, flags) :
			pwritev2(ue->fd, req->iov, cnt, (off_t)req->off, flags);

		if (n < 0 && (errno == EAGAIN || errno == EOPNOTSUPP))
			return false;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_req_complete(req, -errno);
			return true;
		}
		if (!n && req->op == FILE_WRITE)
			return false;
		if (file_req_advance(req, (size_t)n))
			break;
	}
	file_req_complete(req, 0);
	return true;
}

static int uring_submit(struct file_dev *fd, const struct file_req *proto)
{
	struct uring_engine *ue = fd->engine_state;
	struct file_req attempt = *proto, *req;

	if (ue->inline_mode != INLINE_NEVER && attempt.len <= INLINE_MAX_LEN &&
	    (attempt.op == FILE_READ || attempt.op == FILE_WRITE) &&
	    try_inline(ue, &attempt))
		return TCMU_STS_OK;
	/* It would block: queue what is left of it. */
	req = file_req_dup(&attempt);
	if (!req)
		return TCMU_STS_NO_RESOURCE;
	enqueue(ue, req);
	return TCMU_STS_OK;
}

static enum inline_mode probe_inline(int fd)
{
	struct statfs sfs;
	char byte;
	struct iovec iov = { &byte, 0 };

	if (!fstatfs(fd, &sfs) &&
	    (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC))
		return INLINE_ALWAYS;
	if (preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0)
		return INLINE_NOWAIT;
	return INLINE_NEVER;
}

static int uring_start(struct tcmu_device *dev, struct file_dev *fd)
{
	struct uring_engine *ue = calloc(1, sizeof(*ue));
	struct lunar_poller p;
	int ret;

	if (!ue)
		return -ENOMEM;
	ue->fd = fd->fd;
	ue->dev = dev;
	ue->inline_mode = probe_inline(fd->fd);
	ret = io_uring_queue_init(RING_ENTRIES, &ue->ring, 0);
	if (ret) {
		tcmu_dev_err(dev, "io_uring unavailable (%s); use ;engine=threads",
			     strerror(-ret));
		free(ue);
		return ret;
	}
	p = (struct lunar_poller){
		.size = sizeof(p), .fd = ue->ring.ring_fd,
		.poll = uring_poll, .flush = uring_flush, .arg = ue,
	};
	ret = lunar_dev_set_poller(dev, &p);
	if (ret) {
		io_uring_queue_exit(&ue->ring);
		free(ue);
		return ret;
	}
	fd->engine_state = ue;
	return 0;
}

/* Nothing is in flight: the runner drained the device before close(). */
static void uring_stop(struct file_dev *fd)
{
	struct uring_engine *ue = fd->engine_state;

	if (!ue)
		return;
	io_uring_queue_exit(&ue->ring);
	free(ue);
	fd->engine_state = NULL;
}

const struct file_engine_ops uring_engine_ops = {
	.name = "io_uring",
	.start = uring_start,
	.submit = uring_submit,
	.stop = uring_stop,
};
