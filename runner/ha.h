/*
 * The seam between the core and high availability.  The core serves a
 * LUN on its own; an HA layer (cluster/ha.c: ALUA, the cluster lock,
 * per-LUN recovery) plugs in through this one table of hooks, registered
 * once at start-up before any device is added, and keeps its per-device
 * state behind device_ha() (runner/core.h, the only core API it uses).
 * The core calls the other hooks only between a successful attach and
 * release.  With no table registered (or a NULL hook) the core runs
 * without it:
 * every path active, no TPGS, REPORT/SET TARGET PORT GROUPS unsupported,
 * nothing gates a command, timeouts and handler events are only counted.
 *
 * Access gates (ALUA today, persistent reservations next) live behind
 * admit(): the HA layer chains them; the core calls the hook once.
 *
 * Hooks run on the thread their comment names and must not block there
 * unless it says they may.
 */
#ifndef LUNAR_HA_H
#define LUNAR_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcmu-runner.h"

struct tcmu_device;
struct lunar_cmd;

struct ha_ops {
	/*
	 * device_add(), the handler open, before the command thread
	 * starts; may block (reads configfs, asks the backend who holds
	 * the lock).  0, or -errno: the device is not added.
	 */
	int (*attach)(struct tcmu_device *dev);
	/*
	 * device_remove() (or a device_add() failing after attach):
	 * nothing in flight, the command thread stopped, the handler still
	 * open.  Stops what attach started; may block.  Only release
	 * follows, once the handler is closed: handler_event may still
	 * arrive in between.
	 */
	void (*detach)(struct tcmu_device *dev);
	/* After detach, the handler closed: frees dev's HA state. */
	void (*release)(struct tcmu_device *dev);

	/*
	 * Command thread (or any thread, for a command it parked), for
	 * every command that would reach the backend (media access and
	 * backend-bound non-media commands): TCMU_STS_OK if it may go on,
	 * TCMU_STS_ASYNC_HANDLED if the HA layer parked it (it calls
	 * cmd_readmit() later, once), else the status it is answered with
	 * (sense set).  No blocking.
	 */
	int (*admit)(struct tcmu_device *dev, struct lunar_cmd *cmd);
	/*
	 * Any thread, no blocking: the handler is being drained and
	 * reopened.  Commands for handlers that take them whole
	 * (handle_cmd, passthrough) get BUSY; the core wakes the command
	 * thread when the last command in flight completes, so that tick
	 * sees the drain finish.
	 */
	bool (*recovering)(struct tcmu_device *dev);
	/* Command thread, every loop (after every wake-up). */
	void (*tick)(struct tcmu_device *dev);
	/* Command thread: commands exceeded the command timeout. */
	void (*cmds_timed_out)(struct tcmu_device *dev);
	/*
	 * The handler reported TCMUR_EVT_CONN_LOST or TCMUR_EVT_LOCK_LOST
	 * (tcmu_notify_conn_lost/lock_lost), already counted and logged.
	 * The handler's thread, maybe a backend library's callback: no
	 * blocking.
	 */
	void (*handler_event)(struct tcmu_device *dev, enum tcmur_event evt);

	/*
	 * Command thread, INQUIRY and REPORT SUPPORTED OPERATION CODES:
	 * before answering, re-read what they report (target port groups).
	 */
	void (*refresh)(struct tcmu_device *dev);
	/* TPGS field of standard INQUIRY byte 5 (bits 5:4, shifted). */
	uint8_t (*inquiry_tpgs)(struct tcmu_device *dev);
	/* VPD 0x83 port designators into p (up to 16 bytes): bytes put. */
	size_t (*vpd_port_designators)(struct tcmu_device *dev, uint8_t *p);
	/* Whether REPORT/SET TARGET PORT GROUPS are supported on dev. */
	bool (*tpgs_supported)(struct tcmu_device *dev);
	/* REPORT/SET TARGET PORT GROUPS: a status or TCMU_STS_ASYNC_HANDLED. */
	int (*report_tpgs)(struct lunar_cmd *cmd);
	int (*set_tpgs)(struct lunar_cmd *cmd);

	/*
	 * Process-wide, any thread, also before any attach (handlers ask
	 * from open()): the backend operation timeout in seconds that fits
	 * the failover (lunar_dev_op_timeout_hint); 0: no hint.
	 */
	unsigned int (*op_timeout_hint_s)(void);
};

/*
 * Register the HA layer (NULL: none).  At start-up, before any device is
 * added; the table must outlive every device.
 */
void ha_register(const struct ha_ops *ops);

#endif
