/*
 * Assertions shared by the sim-tier SCSI tests (cmocka).
 */
#ifndef LUNAR_SCSI_CHECK_H
#define LUNAR_SCSI_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "siminit.h"

#define STATUS_GOOD 0x00
#define STATUS_CHECK 0x02

/* The command completed GOOD. */
#define assert_good(res) do {						\
		assert_int_equal((res)->ret, 0);			\
		assert_int_equal((res)->status, STATUS_GOOD);		\
	} while (0)

/* CHECK CONDITION with fixed-format sense key/ASC+ASCQ. */
#define assert_sense(res, key, asc_ascq) do {				\
		assert_int_equal((res)->ret, 0);			\
		assert_int_equal((res)->status, STATUS_CHECK);		\
		assert_int_equal((res)->sense[0] & 0x7f, 0x70);		\
		assert_int_equal(sense_key(res), (key));		\
		assert_int_equal(sense_asc(res), (asc_ascq));		\
	} while (0)

/* ILLEGAL REQUEST with a sense-key-specific field pointer. */
#define assert_field_pointer(res, in_cdb, byte) do {			\
		assert_true((res)->sense[15] & 0x80);			\
		assert_int_equal(!!((res)->sense[15] & 0x40), !!(in_cdb)); \
		assert_int_equal((res)->sense[16] << 8 | (res)->sense[17], (byte)); \
	} while (0)

/* Run a command with a data-in phase; the ring itself must not fail. */
static inline void cmd_in(struct siminit *si, const uint8_t *cdb, void *buf,
			  size_t len, struct scsi_result *res)
{
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_IN, buf, len, res), 0);
}

/* ...with a data-out phase. */
static inline void cmd_out(struct siminit *si, const uint8_t *cdb, void *buf,
			   size_t len, struct scsi_result *res)
{
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_OUT, buf, len, res), 0);
}

/* ...without data. */
static inline void cmd_none(struct siminit *si, const uint8_t *cdb,
			    struct scsi_result *res)
{
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_NONE, NULL, 0, res), 0);
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* WRITE(16) nblocks of data at lba, READ(16) them back: GOOD, the same. */
static inline void write_read_back(struct siminit *si, uint64_t lba,
				   uint32_t nblocks, void *data, size_t len)
{
	struct scsi_result res;
	void *back = malloc(len);

	assert_non_null(back);
	assert_int_equal(siminit_write(si, lba, nblocks, data, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_read(si, lba, nblocks, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, data, len);
	free(back);
}

/* Open a LUN, asserting success. */
static inline struct siminit *open_lun(const char *cfgstring, const char *name,
				       uint64_t size, uint32_t block_size)
{
	struct siminit_opts o = {
		.cfgstring = cfgstring, .name = name, .size = size,
		.block_size = block_size,
	};
	struct siminit *si;

	assert_int_equal(siminit_open(&o, &si), 0);
	return si;
}

/* Group teardown for fixtures whose state is the siminit. */
static inline int close_lun_state(void **state)
{
	siminit_close(*state);
	return 0;
}

#endif
