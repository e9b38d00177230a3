/*
 * UNMAP.
 *
 * The parameter list is validated in full before anything is unmapped, so
 * a bad descriptor leaves the medium untouched.  Descriptors are then
 * unmapped one piece at a time: pieces of the optimal unmap granularity,
 * aligned to the unmap granularity alignment, when the handler asked for
 * split unmaps, else whole descriptors.  The first failure ends the command
 * with that failure (tcmu-runner 1.5.4 reported GOOD regardless).
 */
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define HEADER_LEN 8
#define DESC_LEN 16
#define MAX_DESCRIPTORS SCSI_MAX_UNMAP_DESCRIPTORS
/*
 * The handler's max_unmap_len bounds one handler call.  The pieces of a
 * command run one after another, so the core also bounds the whole
 * command, whatever the handler allows per call, to keep its duration in
 * check: as MAXIMUM WRITE SAME LENGTH does for WRITE SAME.
 */
#define MAX_COMMAND_BLOCKS (1u << 20)

struct extent {
	uint64_t lba;
	uint64_t nblocks;
};

struct unmap_state {
	struct extent ext[MAX_DESCRIPTORS];
	unsigned int count;
	unsigned int cur;
	uint64_t done;		/* blocks of ext[cur] already unmapped */
};

/* Blocks of the next piece starting at lba with left blocks to go. */
static uint64_t piece_blocks(struct tcmu_device *dev, uint64_t lba,
			     uint64_t left)
{
	uint64_t gran = dev->opt_unmap_gran ? dev->opt_unmap_gran : 1;
	uint64_t align = dev->unmap_gran_align ? dev->unmap_gran_align : 1;
	uint64_t to_boundary;

	if (!dev->split_unmaps)
		return left;
	/* Up to the next alignment boundary, then whole granules. */
	to_boundary = align - lba % align;
	if (to_boundary < align && to_boundary < left)
		return to_boundary;
	return left < gran ? left : gran;
}

uint64_t scsi_unmap_piece(struct tcmu_device *dev, uint64_t lba,
			  uint64_t left)
{
	uint64_t align = dev->unmap_gran_align ? dev->unmap_gran_align : 1;
	uint64_t n = piece_blocks(dev, lba, left), past;

	if (!dev->max_unmap_len || n <= dev->max_unmap_len)
		return n;
	/* Cut to the limit, ending on an alignment boundary if one is inside. */
	n = dev->max_unmap_len;
	past = (lba + n) % align;
	return past < n ? n - past : n;
}

static void unmap_step(struct lunar_cmd *cmd, int sts)
{
	struct unmap_state *st = cmd->state;
	struct tcmu_device *dev = cmd->dev;
	struct io_request req = { .kind = IO_UNMAP };
	uint64_t lba, n;

	while (st->cur < st->count && st->done == st->ext[st->cur].nblocks) {
		st->cur++;
		st->done = 0;
	}
	if (sts || st->cur == st->count) {
		cmd_finish(cmd, sts);
		return;
	}
	lba = st->ext[st->cur].lba + st->done;
	n = scsi_unmap_piece(dev, lba, st->ext[st->cur].nblocks - st->done);
	st->done += n;
	req.off = lba * dev->block_size;
	req.len = n * dev->block_size;
	io_submit(cmd, &req, unmap_step);
}

uint32_t scsi_max_unmap_blocks(struct tcmu_device *dev)
{
	return dev->max_unmap_len && dev->max_unmap_len < MAX_COMMAND_BLOCKS ?
	       dev->max_unmap_len : MAX_COMMAND_BLOCKS;
}

/*
 * Validate the descriptors into st.  OK or a failed status.  The limit is
 * on the blocks of all descriptors together (SBC-4, UNMAP); the field
 * pointer names the descriptor that goes over it.
 */
static int parse(struct lunar_cmd *cmd, const uint8_t *buf, size_t len,
		 struct unmap_state *st)
{
	struct tcmu_device *dev = cmd->dev;
	size_t bddl = get_be16(buf + 2);
	uint64_t total = 0;

	if (bddl > len - HEADER_LEN)
		bddl = len - HEADER_LEN;
	if (bddl / DESC_LEN > MAX_DESCRIPTORS)
		return sense_bad_param_field(cmd, 2, -1);
	for (size_t i = 0; i < bddl / DESC_LEN; i++) {
		const uint8_t *d = buf + HEADER_LEN + i * DESC_LEN;
		uint64_t lba = get_be64(d), n = get_be32(d + 8);

		if (lba > device_num_lbas(dev) || n > device_num_lbas(dev) - lba)
			return sense_fail(cmd, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		total += n;
		if (total > scsi_max_unmap_blocks(dev))
			return sense_bad_param_field(cmd,
				(unsigned int)(HEADER_LEN + i * DESC_LEN + 8), -1);
		if (n)
			st->ext[st->count++] = (struct extent){ lba, n };
	}
	return TCMU_STS_OK;
}

int scsi_unmap(struct lunar_cmd *cmd)
{
	size_t len = get_be16(cmd->ring.cdb + 7);
	struct unmap_state *st;
	uint8_t *buf;
	int sts;

	if (!len)
		return TCMU_STS_OK;
	if (len < HEADER_LEN || cmd->data_len < len)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	buf = malloc(len);
	st = calloc(1, sizeof(*st));
	if (!buf || !st) {
		free(buf);
		free(st);
		return TCMU_STS_NO_RESOURCE;
	}
	scsi_data_out(cmd, buf, len);
	sts = parse(cmd, buf, len, st);
	free(buf);
	if (sts || !st->count) {
		free(st);
		return sts;
	}
	cmd_set_state(cmd, st, NULL);
	unmap_step(cmd, TCMU_STS_OK);
	return TCMU_STS_ASYNC_HANDLED;
}
