/*
 * The data path: every command is one librbd asynchronous call, data
 * straight from and into the command's iovecs (no bounce buffer), except
 * WRITE SAME's one block and COMPARE AND WRITE's two, which librbd takes
 * as flat buffers.  librbd completes on its own threads.
 *
 * librbd errors become SCSI status (and runner events) here:
 *  - ETIMEDOUT (rados_osd_op_timeout): command timed out, BUSY, so the
 *    initiator retries, possibly on another path;
 *  - ESHUTDOWN (this client was blocklisted) or EROFS (another client took
 *    the exclusive lock): lock lost, BUSY; the runner reopens before the
 *    next write, with a new client;
 *  - ENOTCONN, ECONNRESET, ECONNREFUSED, EPIPE: connection lost, BUSY;
 *  - EILSEQ from COMPARE AND WRITE: MISCOMPARE at the first differing byte;
 *  - EINVAL: past the end of the image (it shrank), LBA OUT OF RANGE;
 *  - ENOMEM, EAGAIN: TASK SET FULL; anything else: MEDIUM ERROR.
 * Writes to a snapshot are refused before reaching librbd: DATA PROTECT,
 * WRITE PROTECTED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"
#include "tcmu-runner.h"

enum aio_kind { AIO_READ, AIO_WRITE, AIO_FLUSH, AIO_DISCARD, AIO_WRITESAME, AIO_CAW };

static const char *const kind_names[] = {
	[AIO_READ] = "read", [AIO_WRITE] = "write", [AIO_FLUSH] = "flush",
	[AIO_DISCARD] = "discard", [AIO_WRITESAME] = "write same",
	[AIO_CAW] = "compare and write",
};

struct lrbd_aio {
	struct tcmu_device *dev;
	struct tcmur_cmd *cmd;
	enum aio_kind kind;
	uint64_t off, len;
	uint64_t mismatch_off;	/* COMPARE AND WRITE */
	char *flat;		/* WRITE SAME / COMPARE AND WRITE data */
};

static int lost(struct lrbd_dev *rd, enum lrbd_event ev)
{
	lrbd_count_event(rd, ev);
	if (ev == LRBD_EVT_LOCK_LOST)
		tcmu_notify_lock_lost(rd->dev);
	else if (ev == LRBD_EVT_CONN_LOST)
		tcmu_notify_conn_lost(rd->dev);
	else
		tcmu_notify_cmd_timed_out(rd->dev);
	return ev == LRBD_EVT_TIMED_OUT ? TCMU_STS_TIMEOUT : TCMU_STS_BUSY;
}

/* librbd's mismatch offset is from the start of the compared range, as SBC's. */
static int miscompare(struct lrbd_aio *a)
{
	tcmu_sense_set_info(a->cmd->lib_cmd->sense_buf, (uint32_t)a->mismatch_off);
	return TCMU_STS_MISCOMPARE;
}

static int status_of(struct lrbd_aio *a, ssize_t ret)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(a->dev);

	switch (ret) {
	case -ETIMEDOUT:
		return lost(rd, LRBD_EVT_TIMED_OUT);
	case -ESHUTDOWN:
		__atomic_store_n(&rd->fenced, true, __ATOMIC_RELEASE);
		return lost(rd, LRBD_EVT_LOCK_LOST);
	case -EROFS:
		return lost(rd, LRBD_EVT_LOCK_LOST);
	case -ENOTCONN:
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -EPIPE:
		return lost(rd, LRBD_EVT_CONN_LOST);
	case -EILSEQ:
		return a->kind == AIO_CAW ? miscompare(a) : TCMU_STS_WR_ERR;
	case -EINVAL:
		return TCMU_STS_RANGE;
	case -ENOMEM:
	case -EAGAIN:
		return TCMU_STS_NO_RESOURCE;
	default:
		return a->kind == AIO_READ ? TCMU_STS_RD_ERR : TCMU_STS_WR_ERR;
	}
}

static void aio_done(rbd_completion_t c, void *arg)
{
	struct lrbd_aio *a = arg;
	ssize_t ret = rbd_aio_get_return_value(c);
	int sts = TCMU_STS_OK;

	rbd_aio_release(c);
	if (ret < 0) {
		sts = status_of(a, ret);
		if (ret != -EILSEQ)
			tcmu_dev_err(a->dev, "%s of %llu bytes at %llu failed: %s",
				     kind_names[a->kind], (unsigned long long)a->len,
				     (unsigned long long)a->off, strerror((int)-ret));
	}
	tcmur_cmd_complete(a->dev, a->cmd, sts);
	free(a->flat);
	free(a);
}

static struct lrbd_aio *aio_new(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			       enum aio_kind kind, uint64_t off, uint64_t len,
			       rbd_completion_t *c)
{
	struct lrbd_aio *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	*a = (struct lrbd_aio){ .dev = dev, .cmd = cmd, .kind = kind,
			       .off = off, .len = len };
	if (rbd_aio_create_completion(a, aio_done, c)) {
		free(a);
		return NULL;
	}
	return a;
}

/* After the librbd call: a refused submission completes nothing. */
static int submitted(struct lrbd_aio *a, rbd_completion_t c, int ret)
{
	if (ret >= 0)
		return TCMU_STS_OK;
	tcmu_dev_err(a->dev, "cannot submit %s of %llu bytes at %llu: %s",
		     kind_names[a->kind], (unsigned long long)a->len,
		     (unsigned long long)a->off, strerror(-ret));
	rbd_aio_release(c);
	free(a->flat);
	free(a);
	return TCMU_STS_NO_RESOURCE;
}

static int write_protected(struct tcmur_cmd *cmd)
{
	return tcmu_sense_set_data(cmd->lib_cmd->sense_buf, DATA_PROTECT,
				   ASC_WRITE_PROTECTED);
}

/*
 * Start a command that modifies the image (refused on a snapshot): 0 with
 * *a and *c set, or the status to return.
 */
static int begin_modify(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			enum aio_kind kind, uint64_t off, uint64_t len,
			struct lrbd_aio **a, rbd_completion_t *c)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);

	if (lrbd_read_only(rd))
		return write_protected(cmd);
	*a = aio_new(dev, cmd, kind, off, len, c);
	return *a ? TCMU_STS_OK : TCMU_STS_NO_RESOURCE;
}

/* The first len bytes of iov in one malloc()ed buffer. */
static char *flatten(const struct iovec *iov, size_t iov_cnt, size_t len)
{
	char *buf = malloc(len);
	size_t done = 0;

	for (size_t i = 0; buf && i < iov_cnt && done < len; i++) {
		size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(buf + done, iov[i].iov_base, n);
		done += n;
	}
	if (buf && done < len) {
		free(buf);
		return NULL;
	}
	return buf;
}

int lrbd_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	     struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	struct lrbd_aio *a = aio_new(dev, cmd, AIO_READ, (uint64_t)off, len, &c);

	if (!a)
		return TCMU_STS_NO_RESOURCE;
	return submitted(a, c, rbd_aio_readv(rd->image, iov, (int)iov_cnt,
					     (uint64_t)off, c));
}

int lrbd_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	      struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	struct lrbd_aio *a;
	int sts;

	sts = begin_modify(dev, cmd, AIO_WRITE, (uint64_t)off, len, &a, &c);
	if (sts)
		return sts;
	return submitted(a, c, rbd_aio_writev(rd->image, iov, (int)iov_cnt,
					      (uint64_t)off, c));
}

int lrbd_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	struct lrbd_aio *a = aio_new(dev, cmd, AIO_FLUSH, 0, 0, &c);

	if (!a)
		return TCMU_STS_NO_RESOURCE;
	return submitted(a, c, rbd_aio_flush(rd->image, c));
}

int lrbd_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	      uint64_t off, uint64_t len)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	struct lrbd_aio *a;
	int sts;

	sts = begin_modify(dev, cmd, AIO_DISCARD, off, len, &a, &c);
	if (sts)
		return sts;
	return submitted(a, c, rbd_aio_discard(rd->image, off, len, c));
}

int lrbd_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		  uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	size_t bs = tcmu_dev_get_block_size(dev);
	rbd_completion_t c;
	struct lrbd_aio *a;
	int sts;

	sts = begin_modify(dev, cmd, AIO_WRITESAME, off, len, &a, &c);
	if (sts)
		return sts;
	a->flat = flatten(iov, iov_cnt, bs);
	if (!a->flat)
		return submitted(a, c, -ENOMEM);
	return submitted(a, c, rbd_aio_writesame(rd->image, off, len, a->flat,
						 bs, c, 0));
}

int lrbd_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	    uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	struct lrbd_aio *a;
	int sts;

	sts = begin_modify(dev, cmd, AIO_CAW, off, len, &a, &c);
	if (sts)
		return sts;
	a->flat = flatten(iov, iov_cnt, 2 * len);
	if (!a->flat)
		return submitted(a, c, -ENOMEM);
	return submitted(a, c, (int)rbd_aio_compare_and_write(rd->image, off, len,
				a->flat, a->flat + len, c, &a->mismatch_off, 0));
}
