/*
 * Fixture shared by the ring and simring unit tests: a simring (the
 * kernel's side) with lunar's ring attached to its mapping (the user
 * side), and a log of the completions simring reported.
 */
#ifndef LUNAR_TEST_RINGFX_H
#define LUNAR_TEST_RINGFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/ring/ring.h"
#include "runner/sim/simring.h"

#define RINGFX_MAX_DONE 64

struct ringfx_done {
	uint16_t cmd_id;
	uint8_t status;
	uint8_t sense[TCMU_SENSE_BUFFERSIZE];
	size_t data_len;
	bool expired;
};

struct ringfx {
	struct simring *sr;
	struct lunar_ring ring;
	struct tcmu_mailbox *mb;
	uint8_t *base;
	struct ring_cmd cmd;		/* the entry ring_next() decoded last */
	struct ring_tmr *tmr;
	enum ring_entry_kind kind;
	struct ringfx_done done[RINGFX_MAX_DONE];
	unsigned int ndone;
};

static inline void ringfx_record(void *priv, const struct simring_completion *c)
{
	struct ringfx *f = priv;
	struct ringfx_done *d;

	assert_true(f->ndone < RINGFX_MAX_DONE);
	d = &f->done[f->ndone++];
	d->cmd_id = c->cmd_id;
	d->status = c->status;
	d->data_len = c->data_len;
	d->expired = c->expired;
	if (c->sense)
		memcpy(d->sense, c->sense, sizeof(d->sense));
}

static inline struct ringfx *ringfx_open(uint32_t cmdr_size, uint32_t blocks,
					 uint32_t block_size, uint16_t mb_flags)
{
	struct simring_config cfg = {
		.cmdr_size = cmdr_size, .data_blocks = blocks,
		.block_size = block_size, .mb_flags = mb_flags,
	};
	struct ringfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->tmr = calloc(1, sizeof(*f->tmr));
	assert_non_null(f->tmr);
	assert_int_equal(simring_create(&cfg, &f->sr), 0);
	f->base = simring_base(f->sr);
	f->mb = (struct tcmu_mailbox *)f->base;
	assert_int_equal(ring_attach(&f->ring, f->base,
				     simring_map_len(f->sr)), 0);
	return f;
}

static inline void ringfx_close(struct ringfx *f)
{
	ring_cmd_release(&f->cmd);
	ring_detach(&f->ring);
	simring_destroy(f->sr);
	free(f->tmr);
	free(f);
}

/* Queue a command whose completion is logged; returns its id. */
static inline uint16_t ringfx_submit(struct ringfx *f, const uint8_t *cdb,
				     enum simring_dir dir, void *buf, size_t len)
{
	uint16_t id = 0;

	assert_int_equal(simring_submit(f->sr, cdb, dir, buf, len,
					ringfx_record, f, &id), 0);
	return id;
}

/* ring_next() into f->cmd / f->tmr / f->kind. */
static inline int ringfx_next(struct ringfx *f)
{
	ring_cmd_release(&f->cmd);
	return ring_next(&f->ring, &f->kind, &f->cmd, f->tmr);
}

/* Decode the next entry, which must be a well-formed command. */
static inline void ringfx_expect_cmd(struct ringfx *f, uint16_t id)
{
	assert_int_equal(ringfx_next(f), 1);
	assert_int_equal(f->kind, RING_ENTRY_CMD);
	assert_int_equal(f->cmd.cmd_id, id);
}

/* Decode everything queued; returns how many entries were taken. */
static inline unsigned int ringfx_drain(struct ringfx *f)
{
	unsigned int n = 0;
	int ret;

	while ((ret = ringfx_next(f)) == 1)
		n++;
	assert_int_equal(ret, 0);
	return n;
}

static inline void ringfx_complete(struct ringfx *f, uint16_t id,
				   uint8_t status)
{
	struct ring_result res = { .scsi_status = status };

	assert_int_equal(ring_complete(&f->ring, id, &res), 0);
}

static inline int ringfx_reap(struct ringfx *f)
{
	return simring_reap(f->sr);
}

/* The entry at ring-relative offset pos. */
static inline uint8_t *ringfx_entry(struct ringfx *f, uint32_t pos)
{
	return f->base + f->mb->cmdr_off + pos;
}

static inline uint32_t ringfx_tail(struct ringfx *f)
{
	return __atomic_load_n(&f->mb->cmd_tail, __ATOMIC_ACQUIRE);
}

static inline void ringfx_pattern(void *buf, size_t len, unsigned int seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + 1);
}

/* Concatenate an iovec list into out; returns the byte count. */
static inline size_t ringfx_gather(const struct iovec *iov, uint32_t cnt,
				   uint8_t *out)
{
	size_t n = 0;

	for (uint32_t i = 0; i < cnt; i++) {
		memcpy(out + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	return n;
}

/* Spread len bytes of src over an iovec list (the user side's data-in). */
static inline void ringfx_scatter(const struct iovec *iov, uint32_t cnt,
				  const uint8_t *src, size_t len)
{
	for (uint32_t i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, src, n);
		src += n;
		len -= n;
	}
}

#endif
