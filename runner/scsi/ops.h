/*
 * Executors of the opcode table, one group per file of runner/scsi/.
 * Each takes a validated, decoded command (cmd->op, cmd->lba, cmd->nblocks,
 * cmd->fua set by scsi_execute) and returns a TCMU_STS_* outcome or
 * TCMU_STS_ASYNC_HANDLED (it will call cmd_finish() itself).
 */
#ifndef LUNAR_SCSI_OPS_H
#define LUNAR_SCSI_OPS_H

#include <stdint.h>

struct lunar_cmd;
struct tcmu_device;

/*
 * Block Limits (VPD B0) that the executors enforce and INQUIRY reports:
 * MAXIMUM COMPARE AND WRITE LENGTH and MAXIMUM WRITE SAME LENGTH, blocks.
 */
#define SCSI_MAX_CAW_BLOCKS 1
#define SCSI_MAX_WRITE_SAME_BLOCKS 0xffffu
/* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
#define SCSI_MAX_UNMAP_DESCRIPTORS 32

/* opcodes.c: MAXIMUM TRANSFER LENGTH, blocks (what the ring carries). */
uint32_t scsi_max_transfer(struct tcmu_device *dev);

/* inquiry.c */
int scsi_inquiry(struct lunar_cmd *cmd);
/* NAA IEEE Registered Extended designator (16 bytes) derived from the serial. */
void scsi_make_naa(struct tcmu_device *dev, uint8_t naa[16]);

/* capacity.c */
int scsi_read_capacity10(struct lunar_cmd *cmd);
int scsi_read_capacity16(struct lunar_cmd *cmd);

/* misc.c */
int scsi_test_unit_ready(struct lunar_cmd *cmd);
int scsi_request_sense(struct lunar_cmd *cmd);
int scsi_start_stop(struct lunar_cmd *cmd);

/* mode.c */
int scsi_mode_sense(struct lunar_cmd *cmd);
int scsi_mode_select(struct lunar_cmd *cmd);

/* rw.c */
int scsi_read(struct lunar_cmd *cmd);
int scsi_write(struct lunar_cmd *cmd);
int scsi_sync_cache(struct lunar_cmd *cmd);
/*
 * Finish a command whose data reached the handler: flush first when FUA
 * was set or the write cache is off (write-through), then cmd_finish().
 */
void scsi_finish_write(struct lunar_cmd *cmd, int sts);
/*
 * The same write-through rule for a chain that goes on after the write:
 * flush if needed, then next(cmd, sts) (at once when sts is an error or
 * no flush is needed).
 */
void scsi_write_flush_then(struct lunar_cmd *cmd, int sts,
			   void (*next)(struct lunar_cmd *cmd, int sts));

/* verify.c */
int scsi_verify(struct lunar_cmd *cmd);
int scsi_write_verify(struct lunar_cmd *cmd);

/* caw.c */
int scsi_compare_and_write(struct lunar_cmd *cmd);

/* write_same.c */
int scsi_write_same(struct lunar_cmd *cmd);

/* unmap.c */
int scsi_unmap(struct lunar_cmd *cmd);
/* MAXIMUM UNMAP LBA COUNT: blocks one UNMAP command may name in total. */
uint32_t scsi_max_unmap_blocks(struct tcmu_device *dev);
/*
 * Blocks of the next handler unmap call for the range starting at lba with
 * left blocks to go (at most max_unmap_len, split as the handler asked).
 */
uint64_t scsi_unmap_piece(struct tcmu_device *dev, uint64_t lba,
			  uint64_t left);

/* format.c */
int scsi_format_unit(struct lunar_cmd *cmd);
/* Progress of a running FORMAT UNIT, 0..65535 (SBC progress indication). */
uint16_t scsi_format_progress(struct tcmu_device *dev);

/* xcopy.c */
int scsi_extended_copy(struct lunar_cmd *cmd);
int scsi_receive_copy_results(struct lunar_cmd *cmd);

/* rsoc.c */
int scsi_report_supported_opcodes(struct lunar_cmd *cmd);

#endif
