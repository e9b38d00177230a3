/*
 * runner/scsi/sense.c: every TCMU_STS_* outcome becomes tcmu-runner
 * 1.5.4's SCSI status and fixed-format sense (libtcmu.c
 * tcmu_sts_to_scsi), except that unknown outcomes, which 1.5.4 returned
 * with an uninitialised sense buffer, become HARDWARE ERROR 44/00.
 * Sense bytes a handler set first (INFORMATION, progress) survive, and
 * the field pointer helpers encode C/D, BPV, bit and byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/scsi/sense.h"

#define GOOD 0x00
#define CHECK_CONDITION 0x02
#define BUSY 0x08
#define TASK_SET_FULL 0x28

/* Sense keys, spelled out rather than taken from scsi_defs.h. */
#define K_NOT_READY 0x2
#define K_MEDIUM 0x3
#define K_HARDWARE 0x4
#define K_ILLEGAL 0x5
#define K_UNIT_ATTENTION 0x6
#define K_COPY_ABORTED 0xa
#define K_MISCOMPARE 0xe

static struct tcmu_device dev;
static struct lunar_cmd cmd;

static int setup(void **state)
{
	(void)state;
	memset(&dev, 0, sizeof(dev));
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev = &dev;
	dev.ring.mb_flags = TCMU_MAILBOX_FLAG_CAP_OOOC |
			    TCMU_MAILBOX_FLAG_CAP_READ_LEN;
	return 0;
}

static const struct {
	int sts;
	uint8_t status;
	uint8_t key;
	uint16_t asc_ascq;
} sts_map[] = {
	{ TCMU_STS_OK, GOOD, 0, 0 },
	{ TCMU_STS_NO_RESOURCE, TASK_SET_FULL, 0, 0 },
	{ TCMU_STS_BUSY, BUSY, 0, 0 },
	{ TCMU_STS_TIMEOUT, BUSY, 0, 0 },
	{ TCMU_STS_WR_ERR, CHECK_CONDITION, K_MEDIUM, 0x0c00 },
	{ TCMU_STS_RD_ERR, CHECK_CONDITION, K_MEDIUM, 0x1100 },
	{ TCMU_STS_MISCOMPARE, CHECK_CONDITION, K_MISCOMPARE, 0x1d00 },
	{ TCMU_STS_INVALID_CMD, CHECK_CONDITION, K_ILLEGAL, 0x2000 },
	{ TCMU_STS_INVALID_CDB, CHECK_CONDITION, K_ILLEGAL, 0x2400 },
	{ TCMU_STS_INVALID_PARAM_LIST, CHECK_CONDITION, K_ILLEGAL, 0x2600 },
	{ TCMU_STS_INVALID_PARAM_LIST_LEN, CHECK_CONDITION, K_ILLEGAL, 0x1a00 },
	{ TCMU_STS_FENCED, CHECK_CONDITION, K_NOT_READY, 0x040b },
	{ TCMU_STS_HW_ERR, CHECK_CONDITION, K_HARDWARE, 0x4400 },
	{ TCMU_STS_RANGE, CHECK_CONDITION, K_ILLEGAL, 0x2100 },
	{ TCMU_STS_FRMT_IN_PROGRESS, CHECK_CONDITION, K_NOT_READY, 0x0404 },
	{ TCMU_STS_CAPACITY_CHANGED, CHECK_CONDITION, K_UNIT_ATTENTION, 0x2a09 },
	{ TCMU_STS_NOTSUPP_SAVE_PARAMS, CHECK_CONDITION, K_ILLEGAL, 0x3900 },
	{ TCMU_STS_WR_ERR_INCOMPAT_FRMT, CHECK_CONDITION, K_ILLEGAL, 0x3005 },
	{ TCMU_STS_TRANSITION, CHECK_CONDITION, K_NOT_READY, 0x040a },
	{ TCMU_STS_IMPL_TRANSITION_ERR, CHECK_CONDITION, K_UNIT_ATTENTION, 0x2a07 },
	{ TCMU_STS_EXPL_TRANSITION_ERR, CHECK_CONDITION, K_HARDWARE, 0x670a },
	{ TCMU_STS_NOTSUPP_SEG_DESC_TYPE, CHECK_CONDITION, K_ILLEGAL, 0x2609 },
	{ TCMU_STS_NOTSUPP_TGT_DESC_TYPE, CHECK_CONDITION, K_ILLEGAL, 0x2607 },
	{ TCMU_STS_CP_TGT_DEV_NOTCONN, CHECK_CONDITION, K_COPY_ABORTED, 0x0d02 },
	{ TCMU_STS_INVALID_CP_TGT_DEV_TYPE, CHECK_CONDITION, K_COPY_ABORTED, 0x0d03 },
	{ TCMU_STS_TOO_MANY_SEG_DESC, CHECK_CONDITION, K_ILLEGAL, 0x2608 },
	{ TCMU_STS_TOO_MANY_TGT_DESC, CHECK_CONDITION, K_ILLEGAL, 0x2606 },
	{ TCMU_STS_NOT_HANDLED, CHECK_CONDITION, K_ILLEGAL, 0x2000 },
	/* Where lunar deliberately differs from 1.5.4's garbage sense. */
	{ TCMU_STS_NO_LOCK_HOLDERS, CHECK_CONDITION, K_HARDWARE, 0x4400 },
	{ TCMU_STS_ASYNC_HANDLED, CHECK_CONDITION, K_HARDWARE, 0x4400 },
	{ TCMU_STS_TOO_MANY_TGT_DESC + 1, CHECK_CONDITION, K_HARDWARE, 0x4400 },
	{ 1000, CHECK_CONDITION, K_HARDWARE, 0x4400 },
	{ -EIO, CHECK_CONDITION, K_HARDWARE, 0x4400 },
};

/* Fixed format, current error, additional length 10, key and ASC/ASCQ. */
static void assert_fixed_sense(const uint8_t *s, uint8_t key, uint16_t asc_ascq)
{
	assert_int_equal(s[0] & 0x7f, 0x70);
	assert_int_equal(s[2], key);
	assert_int_equal(s[7], 0x0a);
	assert_int_equal(s[12] << 8 | s[13], asc_ascq);
}

static void test_status_map(void **state)
{
	const size_t n = sizeof(sts_map) / sizeof(sts_map[0]);
	uint8_t zero[SENSE_BUFFERSIZE] = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct ring_result res;

		setup(state);
		print_message("sts %d\n", sts_map[i].sts);
		memset(&res, 0xa5, sizeof(res));
		sense_result(&cmd, sts_map[i].sts, &res);
		assert_int_equal(res.scsi_status, sts_map[i].status);
		assert_int_equal(res.uflags, 0);
		assert_int_equal(res.read_len, 0);
		assert_ptr_equal(res.sense, cmd.lib.sense_buf);
		if (sts_map[i].status != CHECK_CONDITION) {
			assert_memory_equal(cmd.lib.sense_buf, zero, sizeof(zero));
			continue;
		}
		assert_fixed_sense(cmd.lib.sense_buf, sts_map[i].key,
				   sts_map[i].asc_ascq);
		/* Nothing but the fields set above. */
		assert_int_equal(cmd.lib.sense_buf[0], 0x70);
		for (size_t b = 14; b < SENSE_BUFFERSIZE; b++)
			assert_int_equal(cmd.lib.sense_buf[b], 0);
	}
}

/* MISCOMPARE keeps the offset the handler put in INFORMATION. */
static void test_miscompare_keeps_information(void **state)
{
	struct ring_result res;
	uint8_t *s = cmd.lib.sense_buf;

	(void)state;
	sense_put_info(s, 0x01020304);
	sense_result(&cmd, TCMU_STS_MISCOMPARE, &res);
	assert_int_equal(res.scsi_status, CHECK_CONDITION);
	assert_fixed_sense(s, K_MISCOMPARE, 0x1d00);
	assert_int_equal(s[0], 0xf0);		/* VALID */
	assert_int_equal(s[3], 0x01);
	assert_int_equal(s[4], 0x02);
	assert_int_equal(s[5], 0x03);
	assert_int_equal(s[6], 0x04);
}

/* FORMAT IN PROGRESS keeps the progress indication. */
static void test_format_keeps_progress(void **state)
{
	struct ring_result res;
	uint8_t *s = cmd.lib.sense_buf;

	(void)state;
	sense_put_progress(s, 0x8001);
	sense_result(&cmd, TCMU_STS_FRMT_IN_PROGRESS, &res);
	assert_fixed_sense(s, K_NOT_READY, 0x0404);
	assert_int_equal(s[15], 0x80);		/* SKSV */
	assert_int_equal(s[16], 0x80);
	assert_int_equal(s[17], 0x01);
}

/* PASSTHROUGH_ERR: the handler's sense as is, or HARDWARE ERROR if none. */
static void test_passthrough(void **state)
{
	struct ring_result res;
	uint8_t *s = cmd.lib.sense_buf;

	(void)state;
	s[0] = 0x70;
	s[2] = K_MEDIUM;
	s[7] = 0x0a;
	s[12] = 0x31;
	s[13] = 0x00;
	sense_result(&cmd, TCMU_STS_PASSTHROUGH_ERR, &res);
	assert_int_equal(res.scsi_status, CHECK_CONDITION);
	assert_fixed_sense(s, K_MEDIUM, 0x3100);

	/* Descriptor format is also sense the handler built. */
	setup(state);
	s[0] = 0x72;
	s[1] = K_ILLEGAL;
	sense_result(&cmd, TCMU_STS_PASSTHROUGH_ERR, &res);
	assert_int_equal(s[0], 0x72);
	assert_int_equal(s[1], K_ILLEGAL);

	setup(state);
	sense_result(&cmd, TCMU_STS_PASSTHROUGH_ERR, &res);
	assert_int_equal(res.scsi_status, CHECK_CONDITION);
	assert_fixed_sense(s, K_HARDWARE, 0x4400);

	setup(state);
	s[0] = 0x12;				/* not a sense response code */
	sense_result(&cmd, TCMU_STS_PASSTHROUGH_ERR, &res);
	assert_fixed_sense(s, K_HARDWARE, 0x4400);
}

/* A short data-in transfer is reported when the kernel can take it. */
static void test_read_len(void **state)
{
	struct ring_result res;

	cmd.read_len = 36;
	sense_result(&cmd, TCMU_STS_OK, &res);
	assert_int_equal(res.scsi_status, GOOD);
	assert_int_equal(res.uflags, TCMU_UFLAG_READ_LEN);
	assert_int_equal(res.read_len, 36);

	/* Not on failure. */
	sense_result(&cmd, TCMU_STS_RD_ERR, &res);
	assert_int_equal(res.uflags, 0);
	assert_int_equal(res.read_len, 0);

	/* Not without CAP_READ_LEN. */
	setup(state);
	cmd.read_len = 36;
	dev.ring.mb_flags = TCMU_MAILBOX_FLAG_CAP_OOOC;
	sense_result(&cmd, TCMU_STS_OK, &res);
	assert_int_equal(res.uflags, 0);
	assert_int_equal(res.read_len, 0);
}

/* SKS field pointer: SKSV | C/D | BPV | bit, then the byte (big-endian). */
static void test_field_pointers(void **state)
{
	uint8_t *s = cmd.lib.sense_buf;

	assert_int_equal(sense_bad_cdb_field(&cmd, 1, 4), TCMU_STS_PASSTHROUGH_ERR);
	assert_fixed_sense(s, K_ILLEGAL, 0x2400);
	assert_int_equal(s[15], 0x80 | 0x40 | 0x08 | 4);
	assert_int_equal(s[16], 0x00);
	assert_int_equal(s[17], 0x01);

	setup(state);
	assert_int_equal(sense_bad_cdb_field(&cmd, 0x0102, -1),
			 TCMU_STS_PASSTHROUGH_ERR);
	assert_int_equal(s[15], 0x80 | 0x40);
	assert_int_equal(s[16], 0x01);
	assert_int_equal(s[17], 0x02);

	setup(state);
	assert_int_equal(sense_bad_cdb_field(&cmd, 9, 0), TCMU_STS_PASSTHROUGH_ERR);
	assert_int_equal(s[15], 0x80 | 0x40 | 0x08);

	setup(state);
	assert_int_equal(sense_bad_param_field(&cmd, 7, 7),
			 TCMU_STS_PASSTHROUGH_ERR);
	assert_fixed_sense(s, K_ILLEGAL, 0x2600);
	assert_int_equal(s[15], 0x80 | 0x08 | 7);
	assert_int_equal(s[17], 7);

	setup(state);
	assert_int_equal(sense_bad_param(&cmd, 0x2607, 300, -1),
			 TCMU_STS_PASSTHROUGH_ERR);
	assert_fixed_sense(s, K_ILLEGAL, 0x2607);
	assert_int_equal(s[15], 0x80);
	assert_int_equal(s[16], 0x01);
	assert_int_equal(s[17], 0x2c);

	/* The pointer survives sense_result(). */
	{
		struct ring_result res;

		sense_result(&cmd, TCMU_STS_PASSTHROUGH_ERR, &res);
		assert_int_equal(res.scsi_status, CHECK_CONDITION);
		assert_int_equal(s[15], 0x80);
		assert_int_equal(s[17], 0x2c);
	}
}

static void test_fill_and_info(void **state)
{
	uint8_t *s = cmd.lib.sense_buf;

	(void)state;
	assert_int_equal(sense_fail(&cmd, K_MEDIUM, 0x1100),
			 TCMU_STS_PASSTHROUGH_ERR);
	assert_fixed_sense(s, K_MEDIUM, 0x1100);
	assert_int_equal(s[0], 0x70);

	/* Only the low nibble of the key is a key. */
	sense_fill(s, 0xf5, 0x2400);
	assert_int_equal(s[2], K_ILLEGAL);

	/* INFORMATION holds 32 bits; larger values are not reported. */
	sense_put_info(s, 0x100000000ull);
	assert_int_equal(s[0], 0x70);
	assert_int_equal(s[3] | s[4] | s[5] | s[6], 0);
	sense_put_info(s, 0xffffffffull);
	assert_int_equal(s[0], 0xf0);
	assert_int_equal(s[3] & s[4] & s[5] & s[6], 0xff);

	/* Refilling keeps VALID and INFORMATION. */
	sense_fill(s, K_MISCOMPARE, 0x1d00);
	assert_int_equal(s[0], 0xf0);
	assert_int_equal(s[6], 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status_map, setup),
		cmocka_unit_test_setup(test_miscompare_keeps_information, setup),
		cmocka_unit_test_setup(test_format_keeps_progress, setup),
		cmocka_unit_test_setup(test_passthrough, setup),
		cmocka_unit_test_setup(test_read_len, setup),
		cmocka_unit_test_setup(test_field_pointers, setup),
		cmocka_unit_test_setup(test_fill_and_info, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
