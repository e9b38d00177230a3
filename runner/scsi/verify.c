/*
 * VERIFY (10/12/16) and WRITE AND VERIFY (10/12/16).
 *
 * Both end in the same read-back chain: the range is read from the
 * handler through a bounce buffer, at most 1 MiB at a time, and each piece
 * is checked as the BYTCHK field asks (SBC-4):
 *   00b  medium verification: the reads must succeed;
 *   01b  the data-out buffer holds the range: byte-by-byte comparison;
 *   11b  the data-out buffer holds one block, compared with every block.
 * A difference is MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION, with the
 * INFORMATION field set to the byte offset of the first difference (from
 * the start of the data-out buffer; for 11b within the verified range).
 *
 * WRITE AND VERIFY writes the data-out buffer, applies the write-through
 * rule of every write (scsi_write_flush_then()), then reads the range back
 * and compares it with what it wrote, whatever its BYTCHK (00b or 01b):
 * a read-back that differs is reported, as tcmu-runner 1.5.4 did.  Its
 * table rows are exclusive over their range, so no other write lands
 * between the write and the read-back.
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

#define CHUNK_BYTES (1024u * 1024)

enum bytchk {
	BYTCHK_MEDIUM = 0,
	BYTCHK_RANGE = 1,
	BYTCHK_RESERVED = 2,
	BYTCHK_ONE_BLOCK = 3,
};

struct verify_state {
	enum bytchk mode;
	uint64_t total;		/* bytes of the range */
	uint64_t done;		/* bytes read and checked */
	size_t chunk;		/* bytes per read (whole blocks) */
	size_t cur;		/* bytes of the read in flight */
	uint8_t *bounce;
	struct iovec iov;	/* the handler may consume it */
};

static void free_state(void *p)
{
	struct verify_state *st = p;

	free(st->bounce);
	free(st);
}

static enum bytchk cdb_bytchk(const struct lunar_cmd *cmd)
{
	return (enum bytchk)((cmd->ring.cdb[1] >> 1) & 0x03);
}

/* CDB byte of the TRANSFER LENGTH / VERIFICATION LENGTH field. */
static unsigned int length_byte(const struct lunar_cmd *cmd)
{
	switch (cmd->op->layout) {
	case LAYOUT_10:
		return 7;
	case LAYOUT_12:
		return 6;
	default:
		return 10;
	}
}

static int miscompare(struct lunar_cmd *cmd, uint64_t offset)
{
	sense_fail(cmd, MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	sense_put_info(cmd->lib.sense_buf, offset);
	return TCMU_STS_PASSTHROUGH_ERR;
}

/* Check the piece just read (range bytes [done, done + cur)). */
static int check_piece(struct lunar_cmd *cmd, const struct verify_state *st)
{
	const struct iovec *iov = cmd->ring.iov;
	size_t cnt = cmd->ring.iov_cnt, bs = cmd->dev->block_size;
	ssize_t diff;

	switch (st->mode) {
	case BYTCHK_RANGE:
		diff = iov_compare(iov, cnt, st->done, st->bounce, st->cur);
		return diff < 0 ? TCMU_STS_OK :
		       miscompare(cmd, st->done + (uint64_t)diff);
	case BYTCHK_ONE_BLOCK:
		for (size_t off = 0; off < st->cur; off += bs) {
			diff = iov_compare(iov, cnt, 0, st->bounce + off, bs);
			if (diff >= 0)
				return miscompare(cmd, st->done + off +
						       (uint64_t)diff);
		}
		return TCMU_STS_OK;
	default:
		return TCMU_STS_OK;
	}
}

static void piece_done(struct lunar_cmd *cmd, int sts);

static void read_piece(struct lunar_cmd *cmd)
{
	struct verify_state *st = cmd->state;
	uint64_t left = st->total - st->done;
	struct io_request req = { .kind = IO_READ, .iov = &st->iov, .iov_cnt = 1 };

	st->cur = left < st->chunk ? (size_t)left : st->chunk;
	st->iov.iov_base = st->bounce;
	st->iov.iov_len = st->cur;
	req.off = cmd->lba * cmd->dev->block_size + st->done;
	req.len = st->cur;
	io_submit(cmd, &req, piece_done);
}

static void piece_done(struct lunar_cmd *cmd, int sts)
{
	struct verify_state *st = cmd->state;

	if (sts == TCMU_STS_OK)
		sts = check_piece(cmd, st);
	st->done += st->cur;
	if (sts != TCMU_STS_OK || st->done == st->total) {
		cmd_finish(cmd, sts);
		return;
	}
	read_piece(cmd);
}

/* After the write (and its flush): read back, or finish with the error. */
static void read_back(struct lunar_cmd *cmd, int sts)
{
	if (sts != TCMU_STS_OK) {
		cmd_finish(cmd, sts);
		return;
	}
	read_piece(cmd);
}

static void written(struct lunar_cmd *cmd, int sts)
{
	scsi_write_flush_then(cmd, sts, read_back);
}

/* Attach the read-back state for cmd's range.  OK or NO_RESOURCE. */
static int setup(struct lunar_cmd *cmd, enum bytchk mode)
{
	size_t bs = cmd->dev->block_size;
	struct verify_state *st = calloc(1, sizeof(*st));

	if (!st)
		return TCMU_STS_NO_RESOURCE;
	st->mode = mode;
	st->total = cmd->nblocks * bs;
	st->chunk = CHUNK_BYTES / bs ? CHUNK_BYTES / bs * bs : bs;
	if (st->chunk > st->total)
		st->chunk = (size_t)st->total;
	st->bounce = malloc(st->chunk);
	if (!st->bounce) {
		free(st);
		return TCMU_STS_NO_RESOURCE;
	}
	cmd_set_state(cmd, st, free_state);
	return TCMU_STS_OK;
}

/* Checks common to both commands.  NOT_HANDLED to go on. */
static int precheck(struct lunar_cmd *cmd, enum bytchk mode, bool writes)
{
	struct tcmu_device *dev = cmd->dev;

	if (mode == BYTCHK_RESERVED || (writes && mode == BYTCHK_ONE_BLOCK))
		return sense_bad_cdb_field(cmd, 1, 2);
	if (!io_supported(dev, IO_READ) || (writes && !io_supported(dev, IO_WRITE)))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	if (!cmd->nblocks)
		return TCMU_STS_OK;
	return TCMU_STS_NOT_HANDLED;
}

int scsi_verify(struct lunar_cmd *cmd)
{
	enum bytchk mode = cdb_bytchk(cmd);
	uint64_t need = 0;
	int sts = precheck(cmd, mode, false);

	if (sts != TCMU_STS_NOT_HANDLED)
		return sts;
	if (mode == BYTCHK_RANGE)
		need = cmd->nblocks * cmd->dev->block_size;
	else if (mode == BYTCHK_ONE_BLOCK)
		need = cmd->dev->block_size;
	if (cmd->data_len < need)
		return sense_bad_cdb_field(cmd, length_byte(cmd), -1);
	sts = setup(cmd, mode);
	if (sts)
		return sts;
	read_piece(cmd);
	return TCMU_STS_ASYNC_HANDLED;
}

int scsi_write_verify(struct lunar_cmd *cmd)
{
	struct io_request req = { .kind = IO_WRITE };
	int sts = precheck(cmd, cdb_bytchk(cmd), true);

	if (sts != TCMU_STS_NOT_HANDLED)
		return sts;
	sts = setup(cmd, BYTCHK_RANGE);
	if (sts)
		return sts;
	req.off = cmd->lba * cmd->dev->block_size;
	req.len = cmd->nblocks * cmd->dev->block_size;
	req.iov = cmd_iov_for(cmd, req.len);
	req.iov_cnt = cmd->lib.iov_cnt;
	io_submit(cmd, &req, written);
	return TCMU_STS_ASYNC_HANDLED;
}
