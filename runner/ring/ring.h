/*
 * The user side of a TCMU command ring (linux/target_core_user.h, mailbox
 * version 2): decode PAD/CMD/TMR entries between our private read position
 * and mb->cmd_head, and write completions at mb->cmd_tail out of order.
 *
 * The ring memory is shared with the kernel (or simring), so nothing read
 * from it is trusted: every offset and length is checked against the
 * mapping before use, and a decoded entry carries copies, not pointers into
 * the command ring.
 *
 * Threading: ring_next() is called only by the device's command thread.
 * ring_complete() may be called from any thread; it serialises on
 * ring->complete_lock.
 */
#ifndef LUNAR_RING_H
#define LUNAR_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcmu_uapi.h"

/* Largest CDB the kernel passes: variable-length 0x7f, 8 + 255 bytes. */
#define RING_MAX_CDB_LEN 264

/* Most TMR command ids one notification may name. */
#define RING_MAX_TMR_IDS 4096

/* iovecs kept inside struct ring_cmd; longer lists are malloc()ed. */
#define RING_INLINE_IOVS 4

struct lunar_ring {
	struct tcmu_mailbox *mb;
	uint8_t *base;
	size_t map_len;
	uint32_t cmdr_off;
	uint32_t cmdr_size;
	size_t data_off;	/* first byte after the command ring */
	uint16_t mb_flags;

	uint32_t next;		/* read position, ring-relative */

	pthread_mutex_t complete_lock;
	uint32_t tail;		/* private copy of mb->cmd_tail */
};

enum ring_entry_kind {
	RING_ENTRY_CMD,
	RING_ENTRY_TMR,
	/* A CMD whose body is malformed: complete it with an error. */
	RING_ENTRY_BAD_CMD,
	/* An opcode we do not know: complete it with TCMU_UFLAG_UNKNOWN_OP. */
	RING_ENTRY_UNKNOWN_OP,
};

struct ring_cmd {
	uint16_t cmd_id;
	uint8_t cdb[RING_MAX_CDB_LEN];
	uint16_t cdb_len;
	/*
	 * Data iovecs, converted to pointers into the data area: iov_cnt
	 * data-out/data-in vectors followed by iov_bidi_cnt data-in ones.
	 * iov points at iov_inline or at a heap array (release with
	 * ring_cmd_release()).
	 */
	struct iovec *iov;
	uint32_t iov_cnt;
	uint32_t iov_bidi_cnt;
	struct iovec iov_inline[RING_INLINE_IOVS];
	const char *bad_reason;	/* set for RING_ENTRY_BAD_CMD */
};

struct ring_tmr {
	uint8_t type;
	uint32_t cmd_cnt;
	uint16_t cmd_ids[RING_MAX_TMR_IDS];
};

/*
 * Result written back for one command.  sense is copied only for CHECK
 * CONDITION.  read_len != 0 reports a short data-in transfer (requires
 * TCMU_MAILBOX_FLAG_CAP_READ_LEN).
 */
struct ring_result {
	uint8_t scsi_status;
	uint8_t uflags;
	uint32_t read_len;
	const uint8_t *sense;
};

/*
 * Validate the mailbox in a fresh mapping: a version 2 command ring inside
 * the mapping and a data area after it.  0 or -errno (-EPROTO, -EINVAL).
 */
int ring_attach(struct lunar_ring *ring, void *base, size_t map_len);
void ring_detach(struct lunar_ring *ring);

/*
 * Resynchronise both positions with the mailbox (after attach and after a
 * ring reset): entries between cmd_tail and cmd_head are fed again.
 */
void ring_sync_positions(struct lunar_ring *ring);

/*
 * Decode the next entry.  Returns 1 and fills *kind and cmd or tmr, 0 when
 * the ring is empty, -ENOMEM when an iovec array could not be allocated
 * (nothing consumed; retry later), -EPROTO when the ring itself is corrupt
 * (bad header: we cannot know where the next entry starts; the device must
 * stop).
 */
int ring_next(struct lunar_ring *ring, enum ring_entry_kind *kind,
	      struct ring_cmd *cmd, struct ring_tmr *tmr);

/* Whether the kernel queued entries not yet read (no system call). */
bool ring_has_entries(const struct lunar_ring *ring);

/*
 * How long the user side watches the ring for new entries after a batch
 * before it sleeps on the kernel's notification: under load the next
 * command usually arrives within microseconds, and waking a sleeping
 * thread costs far more than that (an inter-processor interrupt, a VM exit
 * under virtualisation).  lunard's command thread and lunar-bench's bare
 * ring loop both spin this long, so the baseline polls as lunard does.
 */
#define RING_SPIN_NS 20000

/* Spin up to RING_SPIN_NS for new entries; true as soon as some arrived. */
bool ring_spin_for_entries(const struct lunar_ring *ring);

/* Free what ring_next() allocated for cmd (safe on a zeroed ring_cmd). */
void ring_cmd_release(struct ring_cmd *cmd);

/*
 * Complete cmd_id in the next free completion slot and publish the new
 * cmd_tail (release).  Returns 0, -ENOSPC if every slot ring_next() handed
 * out is already completed (a completion nobody asked for), or -EPROTO if
 * the slot's header, re-read from shared memory, no longer describes a
 * command entry with room for the response inside what was handed out
 * (nothing is written then).
 */
int ring_complete(struct lunar_ring *ring, uint16_t cmd_id,
		  const struct ring_result *res);

/* True when every entry the kernel queued has been completed. */
bool ring_is_idle(struct lunar_ring *ring);

#endif
