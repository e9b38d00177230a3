/*
 * Fixed-format sense data (SPC-4 4.5.3) and the one place where a
 * TCMU_STS_* outcome becomes SCSI status plus sense.
 *
 * Inside the SCSI core a command fails by building its sense in
 * cmd->lib.sense_buf with one of the sense_* helpers, which return
 * TCMU_STS_PASSTHROUGH_ERR ("sense already built").  Handlers return plain
 * TCMU_STS_* codes; sense_result() turns those into sense, keeping any
 * INFORMATION or sense-key-specific bytes the handler already set (e.g.
 * the miscompare offset).
 */
#ifndef LUNAR_SCSI_SENSE_H
#define LUNAR_SCSI_SENSE_H

#include <stdbool.h>
#include <stdint.h>

struct lunar_cmd;
struct ring_result;

#define SENSE_FIXED_LEN 18

/* Fill key/ASC/ASCQ of a fixed-format buffer, keeping INFO and SKS bytes. */
void sense_fill(uint8_t *sense, uint8_t key, uint16_t asc_ascq);
/* INFORMATION field (VALID bit).  Values above 32 bits are not reported. */
void sense_put_info(uint8_t *sense, uint64_t info);
/* Sense-key-specific bytes 15..17 with SKSV set. */
void sense_put_sks(uint8_t *sense, const uint8_t sks[3]);
/* Progress indication (0..65535 of 65536) for NOT READY / NO SENSE. */
void sense_put_progress(uint8_t *sense, uint16_t progress);

/* Fail cmd with key/ASC/ASCQ.  Returns TCMU_STS_PASSTHROUGH_ERR. */
int sense_fail(struct lunar_cmd *cmd, uint8_t key, uint16_t asc_ascq);
/* ILLEGAL REQUEST, INVALID FIELD IN CDB, pointing at byte/bit (bit < 0: byte). */
int sense_bad_cdb_field(struct lunar_cmd *cmd, unsigned int byte, int bit);
/* ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST, pointing at byte/bit. */
int sense_bad_param_field(struct lunar_cmd *cmd, unsigned int byte, int bit);
/* Same pointer form for any ILLEGAL REQUEST ASC (e.g. 26/07 descriptor type). */
int sense_bad_param(struct lunar_cmd *cmd, uint16_t asc_ascq,
		    unsigned int byte, int bit);

/* Status and sense for a finished command (sense only for CHECK CONDITION). */
void sense_result(struct lunar_cmd *cmd, int sts, struct ring_result *res);

#endif
