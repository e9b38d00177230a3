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
#include "dispatch.h"
#include "log.h"
#include "scsi/scsi.h"

/* Retry delay after a failed allocation left entries on the ring. */
#define RETRY_MS 10

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
			dev->broken = true;
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

static void check_timeouts(struct tcmu_device *dev)
{
	struct timespec now;
	unsigned int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	n = tracker_expire(&dev->tracker, &now, note_timeout, dev);
	while (n--)
		tcmu_notify_cmd_timed_out(dev);
}

static int poll_timeout(struct cmdproc *cp)
{
	struct timespec now;
	int ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = tracker_next_timeout_ms(&cp->dev->tracker, &now);
	if (cp->retry && (ms < 0 || ms > RETRY_MS))
		ms = RETRY_MS;
	return ms;
}

static void *cmdproc_main(void *arg)
{
	struct cmdproc cp = { .dev = arg };
	struct tcmu_device *dev = cp.dev;
	struct pollfd pfd[2] = {
		{ .fd = dev->transport->event_fd, .events = POLLIN },
		{ .fd = dev->stop_fd, .events = POLLIN },
	};
	char name[16];

	snprintf(name, sizeof(name), "cmd-%.11s", dev->uio_name);
	pthread_setname_np(pthread_self(), name);
	cp.tmr = malloc(sizeof(*cp.tmr));
	if (!cp.tmr) {
		lunar_err(dev, "cannot allocate command thread state; device not served");
		return NULL;
	}
	process_ring(&cp);
	for (;;) {
		int ret = poll(pfd, 2, poll_timeout(&cp));

		if (ret < 0 && errno != EINTR) {
			lunar_err(dev, "poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			lunar_err(dev, "device notification fd failed; stopping its command thread");
			break;
		}
		if (pfd[0].revents & POLLIN)
			dev->transport->ops->ack(dev->transport);
		process_ring(&cp);
		if (dev->broken)
			pfd[0].fd = -1;
		check_timeouts(dev);
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
	uint64_t one = 1;

	if (!dev->cmdproc_started)
		return;
	if (write(dev->stop_fd, &one, sizeof(one)) != sizeof(one))
		lunar_err(dev, "cannot wake the command thread: %s", strerror(errno));
	pthread_join(dev->cmdproc, NULL);
	dev->cmdproc_started = false;
}
