/*
 * FORMAT UNIT: initialise every block to zeros, reporting progress.
 *
 * With an UNMAP-capable handler (LBPRZ: unmapped blocks read as zeros) the
 * device is unmapped in max_unmap_len pieces, otherwise zeros are written
 * in 1 MiB pieces, on a background thread so the device's command thread
 * keeps answering: while it runs, every command but INQUIRY and REQUEST
 * SENSE gets NOT READY, FORMAT IN PROGRESS with the progress indication.
 * With IMMED the command completes at once and the format continues on an
 * internal command that is not on the ring.
 */
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "runner/log.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define ZERO_CHUNK (1024u * 1024)

#define HDR_FOV 0x80
#define HDR_IMMED 0x02

struct format_state {
	uint64_t next_lba;
	uint64_t chunk_blocks;
	bool use_unmap;
	void *zeros;
	struct iovec iov;
};

static void free_state(void *p)
{
	struct format_state *st = p;

	if (!st)
		return;
	free(st->zeros);
	free(st);
}

uint16_t scsi_format_progress(struct tcmu_device *dev)
{
	uint64_t done = __atomic_load_n(&dev->format_done, __ATOMIC_RELAXED);
	uint64_t total = __atomic_load_n(&dev->format_total, __ATOMIC_RELAXED);
	unsigned __int128 scaled;

	if (!total || done >= total)
		return 0xffff;
	scaled = (unsigned __int128)done * 65536 / total;
	return scaled > 0xffff ? 0xffff : (uint16_t)scaled;
}

static void format_done(struct lunar_cmd *cmd, int sts)
{
	struct tcmu_device *dev = cmd->dev;

	__atomic_store_n(&dev->formatting, false, __ATOMIC_RELEASE);
	if (sts)
		lunar_err(dev, "FORMAT UNIT failed at LBA %llu (status %d); medium contents are undefined",
			  (unsigned long long)((struct format_state *)cmd->state)->next_lba,
			  sts);
	else
		lunar_info(dev, "FORMAT UNIT finished");
	cmd_finish(cmd, sts);
}

static void format_step(struct lunar_cmd *cmd, int sts)
{
	struct format_state *st = cmd->state;
	struct tcmu_device *dev = cmd->dev;
	uint64_t total = device_num_lbas(dev), n;
	struct io_request req = { 0 };

	if (sts || st->next_lba >= total) {
		format_done(cmd, sts);
		return;
	}
	n = total - st->next_lba < st->chunk_blocks ? total - st->next_lba :
						      st->chunk_blocks;
	req.off = st->next_lba * dev->block_size;
	req.len = n * dev->block_size;
	if (st->use_unmap) {
		req.kind = IO_UNMAP;
	} else {
		st->iov.iov_base = st->zeros;
		st->iov.iov_len = req.len;
		req.kind = IO_WRITE;
		req.iov = &st->iov;
		req.iov_cnt = 1;
	}
	st->next_lba += n;
	__atomic_store_n(&dev->format_done, st->next_lba - n, __ATOMIC_RELAXED);
	io_submit(cmd, &req, format_step);
}

/* Parameter list header checks; sets *immed.  OK or a failed status. */
static int check_header(struct lunar_cmd *cmd, bool *immed)
{
	const uint8_t *cdb = cmd->ring.cdb;
	bool longlist = cdb[1] & 0x20;
	uint8_t hdr[8] = { 0 };
	size_t len = longlist ? 8 : 4;
	uint32_t defects;

	*immed = false;
	if (!(cdb[1] & 0x10))		/* FMTDATA = 0: no parameter list */
		return cdb[1] & 0x07 ? sense_bad_cdb_field(cmd, 1, 2) : TCMU_STS_OK;
	if (cmd->data_len < len)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	scsi_data_out(cmd, hdr, len);
	if (hdr[0])
		return sense_bad_param_field(cmd, 0, -1);
	if (hdr[1] & ~(HDR_IMMED))
		return sense_bad_param_field(cmd, 1, 31 - __builtin_clz(hdr[1] & ~HDR_IMMED));
	defects = longlist ? get_be32(hdr + 4) : get_be16(hdr + 2);
	if (longlist && (hdr[2] || hdr[3]))
		return sense_bad_param_field(cmd, hdr[2] ? 2 : 3, -1);
	if (defects)
		return sense_bad_param_field(cmd, longlist ? 4 : 2, -1);
	*immed = hdr[1] & HDR_IMMED;
	return TCMU_STS_OK;
}

static struct format_state *new_state(struct tcmu_device *dev)
{
	struct format_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->use_unmap = dev->unmap_enabled && io_supported(dev, IO_UNMAP);
	if (st->use_unmap) {
		st->chunk_blocks = dev->max_unmap_len ? dev->max_unmap_len : 1;
		return st;
	}
	st->chunk_blocks = ZERO_CHUNK / dev->block_size ? ZERO_CHUNK / dev->block_size : 1;
	st->zeros = calloc(1, st->chunk_blocks * dev->block_size);
	if (!st->zeros) {
		free(st);
		return NULL;
	}
	return st;
}

/* A command that is not on the ring, to carry an IMMED format. */
static struct lunar_cmd *internal_copy(struct lunar_cmd *cmd)
{
	struct lunar_cmd *copy = cmd_alloc(cmd->dev);

	if (!copy)
		return NULL;
	memcpy(copy->ring.cdb, cmd->ring.cdb, sizeof(copy->ring.cdb));
	copy->ring.cdb_len = cmd->ring.cdb_len;
	copy->ring.iov = copy->ring.iov_inline;
	copy->lib.cdb = copy->ring.cdb;
	copy->lib.cmd_id = cmd->lib.cmd_id;
	copy->internal = true;
	tracker_add(&cmd->dev->tracker, &copy->rcmd);
	return copy;
}

int scsi_format_unit(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	struct lunar_cmd *carrier = cmd;
	struct format_state *st;
	bool immed;
	int sts = check_header(cmd, &immed);

	if (sts)
		return sts;
	if (!io_supported(dev, IO_WRITE) && !dev->unmap_enabled)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	st = new_state(dev);
	if (immed && st)
		carrier = internal_copy(cmd);
	if (!st || !carrier) {
		free_state(st);
		return TCMU_STS_NO_RESOURCE;
	}
	cmd_set_state(carrier, st, free_state);
	__atomic_store_n(&dev->format_total, device_num_lbas(dev), __ATOMIC_RELAXED);
	__atomic_store_n(&dev->format_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->formatting, true, __ATOMIC_RELEASE);
	lunar_info(dev, "FORMAT UNIT started (%s%s)",
		   st->use_unmap ? "unmapping" : "writing zeros",
		   immed ? ", immediate" : "");
	sts = io_run_background(carrier, format_step);
	if (sts) {
		lunar_err(dev, "cannot start the FORMAT UNIT thread: %d", sts);
		__atomic_store_n(&dev->formatting, false, __ATOMIC_RELEASE);
		if (carrier != cmd)
			cmd_finish(carrier, TCMU_STS_OK);
		return TCMU_STS_NO_RESOURCE;
	}
	return immed ? TCMU_STS_OK : TCMU_STS_ASYNC_HANDLED;
}
