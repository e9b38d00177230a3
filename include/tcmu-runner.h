/*
 * lunar — the tcmu-runner 1.5.4 handler ABI.
 *
 * A handler is a shared object named handler_<subtype>.so exporting
 *	int handler_init(void);
 * which calls tcmur_register_handler() with a static struct tcmur_handler.
 * lunard dlopen()s every handler_*.so in its handler directory at startup.
 *
 * This header is the frozen contract with handler binaries built for
 * tcmu-runner 1.5.4: the layout of struct tcmur_cmd and struct tcmur_handler
 * (field order, types, padding), enum tcmur_event and the exported function
 * signatures must not change.
 */
#ifndef LUNAR_TCMU_RUNNER_H
#define LUNAR_TCMU_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "libtcmu.h"
#include "libtcmu_common.h"
#include "libtcmu_log.h"
#include "scsi_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Same shape as ccan's list_node, which 1.5.4 embeds in struct tcmur_cmd. */
struct list_node {
	struct list_node *next, *prev;
};

/* get_lock_state() return values. */
enum {
	TCMUR_DEV_LOCK_UNKNOWN,
	TCMUR_DEV_LOCK_UNLOCKED,
	TCMUR_DEV_LOCK_READ_LOCKING,
	TCMUR_DEV_LOCK_READ_LOCKED,
	TCMUR_DEV_LOCK_WRITE_LOCKING,
	TCMUR_DEV_LOCK_WRITE_LOCKED,
};

/* lock() tag meaning "no ALUA group": implicit failover. */
#define TCMU_INVALID_LOCK_TAG 0xffff

/*
 * Per-command runner state handed to handler callouts.  Owned by the
 * runner.  Handlers read lib_cmd (CDB, iovec, sense buffer) and complete
 * asynchronous work with tcmur_cmd_complete(); the other fields belong to
 * the runner.
 */
struct tcmur_cmd {
	struct tcmulib_cmd *lib_cmd;

	/* Used by compound commands (CAW, WRITE SAME, FORMAT, XCOPY ...). */
	struct iovec *iovec;
	size_t iov_cnt;
	void *iov_base_copy;
	void *cmd_state;

	/* Bytes to read/write from iovec. */
	size_t requested;

	struct list_node cmds_list_entry;
	/* When the runner took the command off the ring (CLOCK_MONOTONIC). */
	struct timespec start_time;
	bool timed_out;

	/* The runner's continuation; tcmur_cmd_complete() invokes it. */
	void (*done)(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret);
};

enum tcmur_event {
	TCMUR_EVT_LOCK_LOST,
	TCMUR_EVT_CONN_LOST,
	TCMUR_EVT_CMD_TIMED_OUT,
};

/*
 * Handler callouts.  Unless noted, a callout returns a TCMU_STS_* value.
 *
 * nr_threads > 0: the runner calls read/write/flush/unmap/writesame/caw and
 * (for passthrough-only handlers) handle_cmd on one of nr_threads worker
 * threads per device, and the return value is the command's final status.
 * nr_threads == 0: the handler is asynchronous; callouts run on the
 * device's command thread (or inside a previous completion), return
 * TCMU_STS_OK once the I/O is queued, and the handler later calls
 * tcmur_cmd_complete() from any thread.  Any other return completes the
 * command at once.
 *
 * handle_cmd, when a handler also implements read/write/flush, is tried
 * first for every command, synchronously on the command thread: return
 * TCMU_STS_NOT_HANDLED for the runner's emulation, TCMU_STS_ASYNC_HANDLED
 * after queueing the command, anything else as the final status.
 */
struct tcmur_handler {
	const char *name;	/* Human-friendly name */
	const char *subtype;	/* Name for cfgstring matching */
	const char *cfg_desc;	/* Description of this backstore's config string */

	void *opaque;		/* Handler private data. */

	/*
	 * Optional.  Called for D-Bus CheckConfig and before open().  Return
	 * true if the cfgstring can work; otherwise set *reason to a
	 * malloc()ed explanation (the runner frees it).
	 */
	bool (*check_config)(const char *cfgstring, char **reason);

	/* Optional.  Netlink RECONFIG: returns 0 or -errno. */
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);

	/* Per-device open/close; open returns 0 or -errno. */
	int (*open)(struct tcmu_device *dev, bool reopen);
	void (*close)(struct tcmu_device *dev);

	int nr_threads;

	int (*handle_cmd)(struct tcmu_device *dev, struct tcmur_cmd *cmd);

	/* len and off are in bytes. */
	int (*read)(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		    struct iovec *iovec, size_t iov_cnt, size_t len, off_t off);
	int (*write)(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     struct iovec *iovec, size_t iov_cnt, size_t len, off_t off);
	int (*flush)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*unmap)(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     uint64_t off, uint64_t len);
	/* WRITE SAME: iovec holds one logical block; off/len in bytes. */
	int (*writesame)(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			 uint64_t off, uint64_t len, struct iovec *iovec,
			 size_t iov_cnt);
	/*
	 * COMPARE AND WRITE: iovec holds compare data then write data, len
	 * bytes each.  On miscompare return TCMU_STS_MISCOMPARE after
	 * tcmu_sense_set_info(sense_buf, offset of first differing byte).
	 */
	int (*caw)(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		   uint64_t off, uint64_t len, struct iovec *iovec,
		   size_t iov_cnt);

	/* Optional.  Lock lost / connection lost / command timed out. */
	int (*report_event)(struct tcmu_device *dev);

	/* Optional cluster lock (see cluster/ for how lunard drives it). */
	int (*lock)(struct tcmu_device *dev, uint16_t tag);
	int (*unlock)(struct tcmu_device *dev);
	int (*get_lock_tag)(struct tcmu_device *dev, uint16_t *tag);
	/* Returns a TCMUR_DEV_LOCK_* value. */
	int (*get_lock_state)(struct tcmu_device *dev);

	/* Runner-internal in 1.5.4; handlers leave it false. */
	bool _is_dbus_handler;

	/* Optional: the log directory changed. */
	bool (*update_logdir)(void);

	/* Optional: called once after registration / before unload. */
	int (*init)(void);
	void (*destroy)(void);
};

/* Complete an asynchronously handled command (any thread). */
void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc);

/* Handler-private per-device pointer. */
void tcmur_dev_set_private(struct tcmu_device *dev, void *private);
void *tcmur_dev_get_private(struct tcmu_device *dev);

/*
 * The backend's size changed: record it, tell the kernel (configfs
 * dev_size) and raise CAPACITY DATA HAS CHANGED.  Returns 0 or -errno.
 */
int tcmur_dev_update_size(struct tcmu_device *dev, uint64_t new_size);

/* Handler-reported events; safe from any thread. */
void tcmu_notify_conn_lost(struct tcmu_device *dev);
void tcmu_notify_lock_lost(struct tcmu_device *dev);
void tcmu_notify_cmd_timed_out(struct tcmu_device *dev);

int tcmur_register_handler(struct tcmur_handler *handler);
bool tcmur_unregister_handler(struct tcmur_handler *handler);

/* What every handler_<subtype>.so defines; lunard calls it once. */
int handler_init(void);

#ifdef __cplusplus
}
#endif

#endif
