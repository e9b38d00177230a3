/*
 * Sense data and TCMU_STS_* to SCSI status mapping.  See sense.h.
 */
#include "sense.h"

#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/ring/ring.h"
#include "scsi_defs.h"

#define SKSV 0x80
#define SKS_CD 0x40	/* field pointer refers to the CDB */
#define SKS_BPV 0x08	/* bit pointer valid */

void sense_fill(uint8_t *sense, uint8_t key, uint16_t asc_ascq)
{
	sense[0] = (uint8_t)((sense[0] & 0x80) | 0x70);	/* keep VALID */
	sense[2] = key & 0x0f;
	sense[7] = SENSE_FIXED_LEN - 8;
	sense[12] = (uint8_t)(asc_ascq >> 8);
	sense[13] = (uint8_t)asc_ascq;
}

void sense_put_info(uint8_t *sense, uint64_t info)
{
	if (info > UINT32_MAX)
		return;
	sense[0] |= 0x80;
	sense[3] = (uint8_t)(info >> 24);
	sense[4] = (uint8_t)(info >> 16);
	sense[5] = (uint8_t)(info >> 8);
	sense[6] = (uint8_t)info;
}

void sense_put_sks(uint8_t *sense, const uint8_t sks[3])
{
	sense[15] = sks[0] | SKSV;
	sense[16] = sks[1];
	sense[17] = sks[2];
}

void sense_put_progress(uint8_t *sense, uint16_t progress)
{
	uint8_t sks[3] = { 0, (uint8_t)(progress >> 8), (uint8_t)progress };

	sense_put_sks(sense, sks);
}

int sense_fail(struct lunar_cmd *cmd, uint8_t key, uint16_t asc_ascq)
{
	sense_fill(cmd->lib.sense_buf, key, asc_ascq);
	return TCMU_STS_PASSTHROUGH_ERR;
}

static int field_pointer(struct lunar_cmd *cmd, uint16_t asc_ascq, bool in_cdb,
			 unsigned int byte, int bit)
{
	uint8_t sks[3];

	sks[0] = (uint8_t)((in_cdb ? SKS_CD : 0) |
			   (bit >= 0 ? SKS_BPV | (bit & 7) : 0));
	sks[1] = (uint8_t)(byte >> 8);
	sks[2] = (uint8_t)byte;
	sense_fill(cmd->lib.sense_buf, ILLEGAL_REQUEST, asc_ascq);
	sense_put_sks(cmd->lib.sense_buf, sks);
	return TCMU_STS_PASSTHROUGH_ERR;
}

int sense_bad_cdb_field(struct lunar_cmd *cmd, unsigned int byte, int bit)
{
	return field_pointer(cmd, ASC_INVALID_FIELD_IN_CDB, true, byte, bit);
}

int sense_bad_param_field(struct lunar_cmd *cmd, unsigned int byte, int bit)
{
	return field_pointer(cmd, ASC_INVALID_FIELD_IN_PARAMETER_LIST, false,
			     byte, bit);
}

int sense_bad_param(struct lunar_cmd *cmd, uint16_t asc_ascq,
		    unsigned int byte, int bit)
{
	return field_pointer(cmd, asc_ascq, false, byte, bit);
}

#define CC SAM_STAT_CHECK_CONDITION

struct sts_map {
	uint8_t status;
	uint8_t key;
	uint16_t asc_ascq;
};

/* tcmu-runner 1.5.4's mapping (libtcmu.c), one entry per TCMU_STS_*. */
static const struct sts_map sts_table[] = {
	[TCMU_STS_OK] = { SAM_STAT_GOOD, 0, 0 },
	[TCMU_STS_NO_RESOURCE] = { SAM_STAT_TASK_SET_FULL, 0, 0 },
	[TCMU_STS_BUSY] = { SAM_STAT_BUSY, 0, 0 },
	[TCMU_STS_TIMEOUT] = { SAM_STAT_BUSY, 0, 0 },
	[TCMU_STS_WR_ERR] = { CC, MEDIUM_ERROR, ASC_WRITE_ERROR },
	[TCMU_STS_RD_ERR] = { CC, MEDIUM_ERROR, ASC_READ_ERROR },
	[TCMU_STS_MISCOMPARE] = { CC, MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION },
	[TCMU_STS_INVALID_CMD] = { CC, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE },
	[TCMU_STS_INVALID_CDB] = { CC, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB },
	[TCMU_STS_INVALID_PARAM_LIST] = { CC, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST },
	[TCMU_STS_INVALID_PARAM_LIST_LEN] = { CC, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR },
	[TCMU_STS_FENCED] = { CC, NOT_READY, ASC_PORT_IN_STANDBY_STATE },
	[TCMU_STS_HW_ERR] = { CC, HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE },
	[TCMU_STS_RANGE] = { CC, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE },
	[TCMU_STS_FRMT_IN_PROGRESS] = { CC, NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS },
	[TCMU_STS_CAPACITY_CHANGED] = { CC, UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED },
	[TCMU_STS_NOTSUPP_SAVE_PARAMS] = { CC, ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED },
	[TCMU_STS_WR_ERR_INCOMPAT_FRMT] = { CC, ILLEGAL_REQUEST, ASC_CANNOT_WRITE_INCOMPATIBLE_FORMAT },
	[TCMU_STS_TRANSITION] = { CC, NOT_READY, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION },
	[TCMU_STS_IMPL_TRANSITION_ERR] = { CC, UNIT_ATTENTION, ASC_IMPLICIT_ASYMMETRIC_ACCESS_STATE_TRANSITION_FAILED },
	[TCMU_STS_EXPL_TRANSITION_ERR] = { CC, HARDWARE_ERROR, ASC_STPG_FAILED },
	[TCMU_STS_NOTSUPP_SEG_DESC_TYPE] = { CC, ILLEGAL_REQUEST, ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE },
	[TCMU_STS_NOTSUPP_TGT_DESC_TYPE] = { CC, ILLEGAL_REQUEST, ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE },
	[TCMU_STS_CP_TGT_DEV_NOTCONN] = { CC, COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE },
	[TCMU_STS_INVALID_CP_TGT_DEV_TYPE] = { CC, COPY_ABORTED, ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE },
	[TCMU_STS_TOO_MANY_SEG_DESC] = { CC, ILLEGAL_REQUEST, ASC_TOO_MANY_SEGMENT_DESCRIPTORS },
	[TCMU_STS_TOO_MANY_TGT_DESC] = { CC, ILLEGAL_REQUEST, ASC_TOO_MANY_TARGET_DESCRIPTORS },
};

static bool sense_present(const uint8_t *sense)
{
	return (sense[0] & 0x7f) == 0x70 || (sense[0] & 0x7f) == 0x71 ||
	       (sense[0] & 0x7f) == 0x72 || (sense[0] & 0x7f) == 0x73;
}

void sense_result(struct lunar_cmd *cmd, int sts, struct ring_result *res)
{
	uint8_t *sense = cmd->lib.sense_buf;

	res->uflags = 0;
	res->read_len = 0;
	res->sense = sense;
	if (sts == TCMU_STS_PASSTHROUGH_ERR) {
		res->scsi_status = SAM_STAT_CHECK_CONDITION;
		/* A handler that claims to have built sense but did not. */
		if (!sense_present(sense))
			sense_fill(sense, HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
		return;
	}
	if (sts == TCMU_STS_NOT_HANDLED) {
		res->scsi_status = SAM_STAT_CHECK_CONDITION;
		sense_fill(sense, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
		return;
	}
	if (sts < 0 || (size_t)sts >= sizeof(sts_table) / sizeof(sts_table[0]) ||
	    (sts != TCMU_STS_OK && !sts_table[sts].status && !sts_table[sts].key)) {
		/* Unknown status or a stray -errno from a handler. */
		res->scsi_status = SAM_STAT_CHECK_CONDITION;
		sense_fill(sense, HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
		return;
	}
	res->scsi_status = sts_table[sts].status;
	if (res->scsi_status == SAM_STAT_CHECK_CONDITION)
		sense_fill(sense, sts_table[sts].key, sts_table[sts].asc_ascq);
	else if (res->scsi_status == SAM_STAT_GOOD && cmd->read_len &&
		 (cmd->dev->ring.mb_flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN)) {
		res->uflags = TCMU_UFLAG_READ_LEN;
		res->read_len = cmd->read_len;
	}
}
