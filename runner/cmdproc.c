/*
 * Per-device command thread.  See cmdproc.h.
 */
#define _GNU_SOURCE
#include "cmdproc.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "device.h"
#include "ha_hooks.h"
#include "dispatch.h"
#include "log.h"
#include "runner/scsi/scsi.h"

/* Retry delay after a failed allocation left entries on the ring. */
#define RETRY_MS 10
/* While stopping: how often to re-check for the last completions. */
#define DRAIN_POLL_MS 100

struct cmdproc {
	struct tcmu_device *dev;
	struct lunar_cmd *spare;	/* allocated, not yet used */
	struct ring_tmr *tmr;
	bool retry;
};

static void take_entry(struct cmdproc *cp, enum ring_entry_kind kind)
{
	struct tcmu_device *dev = cp->dev;
	struct lunar_cmd *cmd = cp->spare;

	if (kind == RING_ENTRY_TMR) {
		dispatch_tmr(dev, cp->tmr);
		return;
	}
	cp->spare = NULL;
	tracker_add(&dev->tracker, &cmd->rcmd);
	cmd->lib.cmd_id = cmd->ring.cmd_id;
	cmd->lib.cdb = cmd->ring.cdb;
	if (kind == RING_ENTRY_CMD) {
		dispatch_cmd(cmd);
		return;
	}
	if (kind == RING_ENTRY_UNKNOWN_OP) {
		lunar_err(dev, "ring entry %u has an unknown opcode; returning it as unknown",
			  cmd->ring.cmd_id);
		cmd->unknown_op = true;
	} else {
		lunar_err(dev, "malformed command %u in the ring (%s); failing it",
			  cmd->ring.cmd_id, cmd->ring.bad_reason);
	}
	cmd_finish(cmd, TCMU_STS_HW_ERR);
}

static void process_ring(struct cmdproc *cp)
{
	struct tcmu_device *dev = cp->dev;

	cp->retry = false;
	dispatch_batch_begin(dev);
	while (!dev->broken) {
		enum ring_entry_kind kind;
		int ret;

		if (!cp->spare && !(cp->spare = cmd_alloc(dev))) {
			cp->retry = true;
			break;
		}
		ret = ring_next(&dev->ring, &kind, &cp->spare->ring, cp->tmr);
		if (ret == 0)
			break;
		if (ret == -ENOMEM) {
			cp->retry = true;
			break;
		}
		if (ret < 0) {
			lunar_err(dev, "command ring header corrupt at offset %u; the device takes no further commands",
				  dev->ring.next);
			__atomic_store_n(&dev->broken, true, __ATOMIC_RELEASE);
			break;
		}
		take_entry(cp, kind);
	}
	dispatch_batch_end(dev);
	if (cp->retry)
		lunar_warn(dev, "out of memory taking commands off the ring; retrying in %d ms",
			   RETRY_MS);
}

static void note_timeout(struct tcmur_cmd *rcmd, void *arg)
{
	struct tcmu_device *dev = arg;
	struct lunar_cmd *cmd = cmd_from_tcmur(rcmd);

	lunar_warn(dev, "command %u (opcode 0x%02x, LBA %llu, %llu blocks) timed out after %u s",
		   cmd->lib.cmd_id, cmd->ring.cdb[0],
		   (unsigned long long)cmd->lba,
		   (unsigned long long)cmd->nblocks, dev->tracker.time_out_s);
}

/*
 * Without ;tcmur_cmd_time_out the clock is never read: in a VM whose
 * clocksource has no vDSO path (HPET under QEMU/TCG) every read is a
 * system call and an emulated device access, ~2 us each.
 */
static bool timeouts_on(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->tracker.time_out_s, __ATOMIC_RELAXED) != 0;
}

static void check_timeouts(struct tcmu_device *dev)
{
	struct timespec now;
	unsigned int n;

	if (!timeouts_on(dev))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	n = tracker_expire(&dev->tracker, &now, note_timeout, dev);
	if (!n)
		return;
	while (n--)
		tcmu_notify_cmd_timed_out(dev);
	ha_cmds_timed_out(dev);
}

static int poll_timeout(struct cmdproc *cp)
{
	struct timespec now;
	int ms = -1;

	if (timeouts_on(cp->dev)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = tracker_next_timeout_ms(&cp->dev->tracker, &now);
	}
	if (cp->retry && (ms < 0 || ms > RETRY_MS))
		ms = RETRY_MS;
	return ms;
}

static __thread struct tcmu_device *current_dev;

bool cmdproc_is_current(struct tcmu_device *dev)
{
	return current_dev == dev;
}

void cmdproc_wake(struct tcmu_device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		lunar_err(dev, "cannot wake the command thread: %s", strerror(errno));
}

static void run_poller(struct tcmu_device *dev)
{
	if (device_has_poller(dev))
		dev->poller.poll(dev, dev->poller.arg);
}

/* Run commands other threads handed over (handler callouts belong here). */
static void run_foreign(struct tcmu_device *dev)
{
	struct cmd_fifo todo;
	struct lunar_cmd *cmd;
	uint64_t v;

	if (read(dev->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		lunar_err(dev, "cannot read the wake-up counter: %s", strerror(errno));
	pthread_mutex_lock(&dev->foreign_lock);
	todo = dev->foreign;
	dev->foreign = (struct cmd_fifo){ NULL, NULL };
	pthread_mutex_unlock(&dev->foreign_lock);
	dispatch_batch_begin(dev);
	while ((cmd = cmd_fifo_pop(&todo)))
		cmd->work_fn(cmd);
	dispatch_batch_end(dev);
}

static bool stopping(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->stopping, __ATOMIC_ACQUIRE);
}

/*
 * One wake-up: work the handler finished, work other threads handed over,
 * then (unless stopping) new commands on the ring.
 */
static void serve_once(struct cmdproc *cp, struct pollfd *pfd)
{
	struct tcmu_device *dev = cp->dev;

	if (pfd[2].revents & POLLIN) {
		dispatch_batch_begin(dev);
		run_poller(dev);
		dispatch_batch_end(dev);
	}
	if (pfd[1].revents & POLLIN)
		run_foreign(dev);
	if (stopping(dev))
		return;
	if (pfd[0].revents & POLLIN)
		dev->transport->ops->ack(dev->transport);
	process_ring(cp);
	if (dev->broken)
		pfd[0].fd = -1;
	check_timeouts(dev);
}

/*
 * Spin briefly for new ring entries (ring.h: RING_SPIN_NS); true if some
 * arrived.  Not while a polled handler has I/O in flight: its completions
 * arrive on a file descriptor the spin does not watch.
 */
static bool spin_for_work(struct tcmu_device *dev)
{
	if (stopping(dev) || dev->broken ||
	    (device_has_poller(dev) && tracker_count(&dev->tracker)))
		return false;
	return ring_spin_for_entries(&dev->ring);
}

static void *cmdproc_main(void *arg)
{
	struct cmdproc cp = { .dev = arg };
	struct tcmu_device *dev = cp.dev;
	struct pollfd pfd[3] = {
		{ .fd = dev->transport->event_fd, .events = POLLIN },
		{ .fd = dev->wake_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	char name[16];

	snprintf(name, sizeof(name), "cmd-%.11s", dev->uio_name);
	pthread_setname_np(pthread_self(), name);
	current_dev = dev;
	cp.tmr = malloc(sizeof(*cp.tmr));
	if (!cp.tmr) {
		lunar_err(dev, "cannot allocate command thread state; device not served");
		return NULL;
	}
	process_ring(&cp);
	while (!stopping(dev) || tracker_count(&dev->tracker)) {
		int timeout = stopping(dev) ? DRAIN_POLL_MS : poll_timeout(&cp);

		ha_tick(dev);
		/* A reopen may have dropped or installed the poller. */
		pfd[2].fd = device_has_poller(dev) ? dev->poller.fd : -1;
		if (spin_for_work(dev)) {
			process_ring(&cp);
			continue;
		}
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR) {
			lunar_err(dev, "poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			lunar_err(dev, "device notification fd failed; no further commands taken");
			pfd[0].fd = -1;
		}
		serve_once(&cp, pfd);
	}
	cmd_free(cp.spare);
	free(cp.tmr);
	return NULL;
}

int cmdproc_start(struct tcmu_device *dev)
{
	int ret = pthread_create(&dev->cmdproc, NULL, cmdproc_main, dev);

	if (ret)
		return -ret;
	dev->cmdproc_started = true;
	dev->rdev.cmdproc_thread = (uint64_t)dev->cmdproc;
	return 0;
}

void cmdproc_stop(struct tcmu_device *dev)
{
	if (!dev->cmdproc_started)
		return;
	__atomic_store_n(&dev->stopping, true, __ATOMIC_RELEASE);
	cmdproc_wake(dev);
	pthread_join(dev->cmdproc, NULL);
	dev->cmdproc_started = false;
}
