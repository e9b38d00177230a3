/*
 * The opcode table and the generic part of command execution: lookup,
 * CDB usage-map validation, LBA/length decoding and range checks, unit
 * attention and FORMAT gating, ordering of overlapping media commands.
 */
#include "scsi.h"

#include <pthread.h>
#include <string.h>

#include "runner/ha_hooks.h"
#include "runner/cmd.h"
#include "runner/core.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/io.h"
#include "runner/iov.h"
#include "ops.h"
#include "scsi_defs.h"
#include "sense.h"

/* Executor flag kept out of the public table flags: exclusive LBA range. */
#define OP_EXCLUSIVE (1 << 8)

#define U(...) ((const uint8_t[]){ __VA_ARGS__ })
#define FF4 0xff, 0xff, 0xff, 0xff
#define FF8 FF4, FF4

static bool has_unmap(struct tcmu_device *dev)
{
	return dev->unmap_enabled;
}

static bool has_alua(struct tcmu_device *dev)
{
	return ha_tpgs_supported(dev);
}

static const struct scsi_op op_table[] = {
	{ TEST_UNIT_READY, SCSI_NO_SA, 6, LAYOUT_NONE, 0,
	  U(TEST_UNIT_READY, 0, 0, 0, 0, 0), scsi_test_unit_ready, NULL,
	  "TEST UNIT READY" },
	{ REQUEST_SENSE, SCSI_NO_SA, 6, LAYOUT_NONE, OP_IN_FORMAT | OP_KEEP_UA,
	  U(REQUEST_SENSE, 0, 0, 0, 0xff, 0), scsi_request_sense, NULL,
	  "REQUEST SENSE" },
	{ FORMAT_UNIT, SCSI_NO_SA, 6, LAYOUT_NONE, OP_MEDIA | OP_EXCLUSIVE,
	  U(FORMAT_UNIT, 0x3f, 0, 0, 0, 0), scsi_format_unit, NULL,
	  "FORMAT UNIT" },
	{ READ_6, SCSI_NO_SA, 6, LAYOUT_6,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_IN | OP_ZERO_IS_256,
	  U(READ_6, 0x1f, 0xff, 0xff, 0xff, 0), scsi_read, NULL, "READ(6)" },
	{ WRITE_6, SCSI_NO_SA, 6, LAYOUT_6,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT | OP_ZERO_IS_256,
	  U(WRITE_6, 0x1f, 0xff, 0xff, 0xff, 0), scsi_write, NULL, "WRITE(6)" },
	{ INQUIRY, SCSI_NO_SA, 6, LAYOUT_NONE, OP_IN_FORMAT | OP_KEEP_UA,
	  U(INQUIRY, 0x01, 0xff, 0xff, 0xff, 0), scsi_inquiry, NULL, "INQUIRY" },
	{ MODE_SELECT, SCSI_NO_SA, 6, LAYOUT_NONE, 0,
	  U(MODE_SELECT, 0x11, 0, 0, 0xff, 0), scsi_mode_select, NULL,
	  "MODE SELECT(6)" },
	{ MODE_SENSE, SCSI_NO_SA, 6, LAYOUT_NONE, 0,
	  U(MODE_SENSE, 0x08, 0xff, 0xff, 0xff, 0), scsi_mode_sense, NULL,
	  "MODE SENSE(6)" },
	{ START_STOP, SCSI_NO_SA, 6, LAYOUT_NONE, 0,
	  U(START_STOP, 0x01, 0, 0, 0x05, 0), scsi_start_stop, NULL,
	  "START STOP UNIT" },
	{ READ_CAPACITY, SCSI_NO_SA, 10, LAYOUT_NONE, 0,
	  U(READ_CAPACITY, 0, 0, 0, 0, 0, 0, 0, 0, 0), scsi_read_capacity10,
	  NULL, "READ CAPACITY(10)" },
	{ READ_10, SCSI_NO_SA, 10, LAYOUT_10,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_IN,
	  U(READ_10, 0x18, FF4, 0x1f, 0xff, 0xff, 0), scsi_read, NULL,
	  "READ(10)" },
	{ WRITE_10, SCSI_NO_SA, 10, LAYOUT_10,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT,
	  U(WRITE_10, 0x18, FF4, 0x1f, 0xff, 0xff, 0), scsi_write, NULL,
	  "WRITE(10)" },
	{ WRITE_VERIFY, SCSI_NO_SA, 10, LAYOUT_10,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT | OP_EXCLUSIVE,
	  U(WRITE_VERIFY, 0x16, FF4, 0x1f, 0xff, 0xff, 0), scsi_write_verify,
	  NULL, "WRITE AND VERIFY(10)" },
	{ VERIFY, SCSI_NO_SA, 10, LAYOUT_10, OP_MEDIA | OP_MOVES_DATA,
	  U(VERIFY, 0x16, FF4, 0x1f, 0xff, 0xff, 0), scsi_verify, NULL,
	  "VERIFY(10)" },
	{ SYNCHRONIZE_CACHE, SCSI_NO_SA, 10, LAYOUT_10, OP_BACKEND,
	  U(SYNCHRONIZE_CACHE, 0x02, FF4, 0x1f, 0xff, 0xff, 0), scsi_sync_cache,
	  NULL, "SYNCHRONIZE CACHE(10)" },
	{ WRITE_SAME, SCSI_NO_SA, 10, LAYOUT_10, OP_MEDIA,
	  U(WRITE_SAME, 0x08, FF4, 0x1f, 0xff, 0xff, 0), scsi_write_same, NULL,
	  "WRITE SAME(10)" },
	{ UNMAP, SCSI_NO_SA, 10, LAYOUT_NONE, OP_MEDIA,
	  U(UNMAP, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0), scsi_unmap, has_unmap,
	  "UNMAP" },
	{ MODE_SELECT_10, SCSI_NO_SA, 10, LAYOUT_NONE, 0,
	  U(MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	  scsi_mode_select, NULL, "MODE SELECT(10)" },
	{ MODE_SENSE_10, SCSI_NO_SA, 10, LAYOUT_NONE, 0,
	  U(MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0),
	  scsi_mode_sense, NULL, "MODE SENSE(10)" },
	{ EXTENDED_COPY, 0x00, 16, LAYOUT_NONE, OP_MEDIA,
	  U(EXTENDED_COPY, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, FF4, 0, 0),
	  scsi_extended_copy, NULL, "EXTENDED COPY(LID1)" },
	{ RECEIVE_COPY_RESULTS, RCR_SA_OPERATING_PARAMETERS, 16, LAYOUT_NONE, 0,
	  U(RECEIVE_COPY_RESULTS, RCR_SA_OPERATING_PARAMETERS, 0, 0, 0, 0, 0,
	    0, 0, 0, FF4, 0, 0),
	  scsi_receive_copy_results, NULL,
	  "RECEIVE COPY RESULTS(OPERATING PARAMETERS)" },
	{ READ_16, SCSI_NO_SA, 16, LAYOUT_16,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_IN,
	  U(READ_16, 0x18, FF8, FF4, 0x1f, 0), scsi_read, NULL, "READ(16)" },
	{ COMPARE_AND_WRITE, SCSI_NO_SA, 16, LAYOUT_CAW,
	  OP_MEDIA | OP_EXCLUSIVE,
	  U(COMPARE_AND_WRITE, 0x18, FF8, 0, 0, 0, 0xff, 0x1f, 0),
	  scsi_compare_and_write, NULL, "COMPARE AND WRITE" },
	{ WRITE_16, SCSI_NO_SA, 16, LAYOUT_16,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT,
	  U(WRITE_16, 0x18, FF8, FF4, 0x1f, 0), scsi_write, NULL, "WRITE(16)" },
	{ WRITE_VERIFY_16, SCSI_NO_SA, 16, LAYOUT_16,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT | OP_EXCLUSIVE,
	  U(WRITE_VERIFY_16, 0x16, FF8, FF4, 0x1f, 0), scsi_write_verify, NULL,
	  "WRITE AND VERIFY(16)" },
	{ VERIFY_16, SCSI_NO_SA, 16, LAYOUT_16, OP_MEDIA | OP_MOVES_DATA,
	  U(VERIFY_16, 0x16, FF8, FF4, 0x1f, 0), scsi_verify, NULL,
	  "VERIFY(16)" },
	{ SYNCHRONIZE_CACHE_16, SCSI_NO_SA, 16, LAYOUT_16, OP_BACKEND,
	  U(SYNCHRONIZE_CACHE_16, 0x02, FF8, FF4, 0x1f, 0), scsi_sync_cache,
	  NULL, "SYNCHRONIZE CACHE(16)" },
	{ WRITE_SAME_16, SCSI_NO_SA, 16, LAYOUT_16, OP_MEDIA,
	  U(WRITE_SAME_16, 0x09, FF8, FF4, 0x1f, 0), scsi_write_same, NULL,
	  "WRITE SAME(16)" },
	{ SERVICE_ACTION_IN_16, READ_CAPACITY_16, 16, LAYOUT_NONE, 0,
	  U(SERVICE_ACTION_IN_16, READ_CAPACITY_16, 0, 0, 0, 0, 0, 0, 0, 0,
	    FF4, 0, 0),
	  scsi_read_capacity16, NULL, "READ CAPACITY(16)" },
	{ MAINTENANCE_IN, MI_REPORT_TARGET_PGS, 12, LAYOUT_NONE, 0,
	  U(MAINTENANCE_IN, 0xe0 | MI_REPORT_TARGET_PGS, 0, 0, 0, 0, FF4, 0, 0),
	  ha_report_tpgs, has_alua,
	  "REPORT TARGET PORT GROUPS" },
	{ MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, 12, LAYOUT_NONE, 0,
	  U(MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, 0x87, 0xff,
	    0xff, 0xff, FF4, 0, 0),
	  scsi_report_supported_opcodes, NULL,
	  "REPORT SUPPORTED OPERATION CODES" },
	{ MAINTENANCE_OUT, MO_SET_TARGET_PGS, 12, LAYOUT_NONE, 0,
	  U(MAINTENANCE_OUT, MO_SET_TARGET_PGS, 0, 0, 0, 0, FF4, 0, 0),
	  ha_set_tpgs, has_alua, "SET TARGET PORT GROUPS" },
	{ READ_12, SCSI_NO_SA, 12, LAYOUT_12,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_IN,
	  U(READ_12, 0x18, FF4, FF4, 0x1f, 0), scsi_read, NULL, "READ(12)" },
	{ WRITE_12, SCSI_NO_SA, 12, LAYOUT_12,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT,
	  U(WRITE_12, 0x18, FF4, FF4, 0x1f, 0), scsi_write, NULL, "WRITE(12)" },
	{ WRITE_VERIFY_12, SCSI_NO_SA, 12, LAYOUT_12,
	  OP_MEDIA | OP_MOVES_DATA | OP_DATA_OUT | OP_EXCLUSIVE,
	  U(WRITE_VERIFY_12, 0x16, FF4, FF4, 0x1f, 0), scsi_write_verify, NULL,
	  "WRITE AND VERIFY(12)" },
	{ VERIFY_12, SCSI_NO_SA, 12, LAYOUT_12, OP_MEDIA | OP_MOVES_DATA,
	  U(VERIFY_12, 0x16, FF4, FF4, 0x1f, 0), scsi_verify, NULL,
	  "VERIFY(12)" },
};

const struct scsi_op *scsi_ops(size_t *count)
{
	*count = sizeof(op_table) / sizeof(op_table[0]);
	return op_table;
}

static bool opcode_has_sa(uint8_t opcode)
{
	switch (opcode) {
	case EXTENDED_COPY:
	case RECEIVE_COPY_RESULTS:
	case SERVICE_ACTION_IN_16:
	case MAINTENANCE_IN:
	case MAINTENANCE_OUT:
		return true;
	}
	return false;
}

uint16_t scsi_cdb_sa(const uint8_t *cdb)
{
	return opcode_has_sa(cdb[0]) ? (uint16_t)(cdb[1] & 0x1f) : SCSI_NO_SA;
}

#define NO_ROW 0xff
#define TABLE_ROWS (sizeof(op_table) / sizeof(op_table[0]))

_Static_assert(TABLE_ROWS < NO_ROW, "row indexes must fit in a byte");

/* Per opcode, its first row; per row, the next row with the same opcode. */
static uint8_t first_row[256];
static uint8_t next_row[TABLE_ROWS];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	memset(first_row, NO_ROW, sizeof(first_row));
	for (size_t i = TABLE_ROWS; i-- > 0;) {
		next_row[i] = first_row[op_table[i].opcode];
		first_row[op_table[i].opcode] = (uint8_t)i;
	}
}

/* Table entry for cdb; *known_opcode tells an unknown SA from an unknown op. */
static const struct scsi_op *lookup(const uint8_t *cdb, bool *known_opcode)
{
	uint16_t sa = scsi_cdb_sa(cdb);

	pthread_once(&index_once, build_index);
	*known_opcode = first_row[cdb[0]] != NO_ROW;
	for (uint8_t i = first_row[cdb[0]]; i != NO_ROW; i = next_row[i])
		if (op_table[i].sa == sa)
			return &op_table[i];
	return NULL;
}

static int highest_bit(uint8_t v)
{
	return 31 - __builtin_clz(v);
}

/* Reserved or unsupported bits set: INVALID FIELD IN CDB at the first. */
static int check_usage(struct lunar_cmd *cmd, const struct scsi_op *op)
{
	const uint8_t *cdb = cmd->ring.cdb;

	for (unsigned int i = 1; i < op->cdb_len; i++) {
		uint8_t mask = op->usage[i], v = cdb[i];

		if (i == 1 && op->sa != SCSI_NO_SA) {
			mask &= 0xe0;
			v &= 0xe0;
		}
		if (i == op->cdb_len - 1u)
			v &= 0x3f;	/* vendor-specific control bits */
		if (v & ~mask)
			return sense_bad_cdb_field(cmd, i, highest_bit(v & ~mask));
	}
	return TCMU_STS_OK;
}

static unsigned int length_field_byte(uint8_t layout)
{
	switch (layout) {
	case LAYOUT_6:
		return 4;
	case LAYOUT_10:
		return 7;
	case LAYOUT_12:
		return 6;
	case LAYOUT_16:
		return 10;
	case LAYOUT_CAW:
		return 13;
	}
	return 0;
}

static void decode_lba(struct lunar_cmd *cmd, const struct scsi_op *op)
{
	const uint8_t *cdb = cmd->ring.cdb;

	cmd->fua = op->layout != LAYOUT_6 && (cdb[1] & 0x08);
	switch (op->layout) {
	case LAYOUT_6:
		cmd->lba = (uint64_t)(cdb[1] & 0x1f) << 16 | get_be16(cdb + 2);
		cmd->nblocks = cdb[4];
		if (!cmd->nblocks && (op->flags & OP_ZERO_IS_256))
			cmd->nblocks = 256;
		break;
	case LAYOUT_10:
		cmd->lba = get_be32(cdb + 2);
		cmd->nblocks = get_be16(cdb + 7);
		break;
	case LAYOUT_12:
		cmd->lba = get_be32(cdb + 2);
		cmd->nblocks = get_be32(cdb + 6);
		break;
	case LAYOUT_16:
		cmd->lba = get_be64(cdb + 2);
		cmd->nblocks = get_be32(cdb + 10);
		break;
	case LAYOUT_CAW:
		cmd->lba = get_be64(cdb + 2);
		cmd->nblocks = cdb[13];
		break;
	default:
		/* Whole device: the command's own parameters say where. */
		cmd->lba = 0;
		cmd->nblocks = device_num_lbas(cmd->dev);
		break;
	}
}

/*
 * The kernel fails a command whose data does not fit in the ring's data
 * area (INVALID FIELD IN CDB) before lunard sees it; what fits, lunard
 * serves whole.  So that, not attrib/hw_max_sectors, is the MAXIMUM
 * TRANSFER LENGTH: LIO's own backstores also take longer transfers than
 * hw_max_sectors, because initiators do not all honour the Block Limits
 * page.  hw_max_sectors is reported as the OPTIMAL TRANSFER LENGTH.
 */
uint32_t scsi_max_transfer(struct tcmu_device *dev)
{
	uint64_t blocks = (dev->ring.map_len - dev->ring.data_off) /
			  dev->block_size;

	return blocks > UINT32_MAX ? UINT32_MAX : (uint32_t)blocks;
}

static int check_range(struct lunar_cmd *cmd, const struct scsi_op *op)
{
	struct tcmu_device *dev = cmd->dev;
	uint64_t need;

	if (cmd->lba > device_num_lbas(dev) ||
	    cmd->nblocks > device_num_lbas(dev) - cmd->lba)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if ((op->flags & OP_MOVES_DATA) && cmd->nblocks > scsi_max_transfer(dev))
		return sense_bad_cdb_field(cmd, length_field_byte(op->layout), -1);
	if (!(op->flags & (OP_DATA_IN | OP_DATA_OUT)))
		return TCMU_STS_OK;
	need = cmd->nblocks * dev->block_size;
	/* A short data-in buffer is the transport's overflow (scsi_read). */
	if ((op->flags & OP_DATA_OUT) && cmd->data_len < need)
		return sense_bad_cdb_field(cmd, length_field_byte(op->layout), -1);
	if ((op->flags & OP_DATA_IN) && cmd->data_len > need)
		cmd->read_len = (uint32_t)need;
	return TCMU_STS_OK;
}

static void run_exec(struct lunar_cmd *cmd, int unused)
{
	int sts = cmd->op->exec(cmd);

	(void)unused;
	if (sts != TCMU_STS_ASYNC_HANDLED)
		cmd_finish(cmd, sts);
}

/* overlap tracker callback: the conflicting command completed. */
static void resume_exec(struct lunar_cmd *cmd)
{
	io_run_done(cmd, run_exec, 0);
}

static int admit(struct lunar_cmd *cmd, const struct scsi_op *op)
{
	struct overlap_range *r = &cmd->range;

	r->lba = op->layout == LAYOUT_NONE ? 0 : cmd->lba;
	r->nblocks = op->layout == LAYOUT_NONE ? UINT64_MAX : cmd->nblocks;
	r->exclusive = op->flags & OP_EXCLUSIVE;
	cmd->range_held = true;
	if (overlap_admit(&cmd->dev->overlap, r, cmd, resume_exec))
		return op->exec(cmd);
	return TCMU_STS_ASYNC_HANDLED;
}

/*
 * Past the HA gate (which may park cmd: TCMU_STS_ASYNC_HANDLED), media
 * access through the overlap tracker, anything else straight to its op.
 */
static int gate_and_run(struct lunar_cmd *cmd)
{
	int sts = ha_admit(cmd->dev, cmd);

	if (sts)
		return sts;
	return cmd->op->flags & OP_MEDIA ? admit(cmd, cmd->op) : cmd->op->exec(cmd);
}

/* A parked command's second admission (cmd_readmit), on the trampoline. */
static void run_readmitted(struct lunar_cmd *cmd, int unused)
{
	int sts = gate_and_run(cmd);

	(void)unused;
	if (sts != TCMU_STS_ASYNC_HANDLED)
		cmd_finish(cmd, sts);
}

void cmd_readmit(struct lunar_cmd *cmd)
{
	io_run_done(cmd, run_readmitted, 0);
}

int scsi_execute(struct lunar_cmd *cmd)
{
	const struct scsi_op *op;
	bool known_opcode;
	int sts;

	op = lookup(cmd->ring.cdb, &known_opcode);
	if (!op || (op->supported && !op->supported(cmd->dev))) {
		if (op || !known_opcode)
			return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
		return sense_bad_cdb_field(cmd, 1, 4);
	}
	if (cmd->ring.cdb_len < op->cdb_len)
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	sts = check_usage(cmd, op);
	if (sts)
		return sts;
	cmd->op = op;
	if (!(op->flags & OP_MEDIA))
		return op->flags & OP_BACKEND ? gate_and_run(cmd) : op->exec(cmd);

	decode_lba(cmd, op);
	sts = check_range(cmd, op);
	if (sts)
		return sts;
	return gate_and_run(cmd);
}

/* Take one pending unit attention (lowest UA_* bit first); 0 if none. */
static uint16_t take_ua(struct tcmu_device *dev)
{
	uint32_t cur = __atomic_load_n(&dev->pending_ua, __ATOMIC_ACQUIRE);

	while (cur) {
		uint32_t bit = cur & -cur;

		if (__atomic_compare_exchange_n(&dev->pending_ua, &cur, cur & ~bit,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			if (bit == UA_CAPACITY_CHANGED)
				return ASC_CAPACITY_DATA_HAS_CHANGED;
			if (bit == UA_MODE_PARAMS_CHANGED)
				return ASC_MODE_PARAMETERS_CHANGED;
			return ASC_ASYMMETRIC_ACCESS_STATE_CHANGED;
		}
	}
	return 0;
}

int scsi_precheck(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	uint8_t opcode = cmd->ring.cdb[0];
	bool known;
	const struct scsi_op *op = lookup(cmd->ring.cdb, &known);
	uint16_t flags = op ? op->flags : 0;
	uint16_t ua;

	if (opcode == REPORT_LUNS)
		flags |= OP_KEEP_UA | OP_IN_FORMAT;
	if (!(flags & OP_KEEP_UA) && (ua = take_ua(dev)))
		return sense_fail(cmd, UNIT_ATTENTION, ua);
	if (__atomic_load_n(&dev->formatting, __ATOMIC_ACQUIRE) &&
	    !(flags & OP_IN_FORMAT)) {
		sense_fail(cmd, NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS);
		sense_put_progress(cmd->lib.sense_buf, scsi_format_progress(dev));
		return TCMU_STS_PASSTHROUGH_ERR;
	}
	return TCMU_STS_NOT_HANDLED;
}

int scsi_reply(struct lunar_cmd *cmd, const void *buf, size_t len,
	       size_t alloc_len)
{
	size_t n = len < alloc_len ? len : alloc_len;

	if (n > cmd->data_len)
		n = cmd->data_len;
	iov_copy_to(cmd->ring.iov, cmd->ring.iov_cnt, 0, buf, n);
	iov_zero(cmd->ring.iov, cmd->ring.iov_cnt, n, cmd->data_len - n);
	cmd->read_len = (uint32_t)n;
	return TCMU_STS_OK;
}

size_t scsi_data_out(struct lunar_cmd *cmd, void *buf, size_t len)
{
	return iov_copy_from(buf, cmd->ring.iov, cmd->ring.iov_cnt, 0, len);
}
