/*
 * VERIFY (10/12/16) and WRITE AND VERIFY (10/12/16) over simring with the
 * ram handler: medium verification, byte-by-byte comparison of the range
 * (BYTCHK 01b) and of one block against every block (11b), the exact
 * miscompare offset in INFORMATION (also past the first 1 MiB read-back
 * piece), WRITE AND VERIFY with and without write cache, and the rejected
 * BYTCHK values, short buffers and ranges.
 *
 * handler_slow (completions on its own threads, injected failures) runs
 * the same chains asynchronously and reports read and write errors.
 *
 * Not covered: a WRITE AND VERIFY whose read-back differs, which no
 * correct handler produces; its read-back is the same code as VERIFY with
 * BYTCHK 01b, whose miscompare is tested here.
 */
#include <stdlib.h>
#include <string.h>

#include "runner/handler.h"
#include "tests/shared/handler_slow.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (64ull << 20)
#define NUM_LBAS (SIZE / BS)

#define VERIFY10 0x2f
#define VERIFY12 0xaf
#define VERIFY16 0x8f
#define WRITE_VERIFY10 0x2e
#define WRITE_VERIFY12 0xae
#define WRITE_VERIFY16 0x8e

#define BYTCHK_RANGE 0x02
#define BYTCHK_RESERVED 0x04
#define BYTCHK_ONE_BLOCK 0x06

static int setup(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/verify", .size = SIZE, .block_size = BS,
		.max_sectors = 2048,
	};
	struct siminit *si;

	if (siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	    handlers_load_file(SLOW_HANDLER_PATH) || siminit_open(&o, &si))
		return -1;
	*state = si;
	return 0;
}

static int teardown(void **state)
{
	siminit_close(*state);
	return 0;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

/* CDB of the (10), (12) or (16) form of opcode. */
static void make_cdb(uint8_t *cdb, uint8_t opcode, uint8_t byte1,
		     uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = opcode;
	cdb[1] = byte1;
	switch (opcode) {
	case VERIFY10:
	case WRITE_VERIFY10:
		for (int i = 0; i < 4; i++)
			cdb[2 + i] = (uint8_t)(lba >> (24 - 8 * i));
		cdb[7] = (uint8_t)(n >> 8);
		cdb[8] = (uint8_t)n;
		break;
	case VERIFY12:
	case WRITE_VERIFY12:
		for (int i = 0; i < 4; i++) {
			cdb[2 + i] = (uint8_t)(lba >> (24 - 8 * i));
			cdb[6 + i] = (uint8_t)(n >> (24 - 8 * i));
		}
		break;
	default:
		for (int i = 0; i < 8; i++)
			cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
		for (int i = 0; i < 4; i++)
			cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
	}
}

static void run(struct siminit *si, uint8_t opcode, uint8_t byte1,
		uint64_t lba, uint32_t n, void *buf, size_t len,
		struct scsi_result *res)
{
	uint8_t cdb[16];

	make_cdb(cdb, opcode, byte1, lba, n);
	assert_int_equal(siminit_cmd(si, cdb, len ? SIMRING_DIR_OUT :
				     SIMRING_DIR_NONE, buf, len, res), 0);
}

static void write_blocks(struct siminit *si, uint64_t lba, uint32_t n,
			 void *buf)
{
	struct scsi_result res;

	assert_int_equal(siminit_write(si, lba, n, buf, &res), 0);
	assert_good(&res);
}

static void assert_miscompare(const struct scsi_result *res, uint32_t offset)
{
	assert_sense(res, 0x0e, 0x1d00);
	assert_true(res->sense[0] & 0x80);		/* VALID */
	assert_int_equal((uint32_t)res->sense[3] << 24 | res->sense[4] << 16 |
			 res->sense[5] << 8 | res->sense[6], offset);
}

static void test_verify_compare_range(void **state)
{
	static const uint8_t ops[] = { VERIFY10, VERIFY12, VERIFY16 };
	uint8_t data[8 * BS];
	struct scsi_result res;

	fill(data, sizeof(data), 1);
	write_blocks(*state, 100, 8, data);
	for (size_t i = 0; i < 3; i++) {
		run(*state, ops[i], BYTCHK_RANGE, 100, 8, data, sizeof(data), &res);
		assert_good(&res);
		/* DPO is accepted and changes nothing. */
		run(*state, ops[i], 0x10 | BYTCHK_RANGE, 100, 8, data,
		    sizeof(data), &res);
		assert_good(&res);
	}
}

static void test_verify_miscompare_offset(void **state)
{
	static const uint8_t ops[] = { VERIFY10, VERIFY12, VERIFY16 };
	uint8_t data[8 * BS];
	struct scsi_result res;

	fill(data, sizeof(data), 2);
	write_blocks(*state, 300, 8, data);
	data[3 * BS + 17] ^= 0x40;
	data[5 * BS] ^= 0x01;				/* later: not reported */
	for (size_t i = 0; i < 3; i++) {
		run(*state, ops[i], BYTCHK_RANGE, 300, 8, data, sizeof(data), &res);
		assert_miscompare(&res, 3 * BS + 17);
	}
	/* The very first byte. */
	fill(data, sizeof(data), 2);
	data[0] ^= 0xff;
	run(*state, VERIFY16, BYTCHK_RANGE, 300, 8, data, sizeof(data), &res);
	assert_miscompare(&res, 0);
}

static void test_verify_one_block_against_range(void **state)
{
	uint8_t block[BS], data[6 * BS];
	struct scsi_result res;

	fill(block, sizeof(block), 3);
	for (int i = 0; i < 6; i++)
		memcpy(data + i * BS, block, BS);
	write_blocks(*state, 400, 6, data);
	run(*state, VERIFY16, BYTCHK_ONE_BLOCK, 400, 6, block, BS, &res);
	assert_good(&res);
	run(*state, VERIFY10, BYTCHK_ONE_BLOCK, 400, 6, block, BS, &res);
	assert_good(&res);
	/* Block 4 of the range differs at byte 9. */
	data[4 * BS + 9] ^= 0x10;
	write_blocks(*state, 404, 1, data + 4 * BS);
	run(*state, VERIFY12, BYTCHK_ONE_BLOCK, 400, 6, block, BS, &res);
	assert_miscompare(&res, 4 * BS + 9);
	/* A range that stops before the bad block still verifies. */
	run(*state, VERIFY16, BYTCHK_ONE_BLOCK, 400, 4, block, BS, &res);
	assert_good(&res);
}

static void test_verify_medium(void **state)
{
	struct scsi_result res;

	/* The largest transfer: 2048 blocks, one 1 MiB read-back piece. */
	run(*state, VERIFY16, 0, 0, 2048, NULL, 0, &res);
	assert_good(&res);
	run(*state, VERIFY10, 0, NUM_LBAS - 7, 7, NULL, 0, &res);
	assert_good(&res);
	run(*state, VERIFY12, 0x10, 12345, 100, NULL, 0, &res);
	assert_good(&res);
	/* Zero blocks: nothing to do, even at the end of the medium. */
	run(*state, VERIFY16, BYTCHK_RANGE, NUM_LBAS, 0, NULL, 0, &res);
	assert_good(&res);
}

static void test_verify_bad_requests(void **state)
{
	uint8_t data[4 * BS] = { 0 };
	struct scsi_result res;

	run(*state, VERIFY10, BYTCHK_RESERVED, 0, 1, data, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	assert_int_equal(res.sense[15] & 0x0f, 0x08 | 2);	/* bit 2 */
	/* Data-out shorter than BYTCHK needs: pointer at the length. */
	run(*state, VERIFY10, BYTCHK_RANGE, 0, 4, data, 3 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 7);
	run(*state, VERIFY12, BYTCHK_RANGE, 0, 4, data, 3 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 6);
	run(*state, VERIFY16, BYTCHK_ONE_BLOCK, 0, 4, data, BS - 1, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 10);
	/* Out of range, overflow, reserved bits (MAX TRANSFER: sim_scsi_basic). */
	run(*state, VERIFY16, 0, NUM_LBAS - 1, 2, NULL, 0, &res);
	assert_sense(&res, 0x05, 0x2100);
	run(*state, VERIFY16, 0, UINT64_MAX, 2, NULL, 0, &res);
	assert_sense(&res, 0x05, 0x2100);
	run(*state, VERIFY10, 0, NUM_LBAS, 1, NULL, 0, &res);
	assert_sense(&res, 0x05, 0x2100);
	run(*state, VERIFY10, 0x08, 0, 1, NULL, 0, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
}

/* WRITE AND VERIFY each size, then READ the data back. */
static void write_verify_all_sizes(struct siminit *si, unsigned int seed)
{
	static const uint8_t ops[] = {
		WRITE_VERIFY10, WRITE_VERIFY12, WRITE_VERIFY16,
	};
	uint8_t data[16 * BS], back[16 * BS];
	struct scsi_result res;

	for (size_t i = 0; i < 3; i++) {
		uint64_t lba = 1000 + i * 100;

		fill(data, sizeof(data), seed + (unsigned int)i);
		run(si, ops[i], i == 1 ? 0 : BYTCHK_RANGE, lba, 16, data,
		    sizeof(data), &res);
		assert_good(&res);
		memset(back, 0, sizeof(back));
		assert_int_equal(siminit_read(si, lba, 16, back, &res), 0);
		assert_good(&res);
		assert_memory_equal(back, data, sizeof(data));
	}
}

static void test_write_verify(void **state)
{
	struct tcmu_device *dev = siminit_device(*state);
	bool initial = tcmu_dev_get_write_cache_enabled(dev);

	/* Write cache off: the write is flushed before the read-back. */
	tcmu_dev_set_write_cache_enabled(dev, false);
	write_verify_all_sizes(*state, 10);
	tcmu_dev_set_write_cache_enabled(dev, true);
	write_verify_all_sizes(*state, 20);
	tcmu_dev_set_write_cache_enabled(dev, initial);
}

static void test_write_verify_bad_requests(void **state)
{
	uint8_t data[4 * BS], back[4 * BS];
	struct scsi_result res;

	fill(data, sizeof(data), 30);
	write_blocks(*state, 2000, 4, data);
	memset(back, 0x5a, sizeof(back));
	run(*state, WRITE_VERIFY16, BYTCHK_ONE_BLOCK, 2000, 4, back,
	    sizeof(back), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	run(*state, WRITE_VERIFY10, BYTCHK_RESERVED, 2000, 4, back,
	    sizeof(back), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	/* Nothing was written. */
	assert_int_equal(siminit_read(*state, 2000, 4, back, &res), 0);
	assert_memory_equal(back, data, sizeof(data));
	run(*state, WRITE_VERIFY12, 0, 2000, 4, data, 3 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 6);
	run(*state, WRITE_VERIFY16, 0, NUM_LBAS - 2, 4, data, sizeof(data), &res);
	assert_sense(&res, 0x05, 0x2100);
	run(*state, WRITE_VERIFY10, 0x08, 2000, 1, data, BS, &res);	/* FUA */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	run(*state, WRITE_VERIFY10, BYTCHK_RANGE, 2000, 0, NULL, 0, &res);
	assert_good(&res);
}

/*
 * A device whose MAXIMUM TRANSFER LENGTH spans several 1 MiB read-back
 * pieces: the miscompare offset is counted from the start of the range.
 */
static void test_multi_piece_ranges(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/verify-big", .name = "big", .size = 64ull << 20,
		.block_size = 4096, .max_sectors = 4096,
	};
	size_t len = 4u << 20, bad = (5u << 19) + 5;	/* 2.5 MiB + 5 */
	uint8_t *data = malloc(len), *back = malloc(len);
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(data);
	assert_non_null(back);
	assert_int_equal(siminit_open(&o, &si), 0);
	fill(data, len, 40);
	run(si, WRITE_VERIFY16, BYTCHK_RANGE, 10, 1024, data, len, &res);
	assert_good(&res);
	assert_int_equal(siminit_read(si, 10, 1024, back, &res), 0);
	assert_memory_equal(back, data, len);
	run(si, VERIFY16, 0, 10, 1024, NULL, 0, &res);
	assert_good(&res);
	run(si, VERIFY16, BYTCHK_RANGE, 10, 1024, data, len, &res);
	assert_good(&res);
	data[bad] ^= 0x80;
	run(si, VERIFY16, BYTCHK_RANGE, 10, 1024, data, len, &res);
	assert_miscompare(&res, (uint32_t)bad);
	/* One block against 1024: block 700 differs at byte 4095. */
	memset(data, 0x3c, 4096);
	memset(back, 0x3c, len);
	back[700 * 4096 + 4095] = 0;
	write_blocks(si, 10, 1024, back);
	run(si, VERIFY16, BYTCHK_ONE_BLOCK, 10, 1024, data, 4096, &res);
	assert_miscompare(&res, 700 * 4096 + 4095);
	siminit_close(si);
	free(data);
	free(back);
}

/* handler_slow: completions on other threads, 3 read-back pieces. */
static void test_async_handler(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "slow/verify", .name = "slow", .size = 16ull << 20,
		.block_size = 4096, .max_sectors = 1024,
	};
	size_t len = 768 * 4096, bad = (2u << 20) + 4096 + 3;
	uint8_t *data = malloc(len), *back = malloc(len);
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(data);
	assert_non_null(back);
	assert_int_equal(siminit_open(&o, &si), 0);
	fill(data, len, 50);
	run(si, WRITE_VERIFY12, BYTCHK_RANGE, 7, 768, data, len, &res);
	assert_good(&res);
	assert_int_equal(siminit_read(si, 7, 768, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, data, len);
	run(si, VERIFY16, 0, 7, 768, NULL, 0, &res);
	assert_good(&res);
	run(si, VERIFY10, BYTCHK_RANGE, 7, 768, data, len, &res);
	assert_good(&res);
	data[bad] ^= 0x04;
	run(si, VERIFY12, BYTCHK_RANGE, 7, 768, data, len, &res);
	assert_miscompare(&res, (uint32_t)bad);
	siminit_close(si);
	free(data);
	free(back);
}

static void test_handler_errors(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "slow/errors", .name = "errors", .size = 1ull << 20,
		.block_size = BS,
	};
	uint8_t data[4 * BS], back[4 * BS];
	struct scsi_result res;
	struct slow_ctl *ctl;
	struct siminit *si;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), 0);
	ctl = tcmur_dev_get_private(siminit_device(si));
	fill(data, sizeof(data), 60);
	write_blocks(si, 8, 4, data);

	/* Read errors end VERIFY with the handler's status. */
	ctl->fail_read = TCMU_STS_RD_ERR;
	run(si, VERIFY16, 0, 8, 4, NULL, 0, &res);
	assert_sense(&res, 0x03, 0x1100);
	run(si, VERIFY10, BYTCHK_RANGE, 8, 4, data, sizeof(data), &res);
	assert_sense(&res, 0x03, 0x1100);
	/* WRITE AND VERIFY: the write lands, the read-back fails. */
	fill(back, sizeof(back), 61);
	run(si, WRITE_VERIFY16, 0, 8, 4, back, sizeof(back), &res);
	assert_sense(&res, 0x03, 0x1100);
	ctl->fail_read = 0;
	assert_int_equal(siminit_read(si, 8, 4, data, &res), 0);
	assert_memory_equal(data, back, sizeof(back));
	/* A failed write is reported as such, before any read-back. */
	ctl->fail_write = TCMU_STS_WR_ERR;
	ctl->fail_read = TCMU_STS_HW_ERR;
	fill(data, sizeof(data), 62);
	run(si, WRITE_VERIFY10, BYTCHK_RANGE, 8, 4, data, sizeof(data), &res);
	assert_sense(&res, 0x03, 0x0c00);
	ctl->fail_write = 0;
	ctl->fail_read = 0;
	assert_int_equal(siminit_read(si, 8, 4, data, &res), 0);
	assert_memory_equal(data, back, sizeof(back));
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_compare_range),
		cmocka_unit_test(test_verify_miscompare_offset),
		cmocka_unit_test(test_verify_one_block_against_range),
		cmocka_unit_test(test_verify_medium),
		cmocka_unit_test(test_verify_bad_requests),
		cmocka_unit_test(test_write_verify),
		cmocka_unit_test(test_write_verify_bad_requests),
		cmocka_unit_test(test_multi_piece_ranges),
		cmocka_unit_test(test_async_handler),
		cmocka_unit_test(test_handler_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
