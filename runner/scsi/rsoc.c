/*
 * REPORT SUPPORTED OPERATION CODES (MAINTENANCE IN, service action 0Ch).
 *
 * Generated from the opcode table, so it cannot disagree with what the
 * core accepts: a command is reported when its row exists and the row's
 * supported() predicate holds for this device, and its CDB USAGE DATA is
 * the row's usage map (the bits scsi_execute() lets through).  lunar sets
 * no command timeouts: with RCTD the timeouts descriptors say 0 (not
 * specified).
 *
 * Reporting options (SPC-4 rev 37): 000b all commands; 001b one operation
 * code without service action; 010b operation code and service action;
 * 011b operation code, with the service action when it has them.
 */
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define RCTD 0x80
#define OPTIONS_MASK 0x07
#define OPT_ALL 0
#define OPT_OPCODE 1
#define OPT_OPCODE_SA 2
#define OPT_OPCODE_MAYBE_SA 3

#define ALL_DESC_LEN 8
#define ALL_CTDP 0x02		/* byte 5 of an all-commands descriptor */
#define ALL_SERVACTV 0x01
#define ONE_CTDP 0x80		/* byte 1 of the one-command format */
#define SUPPORT_NONE 0x01
#define SUPPORT_STANDARD 0x03
#define TIMEOUTS_LEN 12

static bool row_supported(struct tcmu_device *dev, const struct scsi_op *op)
{
	return !op->supported || op->supported(dev);
}

/* Command timeouts descriptor: nominal and recommended "not specified". */
static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, TIMEOUTS_LEN);
	put_be16(p, TIMEOUTS_LEN - 2);
	return TIMEOUTS_LEN;
}

static int report_all(struct lunar_cmd *cmd, bool rctd, size_t alloc)
{
	size_t count, len = 4;
	const struct scsi_op *ops = scsi_ops(&count);
	uint8_t *buf = malloc(4 + count * (ALL_DESC_LEN + TIMEOUTS_LEN));
	int sts;

	if (!buf)
		return TCMU_STS_NO_RESOURCE;
	for (size_t i = 0; i < count; i++) {
		const struct scsi_op *op = &ops[i];
		uint8_t *p = buf + len;

		if (!row_supported(cmd->dev, op))
			continue;
		memset(p, 0, ALL_DESC_LEN);
		p[0] = op->opcode;
		if (op->sa != SCSI_NO_SA) {
			put_be16(p + 2, op->sa);
			p[5] |= ALL_SERVACTV;
		}
		put_be16(p + 6, op->cdb_len);
		len += ALL_DESC_LEN;
		if (rctd) {
			p[5] |= ALL_CTDP;
			len += put_timeouts(buf + len);
		}
	}
	put_be32(buf, (uint32_t)(len - 4));
	sts = scsi_reply(cmd, buf, len, alloc);
	free(buf);
	return sts;
}

static const struct scsi_op *find_row(struct tcmu_device *dev, uint8_t opcode,
				      uint16_t sa)
{
	size_t count;
	const struct scsi_op *ops = scsi_ops(&count);

	for (size_t i = 0; i < count; i++)
		if (ops[i].opcode == opcode && ops[i].sa == sa)
			return row_supported(dev, &ops[i]) ? &ops[i] : NULL;
	return NULL;
}

/*
 * Service action to look up for options 1-3, or a failed status when the
 * option does not fit the operation code.
 */
static int requested_sa(struct lunar_cmd *cmd, unsigned int option,
			uint16_t *sa)
{
	const uint8_t *cdb = cmd->ring.cdb;
	const uint8_t probe[2] = { cdb[3], 0 };
	bool has_sa = scsi_cdb_sa(probe) != SCSI_NO_SA;

	if ((option == OPT_OPCODE && has_sa) ||
	    (option == OPT_OPCODE_SA && !has_sa))
		return sense_bad_cdb_field(cmd, 2, 2);
	*sa = has_sa ? get_be16(cdb + 4) : SCSI_NO_SA;
	return TCMU_STS_OK;
}

static int report_one(struct lunar_cmd *cmd, unsigned int option, bool rctd,
		      size_t alloc)
{
	uint8_t buf[4 + RING_MAX_CDB_LEN + TIMEOUTS_LEN] = { 0 };
	const struct scsi_op *op;
	size_t len = 4;
	uint16_t sa = SCSI_NO_SA;
	int sts = requested_sa(cmd, option, &sa);

	if (sts)
		return sts;
	op = find_row(cmd->dev, cmd->ring.cdb[3], sa);
	if (!op) {
		buf[1] = SUPPORT_NONE;
		return scsi_reply(cmd, buf, len, alloc);
	}
	buf[1] = SUPPORT_STANDARD | (rctd ? ONE_CTDP : 0);
	put_be16(buf + 2, op->cdb_len);
	memcpy(buf + len, op->usage, op->cdb_len);
	len += op->cdb_len;
	if (rctd)
		len += put_timeouts(buf + len);
	return scsi_reply(cmd, buf, len, alloc);
}

int scsi_report_supported_opcodes(struct lunar_cmd *cmd)
{
	const uint8_t *cdb = cmd->ring.cdb;
	unsigned int option = cdb[2] & OPTIONS_MASK;
	bool rctd = cdb[2] & RCTD;
	size_t alloc = get_be32(cdb + 6);

	if (option == OPT_ALL)
		return report_all(cmd, rctd, alloc);
	if (option > OPT_OPCODE_MAYBE_SA)
		return sense_bad_cdb_field(cmd, 2, 2);
	return report_one(cmd, option, rctd, alloc);
}
