/*
 * runner/ring/ring.c, the user side of the TCMU command ring, driven by
 * simring playing the kernel: decoding of every CDB size, out-of-order
 * completions with status/sense/READ_LEN, wrap-around through a PAD
 * entry, TMR entries, and hostile ring contents (bad iovecs, CDB offsets,
 * counts, lengths, opcodes, headers and mailboxes), which must be refused
 * without touching memory outside the mapping.
 *
 * Entry sizes asserted below follow the kernel's layout: a command entry
 * is max(48 + 16 * iovecs, 112) bytes plus its CDB rounded up to 8.
 */
#include <errno.h>
#include <sys/mman.h>
#include <time.h>

#include "ringfx.h"

#define BS 512
#define GOOD 0x00
#define CHECK_CONDITION 0x02
#define BUSY 0x08

static const uint8_t tur[6] = { 0x00 };
static const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0 };

static int setup_8k(void **state)
{
	*state = ringfx_open(8192, 64, BS, 0);
	return 0;
}

/* 1 KiB ring: seven or eight entries fill it, so wrap-around comes soon. */
static int setup_1k(void **state)
{
	*state = ringfx_open(1024, 64, BS, 0);
	return 0;
}

static int setup_32k(void **state)
{
	*state = ringfx_open(32768, 64, BS, 0);
	return 0;
}

static int teardown(void **state)
{
	ringfx_close(*state);
	return 0;
}

/* Iovecs of the decoded command lie in the data area and hold want[]. */
static void assert_cmd_data(struct ringfx *f, const uint8_t *want, size_t len)
{
	uint8_t got[8192];
	uint8_t *data = f->base + f->ring.data_off;
	uint8_t *end = f->base + simring_map_len(f->sr);

	for (uint32_t i = 0; i < f->cmd.iov_cnt; i++) {
		uint8_t *p = f->cmd.iov[i].iov_base;

		assert_true(p >= data && p + f->cmd.iov[i].iov_len <= end);
	}
	assert_int_equal(ringfx_gather(f->cmd.iov, f->cmd.iov_cnt, got), len);
	assert_memory_equal(got, want, len);
}

/* Every CDB length the kernel passes arrives with the same bytes and data. */
static void test_decode_cdb_lengths(void **state)
{
	struct ringfx *f = *state;
	uint8_t w6[6] = { 0x0a, 0x01, 0x02, 0x03, 0x01, 0x00 };
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0x10, 0x20, 0, 0, 2, 0 };
	uint8_t w12[12] = { 0xaa, 0, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0 };
	uint8_t w16[16] = { 0x8a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 6, 0, 0 };
	uint8_t var[32] = { 0x7f, 0, 0, 0, 0, 0, 0, 24, 0x00, 0x0b };
	const struct {
		const uint8_t *cdb;
		uint16_t cdb_len;
		size_t len;
	} c[] = {
		{ w6, 6, 512 }, { w10, 10, 1000 }, { w12, 12, 1536 },
		{ w16, 16, 3000 }, { var, 32, 100 }, { tur, 6, 0 },
	};
	static uint8_t data[6][4096];
	uint16_t id[6];

	for (size_t i = 8; i < sizeof(var); i++)
		var[i] = (uint8_t)(0xc0 + i);
	for (size_t i = 0; i < 6; i++) {
		ringfx_pattern(data[i], c[i].len, (unsigned int)i);
		id[i] = ringfx_submit(f, c[i].cdb, c[i].len ? SIMRING_DIR_OUT :
				      SIMRING_DIR_NONE, data[i], c[i].len);
	}
	for (size_t i = 0; i < 6; i++) {
		ringfx_expect_cmd(f, id[i]);
		assert_int_equal(f->cmd.cdb_len, c[i].cdb_len);
		assert_memory_equal(f->cmd.cdb, c[i].cdb, c[i].cdb_len);
		assert_int_equal(f->cmd.iov_bidi_cnt, 0);
		assert_null(f->cmd.bad_reason);
		assert_int_equal(f->cmd.iov_cnt, c[i].len ? 1 : 0);
		assert_cmd_data(f, data[i], c[i].len);
	}
	assert_int_equal(ringfx_next(f), 0);
	assert_false(ring_is_idle(&f->ring));
}

/*
 * Completions in any order: each lands in the oldest slot with the
 * completed command's id; status, sense, data-in and READ_LEN reach the
 * initiator, and cmd_tail advances one slot per completion.
 */
static void test_out_of_order_completion(void **state)
{
	struct ringfx *f = *state;
	const size_t len[4] = { 1024, 512, 2048, 512 };
	static uint8_t buf[4][2048], pat[4][2048];
	uint8_t sense[TCMU_SENSE_BUFFERSIZE] = { 0x70, 0, 0x03, 0, 0, 0, 0,
						 0x0a, 0, 0, 0, 0, 0x11, 0x00 };
	struct ring_result res[4] = {
		{ .scsi_status = CHECK_CONDITION, .sense = sense },
		{ .scsi_status = BUSY },
		{ .scsi_status = GOOD, .uflags = TCMU_UFLAG_READ_LEN,
		  .read_len = 700 },
		/* read_len without the READ_LEN flag means nothing. */
		{ .scsi_status = GOOD, .read_len = 100 },
	};
	const int order[4] = { 2, 0, 3, 1 };
	struct tcmu_cmd_entry *slot0 = (void *)ringfx_entry(f, 0);
	uint16_t id[4];

	memset(buf, 0xee, sizeof(buf));
	for (int i = 0; i < 4; i++)
		id[i] = ringfx_submit(f, read10, SIMRING_DIR_IN, buf[i], len[i]);
	for (int i = 0; i < 4; i++) {
		ringfx_expect_cmd(f, id[i]);
		ringfx_pattern(pat[i], len[i], 10u + (unsigned int)i);
		ringfx_scatter(f->cmd.iov, f->cmd.iov_cnt, pat[i], len[i]);
	}
	for (int k = 0; k < 4; k++) {
		int i = order[k];

		assert_int_equal(ring_complete(&f->ring, id[i], &res[i]), 0);
		assert_int_equal(ringfx_tail(f), 128u * (k + 1));
	}
	assert_int_equal(slot0->hdr.cmd_id, id[2]);
	assert_int_equal(slot0->hdr.uflags, TCMU_UFLAG_READ_LEN);
	assert_int_equal(slot0->rsp.read_len, 700);
	assert_true(ring_is_idle(&f->ring));

	assert_int_equal(ringfx_reap(f), 4);
	for (int k = 0; k < 4; k++)
		assert_int_equal(f->done[k].cmd_id, id[order[k]]);
	/* C: GOOD, only the first 700 bytes delivered. */
	assert_int_equal(f->done[0].status, GOOD);
	assert_int_equal(f->done[0].data_len, 700);
	assert_memory_equal(buf[2], pat[2], 700);
	assert_int_equal(buf[2][700], 0xee);
	/* A: CHECK CONDITION with our sense, no data. */
	assert_int_equal(f->done[1].status, CHECK_CONDITION);
	assert_memory_equal(f->done[1].sense, sense, sizeof(sense));
	assert_int_equal(f->done[1].data_len, 0);
	assert_int_equal(buf[0][0], 0xee);
	/* D: GOOD, all 512 bytes. */
	assert_int_equal(f->done[2].data_len, 512);
	assert_memory_equal(buf[3], pat[3], 512);
	/* B: BUSY (the kernel gathers data-in for every status but CC). */
	assert_int_equal(f->done[3].status, BUSY);
	assert_int_equal(f->done[3].data_len, 512);
	assert_int_equal(simring_inflight(f->sr), 0);
}

/*
 * A command that does not fit before the end of the ring is placed at 0
 * behind a PAD; ring_next skips the PAD and the completion that reaches
 * it publishes cmd_tail past it.
 */
static void test_wrap_around_pad(void **state)
{
	struct ringfx *f = *state;
	uint8_t var[40] = { 0x7f, 0, 0, 0, 0, 0, 0, 32, 0x12, 0x34 };
	const uint32_t tails[5] = { 536, 688, 840, 0, 152 };
	const int order[5] = { 4, 2, 0, 3, 1 };
	static uint8_t buf[5][BS], pat[5][BS];
	struct tcmu_cmd_entry_hdr pad;
	uint16_t id[5];

	/* Move head and tail to 384 (three 128-byte entries). */
	for (int i = 0; i < 3; i++)
		id[i] = ringfx_submit(f, read10, SIMRING_DIR_IN, buf[i], BS);
	assert_int_equal(ringfx_drain(f), 3);
	for (int i = 0; i < 3; i++)
		ringfx_complete(f, id[i], GOOD);
	assert_int_equal(ringfx_reap(f), 3);
	assert_int_equal(ringfx_tail(f), 384);

	/* 152-byte entries at 384, 536, 688, 840; the fifth wraps. */
	for (int i = 0; i < 5; i++)
		id[i] = ringfx_submit(f, var, SIMRING_DIR_IN, buf[i], BS);
	memcpy(&pad, ringfx_entry(f, 992), sizeof(pad));
	assert_int_equal(tcmu_hdr_get_op(pad.len_op), TCMU_OP_PAD);
	assert_int_equal(tcmu_hdr_get_len(pad.len_op), 32);
	assert_int_equal(f->mb->cmd_head, 152);

	for (int i = 0; i < 5; i++) {
		ringfx_expect_cmd(f, id[i]);
		assert_int_equal(f->cmd.cdb_len, 40);
		assert_memory_equal(f->cmd.cdb, var, 40);
		ringfx_pattern(pat[i], BS, 20u + (unsigned int)i);
		ringfx_scatter(f->cmd.iov, f->cmd.iov_cnt, pat[i], BS);
	}
	assert_int_equal(ringfx_next(f), 0);

	for (int k = 0; k < 5; k++) {
		ringfx_complete(f, id[order[k]], GOOD);
		assert_int_equal(ringfx_tail(f), tails[k]);
	}
	assert_true(ring_is_idle(&f->ring));
	assert_int_equal(ringfx_reap(f), 5);
	for (int k = 0; k < 5; k++) {
		int i = order[k];

		assert_int_equal(f->done[3 + k].cmd_id, id[i]);
		assert_int_equal(f->done[3 + k].data_len, BS);
		assert_memory_equal(buf[i], pat[i], BS);
	}
}

/* TMR entries are decoded with type and ids; completions step over them. */
static void test_tmr_entries(void **state)
{
	struct ringfx *f = *state;
	uint16_t a, b, c, d, ids[2], one = 7;

	a = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);	/* 0..120 */
	b = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);	/* ..240 */
	ids[0] = b;
	ids[1] = a;
	assert_int_equal(simring_tmr(f->sr, TCMU_TMR_ABORT_TASK, ids, 2), 0);
	c = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);	/* 280..400 */

	ringfx_expect_cmd(f, a);
	ringfx_expect_cmd(f, b);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->type, TCMU_TMR_ABORT_TASK);
	assert_int_equal(f->tmr->cmd_cnt, 2);
	assert_int_equal(f->tmr->cmd_ids[0], b);
	assert_int_equal(f->tmr->cmd_ids[1], a);
	ringfx_expect_cmd(f, c);

	ringfx_complete(f, c, GOOD);
	assert_int_equal(ringfx_tail(f), 120);
	ringfx_complete(f, b, GOOD);
	assert_int_equal(ringfx_tail(f), 280);	/* the 40-byte TMR skipped */
	ringfx_complete(f, a, GOOD);
	assert_int_equal(ringfx_tail(f), 400);
	assert_int_equal(ringfx_reap(f), 3);
	assert_int_equal(f->done[0].cmd_id, c);
	assert_int_equal(f->done[1].cmd_id, b);
	assert_int_equal(f->done[2].cmd_id, a);

	/* A trailing TMR (no ids) is stepped over by the last completion. */
	d = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	assert_int_equal(simring_tmr(f->sr, TCMU_TMR_LUN_RESET, NULL, 0), 0);
	ringfx_expect_cmd(f, d);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->type, TCMU_TMR_LUN_RESET);
	assert_int_equal(f->tmr->cmd_cnt, 0);
	ringfx_complete(f, d, GOOD);
	assert_int_equal(ringfx_tail(f), 552);
	assert_int_equal(f->mb->cmd_head, 552);

	/* A TMR alone: ring_is_idle() publishes the tail past it once read. */
	assert_int_equal(simring_tmr(f->sr, TCMU_TMR_ABORT_TASK_SET, &one, 1), 0);
	assert_false(ring_is_idle(&f->ring));
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->cmd_ids[0], 7);
	assert_true(ring_is_idle(&f->ring));
	assert_int_equal(ringfx_tail(f), 592);
	assert_int_equal(ringfx_reap(f), 1);	/* d; TMRs are not completions */
}

/* Raw entry bytes for simring_inject(). */
union raw_entry {
	struct tcmu_cmd_entry cmd;
	struct tcmu_tmr_entry tmr;
	uint8_t bytes[16384];
	uint64_t align;
};

static struct iovec *raw_iov(union raw_entry *e)
{
	return (struct iovec *)(e->bytes + offsetof(struct tcmu_cmd_entry,
						    req.iov));
}

/* Absolute offset (in the mapping) of the next entry simring places. */
static uint64_t next_entry_off(struct ringfx *f)
{
	return f->mb->cmdr_off + (uint64_t)f->mb->cmd_head;
}

/* Inject e (len bytes) as command id, with no PAD in front of it. */
static void inject(struct ringfx *f, union raw_entry *e, uint32_t len,
		   bool track)
{
	uint32_t head = f->mb->cmd_head;

	assert_int_equal(simring_inject(f->sr, e->bytes, len,
					track ? ringfx_record : NULL, f), 0);
	assert_int_equal(f->mb->cmd_head, head + len);
}

/* TMR counts are clamped to what the entry and ring_tmr can hold. */
static void test_tmr_hostile(void **state)
{
	struct ringfx *f = *state;
	static union raw_entry e;
	uint32_t big = 32 + 2 * 5000;

	memset(&e, 0, sizeof(e));
	e.tmr.hdr.len_op = tcmu_hdr_len_op(40, TCMU_OP_TMR);
	e.tmr.tmr_type = TCMU_TMR_ABORT_TASK;
	e.tmr.cmd_cnt = 1000;			/* room for 4 in 40 bytes */
	for (int i = 0; i < 4; i++)
		e.tmr.cmd_ids[i] = (uint16_t)(100 + i);
	inject(f, &e, 40, false);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->cmd_cnt, 4);
	assert_int_equal(f->tmr->cmd_ids[3], 103);

	/* Shorter than a TMR entry: no type, no ids. */
	memset(&e, 0, sizeof(e));
	e.tmr.hdr.len_op = tcmu_hdr_len_op(16, TCMU_OP_TMR);
	e.bytes[8] = TCMU_TMR_LUN_RESET;
	inject(f, &e, 16, false);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_TMR);
	assert_int_equal(f->tmr->type, 0);
	assert_int_equal(f->tmr->cmd_cnt, 0);

	/* 5000 ids fit in the entry but ring_tmr keeps RING_MAX_TMR_IDS. */
	memset(&e, 0, sizeof(e));
	big = (big + 7) & ~7u;
	e.tmr.hdr.len_op = tcmu_hdr_len_op(big, TCMU_OP_TMR);
	e.tmr.cmd_cnt = 5000;
	for (int i = 0; i < 5000; i++)
		e.tmr.cmd_ids[i] = (uint16_t)i;
	inject(f, &e, big, false);
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->tmr->cmd_cnt, RING_MAX_TMR_IDS);
	assert_int_equal(f->tmr->cmd_ids[RING_MAX_TMR_IDS - 1],
			 RING_MAX_TMR_IDS - 1);
	assert_true(ring_is_idle(&f->ring));
}

/* A CMD entry with n data-area iovecs (512 bytes apart) and a READ(10). */
static uint32_t build_iov_cmd(struct ringfx *f, union raw_entry *e, uint16_t id,
			      uint32_t iov_cnt, uint32_t bidi_cnt)
{
	uint32_t n = iov_cnt + bidi_cnt;
	uint32_t cdb_rel = 48 + 16 * n;
	uint32_t len = cdb_rel + 16;

	if (len < 112 + 16) {
		cdb_rel = 112;
		len = 128;
	}
	memset(e, 0, sizeof(*e));
	e->cmd.hdr.len_op = tcmu_hdr_len_op(len, TCMU_OP_CMD);
	e->cmd.hdr.cmd_id = id;
	e->cmd.req.iov_cnt = iov_cnt;
	e->cmd.req.iov_bidi_cnt = bidi_cnt;
	e->cmd.req.cdb_off = next_entry_off(f) + cdb_rel;
	memcpy(e->bytes + cdb_rel, read10, sizeof(read10));
	for (uint32_t i = 0; i < n; i++) {
		raw_iov(e)[i].iov_base =
			(void *)(uintptr_t)(f->ring.data_off + i * BS);
		raw_iov(e)[i].iov_len = BS;
	}
	return len;
}

/* Bidi vectors follow the data-out ones; long lists leave the inline array. */
static void test_bidi_and_long_iovec_lists(void **state)
{
	struct ringfx *f = *state;
	static union raw_entry e;
	const uint32_t counts[3][2] = { { 2, 1 }, { 8, 0 }, { 10, 2 } };

	for (int k = 0; k < 3; k++) {
		uint16_t id = (uint16_t)(50 + k);
		uint32_t n = counts[k][0] + counts[k][1];

		inject(f, &e, build_iov_cmd(f, &e, id, counts[k][0],
					    counts[k][1]), true);
		ringfx_expect_cmd(f, id);
		assert_int_equal(f->cmd.iov_cnt, counts[k][0]);
		assert_int_equal(f->cmd.iov_bidi_cnt, counts[k][1]);
		assert_int_equal(f->cmd.iov == f->cmd.iov_inline,
				 n <= RING_INLINE_IOVS);
		for (uint32_t i = 0; i < n; i++) {
			assert_ptr_equal(f->cmd.iov[i].iov_base,
					 f->base + f->ring.data_off + i * BS);
			assert_int_equal(f->cmd.iov[i].iov_len, BS);
		}
		ringfx_complete(f, id, GOOD);
	}
	assert_int_equal(ringfx_reap(f), 3);
}

enum iov_fault { IOV_OK, IOV_IN_CMD_RING, IOV_PAST_MAP, IOV_WRAPS, IOV_SECOND };
enum cdb_fault { CDB_INSIDE, CDB_AT_END, CDB_BEFORE, CDB_IN_MAILBOX, CDB_WRAPS };

struct hostile {
	const char *what;
	uint32_t len;
	uint32_t iov_cnt, bidi_cnt, dif_cnt;
	enum iov_fault iov;
	uint32_t cdb_rel;
	enum cdb_fault cdb;
	uint8_t opcode, cdb7;
	const char *reason;	/* NULL: well-formed */
};

#define R_IOV "iovec outside the data area"
#define R_CDB_OFF "CDB offset outside its entry"
#define R_COUNT "iovec count larger than its entry"
#define R_CDB_PAST "CDB runs past its entry"
#define R_VAR_TRUNC "variable-length CDB truncated"

static const struct hostile hostile_cases[] = {
	{ "iovec in the command ring", 128, 1, 0, 0, IOV_IN_CMD_RING, 112,
	  CDB_INSIDE, 0x28, 0, R_IOV },
	{ "iovec running past the mapping", 128, 1, 0, 0, IOV_PAST_MAP, 112,
	  CDB_INSIDE, 0x28, 0, R_IOV },
	{ "iovec address wrapping", 128, 1, 0, 0, IOV_WRAPS, 112,
	  CDB_INSIDE, 0x28, 0, R_IOV },
	{ "second iovec outside", 128, 2, 0, 0, IOV_SECOND, 112,
	  CDB_INSIDE, 0x28, 0, R_IOV },
	{ "bidi iovec outside", 128, 1, 1, 0, IOV_SECOND, 112,
	  CDB_INSIDE, 0x28, 0, R_IOV },
	{ "cdb_off at the entry end", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_AT_END, 0x28, 0, R_CDB_OFF },
	{ "cdb_off before the entry", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_BEFORE, 0x28, 0, R_CDB_OFF },
	{ "cdb_off in the mailbox", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_IN_MAILBOX, 0x28, 0, R_CDB_OFF },
	{ "cdb_off wrapping", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_WRAPS, 0x28, 0, R_CDB_OFF },
	{ "iov_cnt beyond the entry", 128, 6, 0, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x28, 0, R_COUNT },
	{ "iov_cnt 0xffffffff", 128, 0xffffffff, 0, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x28, 0, R_COUNT },
	{ "bidi count beyond the entry", 128, 1, 5, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x28, 0, R_COUNT },
	{ "dif count beyond the entry", 128, 1, 0, 0x10000000, IOV_OK, 112,
	  CDB_INSIDE, 0x28, 0, R_COUNT },
	{ "variable-length CDB past the entry", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x7f, 24, R_CDB_PAST },
	{ "variable-length CDB header cut", 128, 0, 0, 0, IOV_OK, 124,
	  CDB_INSIDE, 0x7f, 24, R_VAR_TRUNC },
	{ "16-byte CDB past the entry", 128, 0, 0, 0, IOV_OK, 120,
	  CDB_INSIDE, 0x88, 0, R_CDB_PAST },
	{ "16-byte CDB ending at the entry end", 128, 0, 0, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x88, 0, NULL },
	{ "variable-length CDB ending at the entry end", 144, 0, 0, 0, IOV_OK,
	  112, CDB_INSIDE, 0x7f, 24, NULL },
	{ "iovec ending at the mapping end", 128, 1, 0, 0, IOV_OK, 112,
	  CDB_INSIDE, 0x28, 0, NULL },
};

static uint64_t hostile_iov_base(struct ringfx *f, enum iov_fault fault)
{
	size_t map_len = simring_map_len(f->sr);

	switch (fault) {
	case IOV_IN_CMD_RING:
		return f->ring.data_off - 16;
	case IOV_PAST_MAP:
		return map_len - 256;
	case IOV_WRAPS:
		return UINT64_MAX - 15;
	default:
		return map_len - BS;
	}
}

static uint64_t hostile_cdb_off(uint64_t entry, const struct hostile *h)
{
	switch (h->cdb) {
	case CDB_AT_END:
		return entry + h->len;
	case CDB_BEFORE:
		return entry - 8;
	case CDB_IN_MAILBOX:
		return 0;
	case CDB_WRAPS:
		return UINT64_MAX;
	default:
		return entry + h->cdb_rel;
	}
}

static void build_hostile(struct ringfx *f, union raw_entry *e,
			  const struct hostile *h, uint16_t id)
{
	uint64_t entry = next_entry_off(f);
	struct iovec *iov = raw_iov(e);

	memset(e, 0, sizeof(*e));
	e->cmd.hdr.len_op = tcmu_hdr_len_op(h->len, TCMU_OP_CMD);
	e->cmd.hdr.cmd_id = id;
	if (h->len >= sizeof(struct tcmu_cmd_entry)) {
		e->cmd.req.iov_cnt = h->iov_cnt;
		e->cmd.req.iov_bidi_cnt = h->bidi_cnt;
		e->cmd.req.iov_dif_cnt = h->dif_cnt;
		e->cmd.req.cdb_off = hostile_cdb_off(entry, h);
	}
	if (h->iov != IOV_OK || h->iov_cnt == 1) {
		iov[0].iov_base = (void *)(uintptr_t)hostile_iov_base(f, h->iov);
		iov[0].iov_len = h->iov == IOV_OK ? BS : 512;
	}
	if (h->iov == IOV_SECOND) {
		iov[0].iov_base = (void *)(uintptr_t)f->ring.data_off;
		iov[1].iov_base = (void *)(uintptr_t)(simring_map_len(f->sr) + 4096);
		iov[1].iov_len = 1;
	}
	e->bytes[h->cdb_rel] = h->opcode;
	if (h->cdb7)
		e->bytes[h->cdb_rel + 7] = h->cdb7;
}

static uint16_t hostile_cdb_len(const struct hostile *h)
{
	return h->opcode == 0x7f ? 8 + h->cdb7 : h->opcode >= 0x80 ? 16 : 10;
}

/*
 * Malformed commands become RING_ENTRY_BAD_CMD with the reason (no iovecs
 * handed out), can still be completed, and the ring stays in step.
 */
static void test_hostile_commands(void **state)
{
	struct ringfx *f = *state;
	static union raw_entry e;
	const size_t n = sizeof(hostile_cases) / sizeof(hostile_cases[0]);
	uint16_t id;

	for (size_t i = 0; i < n; i++) {
		const struct hostile *h = &hostile_cases[i];

		print_message("case: %s\n", h->what);
		build_hostile(f, &e, h, (uint16_t)(200 + i));
		inject(f, &e, h->len, true);
		assert_int_equal(ringfx_next(f), 1);
		assert_int_equal(f->cmd.cmd_id, 200 + i);
		if (h->reason) {
			assert_int_equal(f->kind, RING_ENTRY_BAD_CMD);
			assert_string_equal(f->cmd.bad_reason, h->reason);
			assert_int_equal(f->cmd.iov_cnt, 0);
			assert_int_equal(f->cmd.iov_bidi_cnt, 0);
		} else {
			assert_int_equal(f->kind, RING_ENTRY_CMD);
			assert_null(f->cmd.bad_reason);
			assert_int_equal(f->cmd.cdb_len, hostile_cdb_len(h));
		}
		/* Status only: the short entries have no room for sense. */
		ringfx_complete(f, f->cmd.cmd_id, CHECK_CONDITION);
		assert_int_equal(ringfx_reap(f), 1);
		assert_int_equal(f->done[i].cmd_id, 200 + i);
		assert_int_equal(f->done[i].status, CHECK_CONDITION);
	}
	id = ringfx_submit(f, read10, SIMRING_DIR_NONE, NULL, 0);
	ringfx_expect_cmd(f, id);
	assert_memory_equal(f->cmd.cdb, read10, sizeof(read10));
}

/* Opcodes 3..7 are handed up as unknown, to be returned with the flag. */
static void test_unknown_opcode(void **state)
{
	struct ringfx *f = *state;
	static union raw_entry e;
	struct ring_result res = {
		.scsi_status = CHECK_CONDITION, .uflags = TCMU_UFLAG_UNKNOWN_OP,
	};

	for (uint8_t op = 3; op <= 7; op++) {
		uint32_t pos = f->mb->cmd_head;
		struct tcmu_cmd_entry_hdr hdr;

		memset(&e, 0, sizeof(e));
		e.cmd.hdr.len_op = tcmu_hdr_len_op(112, TCMU_OP_PAD) | op;
		e.cmd.hdr.cmd_id = (uint16_t)(10 + op);
		inject(f, &e, 112, true);
		assert_int_equal(ringfx_next(f), 1);
		assert_int_equal(f->kind, RING_ENTRY_UNKNOWN_OP);
		assert_int_equal(f->cmd.cmd_id, 10 + op);
		assert_int_equal(f->cmd.cdb_len, 0);
		assert_int_equal(f->cmd.iov_cnt, 0);
		assert_int_equal(ring_complete(&f->ring, 10 + op, &res), 0);
		memcpy(&hdr, ringfx_entry(f, pos), sizeof(hdr));
		assert_int_equal(hdr.uflags, TCMU_UFLAG_UNKNOWN_OP);
		assert_int_equal(ringfx_reap(f), 1);
	}
}

enum head_fault { HEAD_OK, HEAD_MISALIGNED, HEAD_PAST_RING };

static const struct {
	const char *what;
	uint32_t len_op;	/* of an 8-byte injected entry */
	enum head_fault head;
} corrupt_headers[] = {
	{ "CMD of length 0", TCMU_OP_CMD, HEAD_OK },
	{ "PAD of length 0", TCMU_OP_PAD, HEAD_OK },
	{ "CMD running past cmd_head", 64 | TCMU_OP_CMD, HEAD_OK },
	{ "PAD running past cmd_head", 64 | TCMU_OP_PAD, HEAD_OK },
	{ "TMR running past cmd_head", 4096 | TCMU_OP_TMR, HEAD_OK },
	{ "cmd_head not 8-aligned", 8 | TCMU_OP_PAD, HEAD_MISALIGNED },
	{ "cmd_head past the ring", 8 | TCMU_OP_PAD, HEAD_PAST_RING },
};

/* A header we cannot trust stops the ring: -EPROTO, every time. */
static void test_corrupt_headers(void **state)
{
	struct ringfx *f = *state;
	const size_t n = sizeof(corrupt_headers) / sizeof(corrupt_headers[0]);

	for (size_t i = 0; i < n; i++) {
		uint64_t raw = 0;

		print_message("case: %s\n", corrupt_headers[i].what);
		memcpy(&raw, &corrupt_headers[i].len_op, sizeof(uint32_t));
		assert_int_equal(simring_inject(f->sr, &raw, 8, NULL, NULL), 0);
		if (corrupt_headers[i].head == HEAD_MISALIGNED)
			f->mb->cmd_head = 12;
		else if (corrupt_headers[i].head == HEAD_PAST_RING)
			f->mb->cmd_head = f->mb->cmdr_size;
		assert_int_equal(ringfx_next(f), -EPROTO);
		assert_int_equal(ringfx_next(f), -EPROTO);
		assert_int_equal(f->ring.next, 0);
		simring_reset_ring(f->sr);
		ring_sync_positions(&f->ring);
	}
}

/* The header at cmd_tail rewritten under us: the completion is refused. */
static void test_complete_corrupt_slot(void **state)
{
	struct ringfx *f = *state;
	struct ring_result res = { .scsi_status = GOOD };
	uint16_t id = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	uint32_t zero = 0;

	ringfx_expect_cmd(f, id);
	memcpy(ringfx_entry(f, 0), &zero, sizeof(zero));
	assert_int_equal(ring_complete(&f->ring, id, &res), -EPROTO);
	assert_int_equal(ringfx_tail(f), 0);
}

/*
 * A consumed PAD at the end of the ring, rewritten by the peer into a
 * short command before the completion that lands on it: writing the
 * response there would run past the ring into the data area.  Refused,
 * nothing outside the ring changes, tail stays.
 */
static void test_complete_into_rewritten_pad(void **state)
{
	struct ringfx *f = *state;
	uint8_t var[40] = { 0x7f, 0, 0, 0, 0, 0, 0, 32, 0x12, 0x34 };
	uint8_t sense[TCMU_SENSE_BUFFERSIZE] = { 0x70, 0, 0x05 };
	struct ring_result res = { .scsi_status = CHECK_CONDITION, .sense = sense };
	struct tcmu_cmd_entry_hdr pad;
	uint8_t *past_ring = f->base + f->ring.data_off;
	uint8_t before[TCMU_SENSE_BUFFERSIZE + 16], after[sizeof(before)];
	static uint8_t buf[5][BS];
	uint16_t id[5];

	/* As in test_wrap_around_pad: four entries end at 992, a PAD fills the rest. */
	for (int i = 0; i < 3; i++)
		id[i] = ringfx_submit(f, read10, SIMRING_DIR_IN, buf[i], BS);
	assert_int_equal(ringfx_drain(f), 3);
	for (int i = 0; i < 3; i++)
		ringfx_complete(f, id[i], GOOD);
	assert_int_equal(ringfx_reap(f), 3);
	for (int i = 0; i < 5; i++)
		id[i] = ringfx_submit(f, var, SIMRING_DIR_IN, buf[i], BS);
	for (int i = 0; i < 4; i++)
		ringfx_expect_cmd(f, id[i]);
	for (int i = 0; i < 4; i++)
		ringfx_complete(f, id[i], GOOD);
	assert_int_equal(ringfx_tail(f), 992);
	ringfx_expect_cmd(f, id[4]);	/* past the PAD */

	memcpy(&pad, ringfx_entry(f, 992), sizeof(pad));
	pad.len_op = tcmu_hdr_len_op(8, TCMU_OP_CMD);
	memcpy(ringfx_entry(f, 992), &pad, sizeof(pad));
	memset(past_ring, 0xa5, sizeof(before));	/* the sense is mostly zeros */
	memcpy(before, past_ring, sizeof(before));
	assert_int_equal(ring_complete(&f->ring, id[4], &res), -EPROTO);
	memcpy(after, past_ring, sizeof(after));
	assert_memory_equal(after, before, sizeof(before));
	assert_int_equal(ringfx_tail(f), 992);
}

/*
 * A mapping over 4 GiB whose command ring ends past 4 GiB: the data area
 * starts after it, not at the 32-bit wrap of cmdr_off + cmdr_size (which
 * would let iovecs point into the mailbox and the command ring).
 */
static void test_attach_past_4g(void **state)
{
	const size_t map_len = (5ull << 30);
	const uint32_t cmdr_off = 0xfffff000u, cmdr_size = 8192;
	struct tcmu_mailbox *mb;
	struct lunar_ring ring;
	void *map;

	(void)state;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(map != MAP_FAILED);
	mb = map;
	mb->version = TCMU_MAILBOX_VERSION;
	mb->cmdr_off = cmdr_off;
	mb->cmdr_size = cmdr_size;
	assert_int_equal(ring_attach(&ring, map, map_len), 0);
	assert_true(ring.data_off == (size_t)cmdr_off + cmdr_size);
	ring_detach(&ring);
	munmap(map, map_len);
}

/*
 * A handed-out entry rewritten to reach over entries not yet read: the
 * completion would publish a cmd_tail past commands lunard never saw, and
 * the kernel would take them as done.  Refused.
 */
static void test_complete_never_passes_unread_entries(void **state)
{
	struct ringfx *f = *state;
	struct ring_result res = { .scsi_status = GOOD };
	uint16_t a = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	struct tcmu_cmd_entry_hdr hdr;

	ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	ringfx_expect_cmd(f, a);
	assert_int_equal(f->ring.next, 120);
	memcpy(&hdr, ringfx_entry(f, 0), sizeof(hdr));
	hdr.len_op = tcmu_hdr_len_op(240, TCMU_OP_CMD);
	memcpy(ringfx_entry(f, 0), &hdr, sizeof(hdr));
	assert_int_equal(ring_complete(&f->ring, a, &res), -EPROTO);
	assert_int_equal(ringfx_tail(f), 0);
}

struct fake_map {
	uint8_t *mem;
	struct tcmu_mailbox *mb;
};

static void fake_map_init(struct fake_map *m)
{
	m->mem = aligned_alloc(64, 8192);
	assert_non_null(m->mem);
	memset(m->mem, 0, 8192);
	m->mb = (struct tcmu_mailbox *)m->mem;
	m->mb->version = TCMU_MAILBOX_VERSION;
	m->mb->flags = TCMU_MAILBOX_FLAG_CAP_OOOC;
	m->mb->cmdr_off = 128;
	m->mb->cmdr_size = 4096;
}

static int attach_with(uint16_t version, uint32_t off, uint32_t size,
		       size_t map_len)
{
	struct fake_map m;
	struct lunar_ring ring;
	int ret;

	fake_map_init(&m);
	m.mb->version = version;
	m.mb->cmdr_off = off;
	m.mb->cmdr_size = size;
	ret = ring_attach(&ring, m.mem, map_len);
	if (!ret)
		ring_detach(&ring);
	free(m.mem);
	return ret;
}

/* The mailbox must describe a version 2 ring inside the mapping. */
static void test_attach_checks_mailbox(void **state)
{
	struct fake_map m;
	struct lunar_ring ring;

	(void)state;
	fake_map_init(&m);
	m.mb->cmd_tail = 264;
	assert_int_equal(ring_attach(&ring, m.mem, 8192), 0);
	assert_int_equal(ring.cmdr_off, 128);
	assert_int_equal(ring.cmdr_size, 4096);
	assert_int_equal(ring.data_off, 128 + 4096);
	assert_int_equal(ring.mb_flags, TCMU_MAILBOX_FLAG_CAP_OOOC);
	assert_int_equal(ring.next, 264);
	assert_int_equal(ring.tail, 264);
	/* A cmd_tail the peer left misaligned or out of range is tamed. */
	m.mb->cmd_tail = 4096 + 4 + 264;
	ring_sync_positions(&ring);
	assert_int_equal(ring.next, 264);
	ring_detach(&ring);
	free(m.mem);

	assert_int_equal(attach_with(2, 128, 8056, 8192), 0);
	/* A ring that fills the mapping leaves no data area. */
	assert_int_equal(attach_with(2, 128, 8064, 8192), -EPROTO);
	assert_int_equal(attach_with(1, 128, 4096, 8192), -EPROTO);
	assert_int_equal(attach_with(3, 128, 4096, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 128, 8065, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 128, 8072, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 0xfffffff8, 0xfffffff8, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 64, 4096, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 128, 4092, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 128, 216, 8192), -EPROTO);
	assert_int_equal(attach_with(2, 128, 4096, 100), -EINVAL);
	assert_int_equal(ring_attach(&ring, NULL, 8192), -EINVAL);
}

/* Completing with no decoded, uncompleted slot is refused: -ENOSPC. */
static void test_complete_needs_a_slot(void **state)
{
	struct ringfx *f = *state;
	struct ring_result res = { .scsi_status = GOOD };
	uint16_t id;

	assert_true(ring_is_idle(&f->ring));
	assert_int_equal(ring_complete(&f->ring, 1, &res), -ENOSPC);
	id = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	assert_false(ring_is_idle(&f->ring));
	/* Queued but not yet decoded: not ours to complete. */
	assert_int_equal(ring_complete(&f->ring, id, &res), -ENOSPC);
	assert_int_equal(ringfx_tail(f), 0);
	ringfx_expect_cmd(f, id);
	assert_false(ring_is_idle(&f->ring));
	assert_int_equal(ring_complete(&f->ring, id, &res), 0);
	assert_int_equal(ringfx_tail(f), 120);
	assert_true(ring_is_idle(&f->ring));
	assert_int_equal(ring_complete(&f->ring, id, &res), -ENOSPC);
	assert_int_equal(ringfx_tail(f), 120);
	assert_int_equal(ringfx_reap(f), 1);
	assert_null(simring_error(f->sr));
}

/*
 * A command or unknown-type entry shorter than struct tcmu_cmd_entry has
 * no room for its response: completing it would overwrite the next entry
 * (or the data area).  Such a ring is corrupt, and nothing is written.
 */
static void test_short_command_entry_is_corrupt(void **state)
{
	static const struct {
		uint32_t len;
		uint8_t op;
	} cases[] = { { 104, TCMU_OP_CMD }, { 16, TCMU_OP_CMD }, { 8, 5 } };
	struct ringfx *f = *state;
	static union raw_entry e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t pos = f->mb->cmd_head;
		uint8_t before[128], after[128];

		memset(&e, 0, sizeof(e));
		e.cmd.hdr.len_op = tcmu_hdr_len_op(cases[i].len, TCMU_OP_PAD) |
				   cases[i].op;
		e.cmd.hdr.cmd_id = 300;
		inject(f, &e, cases[i].len, false);
		ringfx_submit(f, read10, SIMRING_DIR_NONE, NULL, 0);
		memcpy(before, ringfx_entry(f, pos), sizeof(before));
		assert_int_equal(ringfx_next(f), -EPROTO);
		assert_int_equal(ringfx_next(f), -EPROTO);
		memcpy(after, ringfx_entry(f, pos), sizeof(after));
		assert_memory_equal(after, before, sizeof(before));
		simring_reset_ring(f->sr);
		ring_sync_positions(&f->ring);
	}
}

static int64_t elapsed_ns(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - from->tv_sec) * 1000000000 +
	       (now.tv_nsec - from->tv_nsec);
}

/*
 * The spin lunard's command thread and lunar-bench's bare ring loop share:
 * an empty ring is watched for RING_SPIN_NS before giving up, a queued
 * entry ends the spin at once and is still there to be decoded.
 */
static void test_spin_for_entries(void **state)
{
	struct ringfx *f = *state;
	struct timespec start;
	uint16_t id;

	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_false(ring_spin_for_entries(&f->ring));
	assert_true(elapsed_ns(&start) >= RING_SPIN_NS);
	id = ringfx_submit(f, tur, SIMRING_DIR_NONE, NULL, 0);
	assert_true(ring_spin_for_entries(&f->ring));
	ringfx_expect_cmd(f, id);
	assert_false(ring_spin_for_entries(&f->ring));
}

#define RING_TEST(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RING_TEST(test_decode_cdb_lengths, setup_8k),
		RING_TEST(test_out_of_order_completion, setup_8k),
		RING_TEST(test_wrap_around_pad, setup_1k),
		RING_TEST(test_tmr_entries, setup_8k),
		RING_TEST(test_tmr_hostile, setup_32k),
		RING_TEST(test_bidi_and_long_iovec_lists, setup_8k),
		RING_TEST(test_hostile_commands, setup_8k),
		RING_TEST(test_unknown_opcode, setup_8k),
		RING_TEST(test_corrupt_headers, setup_8k),
		RING_TEST(test_complete_corrupt_slot, setup_8k),
		RING_TEST(test_complete_into_rewritten_pad, setup_1k),
		RING_TEST(test_complete_never_passes_unread_entries, setup_8k),
		cmocka_unit_test(test_attach_past_4g),
		cmocka_unit_test(test_attach_checks_mailbox),
		RING_TEST(test_complete_needs_a_slot, setup_8k),
		RING_TEST(test_short_command_entry_is_corrupt, setup_8k),
		RING_TEST(test_spin_for_entries, setup_8k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
