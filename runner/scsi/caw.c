/*
 * COMPARE AND WRITE.
 *
 * The data-out buffer holds the compare data followed by the write data,
 * NUMBER OF LOGICAL BLOCKS each.  A handler with a caw callout gets both
 * halves in one iovec list and reports a miscompare itself (status
 * MISCOMPARE, INFORMATION already set).  Otherwise the range is read into
 * a bounce buffer, compared, and written only if equal.
 *
 * The data-out buffer must be exactly those two halves.  One that disagrees
 * with NUMBER OF LOGICAL BLOCKS is refused (INVALID FIELD IN CDB on that
 * field), never half-used: an initiator that meant 256 blocks sends 0 in
 * the one-byte field, and answering GOOD to "0 blocks" would tell it a
 * compare it asked for had happened.  VMware's ATS is this command.
 *
 * Atomicity comes from the opcode table, not from a lock here: the row is
 * OP_EXCLUSIVE, so the overlap tracker runs this command alone against
 * every command whose LBA range overlaps it, from the read to the write.
 */
#include <stdlib.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "runner/iov.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define NBLOCKS_BYTE 13

struct caw_state {
	void *read_buf;
	struct iovec read_iov;
	size_t write_cnt;
	struct iovec write_iov[];	/* the write half of the data-out buffer */
};

static void free_state(void *p)
{
	struct caw_state *st = p;

	free(st->read_buf);
	free(st);
}

static uint64_t caw_len(struct lunar_cmd *cmd)
{
	return cmd->nblocks * cmd->dev->block_size;
}

static void read_done(struct lunar_cmd *cmd, int sts)
{
	struct caw_state *st = cmd->state;
	uint64_t len = caw_len(cmd);
	struct io_request req = {
		.kind = IO_WRITE,
		.iov = st->write_iov,
		.iov_cnt = st->write_cnt,
		.off = cmd->lba * cmd->dev->block_size,
		.len = len,
	};
	ssize_t diff;

	if (sts) {
		cmd_finish(cmd, sts);
		return;
	}
	diff = iov_compare(cmd->ring.iov, cmd->ring.iov_cnt, 0, st->read_buf,
			   len);
	if (diff >= 0) {
		sense_fail(cmd, MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
		sense_put_info(cmd->lib.sense_buf, (uint64_t)diff);
		cmd_finish(cmd, TCMU_STS_PASSTHROUGH_ERR);
		return;
	}
	io_submit(cmd, &req, scsi_finish_write);
}

static int emulate(struct lunar_cmd *cmd)
{
	size_t max = cmd->ring.iov_cnt, len = caw_len(cmd);
	struct caw_state *st;
	struct io_request req = { .kind = IO_READ, .iov_cnt = 1, .len = len };
	int cnt;

	if (!io_supported(cmd->dev, IO_READ) || !io_supported(cmd->dev, IO_WRITE))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	st = calloc(1, sizeof(*st) + max * sizeof(st->write_iov[0]));
	if (!st)
		return TCMU_STS_NO_RESOURCE;
	cmd_set_state(cmd, st, free_state);
	st->read_buf = malloc(len);
	cnt = iov_slice(cmd->ring.iov, cmd->ring.iov_cnt, len, len,
			st->write_iov, max);
	if (!st->read_buf || cnt < 0)
		return TCMU_STS_NO_RESOURCE;
	st->write_cnt = (size_t)cnt;
	st->read_iov = (struct iovec){ st->read_buf, len };
	req.iov = &st->read_iov;
	req.off = cmd->lba * cmd->dev->block_size;
	io_submit(cmd, &req, read_done);
	return TCMU_STS_ASYNC_HANDLED;
}

static int delegate(struct lunar_cmd *cmd)
{
	uint64_t len = caw_len(cmd);
	struct io_request req = {
		.kind = IO_CAW,
		.off = cmd->lba * cmd->dev->block_size,
		.len = len,
	};

	req.iov = cmd_iov_for(cmd, 2 * len);
	req.iov_cnt = cmd->lib.iov_cnt;
	io_submit(cmd, &req, scsi_finish_write);
	return TCMU_STS_ASYNC_HANDLED;
}

int scsi_compare_and_write(struct lunar_cmd *cmd)
{
	if (cmd->nblocks > SCSI_MAX_CAW_BLOCKS ||
	    cmd->data_len != 2 * caw_len(cmd))
		return sense_bad_cdb_field(cmd, NBLOCKS_BYTE, -1);
	if (!cmd->nblocks)
		return TCMU_STS_OK;	/* SBC-4: nothing compared or written */
	if (io_supported(cmd->dev, IO_CAW))
		return delegate(cmd);
	return emulate(cmd);
}
