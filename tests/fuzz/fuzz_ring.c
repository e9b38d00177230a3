/*
 * The command ring (runner/ring/ring.c) against a hostile peer.
 *
 * The input is a program for the kernel's side of one mapping: place
 * well-formed commands, overwrite any bytes of the mapping (headers already
 * read, PADs already skipped, the mailbox), move cmd_head, interleaved
 * with what lunard's command thread does: ring_next(), completing what it
 * handed out, ring_is_idle(), a resync.  The mapping is heap memory of its
 * exact size, so ASan sees any access past it; and a shadow copy checks
 * that ring_next() writes nothing at all and a completion writes only
 * inside the command ring and cmd_tail, never the mailbox's other fields
 * nor the data area.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ring/ring.h"

#define CMDR_OFF 128u
#define DATA_LEN (16u * 1024)
#define MAX_OUT 32

struct input {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct input *in, size_t bytes)
{
	uint32_t v = 0;

	for (size_t i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

struct peer {
	uint8_t *map, *shadow;
	size_t map_len;
	struct tcmu_mailbox *mb;
	uint32_t cmdr_off, cmdr_size;	/* as ring_attach() accepted them */
	uint16_t next_id;
};

static struct ring_cmd cmd;
static struct ring_tmr tmr;

/* Bytes [from, to) of the mapping are as the peer left them. */
static void check_unchanged(const struct peer *pr, size_t from, size_t to)
{
	if (from < to && memcmp(pr->map + from, pr->shadow + from, to - from))
		__builtin_trap();
}

/*
 * Nothing ring.c did since the last sync changed the mapping, except, for
 * a completion, inside the command ring and cmd_tail.
 */
static void check_shadow(const struct peer *pr, bool completion)
{
	size_t tail = offsetof(struct tcmu_mailbox, cmd_tail);
	size_t ring_end = (size_t)pr->cmdr_off + pr->cmdr_size;

	if (!completion) {
		check_unchanged(pr, 0, pr->map_len);
		return;
	}
	check_unchanged(pr, 0, tail);
	check_unchanged(pr, tail + 4, pr->cmdr_off);
	check_unchanged(pr, ring_end, pr->map_len);
}

static void sync_shadow(struct peer *pr)
{
	memcpy(pr->shadow, pr->map, pr->map_len);
}

/* A well-formed command at cmd_head, as the kernel lays it out. */
static void place_cmd(struct peer *pr, struct input *in)
{
	uint32_t iovs = take(in, 1) % 4, cdb_len = 16;
	uint32_t len = (uint32_t)(offsetof(struct tcmu_cmd_entry, req.iov) +
				  iovs * sizeof(struct iovec) + cdb_len);
	uint32_t head = pr->mb->cmd_head % pr->cmdr_size;
	struct tcmu_cmd_entry ent;
	uint8_t *e;

	len = len < sizeof(ent) ? (uint32_t)sizeof(ent) : (len + 7) & ~7u;
	if (len > pr->cmdr_size - head) {	/* PAD to the end, then wrap */
		struct tcmu_cmd_entry_hdr pad = {
			.len_op = (pr->cmdr_size - head) | TCMU_OP_PAD,
		};

		memcpy(pr->map + pr->cmdr_off + head, &pad, sizeof(pad));
		head = 0;
	}
	if (len > pr->cmdr_size)
		return;
	e = pr->map + pr->cmdr_off + head;
	memset(&ent, 0, sizeof(ent));
	ent.hdr.len_op = len | TCMU_OP_CMD;
	ent.hdr.cmd_id = ++pr->next_id;
	ent.req.iov_cnt = iovs;
	ent.req.cdb_off = pr->cmdr_off + head + len - cdb_len;
	memcpy(e, &ent, sizeof(ent));
	for (uint32_t i = 0; i < iovs; i++) {
		struct iovec v = {
			(void *)(uintptr_t)(pr->cmdr_off + pr->cmdr_size + i * 512), 512,
		};

		memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov) +
		       i * sizeof(v), &v, sizeof(v));
	}
	e[len - cdb_len] = (uint8_t)take(in, 1);	/* the opcode */
	pr->mb->cmd_head = (head + len) % pr->cmdr_size;
}

static void poke(struct peer *pr, struct input *in)
{
	size_t off = take(in, 2) % pr->map_len, n = take(in, 1) % 16;

	for (size_t i = 0; i < n && off + i < pr->map_len; i++)
		pr->map[off + i] = (uint8_t)take(in, 1);
}

static void complete(struct lunar_ring *ring, uint16_t *out, unsigned int *n_out,
		     struct input *in)
{
	static const uint8_t sense[TCMU_SENSE_BUFFERSIZE] = { 0x70, 0, 5 };
	unsigned int i;
	struct ring_result res = { .sense = sense };

	if (!*n_out)
		return;
	i = take(in, 1) % *n_out;
	res.scsi_status = take(in, 1) & 1 ? 0x02 : 0;
	ring_complete(ring, out[i], &res);
	out[i] = out[--*n_out];
}

static void run(struct peer *pr, struct lunar_ring *ring, struct input *in)
{
	uint16_t out[MAX_OUT];
	unsigned int n_out = 0;
	enum ring_entry_kind kind;

	while (in->left) {
		switch (take(in, 1) % 7) {
		case 0:
			place_cmd(pr, in);
			break;
		case 1:
			poke(pr, in);
			break;
		case 2:
			pr->mb->cmd_head = take(in, 4);
			break;
		case 3:
			sync_shadow(pr);
			if (ring_next(ring, &kind, &cmd, &tmr) == 1 &&
			    kind != RING_ENTRY_TMR && n_out < MAX_OUT)
				out[n_out++] = cmd.cmd_id;
			ring_cmd_release(&cmd);
			check_shadow(pr, false);
			continue;
		case 4:
			sync_shadow(pr);
			complete(ring, out, &n_out, in);
			check_shadow(pr, true);
			continue;
		case 5:
			sync_shadow(pr);
			ring_is_idle(ring);
			check_shadow(pr, true);
			continue;
		case 6:
			ring_sync_positions(ring);
			n_out = 0;
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[] = { 224, 256, 512, 1024, 4096 };
	struct input in = { data, size };
	struct lunar_ring ring;
	struct peer pr = { 0 };

	pr.cmdr_size = sizes[take(&in, 1) % 5];
	pr.map_len = CMDR_OFF + pr.cmdr_size + DATA_LEN;
	pr.map = calloc(1, pr.map_len);
	pr.shadow = malloc(pr.map_len);
	if (!pr.map || !pr.shadow)
		goto out;
	/* Not zeros: a stray write of zeros (most of a sense buffer) shows. */
	memset(pr.map + CMDR_OFF + pr.cmdr_size, 0xa5, DATA_LEN);
	pr.mb = (struct tcmu_mailbox *)pr.map;
	pr.mb->version = TCMU_MAILBOX_VERSION;
	pr.mb->flags = (uint16_t)take(&in, 1);
	pr.mb->cmdr_off = CMDR_OFF;
	pr.mb->cmdr_size = pr.cmdr_size;
	if (take(&in, 1) == 0xff)	/* now and then a hostile mailbox */
		poke(&pr, &in);
	if (ring_attach(&ring, pr.map, pr.map_len) == 0) {
		pr.cmdr_off = ring.cmdr_off;
		pr.cmdr_size = ring.cmdr_size;
		run(&pr, &ring, &in);
		ring_detach(&ring);
	}
out:
	free(pr.map);
	free(pr.shadow);
	return 0;
}
