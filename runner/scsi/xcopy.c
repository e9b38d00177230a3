/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (OPERATING PARAMETERS).
 *
 * The copy manager supports what tcmu-runner 1.5.4 does: identification
 * CSCD descriptors (E4h) naming a logical unit by its 16-byte NAA
 * designator, and one block-to-block segment descriptor (02h) whose source
 * and destination are both this device.  A descriptor naming any other
 * device gets COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE: the
 * initiator's cue to copy the data itself.  No data is held for RECEIVE
 * COPY RESULTS: a copy has ended when its command completes, and a
 * block-to-block segment leaves no data behind; so every LIST ID USAGE but
 * the reserved 01b is accepted (11b with a zero LIST IDENTIFIER).
 *
 * The whole parameter list is validated before a block moves.  Errors in
 * its format are ILLEGAL REQUEST with a field pointer into the parameter
 * list (SPC-4 5.16.7.3).  What only processing the segment finds is COPY
 * ABORTED (SPC-4 5.16.7.4): a CSCD descriptor that is well formed but
 * cannot be served is COPY TARGET DEVICE NOT REACHABLE for another device,
 * INCORRECT COPY TARGET DEVICE TYPE for a designator other than NAA, a
 * device type other than block or a DISK BLOCK LENGTH other than ours; a
 * CSCD index past the CSCD list and LBAs past the end are reported with a
 * segment pointer to the field.
 *
 * The data then goes through a bounce buffer of opt_xcopy_rw_len blocks,
 * read then write, backwards when the destination overlaps the source from
 * above so nothing is overwritten before it was read.  A failed read or
 * write is COPY ABORTED with its sense code.
 */
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "ops.h"
#include "runner/ring/ring.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define HEADER_LEN 16
#define CSCD_LEN 32
#define SEG_HEADER_LEN 4
#define SEG_B2B_LEN 28

/* Limits, reported by RECEIVE COPY RESULTS (OPERATING PARAMETERS). */
#define MAX_CSCDS 2
#define MAX_SEGMENTS 1
#define MAX_DESC_LIST_LEN 1024
#define MAX_SEGMENT_BLOCKS 0xffffu	/* the 02h descriptor's 16-bit count */

#define CSCD_IDENTIFICATION 0xe4
#define SEG_BLOCK_TO_BLOCK 0x02
#define LIST_ID_USAGE_MASK 0x18	/* header byte 1 */
#define LIST_ID_USAGE_NONE 0x18		/* 11b: no list identifier */
#define LIST_ID_USAGE_RESERVED 0x08	/* 01b */
#define CODE_SET_BINARY 0x01
#define DESIGNATOR_NAA 0x03
#define NAA_LEN 16
#define CSCD_NUL 0x20			/* byte 1: null device */
#define TYPE_BLOCK 0x00

#define RCR_OP_LEN 46
#define CHUNK_BYTES (1024u * 1024)

struct segment {
	unsigned int at;	/* byte of its descriptor in the list */
	unsigned int src_id, dst_id;
	uint64_t src_lba, dst_lba;
	uint64_t nblocks;
};

struct copy_state {
	struct segment seg;
	uint64_t done;		/* blocks copied */
	uint64_t cur_off;	/* chunk in flight: first block, from the start */
	uint64_t cur_n;
	uint64_t chunk_blocks;
	bool backwards;
	uint8_t *buf;
	struct iovec iov;
};

/* The parameter list: header then descriptors, at most this long. */
struct param_list {
	uint8_t b[HEADER_LEN + MAX_DESC_LIST_LEN];
	uint32_t cscd_len;	/* CSCD DESCRIPTOR LIST LENGTH */
	uint32_t seg_len;	/* SEGMENT DESCRIPTOR LIST LENGTH */
};

static void free_state(void *p)
{
	struct copy_state *st = p;

	free(st->buf);
	free(st);
}

static uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int highest_bit(uint8_t v)
{
	return 31 - __builtin_clz(v);
}

/* Header fields (SPC-4 6.4.3, LID1 format).  OK or a failed status. */
static int check_header(struct lunar_cmd *cmd, struct param_list *pl,
			uint32_t plen)
{
	const uint8_t *h = pl->b;

	if (h[1] & 0xc0)
		return sense_bad_param_field(cmd, 1, highest_bit(h[1] & 0xc0));
	if ((h[1] & LIST_ID_USAGE_MASK) == LIST_ID_USAGE_RESERVED)
		return sense_bad_param_field(cmd, 1, 4);
	if ((h[1] & LIST_ID_USAGE_MASK) == LIST_ID_USAGE_NONE && h[0])
		return sense_bad_param_field(cmd, 0, -1);
	for (unsigned int i = 4; i < 8; i++)
		if (h[i])
			return sense_bad_param_field(cmd, i, -1);
	if (get_be32(h + 12))
		return sense_bad_param_field(cmd, 12, -1);
	pl->cscd_len = get_be16(h + 2);
	pl->seg_len = get_be32(h + 8);
	if (pl->cscd_len > MAX_DESC_LIST_LEN ||
	    pl->seg_len > MAX_DESC_LIST_LEN - pl->cscd_len ||
	    HEADER_LEN + pl->cscd_len + pl->seg_len > plen)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	if (pl->cscd_len % CSCD_LEN)
		return sense_bad_param_field(cmd, 2, -1);
	if (pl->cscd_len / CSCD_LEN > MAX_CSCDS)
		return sense_bad_param(cmd, ASC_TOO_MANY_TARGET_DESCRIPTORS, 2, -1);
	return TCMU_STS_OK;
}

/*
 * Format of every CSCD descriptor.  OK or a failed status.  LU ID TYPE is
 * not looked at: an identification descriptor names its logical unit by
 * the designator, and SPC-4 has the field ignored there.
 */
static int check_cscds(struct lunar_cmd *cmd, const struct param_list *pl)
{
	for (unsigned int at = HEADER_LEN; at < HEADER_LEN + pl->cscd_len;
	     at += CSCD_LEN) {
		const uint8_t *d = pl->b + at;

		if (d[0] != CSCD_IDENTIFICATION)
			return sense_bad_param(cmd,
				ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE, at, -1);
		if ((d[4] & 0x0f) != CODE_SET_BINARY)
			return sense_bad_param_field(cmd, at + 4, 3);
		if (d[5] & 0x30)	/* association: logical unit only */
			return sense_bad_param_field(cmd, at + 5, 5);
		if (d[7] != NAA_LEN)
			return sense_bad_param_field(cmd, at + 7, -1);
	}
	return TCMU_STS_OK;
}

/* One block-to-block descriptor at byte at of the list into seg. */
static int parse_segment(struct lunar_cmd *cmd, const struct param_list *pl,
			 unsigned int at, struct segment *seg)
{
	const uint8_t *d = pl->b + at;

	if (d[0] != SEG_BLOCK_TO_BLOCK)
		return sense_bad_param(cmd,
			ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE, at, -1);
	if (get_be16(d + 2) != SEG_B2B_LEN - SEG_HEADER_LEN)
		return sense_bad_param_field(cmd, at + 2, -1);
	if (d[1] & 0xfc)	/* DC and CAT only; equal block sizes */
		return sense_bad_param_field(cmd, at + 1, highest_bit(d[1] & 0xfc));
	seg->at = at;
	seg->src_id = get_be16(d + 4);
	seg->dst_id = get_be16(d + 6);
	seg->nblocks = get_be16(d + 10);
	seg->src_lba = get_be64(d + 12);
	seg->dst_lba = get_be64(d + 20);
	return TCMU_STS_OK;
}

/* The segment descriptor list; *count is 0 or 1.  OK or a failed status. */
static int parse_segments(struct lunar_cmd *cmd, const struct param_list *pl,
			  struct segment *seg, unsigned int *count)
{
	unsigned int base = HEADER_LEN + pl->cscd_len, off = 0;
	int sts;

	for (*count = 0; off < pl->seg_len; off += SEG_B2B_LEN) {
		if (pl->seg_len - off < SEG_HEADER_LEN)
			return sense_bad_param_field(cmd, 8, -1);
		if (*count == MAX_SEGMENTS)
			return sense_bad_param(cmd, ASC_TOO_MANY_SEGMENT_DESCRIPTORS,
					       base + off, -1);
		if (pl->b[base + off] == SEG_BLOCK_TO_BLOCK &&
		    pl->seg_len - off < SEG_B2B_LEN)
			return sense_bad_param_field(cmd, 8, -1);
		sts = parse_segment(cmd, pl, base + off, seg);
		if (sts)
			return sts;
		(*count)++;
	}
	return TCMU_STS_OK;
}

/* A CSCD descriptor a segment uses must name this block device. */
static int check_target(struct lunar_cmd *cmd, const uint8_t *d)
{
	uint8_t naa[NAA_LEN];

	if ((d[5] & 0x0f) != DESIGNATOR_NAA)
		return sense_fail(cmd, COPY_ABORTED,
				  ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE);
	scsi_make_naa(cmd->dev, naa);
	if ((d[1] & CSCD_NUL) || memcmp(d + 8, naa, NAA_LEN))
		return sense_fail(cmd, COPY_ABORTED,
				  ASC_COPY_TARGET_DEVICE_NOT_REACHABLE);
	/* Device type specific parameters: DISK BLOCK LENGTH in 29..31. */
	if ((d[1] & 0x1f) != TYPE_BLOCK ||
	    get_be24(d + 29) != cmd->dev->block_size)
		return sense_fail(cmd, COPY_ABORTED,
				  ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE);
	return TCMU_STS_OK;
}

static bool range_ok(struct tcmu_device *dev, uint64_t lba, uint64_t n)
{
	return lba <= device_num_lbas(dev) && n <= device_num_lbas(dev) - lba;
}

/*
 * A segment field the copy manager cannot carry out: COPY ABORTED with a
 * segment pointer (sense-key-specific bytes, SD 0: relative to the start
 * of the parameter list) at byte; the pointer, not an additional sense
 * code, says what is wrong.
 */
static int segment_aborted(struct lunar_cmd *cmd, unsigned int byte)
{
	const uint8_t sks[3] = { 0, (uint8_t)(byte >> 8), (uint8_t)byte };

	sense_fail(cmd, COPY_ABORTED, ASC_NO_ADDITIONAL_SENSE);
	sense_put_sks(cmd->lib.sense_buf, sks);
	return TCMU_STS_PASSTHROUGH_ERR;
}

/* The segment's devices and ranges.  OK or a failed status. */
static int check_segment(struct lunar_cmd *cmd, const struct param_list *pl,
			 const struct segment *seg)
{
	unsigned int cscds = pl->cscd_len / CSCD_LEN;
	int sts;

	if (seg->src_id >= cscds)
		return segment_aborted(cmd, seg->at + 4);
	if (seg->dst_id >= cscds)
		return segment_aborted(cmd, seg->at + 6);
	sts = check_target(cmd, pl->b + HEADER_LEN + seg->src_id * CSCD_LEN);
	if (!sts)
		sts = check_target(cmd, pl->b + HEADER_LEN + seg->dst_id * CSCD_LEN);
	if (sts)
		return sts;
	if (!range_ok(cmd->dev, seg->src_lba, seg->nblocks))
		return segment_aborted(cmd, seg->at + 12);
	if (!range_ok(cmd->dev, seg->dst_lba, seg->nblocks))
		return segment_aborted(cmd, seg->at + 20);
	return TCMU_STS_OK;
}

/* Validate the parameter list into seg; *count 0 means nothing to copy. */
static int parse(struct lunar_cmd *cmd, uint32_t plen, struct segment *seg,
		 unsigned int *count)
{
	struct param_list pl;
	int sts;

	*count = 0;
	scsi_data_out(cmd, pl.b, HEADER_LEN);
	sts = check_header(cmd, &pl, plen);
	if (sts)
		return sts;
	scsi_data_out(cmd, pl.b, HEADER_LEN + pl.cscd_len + pl.seg_len);
	sts = check_cscds(cmd, &pl);
	if (!sts)
		sts = parse_segments(cmd, &pl, seg, count);
	if (!sts && *count)
		sts = check_segment(cmd, &pl, seg);
	return sts;
}

/* A failed read or write: COPY ABORTED with the failure's sense code. */
static int copy_aborted(struct lunar_cmd *cmd, int sts)
{
	uint8_t *sense = cmd->lib.sense_buf;
	struct ring_result res;

	sense_result(cmd, sts, &res);
	if (res.scsi_status != SAM_STAT_CHECK_CONDITION)
		return sts;		/* BUSY or TASK SET FULL: retry as is */
	sense_fill(sense, COPY_ABORTED, (uint16_t)(sense[12] << 8 | sense[13]));
	return TCMU_STS_PASSTHROUGH_ERR;
}

static void copy_step(struct lunar_cmd *cmd, int sts);

static void read_done(struct lunar_cmd *cmd, int sts)
{
	struct copy_state *st = cmd->state;
	uint32_t bs = cmd->dev->block_size;
	struct io_request req = {
		.kind = IO_WRITE,
		.iov = &st->iov,
		.iov_cnt = 1,
		.off = (st->seg.dst_lba + st->cur_off) * bs,
		.len = st->cur_n * bs,
	};

	if (sts) {
		cmd_finish(cmd, copy_aborted(cmd, sts));
		return;
	}
	st->iov = (struct iovec){ st->buf, req.len };
	io_submit(cmd, &req, copy_step);
}

/* Start the next chunk once the previous one is written. */
static void copy_step(struct lunar_cmd *cmd, int sts)
{
	struct copy_state *st = cmd->state;
	uint32_t bs = cmd->dev->block_size;
	uint64_t left;
	struct io_request req = { .kind = IO_READ, .iov = &st->iov, .iov_cnt = 1 };

	if (sts) {
		cmd_finish(cmd, copy_aborted(cmd, sts));
		return;
	}
	st->done += st->cur_n;
	left = st->seg.nblocks - st->done;
	if (!left) {
		scsi_finish_write(cmd, TCMU_STS_OK);
		return;
	}
	st->cur_n = left < st->chunk_blocks ? left : st->chunk_blocks;
	st->cur_off = st->backwards ? left - st->cur_n : st->done;
	req.off = (st->seg.src_lba + st->cur_off) * bs;
	req.len = st->cur_n * bs;
	st->iov = (struct iovec){ st->buf, req.len };
	io_submit(cmd, &req, read_done);
}

static int start_copy(struct lunar_cmd *cmd, const struct segment *seg)
{
	struct tcmu_device *dev = cmd->dev;
	uint64_t chunk = dev->opt_xcopy_rw_len ? dev->opt_xcopy_rw_len :
			 CHUNK_BYTES / dev->block_size;
	struct copy_state *st;

	if (!io_supported(dev, IO_READ) || !io_supported(dev, IO_WRITE))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	st = calloc(1, sizeof(*st));
	if (!st)
		return TCMU_STS_NO_RESOURCE;
	cmd_set_state(cmd, st, free_state);
	st->seg = *seg;
	st->chunk_blocks = chunk && chunk < seg->nblocks ? chunk : seg->nblocks;
	st->backwards = seg->dst_lba > seg->src_lba &&
			seg->dst_lba < seg->src_lba + seg->nblocks;
	st->buf = malloc(st->chunk_blocks * dev->block_size);
	if (!st->buf)
		return TCMU_STS_NO_RESOURCE;
	copy_step(cmd, TCMU_STS_OK);
	return TCMU_STS_ASYNC_HANDLED;
}

int scsi_extended_copy(struct lunar_cmd *cmd)
{
	uint32_t plen = get_be32(cmd->ring.cdb + 10);
	struct segment seg;
	unsigned int count;
	int sts;

	if (!plen)
		return TCMU_STS_OK;
	if (plen < HEADER_LEN || cmd->data_len < plen)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	sts = parse(cmd, plen, &seg, &count);
	if (sts || !count || !seg.nblocks)
		return sts;
	return start_copy(cmd, &seg);
}

int scsi_receive_copy_results(struct lunar_cmd *cmd)
{
	uint32_t bs = cmd->dev->block_size;
	uint64_t max_seg = (uint64_t)MAX_SEGMENT_BLOCKS * bs;
	uint8_t buf[RCR_OP_LEN] = { 0 };
	uint8_t gran = (uint8_t)__builtin_ctz(bs);

	put_be32(buf, RCR_OP_LEN - 4);		/* AVAILABLE DATA */
	buf[4] = 0x01;				/* SNLID: LIST ID USAGE 11b */
	put_be16(buf + 8, MAX_CSCDS);
	put_be16(buf + 10, MAX_SEGMENTS);
	put_be32(buf + 12, MAX_DESC_LIST_LEN);
	put_be32(buf + 16, max_seg > UINT32_MAX ? UINT32_MAX : (uint32_t)max_seg);
	/* 20..31: no inline data, no held data, no stream devices. */
	put_be16(buf + 34, 1);			/* TOTAL CONCURRENT COPIES */
	buf[36] = 1;				/* MAXIMUM CONCURRENT COPIES */
	buf[37] = gran;				/* data segment granularity */
	buf[38] = gran;				/* inline data granularity */
	buf[39] = gran;				/* held data granularity */
	buf[43] = 2;				/* implemented descriptors: */
	buf[44] = SEG_BLOCK_TO_BLOCK;
	buf[45] = CSCD_IDENTIFICATION;
	return scsi_reply(cmd, buf, sizeof(buf), get_be32(cmd->ring.cdb + 10));
}
