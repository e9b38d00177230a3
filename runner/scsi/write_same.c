/*
 * WRITE SAME (10) and (16).
 *
 * One block of data-out (zeros with NDOB) goes to every block of the
 * range, by the first of these that applies:
 *  - UNMAP set, unmap enabled and the block all zeros: the range is
 *    unmapped instead (LBPRZ = 1, so it reads back as zeros), in the same
 *    pieces UNMAP would send (scsi_unmap_piece);
 *  - the handler's writesame callout, given the one block;
 *  - emulation: a bounce buffer of up to 1 MiB filled with copies of the
 *    block, written one chunk after another.
 * UNMAP is only a hint: non-zero data is always written.  Every path ends
 * through scsi_finish_write(), so a disabled write cache still means the
 * result is flushed before GOOD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/io.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define CHUNK_BYTES (1024u * 1024)

#define WS_UNMAP 0x08		/* CDB byte 1 */
#define WS_NDOB 0x01		/* CDB byte 1, WRITE SAME(16) only */

struct ws_state {
	enum io_kind kind;	/* IO_UNMAP, IO_WRITESAME or IO_WRITE */
	uint64_t next_lba;
	uint64_t end_lba;
	uint64_t chunk_blocks;	/* copies of the block in buf */
	uint8_t *buf;
	struct iovec iov;
};

static void free_state(void *p)
{
	struct ws_state *st = p;

	free(st->buf);
	free(st);
}

/* Fill req with the next piece of the range; returns its blocks. */
static uint64_t next_piece(struct lunar_cmd *cmd, struct ws_state *st,
			   struct io_request *req)
{
	struct tcmu_device *dev = cmd->dev;
	uint64_t left = st->end_lba - st->next_lba, n = left;

	if (st->kind == IO_UNMAP) {
		n = scsi_unmap_piece(dev, st->next_lba, left);
	} else {
		if (st->kind == IO_WRITE && n > st->chunk_blocks)
			n = st->chunk_blocks;
		/* writesame takes one block for the whole range. */
		st->iov.iov_base = st->buf;
		st->iov.iov_len = (st->kind == IO_WRITE ? n : 1) * dev->block_size;
		req->iov = &st->iov;
		req->iov_cnt = 1;
	}
	req->kind = st->kind;
	req->off = st->next_lba * dev->block_size;
	req->len = n * dev->block_size;
	return n;
}

static void ws_step(struct lunar_cmd *cmd, int sts)
{
	struct ws_state *st = cmd->state;
	struct io_request req = { 0 };

	if (sts || st->next_lba == st->end_lba) {
		scsi_finish_write(cmd, sts);
		return;
	}
	st->next_lba += next_piece(cmd, st, &req);
	io_submit(cmd, &req, ws_step);
}

static bool all_zeros(const uint8_t *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

/* Grow buf from one block to a chunk of copies of it.  0 or -ENOMEM. */
static int fill_chunk(struct lunar_cmd *cmd, struct ws_state *st)
{
	size_t bs = cmd->dev->block_size, per = CHUNK_BYTES / bs, have = 1;
	uint8_t *buf;

	st->chunk_blocks = per && per < cmd->nblocks ? per : cmd->nblocks;
	buf = realloc(st->buf, st->chunk_blocks * bs);
	if (!buf)
		return -ENOMEM;
	st->buf = buf;
	for (; have < st->chunk_blocks; have *= 2) {
		size_t n = have < st->chunk_blocks - have ? have :
			   st->chunk_blocks - have;

		memcpy(buf + have * bs, buf, n * bs);
	}
	return 0;
}

/* Pick the path (see the file comment).  OK or a failed status. */
static int choose_kind(struct lunar_cmd *cmd, struct ws_state *st, bool ndob)
{
	struct tcmu_device *dev = cmd->dev;

	if ((cmd->ring.cdb[1] & WS_UNMAP) && dev->unmap_enabled &&
	    (ndob || all_zeros(st->buf, dev->block_size))) {
		st->kind = IO_UNMAP;
		return TCMU_STS_OK;
	}
	if (io_supported(dev, IO_WRITESAME)) {
		st->kind = IO_WRITESAME;
		return TCMU_STS_OK;
	}
	if (!io_supported(dev, IO_WRITE))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	st->kind = IO_WRITE;
	return fill_chunk(cmd, st) ? TCMU_STS_NO_RESOURCE : TCMU_STS_OK;
}

int scsi_write_same(struct lunar_cmd *cmd)
{
	const uint8_t *cdb = cmd->ring.cdb;
	bool ndob = cdb[0] == WRITE_SAME_16 && (cdb[1] & WS_NDOB);
	size_t bs = cmd->dev->block_size;
	struct ws_state *st;
	int sts;

	/* The core read byte 1 bit 3 as FUA; here it is UNMAP. */
	cmd->fua = false;
	if (!cmd->nblocks || cmd->nblocks > SCSI_MAX_WRITE_SAME_BLOCKS)
		return sense_bad_cdb_field(cmd, cdb[0] == WRITE_SAME ? 7 : 10, -1);
	if (!ndob && cmd->data_len < bs)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	st = calloc(1, sizeof(*st));
	if (!st)
		return TCMU_STS_NO_RESOURCE;
	cmd_set_state(cmd, st, free_state);
	st->buf = calloc(1, bs);
	if (!st->buf)
		return TCMU_STS_NO_RESOURCE;
	if (!ndob)
		scsi_data_out(cmd, st->buf, bs);
	sts = choose_kind(cmd, st, ndob);
	if (sts)
		return sts;
	st->next_lba = cmd->lba;
	st->end_lba = cmd->lba + cmd->nblocks;
	ws_step(cmd, TCMU_STS_OK);
	return TCMU_STS_ASYNC_HANDLED;
}
