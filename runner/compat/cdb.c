/*
 * libtcmu CDB helpers for handlers.  They decode by group code exactly as
 * tcmu-runner 1.5.4 does (so a 6-byte transfer length of 0 stays 0: these
 * helpers are also used on non-READ/WRITE CDBs where 0 means 0).  The SCSI
 * core decodes READ/WRITE(6) per SBC in scsi/opcodes.c.
 */
#include <errno.h>
#include <stdio.h>

#include "runner/device.h"
#include "runner/export.h"
#include "runner/log.h"
#include "runner/scsi/scsi.h"

LUNAR_EXPORT int tcmu_cdb_get_length(uint8_t *cdb)
{
	switch (cdb[0] >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	case 3:
		if (cdb[0] == 0x7f)
			return 8 + cdb[7];
		return -EINVAL;
	}
	return -EINVAL;
}

LUNAR_EXPORT uint64_t tcmu_cdb_get_lba(uint8_t *cdb)
{
	switch (tcmu_cdb_get_length(cdb)) {
	case 6:
		return (uint64_t)(cdb[1] & 0x1f) << 16 | get_be16(cdb + 2);
	case 10:
	case 12:
		return get_be32(cdb + 2);
	case 16:
		return get_be64(cdb + 2);
	}
	return 0;
}

LUNAR_EXPORT uint32_t tcmu_cdb_get_xfer_length(uint8_t *cdb)
{
	switch (tcmu_cdb_get_length(cdb)) {
	case 6:
		return cdb[4];
	case 10:
		return get_be16(cdb + 7);
	case 12:
		return get_be32(cdb + 6);
	case 16:
		return get_be32(cdb + 10);
	}
	return 0;
}

LUNAR_EXPORT uint64_t tcmu_cdb_to_byte(struct tcmu_device *dev, uint8_t *cdb)
{
	return tcmu_cdb_get_lba(cdb) * dev->block_size;
}

LUNAR_EXPORT void tcmu_cdb_print_info(struct tcmu_device *dev,
				      const struct tcmulib_cmd *cmd,
				      const char *info)
{
	char hex[3 * 32 + 1];
	int len = tcmu_cdb_get_length(cmd->cdb), n = 0;

	if (!log_enabled(TCMU_LOG_DEBUG_SCSI_CMD))
		return;
	if (len < 0 || len > 32)
		len = 16;
	for (int i = 0; i < len; i++)
		n += snprintf(hex + n, sizeof(hex) - (size_t)n, "%02x ",
			      cmd->cdb[i]);
	lunar_dbg_cmd(dev, "cmd %u CDB %s%s", cmd->cmd_id, hex, info ? info : "");
}
