/*
 * User side of the TCMU command ring.  See ring.h for the contract.
 *
 * Every read from the shared mapping goes through a memcpy() into a local
 * snapshot before it is validated, so a peer rewriting the ring under us
 * cannot make a checked value change between check and use.
 */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTRY_ALIGN ((uint32_t)TCMU_OP_ALIGN_SIZE)

/* Smallest command ring that can hold one maximal fixed-size entry twice. */
#define MIN_CMDR_SIZE (2 * (uint32_t)sizeof(struct tcmu_cmd_entry))

static uint32_t load_head(const struct lunar_ring *ring)
{
	return __atomic_load_n(&ring->mb->cmd_head, __ATOMIC_ACQUIRE);
}

static uint32_t ring_used(const struct lunar_ring *ring, uint32_t from,
			  uint32_t head)
{
	return head >= from ? head - from : ring->cmdr_size - from + head;
}

static uint8_t *entry_at(const struct lunar_ring *ring, uint32_t pos)
{
	return ring->base + ((size_t)ring->cmdr_off + pos);
}

int ring_attach(struct lunar_ring *ring, void *base, size_t map_len)
{
	struct tcmu_mailbox mb;

	memset(ring, 0, sizeof(*ring));
	if (!base || map_len < sizeof(mb))
		return -EINVAL;
	memcpy(&mb, base, sizeof(mb));
	if (mb.version != TCMU_MAILBOX_VERSION)
		return -EPROTO;
	if (mb.cmdr_off < sizeof(mb) || mb.cmdr_size < MIN_CMDR_SIZE ||
	    mb.cmdr_size % ENTRY_ALIGN ||
	    (uint64_t)mb.cmdr_off + mb.cmdr_size >= map_len)
		return -EPROTO;	/* no room for the ring and a data area */

	ring->mb = base;
	ring->base = base;
	ring->map_len = map_len;
	ring->cmdr_off = mb.cmdr_off;
	ring->cmdr_size = mb.cmdr_size;
	ring->data_off = (size_t)mb.cmdr_off + mb.cmdr_size;
	ring->mb_flags = mb.flags;
	pthread_mutex_init(&ring->complete_lock, NULL);
	ring_sync_positions(ring);
	return 0;
}

void ring_detach(struct lunar_ring *ring)
{
	if (!ring->mb)
		return;
	pthread_mutex_destroy(&ring->complete_lock);
	ring->mb = NULL;
}

void ring_sync_positions(struct lunar_ring *ring)
{
	uint32_t tail = __atomic_load_n(&ring->mb->cmd_tail, __ATOMIC_ACQUIRE);

	tail = (tail % ring->cmdr_size) & ~(ENTRY_ALIGN - 1);
	pthread_mutex_lock(&ring->complete_lock);
	ring->tail = tail;
	__atomic_store_n(&ring->next, tail, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ring->complete_lock);
}

/*
 * Read and validate the header at pos, which must lie before end (head
 * when reading new entries, next when completing).  An entry never wraps
 * and never extends past end.  Returns the entry length, a multiple of
 * ENTRY_ALIGN, or 0 if the header is corrupt.
 */
static uint32_t checked_header(const struct lunar_ring *ring, uint32_t pos,
			       uint32_t end, struct tcmu_cmd_entry_hdr *hdr)
{
	uint32_t len;

	memcpy(hdr, entry_at(ring, pos), sizeof(*hdr));
	len = tcmu_hdr_get_len(hdr->len_op);
	if (len < sizeof(*hdr) || len % ENTRY_ALIGN ||
	    len > ring->cmdr_size - pos || len > ring_used(ring, pos, end))
		return 0;
	return len;
}

/* Bytes of the CDB the kernel copies for this opcode (scsi_command_size). */
static uint32_t kernel_cdb_len(const uint8_t *cdb)
{
	static const uint8_t group_len[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };

	if (cdb[0] == 0x7f)
		return 8u + cdb[7];
	return group_len[cdb[0] >> 5];
}

static int copy_cdb(const struct lunar_ring *ring, uint32_t pos, uint32_t len,
		    uint64_t cdb_off, struct ring_cmd *cmd)
{
	uint64_t entry_start = ring->cmdr_off + (uint64_t)pos;
	uint64_t entry_end = entry_start + len;
	uint64_t avail, need;

	if (cdb_off < entry_start || cdb_off >= entry_end) {
		cmd->bad_reason = "CDB offset outside its entry";
		return -1;
	}
	avail = entry_end - cdb_off;
	memcpy(cmd->cdb, ring->base + cdb_off,
	       avail < RING_MAX_CDB_LEN ? avail : RING_MAX_CDB_LEN);
	if (avail < 8 && cmd->cdb[0] == 0x7f) {
		cmd->bad_reason = "variable-length CDB truncated";
		return -1;
	}
	need = kernel_cdb_len(cmd->cdb);
	if (need > avail || need > RING_MAX_CDB_LEN) {
		cmd->bad_reason = "CDB runs past its entry";
		return -1;
	}
	cmd->cdb_len = need;
	return 0;
}

static int convert_iovecs(const struct lunar_ring *ring, const uint8_t *src,
			  uint32_t total, struct ring_cmd *cmd)
{
	for (uint32_t i = 0; i < total; i++) {
		struct iovec v;
		uint64_t off, vlen;

		memcpy(&v, src + i * sizeof(v), sizeof(v));
		off = (uint64_t)(uintptr_t)v.iov_base;
		vlen = v.iov_len;
		if (off < ring->data_off || off > ring->map_len ||
		    vlen > ring->map_len - off) {
			cmd->bad_reason = "iovec outside the data area";
			return -1;
		}
		cmd->iov[i].iov_base = ring->base + off;
		cmd->iov[i].iov_len = vlen;
	}
	return 0;
}

static int decode_cmd(const struct lunar_ring *ring, uint32_t pos, uint32_t len,
		      struct ring_cmd *cmd)
{
	struct tcmu_cmd_entry ent;
	const uint8_t *start = entry_at(ring, pos);
	uint64_t total, iov_bytes;

	memcpy(&ent, start, sizeof(ent));
	total = (uint64_t)ent.req.iov_cnt + ent.req.iov_bidi_cnt +
		ent.req.iov_dif_cnt;
	iov_bytes = total * sizeof(struct iovec);
	if (offsetof(struct tcmu_cmd_entry, req.iov) + iov_bytes > len) {
		cmd->bad_reason = "iovec count larger than its entry";
		return 0;
	}
	if (copy_cdb(ring, pos, len, ent.req.cdb_off, cmd))
		return 0;

	cmd->iov_cnt = ent.req.iov_cnt;
	cmd->iov_bidi_cnt = ent.req.iov_bidi_cnt;
	total = cmd->iov_cnt + (uint64_t)cmd->iov_bidi_cnt;
	cmd->iov = cmd->iov_inline;
	if (total > RING_INLINE_IOVS) {
		cmd->iov = malloc(total * sizeof(struct iovec));
		if (!cmd->iov) {
			cmd->iov = cmd->iov_inline;
			return -ENOMEM;
		}
	}
	if (convert_iovecs(ring, start + offsetof(struct tcmu_cmd_entry, req.iov),
			   total, cmd))
		cmd->iov_cnt = cmd->iov_bidi_cnt = 0;
	return 0;
}

static void decode_tmr(const struct lunar_ring *ring, uint32_t pos,
		       uint32_t len, struct ring_tmr *tmr)
{
	struct tcmu_tmr_entry ent;
	uint32_t fits;

	memset(tmr, 0, offsetof(struct ring_tmr, cmd_ids));
	if (len < sizeof(ent))
		return;
	memcpy(&ent, entry_at(ring, pos), sizeof(ent));
	fits = (len - sizeof(ent)) / sizeof(uint16_t);
	tmr->type = ent.tmr_type;
	tmr->cmd_cnt = ent.cmd_cnt;
	if (tmr->cmd_cnt > fits)
		tmr->cmd_cnt = fits;
	if (tmr->cmd_cnt > RING_MAX_TMR_IDS)
		tmr->cmd_cnt = RING_MAX_TMR_IDS;
	memcpy(tmr->cmd_ids, entry_at(ring, pos) + sizeof(ent),
	       tmr->cmd_cnt * sizeof(uint16_t));
}

bool ring_has_entries(const struct lunar_ring *ring)
{
	return load_head(ring) != ring->next;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

bool ring_spin_for_entries(const struct lunar_ring *ring)
{
	int64_t until = now_ns() + RING_SPIN_NS;

	while (!ring_has_entries(ring)) {
		if (now_ns() > until)
			return false;
		cpu_relax();
	}
	return true;
}

void ring_cmd_release(struct ring_cmd *cmd)
{
	if (cmd->iov && cmd->iov != cmd->iov_inline)
		free(cmd->iov);
	cmd->iov = NULL;
}

static void reset_cmd(struct ring_cmd *cmd, uint16_t cmd_id)
{
	cmd->cmd_id = cmd_id;
	cmd->cdb_len = 0;
	cmd->iov = cmd->iov_inline;
	cmd->iov_cnt = 0;
	cmd->iov_bidi_cnt = 0;
	cmd->bad_reason = NULL;
}

/*
 * Decode the non-PAD entry at pos (len bytes, header hdr).  1 with *kind
 * set, or a negative errno from decode_cmd().
 */
static int decode_entry(const struct lunar_ring *ring, uint32_t pos,
			uint32_t len, const struct tcmu_cmd_entry_hdr *hdr,
			enum ring_entry_kind *kind, struct ring_cmd *cmd,
			struct ring_tmr *tmr)
{
	int ret;

	switch (tcmu_hdr_get_op(hdr->len_op)) {
	case TCMU_OP_TMR:
		decode_tmr(ring, pos, len, tmr);
		*kind = RING_ENTRY_TMR;
		return 1;
	case TCMU_OP_CMD:
		reset_cmd(cmd, hdr->cmd_id);
		ret = decode_cmd(ring, pos, len, cmd);
		if (ret)
			return ret;
		*kind = cmd->bad_reason ? RING_ENTRY_BAD_CMD : RING_ENTRY_CMD;
		return 1;
	default:
		reset_cmd(cmd, hdr->cmd_id);
		*kind = RING_ENTRY_UNKNOWN_OP;
		return 1;
	}
}

int ring_next(struct lunar_ring *ring, enum ring_entry_kind *kind,
	      struct ring_cmd *cmd, struct ring_tmr *tmr)
{
	uint32_t head = load_head(ring);
	uint32_t pos = ring->next;

	if (head >= ring->cmdr_size || head % ENTRY_ALIGN)
		return -EPROTO;

	while (pos != head) {
		struct tcmu_cmd_entry_hdr hdr;
		uint32_t len = checked_header(ring, pos, head, &hdr);
		uint8_t op = tcmu_hdr_get_op(hdr.len_op);
		int ret;

		if (!len)
			return -EPROTO;
		if (op == TCMU_OP_PAD) {
			pos = (pos + len) % ring->cmdr_size;
			__atomic_store_n(&ring->next, pos, __ATOMIC_RELEASE);
			continue;
		}
		/*
		 * A command (or an entry of unknown type, which is returned
		 * as a command) must have room for its response: shorter
		 * ones cannot be completed without writing over the next
		 * entry, so the ring is corrupt.
		 */
		if (op != TCMU_OP_TMR && len < sizeof(struct tcmu_cmd_entry))
			return -EPROTO;
		ret = decode_entry(ring, pos, len, &hdr, kind, cmd, tmr);
		if (ret < 0)
			return ret;
		__atomic_store_n(&ring->next, (pos + len) % ring->cmdr_size,
				 __ATOMIC_RELEASE);
		return 1;
	}
	return 0;
}

/*
 * Advance ring->tail over PAD and TMR entries we have already read.
 * Called with complete_lock held.  Returns -EPROTO on a corrupt header.
 * Headers are re-read from shared memory, so each is checked again, and
 * against next: tail never passes what ring_next() handed out.
 */
static int skip_consumed_noncmd(struct lunar_ring *ring, uint32_t next)
{
	while (ring->tail != next) {
		struct tcmu_cmd_entry_hdr hdr;
		uint32_t len = checked_header(ring, ring->tail, next, &hdr);
		uint8_t op;

		if (!len)
			return -EPROTO;
		op = tcmu_hdr_get_op(hdr.len_op);
		if (op != TCMU_OP_PAD && op != TCMU_OP_TMR)
			break;
		ring->tail = (ring->tail + len) % ring->cmdr_size;
	}
	return 0;
}

static void write_result(struct lunar_ring *ring, uint16_t cmd_id,
			 const struct ring_result *res)
{
	struct tcmu_cmd_entry *ent = (void *)entry_at(ring, ring->tail);

	ent->hdr.cmd_id = cmd_id;
	ent->hdr.uflags = res->uflags;
	ent->rsp.scsi_status = res->scsi_status;
	ent->rsp.read_len = res->read_len;
	if (res->scsi_status == 0x02 && res->sense)
		memcpy(ent->rsp.sense_buffer, res->sense, TCMU_SENSE_BUFFERSIZE);
}

/*
 * The header at tail, re-read: a command (or unknown-type) entry that
 * ring_next() handed out, with room for the whole response.  A peer may
 * have rewritten it since, e.g. a consumed PAD at the end of the ring
 * into a short command: writing the response there would go past the
 * ring.  Returns the entry length or 0.
 */
static uint32_t completion_slot(const struct lunar_ring *ring, uint32_t next)
{
	struct tcmu_cmd_entry_hdr hdr;
	uint32_t len = checked_header(ring, ring->tail, next, &hdr);

	if (len < sizeof(struct tcmu_cmd_entry))
		return 0;
	return len;
}

int ring_complete(struct lunar_ring *ring, uint16_t cmd_id,
		  const struct ring_result *res)
{
	uint32_t next, len;
	int ret;

	pthread_mutex_lock(&ring->complete_lock);
	next = __atomic_load_n(&ring->next, __ATOMIC_ACQUIRE);
	ret = skip_consumed_noncmd(ring, next);
	if (ret)
		goto out;
	if (ring->tail == next) {
		ret = -ENOSPC;
		goto out;
	}
	len = completion_slot(ring, next);
	if (!len) {
		ret = -EPROTO;
		goto out;
	}
	write_result(ring, cmd_id, res);
	ring->tail = (ring->tail + len) % ring->cmdr_size;
	ret = skip_consumed_noncmd(ring, next);
	__atomic_store_n(&ring->mb->cmd_tail, ring->tail, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&ring->complete_lock);
	return ret;
}

bool ring_is_idle(struct lunar_ring *ring)
{
	bool idle;

	pthread_mutex_lock(&ring->complete_lock);
	if (skip_consumed_noncmd(ring,
				 __atomic_load_n(&ring->next, __ATOMIC_ACQUIRE)) == 0)
		__atomic_store_n(&ring->mb->cmd_tail, ring->tail,
				 __ATOMIC_RELEASE);
	idle = ring->tail == load_head(ring);
	pthread_mutex_unlock(&ring->complete_lock);
	return idle;
}
