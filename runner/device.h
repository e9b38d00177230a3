/*
 * The device object: everything lunard keeps per TCMU device (one LUN's
 * backstore).  struct tcmu_device is opaque to handlers; they reach it only
 * through the libtcmu accessors in runner/compat/.
 *
 * Lifecycle (device_add/device_remove, called by the control plane on one
 * thread per device): attributes read from the transport, handler chosen by
 * cfgstring subtype and opened, worker pool and command thread started;
 * removal stops taking commands, waits for in-flight ones, closes the
 * handler and releases the transport.
 */
#ifndef LUNAR_DEVICE_H
#define LUNAR_DEVICE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcmu-runner.h"
#include "lunar-handler-ext.h"
#include "cmd.h"
#include "core.h"
#include "inflight.h"
#include "overlap.h"
#include "runner/ring/ring.h"
#include "runner/ring/transport.h"
#include "workers.h"

struct lunar_handler;

/*
 * The prefix of tcmu-runner 1.5.4's struct tcmur_device.  1.5.4 handlers
 * get a pointer to it from tcmu_dev_get_private() and read its counters
 * and lock state directly (Debian's handler_rbd.so reads offsets 0x30,
 * 0x38, 0x40 and 0x51), so lunard keeps these fields current at exactly
 * these offsets (asserted in device.c).
 */
struct lunar_rdev_view {
	struct tcmu_device *dev;
	void *hm_private;
	uint64_t cmdproc_thread;
	uint32_t flags;
	uint8_t failover_type;
	struct list_node recovery_entry;
	uint64_t lock_lost_cnt;
	uint64_t conn_lost_cnt;
	uint64_t cmd_timed_out_cnt;
	void *event_work;
	bool lock_lost;
	uint8_t lock_state;
};

/* rdev.flags bits (1.5.4's TCMUR_DEV_FLAG_*); changed atomically. */
#define DEV_FLAG_IN_RECOVERY	(1u << 1)
#define DEV_FLAG_IS_OPEN	(1u << 2)

#define DEV_CFGSTRING_MAX 4096

struct device_params {
	const char *uio_name;	/* "uio3", "sim3" */
	const char *hba_name;	/* "user_1" */
	const char *dev_name;	/* configfs device name, "lun0" */
	const char *cfgstring;	/* "<subtype>/<handler config>[;opts]" */
};

struct tcmu_device {
	struct lunar_rdev_view rdev;
	void *lib_private;	/* tcmu_dev_{get,set}_private(); starts &rdev */

	char uio_name[16];
	char hba_name[16];
	char dev_name[128];
	char cfgstring[DEV_CFGSTRING_MAX];
	char label[160];	/* "<subtype>/<dev_name>" for logs */
	char unit_serial[256];	/* VPD 0x80; see device_unit_serial() */
	pthread_mutex_t serial_lock;

	struct lunar_handler *handler;
	struct lunar_transport *transport;
	struct lunar_ring ring;

	/* Geometry and capabilities: set before open, adjusted by open(). */
	uint32_t block_size;
	uint64_t num_lbas;	/* atomic: resize may change it */
	uint32_t max_xfer_len;
	uint32_t opt_xcopy_rw_len;
	uint32_t max_unmap_len;
	uint32_t opt_unmap_gran;
	uint32_t unmap_gran_align;
	bool split_unmaps;
	bool write_cache;	/* atomic: MODE SELECT may change it */
	bool solid_state;
	bool unmap_enabled;

	uint32_t pending_ua;	/* UA_* bits (core.h), atomic */

	/* FORMAT UNIT in progress: blocks done of total (atomics). */
	bool formatting;
	uint64_t format_done;
	uint64_t format_total;

	struct overlap_tracker overlap;
	struct cmd_tracker tracker;
	struct worker_pool workers;

	pthread_t cmdproc;
	bool cmdproc_started;
	int wake_fd;		/* eventfd: wakes the command thread */
	bool stopping;		/* atomic: command thread drains and exits */
	bool broken;		/* ring corrupt: no further commands taken;
				 * set by the command thread, atomically */

	/* Handler poller (lunar-handler-ext.h); callouts on the cmd thread. */
	bool has_poller;
	bool reopening;		/* device_reopen() runs open(): it may set one */
	struct lunar_poller poller;
	pthread_mutex_t foreign_lock;	/* commands submitted off-thread */
	struct cmd_fifo foreign;

	pthread_mutex_t drain_lock;
	pthread_cond_t drain_cond;

	struct ha_dev *ha;	/* the HA layer's (runner/ha.h); opaque here */
	bool ha_attached;	/* atomic: see runner/ha.c */
};

/*
 * Remove ";tcmur_cmd_time_out=N" (tcmu-runner's runner-level option) from
 * cfg before the handler sees it; N into *time_out_s (0 if absent).  0, or
 * -EINVAL for a value that is not a number of seconds up to a day.  Used
 * by device_add(); exposed for the cfgstring fuzzer.
 */
int device_strip_runner_options(char *cfg, unsigned int *time_out_s);

/* Create, open and start serving.  Takes ownership of transport. */
int device_add(const struct device_params *p, struct lunar_transport *transport,
	       struct tcmu_device **out);
/*
 * Gateways share the device's backend: its handler has a cluster lock
 * (the HA LUNs: kernel timeout from the failover budget, guardian).
 */
bool device_is_shared(const struct tcmu_device *dev);

/* Stop, drain, close and free (safe on NULL). */
void device_remove(struct tcmu_device *dev);

/*
 * The kernel changed a device attribute (netlink RECONFIG): size, write
 * cache or configuration string.  The handler's reconfig() is consulted;
 * size and write cache changes raise the matching unit attention.
 * 0 or -errno (-EOPNOTSUPP when the handler cannot follow).
 */
int device_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);

uint64_t device_num_lbas(struct tcmu_device *dev);
/*
 * Take a new size in bytes (a multiple of the block size): CAPACITY DATA
 * HAS CHANGED and a log line, unless it is already the current size, so
 * the kernel's RECONFIG and a handler-initiated resize may both apply it.
 */
void device_set_size(struct tcmu_device *dev, uint64_t bytes);

/*
 * The unit serial number ("" if none is set yet).  Administration tools
 * write it right after enabling a device, so it is read from the
 * transport until a non-empty value appears; from then on it is fixed.
 */
const char *device_unit_serial(struct tcmu_device *dev);

/*
 * Called by cmd_finish(), from any thread, once a command is completed:
 * drops it from the count of commands in flight and, when at most one is
 * left, wakes the drain waiters.  The count drops under drain_lock, so a
 * waiter that sees zero (device_remove() then frees the device) proceeds
 * only after this thread is done with the device; the caller must not
 * touch the device afterwards.
 */
void device_untrack_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd);

/* Whether the handler is open (not closed for a reopen). */
static inline bool device_is_open(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->rdev.flags, __ATOMIC_ACQUIRE) & DEV_FLAG_IS_OPEN;
}

/* Whether the command thread drives a handler poller now. */
static inline bool device_has_poller(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->has_poller, __ATOMIC_ACQUIRE);
}

#endif
