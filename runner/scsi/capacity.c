/*
 * READ CAPACITY (10) and (16).
 */
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "ops.h"
#include "scsi.h"

int scsi_read_capacity10(struct lunar_cmd *cmd)
{
	uint64_t last = device_num_lbas(cmd->dev) - 1;
	uint8_t buf[8];

	put_be32(buf, last > UINT32_MAX ? UINT32_MAX : (uint32_t)last);
	put_be32(buf + 4, cmd->dev->block_size);
	return scsi_reply(cmd, buf, sizeof(buf), sizeof(buf));
}

int scsi_read_capacity16(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	uint8_t buf[32] = { 0 };

	put_be64(buf, device_num_lbas(dev) - 1);
	put_be32(buf + 8, dev->block_size);
	if (dev->unmap_enabled)
		buf[14] = 0x80 | 0x40;		/* LBPME, LBPRZ */
	return scsi_reply(cmd, buf, sizeof(buf), get_be32(cmd->ring.cdb + 10));
}
