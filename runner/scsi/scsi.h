/*
 * The SCSI core: CDB validation and SPC/SBC emulation on top of the
 * handler's data callouts.
 *
 * Every supported command is one entry of the opcode table (opcodes.c):
 * its CDB length, the CDB usage map (the bits it accepts; any other bit set
 * is INVALID FIELD IN CDB with a field pointer, and REPORT SUPPORTED
 * OPERATION CODES returns the same map), how LBA and transfer length are
 * decoded, and the function that executes it.  Executors return a
 * TCMU_STS_* outcome, or TCMU_STS_ASYNC_HANDLED when they will complete
 * the command themselves through cmd_finish().
 */
#ifndef LUNAR_SCSI_H
#define LUNAR_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lunar_cmd;
struct tcmu_device;

#define SCSI_NO_SA 0xffff

enum scsi_layout {
	LAYOUT_NONE,
	LAYOUT_6,	/* 21-bit LBA in 1..3, length in 4 (0 = 256) */
	LAYOUT_10,	/* LBA 2..5, length 7..8 */
	LAYOUT_12,	/* LBA 2..5, length 6..9 */
	LAYOUT_16,	/* LBA 2..9, length 10..13 */
	LAYOUT_CAW,	/* LBA 2..9, blocks in 13 */
};

enum scsi_op_flags {
	OP_MEDIA = 1 << 0,	 /* LBA range decoded, checked, ALUA-gated */
	OP_MOVES_DATA = 1 << 1,	 /* transfer length bounded by MAX TRANSFER LENGTH */
	OP_DATA_IN = 1 << 2,	 /* buffer must hold nblocks * block size */
	OP_DATA_OUT = 1 << 3,
	OP_IN_FORMAT = 1 << 4,	 /* allowed while FORMAT UNIT runs */
	OP_KEEP_UA = 1 << 5,	 /* neither reports nor clears unit attentions */
	OP_ZERO_IS_256 = 1 << 6, /* 6-byte READ/WRITE: length 0 means 256 */
	OP_BACKEND = 1 << 7,	 /* no LBA range, but ALUA-gated like OP_MEDIA */
};

struct scsi_op {
	uint8_t opcode;
	uint16_t sa;		/* service action, or SCSI_NO_SA */
	uint8_t cdb_len;
	uint8_t layout;		/* enum scsi_layout */
	uint16_t flags;		/* enum scsi_op_flags */
	const uint8_t *usage;	/* cdb_len bytes, RSOC CDB USAGE DATA */
	int (*exec)(struct lunar_cmd *cmd);
	bool (*supported)(struct tcmu_device *dev);	/* NULL: always */
	const char *name;
};

/* All table entries, for REPORT SUPPORTED OPERATION CODES. */
const struct scsi_op *scsi_ops(size_t *count);

/* Service action of cdb if its opcode has one, else SCSI_NO_SA. */
uint16_t scsi_cdb_sa(const uint8_t *cdb);

/*
 * Checks that precede the handler's handle_cmd: pending unit attention,
 * FORMAT UNIT in progress.  TCMU_STS_NOT_HANDLED to go on.
 */
int scsi_precheck(struct lunar_cmd *cmd);

/* Validate the CDB, decode it and run its emulation. */
int scsi_execute(struct lunar_cmd *cmd);

/*
 * Send emulated data-in: copy min(len, alloc_len, buffer) bytes, zero the
 * rest of the buffer, record the transfer length.  Returns TCMU_STS_OK.
 */
int scsi_reply(struct lunar_cmd *cmd, const void *buf, size_t len,
	       size_t alloc_len);

/* Copy up to len bytes of the data-out buffer.  Returns bytes copied. */
size_t scsi_data_out(struct lunar_cmd *cmd, void *buf, size_t len);

/* Big-endian field access. */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

#endif
