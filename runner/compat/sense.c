/*
 * libtcmu sense helpers for handlers (fixed format, 96-byte buffers).
 */
#include "runner/export.h"
#include "libtcmu_common.h"
#include "runner/scsi/sense.h"

LUNAR_EXPORT void __tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key,
					uint16_t asc_ascq)
{
	sense_fill(sense_buf, key, asc_ascq);
}

/* Returns TCMU_STS_PASSTHROUGH_ERR (== SAM CHECK CONDITION, 2). */
LUNAR_EXPORT int tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key,
				     uint16_t asc_ascq)
{
	sense_fill(sense_buf, key, asc_ascq);
	return TCMU_STS_PASSTHROUGH_ERR;
}

LUNAR_EXPORT void tcmu_sense_set_info(uint8_t *sense_buf, uint32_t info)
{
	sense_put_info(sense_buf, info);
}

LUNAR_EXPORT void tcmu_sense_set_key_specific_info(uint8_t *sense_buf,
						   uint16_t info)
{
	uint8_t sks[3] = { 0, (uint8_t)(info >> 8), (uint8_t)info };

	sense_put_sks(sense_buf, sks);
}
