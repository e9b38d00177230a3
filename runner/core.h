/*
 * The core's published API: all that layers above the runner (cluster/,
 * alua/) may use of a device and a command.  They plug in through the
 * hooks of runner/ha.h and keep their per-device state behind the one
 * opaque pointer below; struct tcmu_device and struct lunar_cmd stay
 * private to runner/.  Besides this header they use the SCSI helpers
 * (runner/scsi/scsi.h, runner/scsi/sense.h) and the handler ABI
 * (include/).
 *
 * Threading: every function here may be called from any thread unless
 * its comment names one; none takes a lock the caller could hold.
 */
#ifndef LUNAR_CORE_H
#define LUNAR_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcmu-runner.h"
#include "runner/clock.h"	/* monotonic_ms() */
#include "runner/log.h"		/* lunar_info(dev, ...) and friends */

struct tcmu_device;
struct lunar_cmd;
struct ha_dev;

/* Unit attention conditions (device-wide: TCMU has no I_T nexus). */
#define UA_CAPACITY_CHANGED	(1u << 0)
#define UA_MODE_PARAMS_CHANGED	(1u << 1)
#define UA_ALUA_STATE_CHANGED	(1u << 2)

/* "<subtype>/<dev_name>", for log lines. */
const char *device_label(struct tcmu_device *dev);
/* The kernel's name of the device's ring ("uio3"), for thread names. */
const char *device_uio_name(struct tcmu_device *dev);
/* The handler's callouts (lock, unlock, get_lock_tag, ...). */
struct tcmur_handler *device_handler_ops(struct tcmu_device *dev);

/*
 * Whether the device's write cache is on (MODE SENSE WCE): a write may be
 * acknowledged before the backend has it.
 */
bool device_write_cache(struct tcmu_device *dev);

/* The HA layer's state of dev (NULL until it sets one). */
struct ha_dev *device_ha(struct tcmu_device *dev);
/* Set by the HA layer's attach hook, cleared by its detach hook. */
void device_set_ha(struct tcmu_device *dev, struct ha_dev *ha);

/* Report ua (UA_* bits) with the next command that can carry it. */
void device_raise_ua(struct tcmu_device *dev, uint32_t ua);

/* Commands taken off the ring and not yet completed. */
unsigned int device_inflight(struct tcmu_device *dev);
/*
 * Wait until at most max commands are in flight (any thread but the
 * command thread).
 */
void device_wait_inflight(struct tcmu_device *dev, unsigned int max);
/* Have the command thread run its loop (and the HA tick) soon. */
void device_wake(struct tcmu_device *dev);

/*
 * The command timeout (seconds) for a device whose cfgstring and tcmu.conf
 * set none; a timed-out command reaches the HA cmds_timed_out hook.
 */
void device_default_cmd_timeout(struct tcmu_device *dev, unsigned int seconds);

/*
 * Command thread, nothing in flight: stop driving the handler's poller
 * (lunar-handler-ext.h) before its handler is reopened; a reopened
 * handler installs its poller again.
 */
void device_drop_poller(struct tcmu_device *dev);
/*
 * Close the handler if it is open and open it again with reopen = true,
 * after any report_event() pending for dev ran.  Nothing may be in flight
 * and the command thread must leave the handler alone meanwhile (HA
 * recovering hook).  0, or -EIO when open() failed (the handler stays
 * closed).
 */
int device_reopen(struct tcmu_device *dev);

/*
 * What tcmu-runner 1.5.4 handlers read of the device (its struct
 * tcmur_device): whether it is recovering (clearing it also clears
 * lock_lost) and the cluster lock state (TCMUR_DEV_LOCK_*).
 */
void device_set_recovering(struct tcmu_device *dev, bool recovering);
void device_set_lock_state(struct tcmu_device *dev, uint8_t tcmur_lock_state);

/*
 * The device's configfs attributes, by path below its directory
 * ("alua/<group>/members", "attrib/cmd_time_out"), through its transport
 * (the kernel's configfs, or the simulator's).  Never logged here: the
 * caller logs once, with the device name.
 */
/* The text, NUL-terminated in buf: its length or -errno. */
ssize_t device_read_attr(struct tcmu_device *dev, const char *name,
			 char *buf, size_t size);
/* An attribute holding one decimal unsigned number.  0 or -errno. */
int device_read_attr_u64(struct tcmu_device *dev, const char *name,
			 uint64_t *out);
int device_write_attr(struct tcmu_device *dev, const char *name,
		      const char *value);
/* A directory's entries, one per line: the text's length or -errno. */
ssize_t device_list_attr_dir(struct tcmu_device *dev, const char *name,
			     char *buf, size_t size);

struct tcmu_device *cmd_device(struct lunar_cmd *cmd);
const uint8_t *cmd_cdb(struct lunar_cmd *cmd);
/*
 * Complete cmd with sts (TCMU_STS_*; sense already set by the SCSI
 * helpers when it carries any).  Once per command, any thread.
 */
void cmd_finish(struct lunar_cmd *cmd, int sts);
/*
 * Go on with a command the HA admit hook parked (it returned
 * TCMU_STS_ASYNC_HANDLED): admit is asked again, and the command then
 * runs or is answered with admit's status.  Once per parking, any thread.
 */
void cmd_readmit(struct lunar_cmd *cmd);

#endif
