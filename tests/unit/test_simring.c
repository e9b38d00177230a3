/*
 * runner/sim/simring.c, the in-process kernel side of a TCMU device, with
 * lunar's ring as its user side: command ids (lowest free from 1, reused),
 * data blocks (lowest free first, neighbours merged into one iovec, gaps
 * split), ring and data area exhaustion and recovery, commands that can
 * never fit, completion checks, blocking and ring reset.
 */
#include <errno.h>

#include "ringfx.h"

#define BS 512
#define GOOD 0x00
#define CHECK_CONDITION 0x02
#define BUSY 0x08

static const uint8_t tur[6] = { 0x00 };
static const uint8_t write10[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
static uint8_t junk[64 * BS];

static int setup_8k(void **state)
{
	*state = ringfx_open(8192, 64, BS, 0);
	return 0;
}

static int setup_16_blocks(void **state)
{
	*state = ringfx_open(8192, 16, BS, 0);
	return 0;
}

static int setup_4_blocks(void **state)
{
	*state = ringfx_open(8192, 4, BS, 0);
	return 0;
}

static int setup_1k(void **state)
{
	*state = ringfx_open(1024, 64, BS, 0);
	return 0;
}

static int setup_no_read_len(void **state)
{
	*state = ringfx_open(8192, 64, BS, TCMU_MAILBOX_FLAG_CAP_OOOC |
			     TCMU_MAILBOX_FLAG_CAP_TMR);
	return 0;
}

static int teardown(void **state)
{
	ringfx_close(*state);
	return 0;
}

static uint16_t submit_tur(struct ringfx *f)
{
	return ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
}

static uint16_t submit_blocks(struct ringfx *f, uint32_t nblocks)
{
	return ringfx_submit(f, write10, SIMRING_DIR_OUT, junk,
			     (size_t)nblocks * BS);
}

/* Decode what is queued, complete ids[] and let simring reap them. */
static void finish(struct ringfx *f, const uint16_t *ids, int n)
{
	ringfx_drain(f);
	for (int i = 0; i < n; i++)
		ringfx_complete(f, ids[i], GOOD);
	assert_int_equal(ringfx_reap(f), n);
}

/* The iovec i of the decoded command starts at data block blk. */
static void assert_iov(struct ringfx *f, uint32_t i, uint32_t blk, size_t len)
{
	assert_ptr_equal(f->cmd.iov[i].iov_base,
			 f->base + f->ring.data_off + (size_t)blk * BS);
	assert_int_equal(f->cmd.iov[i].iov_len, len);
}

static void test_lowest_free_id(void **state)
{
	struct ringfx *f = *state;
	uint16_t two = 2, rest[3] = { 1, 3, 4 };

	assert_int_equal(submit_tur(f), 1);
	assert_int_equal(submit_tur(f), 2);
	assert_int_equal(submit_tur(f), 3);
	finish(f, &two, 1);
	assert_int_equal(f->done[0].cmd_id, 2);
	assert_int_equal(submit_tur(f), 2);
	assert_int_equal(submit_tur(f), 4);
	assert_int_equal(simring_inflight(f->sr), 4);
	finish(f, rest, 3);
	assert_int_equal(submit_tur(f), 1);
	assert_int_equal(simring_inflight(f->sr), 2);
}

/* Lowest free blocks first; adjacent blocks share one iovec. */
static void test_data_blocks(void **state)
{
	struct ringfx *f = *state;
	const size_t len[4] = { 1024, 512, 512, 700 };
	const uint32_t first[4] = { 0, 2, 3, 4 };
	static uint8_t pat[4][1024], in[5 * BS], want[5 * BS];
	uint16_t id[4], ac[2], e, rest[3];
	uint8_t got[1024];

	for (int i = 0; i < 4; i++) {
		ringfx_pattern(pat[i], len[i], (unsigned int)i);
		id[i] = ringfx_submit(f, write10, SIMRING_DIR_OUT, pat[i], len[i]);
	}
	for (int i = 0; i < 4; i++) {
		ringfx_expect_cmd(f, id[i]);
		assert_int_equal(f->cmd.iov_cnt, 1);
		assert_iov(f, 0, first[i], len[i]);
		assert_int_equal(ringfx_gather(f->cmd.iov, 1, got), len[i]);
		assert_memory_equal(got, pat[i], len[i]);
	}
	ac[0] = id[0];
	ac[1] = id[2];
	finish(f, ac, 2);

	/* Free: 0-1, 3, 6-15.  Five blocks: 0-1 | 3 | 6-7. */
	e = ringfx_submit(f, write10, SIMRING_DIR_IN, in, sizeof(in));
	ringfx_expect_cmd(f, e);
	assert_int_equal(f->cmd.iov_cnt, 3);
	assert_iov(f, 0, 0, 2 * BS);
	assert_iov(f, 1, 3, BS);
	assert_iov(f, 2, 6, 2 * BS);
	ringfx_pattern(want, sizeof(want), 9);
	ringfx_scatter(f->cmd.iov, f->cmd.iov_cnt, want, sizeof(want));
	rest[0] = e;
	rest[1] = id[1];
	rest[2] = id[3];
	finish(f, rest, 3);
	assert_int_equal(f->done[2].cmd_id, e);
	assert_int_equal(f->done[2].data_len, sizeof(in));
	assert_memory_equal(in, want, sizeof(in));
}

/*
 * A 1 KiB ring takes eight 120-byte entries.  At head 960 the next one
 * needs a 64-byte PAD as well, so one reaped slot is not enough room.
 */
static void test_ring_full(void **state)
{
	struct ringfx *f = *state;
	struct tcmu_cmd_entry_hdr pad;
	uint16_t one = 1, two = 2;

	for (int i = 0; i < 8; i++)
		submit_tur(f);
	assert_int_equal(simring_submit(f->sr, tur, SIMRING_DIR_NONE, NULL, 0,
					ringfx_record, f, NULL), -EAGAIN);
	assert_int_equal(simring_inflight(f->sr), 8);
	assert_int_equal(f->mb->cmd_head, 960);

	finish(f, &one, 1);
	assert_int_equal(simring_submit(f->sr, tur, SIMRING_DIR_NONE, NULL, 0,
					ringfx_record, f, NULL), -EAGAIN);
	finish(f, &two, 1);
	assert_int_equal(submit_tur(f), 1);
	memcpy(&pad, ringfx_entry(f, 960), sizeof(pad));
	assert_int_equal(tcmu_hdr_get_op(pad.len_op), TCMU_OP_PAD);
	assert_int_equal(tcmu_hdr_get_len(pad.len_op), 64);
	assert_int_equal(f->mb->cmd_head, 120);
	ringfx_expect_cmd(f, 1);
}

static void test_data_area_full(void **state)
{
	struct ringfx *f = *state;
	uint16_t all = submit_blocks(f, 4);

	assert_int_equal(simring_submit(f->sr, write10, SIMRING_DIR_OUT, junk, 1,
					ringfx_record, f, NULL), -EAGAIN);
	assert_int_equal(simring_submit(f->sr, write10, SIMRING_DIR_IN, junk, 1,
					ringfx_record, f, NULL), -EAGAIN);
	/* No data, no blocks needed. */
	submit_tur(f);
	finish(f, &all, 1);
	submit_blocks(f, 4);
	assert_int_equal(simring_inflight(f->sr), 2);
}

static void test_larger_than_data_area(void **state)
{
	struct ringfx *f = *state;
	uint16_t one;

	assert_int_equal(simring_submit(f->sr, write10, SIMRING_DIR_OUT, junk,
					4 * BS + 1, ringfx_record, f, NULL),
			 -E2BIG);
	assert_int_equal(simring_submit(f->sr, write10, SIMRING_DIR_IN, junk,
					100 * BS, ringfx_record, f, NULL),
			 -E2BIG);
	/* Fits the area, not the free part of it: wait, not never. */
	one = submit_blocks(f, 1);
	assert_int_equal(simring_submit(f->sr, write10, SIMRING_DIR_OUT, junk,
					4 * BS, ringfx_record, f, NULL),
			 -EAGAIN);
	finish(f, &one, 1);
	submit_blocks(f, 4);
}

/*
 * Leave one command owning the data blocks 0, 2, ..., 2 * (want - 1) and
 * nothing else in flight.  Each round, a holder of k scattered blocks
 * (every other block from parity p) plus a filler and two one-block
 * spacers make the lowest free blocks alternate, so the next holder gets
 * more scattered blocks than the last, each in an iovec of its own.
 */
static uint16_t scatter_blocks(struct ringfx *f, uint32_t want)
{
	uint32_t k = 1, p = 0;
	uint16_t h = submit_blocks(f, 1);

	ringfx_drain(f);
	while (k < want || p) {
		uint32_t holes = k - 1 + p;
		uint16_t freed[2], keep[2], y;
		int n = 0;

		if (holes)
			freed[n++] = submit_blocks(f, holes);	/* the gaps */
		freed[n++] = submit_blocks(f, 1);		/* top + 1 */
		keep[1] = submit_blocks(f, 1);			/* top + 2 */
		finish(f, freed, n);
		y = submit_blocks(f, holes + 2);
		ringfx_expect_cmd(f, y);
		assert_int_equal(f->cmd.iov_cnt, holes + 2);
		for (uint32_t j = 0; j < holes + 2; j++)
			assert_iov(f, j, 1 - p + 2 * j, BS);
		keep[0] = h;
		finish(f, keep, 2);
		h = y;
		k += p + 1;
		p = 1 - p;
	}
	return h;
}

/* An entry larger than half the ring can never be queued: -E2BIG. */
static void test_larger_than_half_ring(void **state)
{
	struct ringfx *f = *state;
	uint8_t var[264] = { 0x7f, 0, 0, 0, 0, 0, 0, 255 };

	scatter_blocks(f, 13);
	/* Blocks 1, 3, ..., 23, 25: 13 iovecs, 48 + 13 * 16 + 264 > 512. */
	assert_int_equal(simring_submit(f->sr, var, SIMRING_DIR_OUT, junk,
					13 * BS, ringfx_record, f, NULL),
			 -E2BIG);
	assert_int_equal(simring_inflight(f->sr), 1);
	/* Its blocks went back: a small CDB gets the same thirteen. */
	ringfx_expect_cmd(f, submit_blocks(f, 13));
	assert_int_equal(f->cmd.iov_cnt, 13);
	for (uint32_t j = 0; j < 13; j++)
		assert_iov(f, j, 1 + 2 * j, BS);
}

/*
 * Like the kernel, every slot that is neither PAD nor TMR carries a
 * completion, even one whose entry had an unknown opcode: with
 * out-of-order completion it may hold another command's status.
 */
static void test_completion_in_unknown_op_slot(void **state)
{
	struct ringfx *f = *state;
	uint64_t raw[14] = { 0 };
	struct tcmu_cmd_entry_hdr *hdr = (void *)raw;
	uint16_t ids[2];

	hdr->len_op = tcmu_hdr_len_op(sizeof(raw), TCMU_OP_PAD) | 5;
	hdr->cmd_id = 40;
	assert_int_equal(simring_inject(f->sr, raw, sizeof(raw), ringfx_record,
					f), 0);
	ids[0] = submit_tur(f);
	ids[1] = 40;
	finish(f, ids, 2);
	assert_int_equal(f->done[0].cmd_id, ids[0]);
	assert_int_equal(f->done[1].cmd_id, 40);
	assert_int_equal(simring_inflight(f->sr), 0);
}

/* A completion naming a command the kernel never sent breaks the ring. */
static void test_unknown_completion(void **state)
{
	struct ringfx *f = *state;
	uint16_t id = submit_tur(f);

	ringfx_expect_cmd(f, id);
	ringfx_complete(f, 77, GOOD);
	assert_int_equal(ringfx_reap(f), -EPROTO);
	assert_non_null(simring_error(f->sr));
	assert_string_equal(simring_error(f->sr),
			    "cmd_id 77 not found, ring is broken");
	assert_int_equal(simring_submit(f->sr, tur, SIMRING_DIR_NONE, NULL, 0,
					ringfx_record, f, NULL), -EIO);
	assert_int_equal(ringfx_reap(f), -EPROTO);
	assert_int_equal(simring_inflight(f->sr), 1);
	assert_int_equal(f->ndone, 0);
}

/* A cmd_tail the user side could never have written also breaks it. */
static void test_bad_tail(void **state)
{
	struct ringfx *f = *state;

	f->mb->cmd_tail = 12;
	assert_int_equal(ringfx_reap(f), -EPROTO);
	assert_string_equal(simring_error(f->sr),
			    "cmd_tail 12 outside the command ring");
}

static void test_blocked(void **state)
{
	struct ringfx *f = *state;

	simring_set_blocked(f->sr, true);
	assert_int_equal(simring_submit(f->sr, tur, SIMRING_DIR_NONE, NULL, 0,
					ringfx_record, f, NULL), -EBUSY);
	assert_int_equal(simring_inflight(f->sr), 0);
	assert_int_equal(f->mb->cmd_head, 0);
	simring_set_blocked(f->sr, false);
	assert_int_equal(submit_tur(f), 1);
}

/*
 * reset_ring fails everything in flight back as expired, empties the ring
 * and frees every data block; the user side resynchronises to offset 0.
 */
static void test_reset_ring(void **state)
{
	struct ringfx *f = *state;
	static uint8_t in[1024], out[512];
	uint16_t a, b, c;

	a = ringfx_submit(f, write10, SIMRING_DIR_IN, in, sizeof(in));
	b = ringfx_submit(f, write10, SIMRING_DIR_OUT, out, sizeof(out));
	c = submit_tur(f);
	ringfx_expect_cmd(f, a);
	ringfx_expect_cmd(f, b);
	ringfx_complete(f, a, GOOD);
	assert_int_equal(ringfx_reap(f), 1);

	simring_reset_ring(f->sr);
	assert_int_equal(f->ndone, 3);
	assert_int_equal(f->done[1].cmd_id, b);
	assert_int_equal(f->done[2].cmd_id, c);
	for (int i = 1; i < 3; i++) {
		assert_true(f->done[i].expired);
		assert_int_equal(f->done[i].data_len, 0);
	}
	assert_false(f->done[0].expired);
	assert_int_equal(simring_inflight(f->sr), 0);
	assert_int_equal(f->mb->cmd_head, 0);
	assert_int_equal(f->mb->cmd_tail, 0);
	assert_null(simring_error(f->sr));

	assert_int_equal(submit_blocks(f, 16), 1);
	ring_sync_positions(&f->ring);
	ringfx_expect_cmd(f, 1);
	assert_int_equal(f->cmd.iov_cnt, 1);
	assert_iov(f, 0, 0, 16 * BS);
}

/* reset_ring also clears a broken ring. */
static void test_reset_repairs(void **state)
{
	struct ringfx *f = *state;
	uint16_t id = submit_tur(f);

	ringfx_expect_cmd(f, id);
	ringfx_complete(f, 99, GOOD);
	assert_int_equal(ringfx_reap(f), -EPROTO);
	simring_reset_ring(f->sr);
	assert_null(simring_error(f->sr));
	assert_int_equal(f->ndone, 1);
	assert_true(f->done[0].expired);
	ring_sync_positions(&f->ring);
	id = submit_tur(f);
	ringfx_expect_cmd(f, id);
	ringfx_complete(f, id, GOOD);
	assert_int_equal(ringfx_reap(f), 1);
}

/* Without CAP_READ_LEN a short read_len is ignored: all data goes back. */
static void test_read_len_needs_capability(void **state)
{
	struct ringfx *f = *state;
	static uint8_t in[1024];
	struct ring_result res = {
		.scsi_status = GOOD, .uflags = TCMU_UFLAG_READ_LEN,
		.read_len = 100,
	};
	uint16_t id = ringfx_submit(f, write10, SIMRING_DIR_IN, in, sizeof(in));

	ringfx_expect_cmd(f, id);
	assert_int_equal(ring_complete(&f->ring, id, &res), 0);
	assert_int_equal(ringfx_reap(f), 1);
	assert_int_equal(f->done[0].data_len, sizeof(in));
}

/* The UNKNOWN_OP flag fails the command whatever the status says. */
static void test_unknown_op_flag(void **state)
{
	struct ringfx *f = *state;
	struct ring_result res = {
		.scsi_status = GOOD, .uflags = TCMU_UFLAG_UNKNOWN_OP,
	};
	uint16_t id = submit_tur(f);

	ringfx_expect_cmd(f, id);
	assert_int_equal(ring_complete(&f->ring, id, &res), 0);
	assert_int_equal(ringfx_reap(f), 1);
	assert_int_equal(f->done[0].status, CHECK_CONDITION);
}

/*
 * A TMR that does not fit waits for room and keeps its place: 8 entries
 * leave head at 960 and 63 bytes free; a 72-byte TMR needs a 64-byte PAD.
 */
static void test_tmr_waits_for_room(void **state)
{
	struct ringfx *f = *state;
	uint16_t ids[20], one = 1;
	struct tcmu_cmd_entry_hdr pad;

	for (int i = 0; i < 20; i++)
		ids[i] = (uint16_t)(i + 1);
	for (int i = 0; i < 8; i++)
		submit_tur(f);
	assert_int_equal(simring_tmr(f->sr, TCMU_TMR_ABORT_TASK, ids, 20), 0);
	assert_int_equal(f->mb->cmd_head, 960);
	finish(f, &one, 1);
	memcpy(&pad, ringfx_entry(f, 960), sizeof(pad));
	assert_int_equal(tcmu_hdr_get_op(pad.len_op), TCMU_OP_PAD);
	assert_int_equal(f->mb->cmd_head, 72);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->cmd_cnt, 20);
	assert_int_equal(f->tmr->cmd_ids[19], 20);
}

static void test_inject_arguments(void **state)
{
	struct ringfx *f = *state;
	uint8_t raw[8192] = { 0 };
	struct tcmu_cmd_entry_hdr *hdr = (void *)raw;
	uint16_t id = submit_tur(f);

	hdr->len_op = tcmu_hdr_len_op(112, TCMU_OP_CMD);
	assert_int_equal(simring_inject(f->sr, raw, 12, NULL, NULL), -EINVAL);
	assert_int_equal(simring_inject(f->sr, raw, 0, NULL, NULL), -EINVAL);
	assert_int_equal(simring_inject(f->sr, raw, 4096 + 8, NULL, NULL),
			 -EINVAL);
	hdr->cmd_id = id;
	assert_int_equal(simring_inject(f->sr, raw, 112, ringfx_record, f),
			 -EEXIST);
	assert_int_equal(f->mb->cmd_head, 120);
	hdr->cmd_id = (uint16_t)(id + 1);
	assert_int_equal(simring_inject(f->sr, raw, 112, ringfx_record, f), 0);
	assert_int_equal(simring_inflight(f->sr), 2);
	/* The injected id is taken: the next submission skips it. */
	assert_int_equal(submit_tur(f), id + 2);
}

#define RING_TEST(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RING_TEST(test_lowest_free_id, setup_8k),
		RING_TEST(test_data_blocks, setup_16_blocks),
		RING_TEST(test_ring_full, setup_1k),
		RING_TEST(test_data_area_full, setup_4_blocks),
		RING_TEST(test_larger_than_data_area, setup_4_blocks),
		RING_TEST(test_larger_than_half_ring, setup_1k),
		RING_TEST(test_completion_in_unknown_op_slot, setup_8k),
		RING_TEST(test_unknown_completion, setup_8k),
		RING_TEST(test_bad_tail, setup_8k),
		RING_TEST(test_blocked, setup_8k),
		RING_TEST(test_reset_ring, setup_16_blocks),
		RING_TEST(test_reset_repairs, setup_8k),
		RING_TEST(test_read_len_needs_capability, setup_no_read_len),
		RING_TEST(test_unknown_op_flag, setup_8k),
		RING_TEST(test_tmr_waits_for_room, setup_1k),
		RING_TEST(test_inject_arguments, setup_8k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
