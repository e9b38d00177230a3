/*
 * ALUA seam.  See alua.h.
 *
 * lunard does not yet read target port groups: every device reports no
 * ALUA support, which is what LIO and tcmu-runner 1.5.4 report for a LUN
 * whose only group is default_tg_pt_gp.  All paths are then active and no
 * command is gated.
 */
#include "alua.h"

#include "cmd.h"
#include "scsi/sense.h"
#include "scsi_defs.h"
#include "tcmu-runner.h"

int alua_check_access(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	(void)dev;
	(void)cmd;
	return TCMU_STS_OK;
}

uint8_t alua_inquiry_tpgs(struct tcmu_device *dev)
{
	(void)dev;
	return 0;
}

bool alua_supported(struct tcmu_device *dev)
{
	(void)dev;
	return false;
}

int alua_report_target_port_groups(struct lunar_cmd *cmd)
{
	return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
}

int alua_set_target_port_groups(struct lunar_cmd *cmd)
{
	return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
}
