/*
 * simring: the kernel's side of a TCMU device, in process.
 *
 * It lays out the same mmap as drivers/target/target_core_user.c (mailbox,
 * command ring, data area of fixed-size blocks), places entries the same
 * way (8-byte aligned, CDB after the iovecs, a PAD entry when a command does
 * not fit before the end of the ring, lowest free command id from 1, lowest
 * free data blocks with adjacent blocks merged into one iovec), refuses work
 * when the ring or the data area is full, and checks every completion the
 * way the kernel does (unknown command id = broken ring).
 *
 * Instead of a UIO interrupt it uses two eventfds: user_fd becomes readable
 * when the "kernel" queued work (the user side reads it to acknowledge) and
 * kernel_fd when the user side wrote completions.  The mapping is a memfd,
 * sealed at its size, so another process can map it safely.
 *
 * Threading: all functions are safe to call from any thread; completion
 * callbacks run inside simring_reap() on the calling thread, without the
 * simring lock held.
 */
#ifndef LUNAR_SIMRING_H
#define LUNAR_SIMRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct simring;

struct simring_config {
	uint32_t cmdr_size;	/* command ring bytes; 0 = kernel default */
	uint32_t data_blocks;	/* data area blocks; 0 = kernel default */
	uint32_t block_size;	/* data block bytes; 0 = page size */
	uint16_t mb_flags;	/* 0 = OOOC | READ_LEN | TMR, like 6.1 */
};

enum simring_dir {
	SIMRING_DIR_NONE,
	SIMRING_DIR_OUT,	/* data-out: initiator to device (WRITE) */
	SIMRING_DIR_IN,		/* data-in: device to initiator (READ) */
};

struct simring_completion {
	uint16_t cmd_id;
	uint8_t status;
	const uint8_t *sense;	/* 96 bytes, valid for CHECK CONDITION */
	size_t data_len;	/* data-in bytes delivered into the buffer */
	bool expired;		/* the "kernel" gave up on it (reset/abort) */
};

typedef void (*simring_done_fn)(void *priv, const struct simring_completion *c);

int simring_create(const struct simring_config *cfg, struct simring **out);
void simring_destroy(struct simring *sr);

/*
 * Queue one command.  For SIMRING_DIR_OUT buf is copied into the data area
 * now; for SIMRING_DIR_IN the data is copied into buf at completion, so buf
 * must stay valid until done runs.  Does not notify the user side (batch
 * several, then call simring_notify_user()).
 * Returns 0, -EAGAIN (ring or data area full: reap and retry), -E2BIG (can
 * never fit), -EBUSY (device blocked), -EIO (ring broken).
 */
int simring_submit(struct simring *sr, const uint8_t *cdb, enum simring_dir dir,
		   void *buf, size_t len, simring_done_fn done, void *priv,
		   uint16_t *cmd_id);

/* Queue a TMR notification naming cmd_ids; queued internally if full. */
int simring_tmr(struct simring *sr, uint8_t tmr_type, const uint16_t *ids,
		uint32_t cnt);

/*
 * Place raw bytes as the next entry (after a PAD if needed), for tests of
 * hostile ring contents.  len must be a multiple of 8.  With done != NULL
 * the header's cmd_id is registered as in flight (no data), so its
 * completion is accepted and reported.  0 or -errno.
 */
int simring_inject(struct simring *sr, const void *entry, uint32_t len,
		   simring_done_fn done, void *priv);

/*
 * Offset in the mapping where simring_inject() will place an entry of len
 * bytes (after the PAD it inserts if needed), so a test can aim offsets
 * inside the entry it crafts.
 */
uint64_t simring_next_entry_offset(struct simring *sr, uint32_t len);

/* Wake the user side (one UIO interrupt). */
void simring_notify_user(struct simring *sr);

/*
 * Process completions the user side published.  Returns how many commands
 * completed, or -EPROTO once the ring is broken (see simring_error()).
 */
int simring_reap(struct simring *sr);

/*
 * Wait until the user side kicks us or timeout_ms passes, and consume the
 * kick.  1, 0 or -errno.
 */
int simring_wait_kick(struct simring *sr, int timeout_ms);

/*
 * Whether the user side published completions not yet reaped: a cheap
 * check for a polling initiator (no system call).
 */
bool simring_has_completions(struct simring *sr);

/* Commands queued and not yet completed. */
unsigned int simring_inflight(struct simring *sr);

/* Sticky protocol error seen while checking completions, or NULL. */
const char *simring_error(struct simring *sr);

/* The kernel's action/block_dev and action/reset_ring. */
void simring_set_blocked(struct simring *sr, bool blocked);
void simring_reset_ring(struct simring *sr);

/* Mapping shared with the user side. */
void *simring_base(struct simring *sr);
size_t simring_map_len(struct simring *sr);
int simring_memfd(struct simring *sr);
int simring_user_fd(struct simring *sr);
int simring_kernel_fd(struct simring *sr);

#endif
