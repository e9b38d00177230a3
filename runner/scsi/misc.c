/*
 * TEST UNIT READY, REQUEST SENSE, START STOP UNIT.
 */
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

int scsi_test_unit_ready(struct lunar_cmd *cmd)
{
	(void)cmd;
	return TCMU_STS_OK;
}

/*
 * Unit attentions were already reported by the precheck.  What is left to
 * report is a FORMAT UNIT in progress (NOT READY with progress indication)
 * or nothing.
 */
int scsi_request_sense(struct lunar_cmd *cmd)
{
	uint8_t sense[SENSE_FIXED_LEN] = { 0 };

	if (__atomic_load_n(&cmd->dev->formatting, __ATOMIC_ACQUIRE)) {
		sense_fill(sense, NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS);
		sense_put_progress(sense, scsi_format_progress(cmd->dev));
	} else {
		sense_fill(sense, NO_SENSE, ASC_NO_ADDITIONAL_SENSE);
	}
	return scsi_reply(cmd, sense, sizeof(sense), cmd->ring.cdb[4]);
}

/*
 * A virtual disk has no spindle: START and STOP are accepted as no-ops
 * (Linux sends STOP at shutdown).  Power conditions and LOEJ are rejected
 * by the usage map.
 */
int scsi_start_stop(struct lunar_cmd *cmd)
{
	(void)cmd;
	return TCMU_STS_OK;
}
