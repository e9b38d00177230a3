/*
 * READ and WRITE (6/10/12/16), SYNCHRONIZE CACHE (10/16), and the
 * write-through rule shared by every command that writes: with FUA set or
 * the write cache disabled, data is flushed before the command completes.
 */
#include <stdlib.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

static void finish(struct lunar_cmd *cmd, int sts)
{
	cmd_finish(cmd, sts);
}

static bool needs_flush(struct lunar_cmd *cmd)
{
	return (cmd->fua || !device_write_cache(cmd->dev)) &&
	       io_supported(cmd->dev, IO_FLUSH);
}

void scsi_write_flush_then(struct lunar_cmd *cmd, int sts, io_done_fn next)
{
	struct io_request req = { .kind = IO_FLUSH };

	if (sts != TCMU_STS_OK || !needs_flush(cmd)) {
		next(cmd, sts);
		return;
	}
	io_submit(cmd, &req, next);
}

void scsi_finish_write(struct lunar_cmd *cmd, int sts)
{
	scsi_write_flush_then(cmd, sts, finish);
}

static int submit_rw(struct lunar_cmd *cmd, enum io_kind kind, io_done_fn done)
{
	struct tcmu_device *dev = cmd->dev;
	struct io_request req = {
		.kind = kind,
		.off = cmd->lba * dev->block_size,
		.len = cmd->nblocks * dev->block_size,
	};

	if (!cmd->nblocks)
		return TCMU_STS_OK;
	req.iov = cmd_iov_for(cmd, req.len);
	req.iov_cnt = cmd->lib.iov_cnt;
	if (!io_supported(dev, kind))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	io_submit(cmd, &req, done);
	return TCMU_STS_ASYNC_HANDLED;
}

/* A short read's bounce buffer, freed with the command. */
struct short_read {
	struct iovec iov;
	uint8_t data[];
};

static void short_read_done(struct lunar_cmd *cmd, int sts)
{
	struct short_read *sr = cmd->state;

	if (sts == TCMU_STS_OK)
		scsi_reply(cmd, sr->data, cmd->data_len, cmd->data_len);
	cmd_finish(cmd, sts);
}

/*
 * The initiator's buffer is shorter than the transfer (an iSCSI expected
 * data transfer length below the CDB's): it gets what fits, and the rest
 * is the transport's overflow residual, not an error of the command (the
 * iSCSI target reports it, SAM-5 leaves it to the transport).  The blocks
 * that fit are read through a bounce buffer, since a handler reads whole
 * blocks.
 */
static int read_short(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	uint64_t blocks = (cmd->data_len + dev->block_size - 1) / dev->block_size;
	struct io_request req = {
		.kind = IO_READ,
		.off = cmd->lba * dev->block_size,
		.len = blocks * dev->block_size,
		.iov_cnt = 1,
	};
	struct short_read *sr;

	if (!blocks)
		return TCMU_STS_OK;
	if (!io_supported(dev, IO_READ))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	sr = malloc(sizeof(*sr) + req.len);
	if (!sr)
		return TCMU_STS_NO_RESOURCE;
	sr->iov = (struct iovec){ sr->data, req.len };
	req.iov = &sr->iov;
	cmd_set_state(cmd, sr, NULL);
	io_submit(cmd, &req, short_read_done);
	return TCMU_STS_ASYNC_HANDLED;
}

int scsi_read(struct lunar_cmd *cmd)
{
	if (cmd->data_len < cmd->nblocks * cmd->dev->block_size)
		return read_short(cmd);
	return submit_rw(cmd, IO_READ, finish);
}

int scsi_write(struct lunar_cmd *cmd)
{
	return submit_rw(cmd, IO_WRITE, scsi_finish_write);
}

int scsi_sync_cache(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	struct io_request req = { .kind = IO_FLUSH };
	const uint8_t *cdb = cmd->ring.cdb;
	uint64_t lba, n;

	if (cdb[0] == SYNCHRONIZE_CACHE) {
		lba = get_be32(cdb + 2);
		n = get_be16(cdb + 7);
	} else {
		lba = get_be64(cdb + 2);
		n = get_be32(cdb + 10);
	}
	if (lba > device_num_lbas(dev) || n > device_num_lbas(dev) - lba)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (!io_supported(dev, IO_FLUSH))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	io_submit(cmd, &req, finish);
	return TCMU_STS_ASYNC_HANDLED;
}
