/*
 * simring: in-process kernel side of a TCMU device.  See simring.h.
 *
 * The placement logic follows drivers/target/target_core_user.c (Linux 6.x):
 * queue_cmd_ring(), ring_insert_padding(), is_ring_space_avail(),
 * tcmu_alloc_data_space(), new_block_to_iov(), queue_tmr_ring() and
 * tcmu_handle_completions().
 */
#define _GNU_SOURCE
#include "simring.h"
#include "runner/ring/tcmu_uapi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define MB_CMDR_SIZE_DEF (8u * 1024 * 1024)
#define DATA_BLOCKS_DEF (256u * 1024)
#define MAX_CMD_ID 0xffffu
#define BITS_PER_WORD 64u

static size_t align8(size_t n)
{
	return (n + TCMU_OP_ALIGN_SIZE - 1) & ~(TCMU_OP_ALIGN_SIZE - 1);
}

struct sim_cmd {
	bool in_use;
	enum simring_dir dir;
	void *buf;
	size_t len;
	uint32_t *dbi;
	uint32_t dbi_cnt;
	simring_done_fn done;
	void *priv;
};

struct sim_tmr {
	struct sim_tmr *next;
	uint8_t type;
	uint32_t cnt;
	uint16_t ids[];
};

struct simring {
	pthread_mutex_t lock;
	uint8_t *base;
	size_t map_len;
	int memfd;
	int user_efd;
	int kernel_efd;

	struct tcmu_mailbox *mb;
	uint32_t cmdr_off;
	uint32_t cmdr_size;
	uint32_t cmdr_last_cleaned;
	size_t data_off;
	uint32_t blk_size;
	uint32_t max_blocks;
	uint32_t used_blocks;
	uint64_t *bitmap;

	struct sim_cmd *cmds;	/* indexed by cmd id, 1..MAX_CMD_ID */
	unsigned int inflight;
	struct sim_tmr *tmr_head, *tmr_tail;

	bool blocked;
	bool broken;
	char error[160];
};

static size_t head_to_end(uint32_t head, uint32_t size)
{
	return size - head;
}

static size_t spc_used(uint32_t head, uint32_t tail, uint32_t size)
{
	return head >= tail ? head - tail : size - tail + head;
}

/* One byte stays unused so full and empty differ (kernel spc_free()). */
static size_t spc_free(uint32_t head, uint32_t tail, uint32_t size)
{
	return size - spc_used(head, tail, size) - 1;
}

static void update_head(uint32_t *head, size_t used, uint32_t size)
{
	__atomic_store_n(head, (uint32_t)((*head % size + used) % size),
			 __ATOMIC_RELEASE);
}

static void __attribute__((format(printf, 2, 3)))
set_error(struct simring *sr, const char *fmt, ...)
{
	va_list ap;

	sr->broken = true;
	if (sr->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(sr->error, sizeof(sr->error), fmt, ap);
	va_end(ap);
}

static int map_area(struct simring *sr)
{
	sr->memfd = memfd_create("simring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (sr->memfd < 0)
		return -errno;
	/* Sealed at its size: a lunard mapping it never loses pages. */
	if (ftruncate(sr->memfd, (off_t)sr->map_len) ||
	    fcntl(sr->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		return -errno;
	sr->base = mmap(NULL, sr->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			sr->memfd, 0);
	if (sr->base == MAP_FAILED) {
		sr->base = NULL;
		return -errno;
	}
	return 0;
}

static int init_geometry(struct simring *sr, const struct simring_config *cfg)
{
	uint32_t mb_size = sizeof(struct tcmu_mailbox);
	uint32_t ring_total = cfg->cmdr_size ? cfg->cmdr_size + mb_size :
					       MB_CMDR_SIZE_DEF;

	sr->cmdr_off = mb_size;
	sr->cmdr_size = ring_total - mb_size;
	if (sr->cmdr_size % TCMU_OP_ALIGN_SIZE || sr->cmdr_size < 1024)
		return -EINVAL;
	sr->blk_size = cfg->block_size ? cfg->block_size :
					 (uint32_t)sysconf(_SC_PAGESIZE);
	sr->max_blocks = cfg->data_blocks ? cfg->data_blocks : DATA_BLOCKS_DEF;
	sr->data_off = ring_total;
	sr->map_len = sr->data_off + (size_t)sr->max_blocks * sr->blk_size;
	return 0;
}

int simring_create(const struct simring_config *cfg, struct simring **out)
{
	struct simring_config defaults = { 0 };
	struct simring *sr;
	int ret;

	if (!cfg)
		cfg = &defaults;
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	sr->memfd = sr->user_efd = sr->kernel_efd = -1;
	pthread_mutex_init(&sr->lock, NULL);
	ret = init_geometry(sr, cfg);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	sr->bitmap = calloc((sr->max_blocks + BITS_PER_WORD - 1) / BITS_PER_WORD,
			    sizeof(uint64_t));
	sr->cmds = calloc(MAX_CMD_ID + 1, sizeof(*sr->cmds));
	if (!sr->bitmap || !sr->cmds)
		goto fail;
	ret = map_area(sr);
	if (ret)
		goto fail;
	sr->user_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sr->kernel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sr->user_efd < 0 || sr->kernel_efd < 0) {
		ret = -errno;
		goto fail;
	}

	sr->mb = (struct tcmu_mailbox *)sr->base;
	sr->mb->version = TCMU_MAILBOX_VERSION;
	sr->mb->flags = cfg->mb_flags ? cfg->mb_flags :
			TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN |
			TCMU_MAILBOX_FLAG_CAP_TMR;
	sr->mb->cmdr_off = sr->cmdr_off;
	sr->mb->cmdr_size = sr->cmdr_size;
	*out = sr;
	return 0;
fail:
	simring_destroy(sr);
	return ret;
}

void simring_destroy(struct simring *sr)
{
	if (!sr)
		return;
	while (sr->tmr_head) {
		struct sim_tmr *t = sr->tmr_head;

		sr->tmr_head = t->next;
		free(t);
	}
	if (sr->cmds)
		for (uint32_t i = 0; i <= MAX_CMD_ID; i++)
			free(sr->cmds[i].dbi);
	if (sr->base)
		munmap(sr->base, sr->map_len);
	if (sr->memfd >= 0)
		close(sr->memfd);
	if (sr->user_efd >= 0)
		close(sr->user_efd);
	if (sr->kernel_efd >= 0)
		close(sr->kernel_efd);
	free(sr->bitmap);
	free(sr->cmds);
	pthread_mutex_destroy(&sr->lock);
	free(sr);
}

static bool test_bit(const uint64_t *map, uint32_t bit)
{
	return map[bit / BITS_PER_WORD] & (1ull << (bit % BITS_PER_WORD));
}

static void assign_bit(uint64_t *map, uint32_t bit, bool on)
{
	if (on)
		map[bit / BITS_PER_WORD] |= 1ull << (bit % BITS_PER_WORD);
	else
		map[bit / BITS_PER_WORD] &= ~(1ull << (bit % BITS_PER_WORD));
}

/* Lowest free block at or after from, or max_blocks. */
static uint32_t find_free_block(const struct simring *sr, uint32_t from)
{
	for (uint32_t b = from; b < sr->max_blocks; b++) {
		uint64_t word = sr->bitmap[b / BITS_PER_WORD];

		if (word == ~0ull && b % BITS_PER_WORD == 0) {
			b += BITS_PER_WORD - 1;
			continue;
		}
		if (!test_bit(sr->bitmap, b))
			return b;
	}
	return sr->max_blocks;
}

/* Allocate cmd->dbi_cnt lowest free blocks.  Returns iovec count or -1. */
static int alloc_blocks(struct simring *sr, struct sim_cmd *cmd)
{
	uint32_t from = 0;
	int iov_cnt = 0;
	int64_t prev = -2;

	if (sr->max_blocks - sr->used_blocks < cmd->dbi_cnt)
		return -1;
	for (uint32_t i = 0; i < cmd->dbi_cnt; i++) {
		uint32_t b = find_free_block(sr, from);

		assign_bit(sr->bitmap, b, true);
		sr->used_blocks++;
		cmd->dbi[i] = b;
		if ((int64_t)b != prev + 1)
			iov_cnt++;
		prev = b;
		from = b + 1;
	}
	return iov_cnt;
}

static void free_blocks_of(struct simring *sr, struct sim_cmd *cmd)
{
	for (uint32_t i = 0; i < cmd->dbi_cnt; i++)
		assign_bit(sr->bitmap, cmd->dbi[i], false);
	sr->used_blocks -= cmd->dbi_cnt;
	free(cmd->dbi);
	cmd->dbi = NULL;
	cmd->dbi_cnt = 0;
}

static uint8_t *block_addr(struct simring *sr, uint32_t dbi)
{
	return sr->base + sr->data_off + (size_t)dbi * sr->blk_size;
}

/* Build the iovecs (offsets relative to the mapping), merging neighbours. */
static void setup_iovs(struct simring *sr, struct sim_cmd *cmd,
		       struct iovec *iov)
{
	size_t left = cmd->len;
	int64_t prev = -2;
	int n = -1;

	for (uint32_t i = 0; i < cmd->dbi_cnt; i++) {
		size_t chunk = left < sr->blk_size ? left : sr->blk_size;

		if ((int64_t)cmd->dbi[i] != prev + 1) {
			n++;
			iov[n].iov_base = (void *)(uintptr_t)(sr->data_off +
				(size_t)cmd->dbi[i] * sr->blk_size);
			iov[n].iov_len = 0;
		}
		iov[n].iov_len += chunk;
		left -= chunk;
		prev = cmd->dbi[i];
	}
}

static void copy_blocks(struct simring *sr, struct sim_cmd *cmd, bool to_ring,
			size_t len)
{
	uint8_t *p = cmd->buf;

	for (uint32_t i = 0; i < cmd->dbi_cnt && len; i++) {
		size_t chunk = len < sr->blk_size ? len : sr->blk_size;

		if (to_ring)
			memcpy(block_addr(sr, cmd->dbi[i]), p, chunk);
		else
			memcpy(p, block_addr(sr, cmd->dbi[i]), chunk);
		p += chunk;
		len -= chunk;
	}
}

static size_t cdb_size(const uint8_t *cdb)
{
	static const uint8_t group_len[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };

	return cdb[0] == 0x7f ? 8u + cdb[7] : group_len[cdb[0] >> 5];
}

static bool ring_space_avail(struct simring *sr, size_t cmd_size)
{
	uint32_t head = sr->mb->cmd_head % sr->cmdr_size;
	size_t needed = cmd_size;

	if (head_to_end(head, sr->cmdr_size) < cmd_size)
		needed += head_to_end(head, sr->cmdr_size);
	return spc_free(head, sr->cmdr_last_cleaned, sr->cmdr_size) >= needed;
}

static uint32_t insert_padding(struct simring *sr, size_t cmd_size)
{
	uint32_t head = sr->mb->cmd_head % sr->cmdr_size;

	if (head_to_end(head, sr->cmdr_size) < cmd_size) {
		struct tcmu_cmd_entry_hdr *hdr =
			(void *)(sr->base + sr->cmdr_off + head);
		size_t pad = head_to_end(head, sr->cmdr_size);

		memset(hdr, 0, sizeof(*hdr));
		hdr->len_op = tcmu_hdr_len_op((uint32_t)pad, TCMU_OP_PAD);
		update_head(&sr->mb->cmd_head, pad, sr->cmdr_size);
		head = sr->mb->cmd_head % sr->cmdr_size;
	}
	return head;
}

static int alloc_cmd_id(struct simring *sr, uint16_t *id)
{
	for (uint32_t i = 1; i <= MAX_CMD_ID; i++)
		if (!sr->cmds[i].in_use) {
			*id = (uint16_t)i;
			return 0;
		}
	return -EAGAIN;
}

static size_t base_cmd_size(size_t iov_cnt)
{
	size_t with_iovs = offsetof(struct tcmu_cmd_entry, req.iov) +
			   iov_cnt * sizeof(struct iovec);

	return with_iovs > sizeof(struct tcmu_cmd_entry) ?
	       with_iovs : sizeof(struct tcmu_cmd_entry);
}

static void write_entry(struct simring *sr, uint32_t head, uint16_t id,
			struct sim_cmd *cmd, const uint8_t *cdb, int iov_cnt,
			size_t base_size, size_t cmd_size)
{
	struct tcmu_cmd_entry *ent = (void *)(sr->base + sr->cmdr_off + head);
	uint64_t cdb_off = sr->cmdr_off + head + base_size;

	memset(ent, 0, cmd_size);
	ent->hdr.len_op = tcmu_hdr_len_op((uint32_t)cmd_size, TCMU_OP_CMD);
	ent->hdr.cmd_id = id;
	if (cmd->dir == SIMRING_DIR_OUT)
		copy_blocks(sr, cmd, true, cmd->len);
	setup_iovs(sr, cmd, (struct iovec *)((uint8_t *)ent +
			   offsetof(struct tcmu_cmd_entry, req.iov)));
	ent->req.iov_cnt = (uint32_t)iov_cnt;
	memcpy(sr->base + cdb_off, cdb, cdb_size(cdb));
	ent->req.cdb_off = cdb_off;
}

static int queue_cmd(struct simring *sr, struct sim_cmd *cmd, const uint8_t *cdb,
		     uint16_t *cmd_id)
{
	size_t base_size, cmd_size;
	uint16_t id;
	int iov_cnt;

	if ((uint64_t)cmd->dbi_cnt > sr->max_blocks)
		return -E2BIG;
	iov_cnt = alloc_blocks(sr, cmd);
	if (iov_cnt < 0)
		return -EAGAIN;
	base_size = base_cmd_size((size_t)iov_cnt);
	cmd_size = base_size + align8(cdb_size(cdb));
	if (cmd_size > sr->cmdr_size / 2) {
		free_blocks_of(sr, cmd);
		return -E2BIG;
	}
	if (!ring_space_avail(sr, cmd_size) || alloc_cmd_id(sr, &id)) {
		free_blocks_of(sr, cmd);
		return -EAGAIN;
	}
	write_entry(sr, insert_padding(sr, cmd_size), id, cmd, cdb, iov_cnt,
		    base_size, cmd_size);
	cmd->in_use = true;
	sr->cmds[id] = *cmd;
	sr->inflight++;
	update_head(&sr->mb->cmd_head, cmd_size, sr->cmdr_size);
	if (cmd_id)
		*cmd_id = id;
	return 0;
}

int simring_submit(struct simring *sr, const uint8_t *cdb, enum simring_dir dir,
		   void *buf, size_t len, simring_done_fn done, void *priv,
		   uint16_t *cmd_id)
{
	struct sim_cmd cmd = {
		.dir = dir, .buf = buf, .len = dir == SIMRING_DIR_NONE ? 0 : len,
		.done = done, .priv = priv,
	};
	int ret;

	cmd.dbi_cnt = (uint32_t)((cmd.len + sr->blk_size - 1) / sr->blk_size);
	if (cmd.len / sr->blk_size > sr->max_blocks)
		return -E2BIG;
	cmd.dbi = calloc(cmd.dbi_cnt ? cmd.dbi_cnt : 1, sizeof(uint32_t));
	if (!cmd.dbi)
		return -ENOMEM;

	pthread_mutex_lock(&sr->lock);
	if (sr->broken)
		ret = -EIO;
	else if (sr->blocked)
		ret = -EBUSY;
	else
		ret = queue_cmd(sr, &cmd, cdb, cmd_id);
	pthread_mutex_unlock(&sr->lock);
	if (ret)
		free(cmd.dbi);
	return ret;
}

/* Try to place queued TMRs; stops at the first that does not fit. */
static void run_tmr_queue(struct simring *sr)
{
	while (sr->tmr_head) {
		struct sim_tmr *t = sr->tmr_head;
		size_t size = align8(sizeof(struct tcmu_tmr_entry) +
				     t->cnt * sizeof(uint16_t));
		struct tcmu_tmr_entry *ent;
		uint32_t head;

		if (!ring_space_avail(sr, size))
			return;
		head = insert_padding(sr, size);
		ent = (void *)(sr->base + sr->cmdr_off + head);
		memset(ent, 0, size);
		ent->hdr.len_op = tcmu_hdr_len_op((uint32_t)size, TCMU_OP_TMR);
		ent->tmr_type = t->type;
		ent->cmd_cnt = t->cnt;
		memcpy((uint8_t *)ent + sizeof(*ent), t->ids,
		       t->cnt * sizeof(uint16_t));
		update_head(&sr->mb->cmd_head, size, sr->cmdr_size);
		sr->tmr_head = t->next;
		if (!sr->tmr_head)
			sr->tmr_tail = NULL;
		free(t);
	}
}

int simring_tmr(struct simring *sr, uint8_t tmr_type, const uint16_t *ids,
		uint32_t cnt)
{
	struct sim_tmr *t = malloc(sizeof(*t) + cnt * sizeof(uint16_t));

	if (!t)
		return -ENOMEM;
	t->next = NULL;
	t->type = tmr_type;
	t->cnt = cnt;
	if (cnt)
		memcpy(t->ids, ids, cnt * sizeof(uint16_t));
	pthread_mutex_lock(&sr->lock);
	if (sr->tmr_tail)
		sr->tmr_tail->next = t;
	else
		sr->tmr_head = t;
	sr->tmr_tail = t;
	run_tmr_queue(sr);
	pthread_mutex_unlock(&sr->lock);
	return 0;
}

int simring_inject(struct simring *sr, const void *entry, uint32_t len,
		   simring_done_fn done, void *priv)
{
	struct tcmu_cmd_entry_hdr hdr;
	uint32_t head;
	int ret = 0;

	if (len % TCMU_OP_ALIGN_SIZE || len < sizeof(hdr) ||
	    len > sr->cmdr_size / 2)
		return -EINVAL;
	memcpy(&hdr, entry, sizeof(hdr));
	pthread_mutex_lock(&sr->lock);
	if (!ring_space_avail(sr, len)) {
		ret = -EAGAIN;
	} else if (done && sr->cmds[hdr.cmd_id].in_use) {
		ret = -EEXIST;
	} else {
		head = insert_padding(sr, len);
		memcpy(sr->base + sr->cmdr_off + head, entry, len);
		if (done) {
			sr->cmds[hdr.cmd_id] = (struct sim_cmd){
				.in_use = true, .done = done, .priv = priv,
			};
			sr->inflight++;
		}
		update_head(&sr->mb->cmd_head, len, sr->cmdr_size);
	}
	pthread_mutex_unlock(&sr->lock);
	return ret;
}

uint64_t simring_next_entry_offset(struct simring *sr, uint32_t len)
{
	uint32_t head;

	pthread_mutex_lock(&sr->lock);
	head = sr->mb->cmd_head % sr->cmdr_size;
	if (head_to_end(head, sr->cmdr_size) < len)
		head = 0;
	pthread_mutex_unlock(&sr->lock);
	return sr->cmdr_off + (uint64_t)head;
}

void simring_notify_user(struct simring *sr)
{
	uint64_t one = 1;

	if (write(sr->user_efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated, the user side is awake anyway. */
	}
}

struct finished {
	struct sim_cmd cmd;
	struct simring_completion c;
	uint8_t sense[TCMU_SENSE_BUFFERSIZE];
};

/* Kernel tcmu_handle_completion(): copy data-in and status out of the slot. */
static void finish_one(struct simring *sr, const struct tcmu_cmd_entry *ent,
		       struct finished *f)
{
	struct sim_cmd *cmd = &sr->cmds[ent->hdr.cmd_id];
	size_t read_len = cmd->len;

	f->cmd = *cmd;
	f->c.cmd_id = ent->hdr.cmd_id;
	f->c.status = ent->rsp.scsi_status;
	f->c.sense = f->sense;
	f->c.expired = false;
	memcpy(f->sense, ent->rsp.sense_buffer, sizeof(f->sense));
	if (ent->hdr.uflags & TCMU_UFLAG_UNKNOWN_OP)
		f->c.status = 0x02;
	if (cmd->dir == SIMRING_DIR_IN &&
	    (sr->mb->flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN) &&
	    (ent->hdr.uflags & TCMU_UFLAG_READ_LEN) &&
	    ent->rsp.read_len && ent->rsp.read_len < read_len)
		read_len = ent->rsp.read_len;
	f->c.data_len = 0;
	if (cmd->dir == SIMRING_DIR_IN && f->c.status != 0x02) {
		copy_blocks(sr, cmd, false, read_len);
		f->c.data_len = read_len;
	}
	free_blocks_of(sr, cmd);
	memset(cmd, 0, sizeof(*cmd));
	sr->inflight--;
}

/*
 * Walk from last_cleaned to cmd_tail.  Finished commands are collected in
 * out[] (at most max) so their callbacks run without the lock.
 */
static int collect_completions(struct simring *sr, struct finished *out,
			       int max)
{
	uint32_t tail = __atomic_load_n(&sr->mb->cmd_tail, __ATOMIC_ACQUIRE);
	int n = 0;

	if (tail >= sr->cmdr_size || tail % TCMU_OP_ALIGN_SIZE) {
		set_error(sr, "cmd_tail %u outside the command ring", tail);
		return -EPROTO;
	}
	while (sr->cmdr_last_cleaned != tail && n < max) {
		struct tcmu_cmd_entry *ent =
			(void *)(sr->base + sr->cmdr_off + sr->cmdr_last_cleaned);
		uint32_t len = tcmu_hdr_get_len(ent->hdr.len_op);
		uint8_t op = tcmu_hdr_get_op(ent->hdr.len_op);

		if (op != TCMU_OP_PAD && op != TCMU_OP_TMR) {
			uint16_t id = ent->hdr.cmd_id;

			if (!sr->cmds[id].in_use) {
				set_error(sr, "cmd_id %u not found, ring is broken", id);
				return -EPROTO;
			}
			finish_one(sr, ent, &out[n++]);
		}
		update_head(&sr->cmdr_last_cleaned, len, sr->cmdr_size);
	}
	return n;
}

int simring_reap(struct simring *sr)
{
	struct finished batch[64];
	int total = 0, n;

	do {
		pthread_mutex_lock(&sr->lock);
		n = sr->broken ? -EPROTO : collect_completions(sr, batch, 64);
		if (n > 0)
			run_tmr_queue(sr);
		pthread_mutex_unlock(&sr->lock);
		for (int i = 0; i < n; i++)
			if (batch[i].cmd.done)
				batch[i].cmd.done(batch[i].cmd.priv, &batch[i].c);
		if (n > 0)
			total += n;
	} while (n == 64);
	return n < 0 ? n : total;
}

int simring_wait_kick(struct simring *sr, int timeout_ms)
{
	struct pollfd pfd = { .fd = sr->kernel_efd, .events = POLLIN };
	uint64_t count;
	int ret = poll(&pfd, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	if (!ret)
		return 0;
	/* Consume the kick; the completions themselves stay for the reap. */
	if (read(sr->kernel_efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}

bool simring_has_completions(struct simring *sr)
{
	return __atomic_load_n(&sr->mb->cmd_tail, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&sr->cmdr_last_cleaned, __ATOMIC_RELAXED);
}

unsigned int simring_inflight(struct simring *sr)
{
	unsigned int n;

	pthread_mutex_lock(&sr->lock);
	n = sr->inflight;
	pthread_mutex_unlock(&sr->lock);
	return n;
}

const char *simring_error(struct simring *sr)
{
	return sr->broken ? sr->error : NULL;
}

void simring_set_blocked(struct simring *sr, bool blocked)
{
	pthread_mutex_lock(&sr->lock);
	sr->blocked = blocked;
	pthread_mutex_unlock(&sr->lock);
}

/*
 * Kernel tcmu_reset_ring(): every in-flight command is failed back to the
 * initiator (as expired), the ring is emptied and the broken flag cleared.
 */
void simring_reset_ring(struct simring *sr)
{
	struct finished *f = NULL;
	int n = 0;

	pthread_mutex_lock(&sr->lock);
	if (sr->inflight)
		f = calloc(sr->inflight, sizeof(*f));
	for (uint32_t id = 1; id <= MAX_CMD_ID; id++) {
		struct sim_cmd *cmd = &sr->cmds[id];

		if (!cmd->in_use)
			continue;
		if (f) {
			f[n].cmd = *cmd;
			f[n].c = (struct simring_completion){
				.cmd_id = (uint16_t)id, .status = 0x08,
				.expired = true,
			};
			n++;
		}
		free_blocks_of(sr, cmd);
		memset(cmd, 0, sizeof(*cmd));
	}
	sr->inflight = 0;
	sr->mb->cmd_head = 0;
	sr->mb->cmd_tail = 0;
	sr->cmdr_last_cleaned = 0;
	sr->broken = false;
	sr->error[0] = '\0';
	pthread_mutex_unlock(&sr->lock);
	for (int i = 0; i < n; i++)
		if (f[i].cmd.done)
			f[i].cmd.done(f[i].cmd.priv, &f[i].c);
	free(f);
}

void *simring_base(struct simring *sr)
{
	return sr->base;
}

size_t simring_map_len(struct simring *sr)
{
	return sr->map_len;
}

int simring_memfd(struct simring *sr)
{
	return sr->memfd;
}

int simring_user_fd(struct simring *sr)
{
	return sr->user_efd;
}

int simring_kernel_fd(struct simring *sr)
{
	return sr->kernel_efd;
}
