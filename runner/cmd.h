/*
 * One SCSI command inside lunard, from the moment the command thread takes
 * it off the ring until its completion is written back.
 *
 * struct lunar_cmd embeds the two ABI structures handlers see
 * (tcmulib_cmd, tcmur_cmd) so a handler's pointer leads back to it.
 */
#ifndef LUNAR_CMD_H
#define LUNAR_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcmu-runner.h"
#include "overlap.h"
#include "runner/ring/ring.h"

struct scsi_op;
struct lunar_cmd;

typedef void (*io_done_fn)(struct lunar_cmd *cmd, int sts);

enum io_kind {
	IO_READ,
	IO_WRITE,
	IO_FLUSH,
	IO_UNMAP,
	IO_WRITESAME,
	IO_CAW,
	IO_HANDLE_CMD,
};

/* Arguments of one handler data callout (offsets and lengths in bytes). */
struct io_request {
	enum io_kind kind;
	struct iovec *iov;
	size_t iov_cnt;
	uint64_t off;
	uint64_t len;
	/*
	 * Call on this thread with asynchronous semantics whatever the
	 * handler's nr_threads (handle_cmd tried before emulation).
	 */
	bool inline_async;
};

struct lunar_cmd {
	struct tcmulib_cmd lib;		/* ABI: lib.hm_private = &rcmd */
	struct tcmur_cmd rcmd;		/* ABI: rcmd.lib_cmd = &lib */
	struct tcmu_device *dev;
	struct ring_cmd ring;		/* id, CDB copy, pristine iovecs */

	/* Working iovec copy handlers may consume (lib.iovec points here). */
	struct iovec *work_iov;
	struct iovec work_inline[RING_INLINE_IOVS];
	size_t data_len;		/* bytes in the data-out/in buffer */
	uint32_t read_len;		/* data-in bytes produced; 0 = all */

	/* Decoded by the SCSI core. */
	const struct scsi_op *op;
	uint64_t lba;
	uint64_t nblocks;
	bool fua;

	/* Handler I/O in progress (runner/io.c). */
	struct io_request io;
	io_done_fn io_done;
	int io_state;
	int io_sts;
	bool io_async;			/* completion through tcmur_cmd_complete */

	/* Pending continuation on this thread's trampoline (runner/io.c). */
	struct lunar_cmd *tramp_next;
	io_done_fn tramp_fn;
	int tramp_sts;

	/* Worker queue link and job (runner/workers.c). */
	struct lunar_cmd *work_next;
	void (*work_fn)(struct lunar_cmd *cmd);

	struct overlap_range range;
	bool range_held;

	/* Per-family state of multi-step commands; freed by cmd_finish(). */
	void *state;
	void (*state_free)(void *state);

	bool aborted;			/* named by a TMR abort */
	bool unknown_op;		/* ring entry of unknown type */
	bool internal;			/* runner-made, not on the ring */
};

/* FIFO of commands linked through work_next; the owner provides locking. */
struct cmd_fifo {
	struct lunar_cmd *head, *tail;
};

static inline void cmd_fifo_push(struct cmd_fifo *q, struct lunar_cmd *cmd)
{
	cmd->work_next = NULL;
	if (q->tail)
		q->tail->work_next = cmd;
	else
		q->head = cmd;
	q->tail = cmd;
}

static inline struct lunar_cmd *cmd_fifo_pop(struct cmd_fifo *q)
{
	struct lunar_cmd *cmd = q->head;

	if (cmd) {
		q->head = cmd->work_next;
		if (!q->head)
			q->tail = NULL;
		cmd->work_next = NULL;
	}
	return cmd;
}

static inline struct lunar_cmd *cmd_from_tcmur(struct tcmur_cmd *rcmd)
{
	return (struct lunar_cmd *)((char *)rcmd - offsetof(struct lunar_cmd, rcmd));
}

/* Allocate a command for dev (command thread).  NULL on ENOMEM. */
struct lunar_cmd *cmd_alloc(struct tcmu_device *dev);
void cmd_free(struct lunar_cmd *cmd);

/*
 * Point lib.iovec at a fresh copy of the command's data iovecs (handlers
 * may have consumed the previous copy).  Returns lib.iovec, or NULL if the
 * copy could not be allocated: that can happen only on the first call,
 * dispatch_cmd()'s, which then fails the command; later calls reuse the
 * copy's memory.
 */
struct iovec *cmd_reset_iov(struct lunar_cmd *cmd);

/*
 * Like cmd_reset_iov(), but the copy covers exactly the first len bytes of
 * the data buffer (handlers may assume the iovec holds len bytes, e.g. by
 * passing it to preadv).  len must not exceed cmd->data_len.  NULL as
 * cmd_reset_iov().
 */
struct iovec *cmd_iov_for(struct lunar_cmd *cmd, size_t len);

/* Attach state freed by cmd_finish() (free_fn may be NULL = free()). */
void cmd_set_state(struct lunar_cmd *cmd, void *state,
		   void (*free_fn)(void *state));

#endif
