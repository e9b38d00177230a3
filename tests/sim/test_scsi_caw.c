/*
 * COMPARE AND WRITE over simring: emulated (ram handler, completing
 * inline; handler_slow "slow", completing on other threads after random
 * delays) and delegated (handler_slow "slowx", which has a caw callout).
 * Match and miscompare with the exact INFORMATION offset, malformed CDBs,
 * and atomicity under concurrency: duplicated CAWs that each advance a
 * counter (a lost update shows as two successes for one value), and CAWs
 * racing WRITEs over a handler that tears unordered accesses.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/shared/handler_slow.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (16ull << 20)
#define NUM_LBAS (SIZE / BS)

#define SENSE_MISCOMPARE 0x0e
#define ASC_MISCOMPARE 0x1d00

static int setup(void **state)
{
	if (siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	    handlers_load_file(SLOW_HANDLER_PATH))
		return -1;
	*state = open_lun("ram/caw", "caw", SIZE, BS);
	return 0;
}

static void caw_cdb(uint8_t *cdb, uint64_t lba, uint8_t nblocks)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	cdb[13] = nblocks;
}

static void caw(struct siminit *si, uint64_t lba, const void *cmp,
		const void *wr, struct scsi_result *res)
{
	uint8_t cdb[16], buf[2 * BS];

	caw_cdb(cdb, lba, 1);
	memcpy(buf, cmp, BS);
	memcpy(buf + BS, wr, BS);
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_OUT, buf, sizeof(buf),
				     res), 0);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 7 + i * 13 + (i >> 8));
}

static void write_block(struct siminit *si, uint64_t lba, uint8_t *buf)
{
	struct scsi_result res;

	assert_int_equal(siminit_write(si, lba, 1, buf, &res), 0);
	assert_good(&res);
}

static void assert_block(struct siminit *si, uint64_t lba, const uint8_t *want)
{
	uint8_t buf[BS];
	struct scsi_result res;

	assert_int_equal(siminit_read(si, lba, 1, buf, &res), 0);
	assert_good(&res);
	assert_memory_equal(buf, want, BS);
}

static uint32_t sense_info(const struct scsi_result *res)
{
	assert_true(res->sense[0] & 0x80);	/* VALID */
	return (uint32_t)res->sense[3] << 24 | (uint32_t)res->sense[4] << 16 |
	       (uint32_t)res->sense[5] << 8 | res->sense[6];
}

/* Match writes; a difference at byte at is reported there, nothing written. */
static void check_match_and_miscompare(struct siminit *si, size_t at)
{
	uint8_t old[BS], new[BS], wrong[BS];
	struct scsi_result res;

	fill(old, BS, 1);
	fill(new, BS, 2);
	write_block(si, 100, old);
	caw(si, 100, old, new, &res);
	assert_good(&res);
	assert_block(si, 100, new);

	memcpy(wrong, new, BS);
	wrong[at] ^= 0x40;
	caw(si, 100, wrong, old, &res);
	assert_sense(&res, SENSE_MISCOMPARE, ASC_MISCOMPARE);
	assert_int_equal(sense_info(&res), at);
	assert_block(si, 100, new);
}

static void test_caw_emulated(void **state)
{
	check_match_and_miscompare(*state, 300);
	check_match_and_miscompare(*state, 0);
	check_match_and_miscompare(*state, BS - 1);
}

static void test_caw_emulated_async(void **state)
{
	struct siminit *si = open_lun("slow/caw", "slowcaw", SIZE, BS);
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));

	(void)state;
	check_match_and_miscompare(si, 77);
	assert_int_equal(ctl->caw_calls, 0);
	siminit_close(si);
}

/* The handler's caw callout runs it, and its INFORMATION reaches the sense. */
static void test_caw_delegated(void **state)
{
	struct siminit *si = open_lun("slowx/caw", "slowxcaw", SIZE, BS);
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));

	(void)state;
	check_match_and_miscompare(si, 411);
	assert_int_equal(ctl->caw_calls, 2);
	siminit_close(si);
}

/*
 * NUMBER OF LOGICAL BLOCKS 0 with no data: GOOD, nothing written.  With
 * data (libiscsi's 256 blocks, sent as 0 in the one-byte field): refused,
 * nothing written.
 */
static void test_caw_zero_blocks_does_nothing(void **state)
{
	uint8_t cdb[16], old[BS], buf[2 * BS];
	struct scsi_result res;

	fill(old, BS, 3);
	write_block(*state, 200, old);
	caw_cdb(cdb, 200, 0);
	assert_int_equal(siminit_cmd(*state, cdb, SIMRING_DIR_NONE, NULL, 0,
				     &res), 0);
	assert_good(&res);
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf,
				     sizeof(buf), &res), 0);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 13);
	assert_block(*state, 200, old);
}

static void test_caw_malformed(void **state)
{
	uint8_t cdb[16], buf[4 * BS] = { 0 };
	struct scsi_result res;

	/* More blocks than MAXIMUM COMPARE AND WRITE LENGTH (1). */
	caw_cdb(cdb, 10, 2);
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 13);
	/* Data-out holds less, or more, than compare + write data. */
	caw_cdb(cdb, 10, 1);
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, BS + BS / 2, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 13);
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, 4 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 13);
	/* Past the end of the medium. */
	caw_cdb(cdb, NUM_LBAS, 1);
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, 2 * BS, &res);
	assert_sense(&res, 0x05, 0x2100);
	/* WRPROTECT, then a reserved bit of byte 1. */
	caw_cdb(cdb, 10, 1);
	cdb[1] = 0x20;
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, 2 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	assert_int_equal(res.sense[15] & 0x0f, 0x08 | 5);	/* BPV, bit 5 */
	cdb[1] = 0x04;
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, 2 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	/* Reserved bytes 10..12. */
	cdb[1] = 0;
	cdb[11] = 1;
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, 2 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 11);
}

static void test_caw_fua(void **state)
{
	uint8_t cdb[16], buf[2 * BS], want[BS];
	struct scsi_result res;

	fill(buf, BS, 4);
	write_block(*state, 300, buf);
	fill(buf + BS, BS, 5);
	memcpy(want, buf + BS, BS);
	caw_cdb(cdb, 300, 1);
	cdb[1] = 0x08;				/* FUA */
	siminit_cmd(*state, cdb, SIMRING_DIR_OUT, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_block(*state, 300, want);
}

/* The block holding counter value v: v in the first bytes, then a pattern. */
static void counter_block(uint8_t *p, unsigned int v)
{
	fill(p, BS, v);
	memcpy(p, &v, sizeof(v));
}

#define COUNTER_LBA 4242
#define COUNTER_END 48		/* final counter value */
#define COUNTER_WINDOW 8	/* values in flight per round */
#define COUNTER_DUPS 4		/* CAWs per value per round */
#define BATCH (COUNTER_WINDOW * COUNTER_DUPS)

struct batch {
	uint8_t cdb[16];
	uint8_t buf[BATCH][2 * BS];
	struct scsi_result res[BATCH];
	bool done[BATCH];
	unsigned int value[BATCH];
};

static unsigned int read_counter(struct siminit *si)
{
	uint8_t buf[BS];
	struct scsi_result res;
	unsigned int v;

	assert_int_equal(siminit_read(si, COUNTER_LBA, 1, buf, &res), 0);
	assert_good(&res);
	memcpy(&v, buf, sizeof(v));
	return v;
}

/* One round: COUNTER_DUPS CAWs v -> v+1 for each v from cur, all queued. */
static void counter_round(struct siminit *si, struct batch *b,
			  unsigned int cur, unsigned int *succeeded)
{
	unsigned int n = 0;

	caw_cdb(b->cdb, COUNTER_LBA, 1);
	for (unsigned int d = 0; d < COUNTER_DUPS; d++)
		for (unsigned int v = cur; v < cur + COUNTER_WINDOW &&
		     v < COUNTER_END; v++, n++) {
			b->value[n] = v;
			counter_block(b->buf[n], v);
			counter_block(b->buf[n] + BS, v + 1);
			assert_int_equal(siminit_submit(si, b->cdb, SIMRING_DIR_OUT,
							b->buf[n], 2 * BS,
							&b->res[n], &b->done[n]), 0);
		}
	assert_int_equal(siminit_wait_all(si, 30000), 0);
	for (unsigned int i = 0; i < n; i++) {
		assert_true(b->done[i]);
		if (b->res[i].status == STATUS_GOOD)
			succeeded[b->value[i]]++;
		else
			assert_sense(&b->res[i], SENSE_MISCOMPARE, ASC_MISCOMPARE);
	}
}

/*
 * Every value must be advanced exactly once: two CAWs comparing against
 * the same value both succeeding is the lost update atomicity forbids.
 */
static void check_counter(struct siminit *si)
{
	unsigned int succeeded[COUNTER_END] = { 0 }, cur = 0;
	struct batch *b = calloc(1, sizeof(*b));
	uint8_t want[BS];

	assert_non_null(b);
	counter_block(want, 0);
	write_block(si, COUNTER_LBA, want);
	for (int round = 0; cur < COUNTER_END && round < COUNTER_END; round++) {
		unsigned int next;

		counter_round(si, b, cur, succeeded);
		next = read_counter(si);
		assert_true(next > cur);
		cur = next;
	}
	assert_int_equal(cur, COUNTER_END);
	for (unsigned int v = 0; v < COUNTER_END; v++)
		assert_int_equal(succeeded[v], 1);
	counter_block(want, COUNTER_END);
	assert_block(si, COUNTER_LBA, want);
	free(b);
}

static void test_caw_counter_inline(void **state)
{
	check_counter(*state);
}

static void test_caw_counter_async(void **state)
{
	struct siminit *si = open_lun("slow/counter", "slowcounter", SIZE, BS);

	(void)state;
	check_counter(si);
	siminit_close(si);
}

static void test_caw_counter_delegated(void **state)
{
	struct siminit *si = open_lun("slowx/counter", "slowxcounter", SIZE, BS);

	(void)state;
	check_counter(si);
	siminit_close(si);
}

#define RACE_LBA 777
#define RACE_ROUNDS 8
#define RACE_CMDS 48		/* per round: WRITE, CAW X->Y, CAW Y->X, ... */

struct race {
	uint8_t wcdb[16], ccdb[16];
	uint8_t buf[RACE_CMDS][2 * BS];
	struct scsi_result res[RACE_CMDS];
	bool done[RACE_CMDS];
};

static void queue_race(struct siminit *si, struct race *r, unsigned int i)
{
	uint8_t *cdb = r->ccdb;
	size_t len = 2 * BS;

	switch (i % 3) {
	case 0:		/* WRITE of all-X */
		memset(r->buf[i], 'X', BS);
		cdb = r->wcdb;
		len = BS;
		break;
	case 1:
		memset(r->buf[i], 'X', BS);
		memset(r->buf[i] + BS, 'Y', BS);
		break;
	default:
		memset(r->buf[i], 'Y', BS);
		memset(r->buf[i] + BS, 'X', BS);
	}
	assert_int_equal(siminit_submit(si, cdb, SIMRING_DIR_OUT, r->buf[i], len,
					&r->res[i], &r->done[i]), 0);
}

/*
 * WRITEs of all-X race CAWs X->Y and Y->X on one block, over a handler
 * that moves data in pieces: a CAW not kept apart from a WRITE would read
 * or leave a half-X half-Y block, seen as a miscompare past byte 0.
 */
static void test_caw_atomic_against_writes(void **state)
{
	struct siminit *si = open_lun("slow/race", "slowrace", SIZE, BS);
	struct race *r = calloc(1, sizeof(*r));
	unsigned int good = 0;
	uint8_t buf[BS];
	struct scsi_result res;

	(void)state;
	assert_non_null(r);
	memset(buf, 'X', BS);
	write_block(si, RACE_LBA, buf);
	caw_cdb(r->ccdb, RACE_LBA, 1);
	caw_cdb(r->wcdb, RACE_LBA, 1);
	r->wcdb[0] = 0x8a;			/* WRITE(16), 1 block */
	for (int round = 0; round < RACE_ROUNDS; round++) {
		for (unsigned int i = 0; i < RACE_CMDS; i++)
			queue_race(si, r, i);
		assert_int_equal(siminit_wait_all(si, 30000), 0);
		for (unsigned int i = 0; i < RACE_CMDS; i++) {
			if (r->res[i].status == STATUS_GOOD) {
				good += i % 3 != 0;
				continue;
			}
			assert_sense(&r->res[i], SENSE_MISCOMPARE, ASC_MISCOMPARE);
			assert_int_equal(sense_info(&r->res[i]), 0);
		}
	}
	assert_true(good > 0);
	assert_int_equal(siminit_read(si, RACE_LBA, 1, buf, &res), 0);
	assert_good(&res);
	for (size_t i = 1; i < BS; i++)
		assert_int_equal(buf[i], buf[0]);
	free(r);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caw_emulated),
		cmocka_unit_test(test_caw_emulated_async),
		cmocka_unit_test(test_caw_delegated),
		cmocka_unit_test(test_caw_zero_blocks_does_nothing),
		cmocka_unit_test(test_caw_malformed),
		cmocka_unit_test(test_caw_fua),
		cmocka_unit_test(test_caw_counter_inline),
		cmocka_unit_test(test_caw_counter_async),
		cmocka_unit_test(test_caw_counter_delegated),
		cmocka_unit_test(test_caw_atomic_against_writes),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
