/*
 * WRITE SAME (10) and (16) over simring: the emulated path (ram handler,
 * and handler_slow "slow" which counts and records unmaps), the handler's
 * writesame callout ("slowx"), NDOB, the UNMAP hint with zero and non-zero
 * data, unmap splitting by max_unmap_len and the granularity alignment
 * (including alignment 0), and the malformed variants.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/shared/handler_slow.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (64ull << 20)
#define NUM_LBAS (SIZE / BS)
#define MAX_XFER 2048

static struct siminit *open_dev(const char *cfg, const char *name)
{
	struct siminit_opts o = {
		.cfgstring = cfg, .name = name, .size = SIZE, .block_size = BS,
		.max_sectors = MAX_XFER,
	};
	struct siminit *si;

	assert_int_equal(siminit_open(&o, &si), 0);
	return si;
}

static int setup(void **state)
{
	if (siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	    handlers_load_file(SLOW_HANDLER_PATH))
		return -1;
	*state = open_dev("ram/ws", "ws");
	return 0;
}

static struct slow_ctl *ctl_of(struct siminit *si)
{
	return tcmur_dev_get_private(siminit_device(si));
}

/* WRITE SAME(16) CDB; flags is byte 1 (0x08 UNMAP, 0x01 NDOB). */
static void ws16_cdb(uint8_t *cdb, uint8_t flags, uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x93;
	cdb[1] = flags;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
}

static void ws10_cdb(uint8_t *cdb, uint8_t flags, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 10);
	cdb[0] = 0x41;
	cdb[1] = flags;
	for (int i = 0; i < 4; i++)
		cdb[2 + i] = (uint8_t)(lba >> (24 - 8 * i));
	cdb[7] = (uint8_t)(n >> 8);
	cdb[8] = (uint8_t)n;
}

static void run(struct siminit *si, const uint8_t *cdb, void *block,
		size_t len, struct scsi_result *res)
{
	assert_int_equal(siminit_cmd(si, cdb, len ? SIMRING_DIR_OUT :
				     SIMRING_DIR_NONE, block, len, res), 0);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 11 + i * 7 + (i >> 8));
}

/* Scribble on [lba, lba + n): each block a pattern of its own LBA. */
static void scribble_block(uint8_t *p, uint64_t lba)
{
	fill(p, BS, (unsigned int)lba + 1000);
}

static void scribble(struct siminit *si, uint64_t lba, uint32_t n)
{
	uint8_t *buf = malloc((size_t)n * BS);
	struct scsi_result res;

	assert_non_null(buf);
	for (uint32_t i = 0; i < n; i++)
		scribble_block(buf + (size_t)i * BS, lba + i);
	assert_int_equal(siminit_write(si, lba, n, buf, &res), 0);
	assert_good(&res);
	free(buf);
}

/* Every block of [lba, lba + n) equals block (zeros if NULL). */
static void assert_blocks(struct siminit *si, uint64_t lba, uint32_t n,
			  const uint8_t *block)
{
	uint8_t *buf = malloc((size_t)MAX_XFER * BS), zero[BS] = { 0 };
	struct scsi_result res;

	assert_non_null(buf);
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < MAX_XFER ? n - done : MAX_XFER;

		assert_int_equal(siminit_read(si, lba + done, k, buf, &res), 0);
		assert_good(&res);
		for (uint32_t i = 0; i < k; i++)
			assert_memory_equal(buf + (size_t)i * BS,
					    block ? block : zero, BS);
		done += k;
	}
	free(buf);
}

/* A block next to the range still holds its scribble. */
static void assert_untouched(struct siminit *si, uint64_t lba)
{
	uint8_t buf[BS], want[BS];
	struct scsi_result res;

	assert_int_equal(siminit_read(si, lba, 1, buf, &res), 0);
	assert_good(&res);
	scribble_block(want, lba);
	assert_memory_equal(buf, want, BS);
}

static void test_ws_pattern(void **state)
{
	uint8_t cdb[16], block[BS];
	struct scsi_result res;

	fill(block, BS, 1);
	scribble(*state, 199, 18);
	ws10_cdb(cdb, 0, 200, 16);
	run(*state, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(*state, 200, 16, block);
	assert_untouched(*state, 199);
	assert_untouched(*state, 216);

	fill(block, BS, 2);
	ws16_cdb(cdb, 0, 300, 33);
	run(*state, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(*state, 300, 33, block);
}

/* 4100 blocks of 512: three 1 MiB emulation chunks, the last partial. */
static void test_ws_several_chunks(void **state)
{
	uint8_t cdb[16], block[BS];
	struct scsi_result res;

	fill(block, BS, 3);
	scribble(*state, 8192 + 4100, 1);
	ws16_cdb(cdb, 0, 8192, 4100);
	run(*state, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(*state, 8192, 4100, block);
	assert_untouched(*state, 8192 + 4100);
}

static void test_ws_ndob_writes_zeros(void **state)
{
	uint8_t cdb[16];
	struct scsi_result res;

	scribble(*state, 400, 10);
	ws16_cdb(cdb, 0x01, 400, 8);
	run(*state, cdb, NULL, 0, &res);
	assert_good(&res);
	assert_blocks(*state, 400, 8, NULL);
	assert_untouched(*state, 408);
}

static void test_ws_unmap_hint_ram(void **state)
{
	uint8_t cdb[16], block[BS] = { 0 };
	struct scsi_result res;

	scribble(*state, 500, 64);
	ws16_cdb(cdb, 0x08, 500, 64);
	run(*state, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(*state, 500, 64, NULL);
}

/* Zero data with UNMAP: unmapped, in pieces of max_unmap_len, aligned. */
static void test_ws_unmap_pieces(void **state)
{
	struct siminit *si = open_dev("slow/wsunmap", "wsunmap");
	struct tcmu_device *dev = siminit_device(si);
	struct slow_ctl *ctl = ctl_of(si);
	static const struct slow_extent want[] = {
		{ 3 * BS, 5 * BS }, { 8 * BS, 8 * BS }, { 16 * BS, 7 * BS },
	};
	uint8_t cdb[16], block[BS] = { 0 };
	struct scsi_result res;

	(void)state;
	tcmu_dev_set_max_unmap_len(dev, 8);
	tcmu_dev_set_unmap_gran_align(dev, 4);
	tcmu_dev_set_opt_unmap_gran(dev, 8, false);
	scribble(si, 0, 32);
	ws10_cdb(cdb, 0x08, 3, 20);
	run(si, cdb, block, BS, &res);
	assert_good(&res);
	assert_int_equal(ctl->unmap_calls, 3);
	assert_memory_equal(ctl->unmaps, want, sizeof(want));
	assert_blocks(si, 3, 20, NULL);
	assert_untouched(si, 2);
	assert_untouched(si, 23);
	siminit_close(si);
}

/* UNMAP GRANULARITY ALIGNMENT 0 means no constraint (1.5.4 divided by it). */
static void test_ws_unmap_alignment_zero(void **state)
{
	struct siminit *si = open_dev("slow/wsalign0", "wsalign0");
	struct tcmu_device *dev = siminit_device(si);
	struct slow_ctl *ctl = ctl_of(si);
	uint8_t cdb[16];
	struct scsi_result res;

	(void)state;
	tcmu_dev_set_unmap_gran_align(dev, 0);
	tcmu_dev_set_max_unmap_len(dev, 100);
	tcmu_dev_set_opt_unmap_gran(dev, 0, false);
	scribble(si, 1000, 250);
	ws16_cdb(cdb, 0x08 | 0x01, 1001, 249);	/* UNMAP + NDOB */
	run(si, cdb, NULL, 0, &res);
	assert_good(&res);
	assert_int_equal(ctl->unmap_calls, 3);
	assert_int_equal(ctl->unmaps[0].off, 1001 * BS);
	assert_int_equal(ctl->unmaps[0].len, 100 * BS);
	assert_int_equal(ctl->unmaps[2].len, 49 * BS);
	assert_blocks(si, 1001, 249, NULL);
	assert_untouched(si, 1000);
	siminit_close(si);
}

/* UNMAP is a hint: non-zero data is written, and so is data without unmap. */
static void test_ws_unmap_hint_ignored(void **state)
{
	struct siminit *si = open_dev("slow/wshint", "wshint");
	struct slow_ctl *ctl = ctl_of(si);
	uint8_t cdb[16], block[BS], zero[BS] = { 0 };
	struct scsi_result res;

	(void)state;
	fill(block, BS, 4);
	ws16_cdb(cdb, 0x08, 50, 12);
	run(si, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(si, 50, 12, block);
	assert_int_equal(ctl->unmap_calls, 0);

	tcmu_dev_set_unmap_enabled(siminit_device(si), false);
	ws16_cdb(cdb, 0x08, 50, 12);
	run(si, cdb, zero, BS, &res);
	assert_good(&res);
	assert_blocks(si, 50, 12, NULL);
	assert_int_equal(ctl->unmap_calls, 0);
	siminit_close(si);
}

static void test_ws_unmap_failure_fails_command(void **state)
{
	struct siminit *si = open_dev("slow/wsfail", "wsfail");
	struct slow_ctl *ctl = ctl_of(si);
	uint8_t cdb[16], zero[BS] = { 0 };
	struct scsi_result res;

	(void)state;
	__atomic_store_n(&ctl->fail_unmap, TCMU_STS_WR_ERR, __ATOMIC_RELAXED);
	ws16_cdb(cdb, 0x08, 60, 4);
	run(si, cdb, zero, BS, &res);
	assert_sense(&res, 0x03, 0x0c00);
	assert_int_equal(ctl->unmap_calls, 1);
	siminit_close(si);
}

static void test_ws_delegated(void **state)
{
	struct siminit *si = open_dev("slowx/ws", "wsx");
	struct slow_ctl *ctl = ctl_of(si);
	uint8_t cdb[16], block[BS];
	struct scsi_result res;

	(void)state;
	fill(block, BS, 5);
	scribble(si, 70, 42);
	ws16_cdb(cdb, 0, 71, 40);
	run(si, cdb, block, BS, &res);
	assert_good(&res);
	assert_int_equal(ctl->writesame_calls, 1);
	assert_blocks(si, 71, 40, block);
	assert_untouched(si, 70);
	assert_untouched(si, 111);
	siminit_close(si);
}

static void test_ws_malformed(void **state)
{
	uint8_t cdb[16], block[BS] = { 1 };
	struct scsi_result res;

	/* NUMBER OF LOGICAL BLOCKS 0: WSNZ = 1. */
	ws10_cdb(cdb, 0, 10, 0);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 7);
	ws16_cdb(cdb, 0, 10, 0);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 10);
	/* More than MAXIMUM WRITE SAME LENGTH (0xffff). */
	ws16_cdb(cdb, 0, 0, 0x10000);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 10);
	/* Data-out shorter than a block. */
	ws16_cdb(cdb, 0, 10, 2);
	run(*state, cdb, block, 100, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_false(res.sense[15] & 0x80);
	/* Past the end. */
	ws16_cdb(cdb, 0, NUM_LBAS - 2, 4);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2100);
	/* ANCHOR; NDOB on the 10-byte CDB; WRPROTECT. */
	ws16_cdb(cdb, 0x10, 10, 1);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	ws10_cdb(cdb, 0x01, 10, 1);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	ws10_cdb(cdb, 0x20, 10, 1);
	run(*state, cdb, block, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
}

/* The largest WRITE SAME(10) is within the limit. */
static void test_ws_max_length(void **state)
{
	uint8_t cdb[16], block[BS];
	struct scsi_result res;

	fill(block, BS, 6);
	ws10_cdb(cdb, 0, 20000, 0xffff);
	run(*state, cdb, block, BS, &res);
	assert_good(&res);
	assert_blocks(*state, 20000 + 0xffff - 3, 3, block);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_pattern),
		cmocka_unit_test(test_ws_several_chunks),
		cmocka_unit_test(test_ws_ndob_writes_zeros),
		cmocka_unit_test(test_ws_unmap_hint_ram),
		cmocka_unit_test(test_ws_unmap_pieces),
		cmocka_unit_test(test_ws_unmap_alignment_zero),
		cmocka_unit_test(test_ws_unmap_hint_ignored),
		cmocka_unit_test(test_ws_unmap_failure_fails_command),
		cmocka_unit_test(test_ws_delegated),
		cmocka_unit_test(test_ws_malformed),
		cmocka_unit_test(test_ws_max_length),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
