/*
 * Command dispatch and completion.  See dispatch.h.
 */
#include "dispatch.h"

#include <errno.h>
#include <string.h>

#include "device.h"
#include "ha_hooks.h"
#include "handler.h"
#include "io.h"
#include "iov.h"
#include "log.h"
#include "runner/scsi/scsi.h"
#include "runner/scsi/sense.h"

/* Set while the command thread processes a batch of ring entries. */
static __thread struct tcmu_device *batch_dev;
static __thread bool batch_needs_kick;

void dispatch_batch_begin(struct tcmu_device *dev)
{
	batch_dev = dev;
	batch_needs_kick = false;
}

void dispatch_batch_end(struct tcmu_device *dev)
{
	/* Submit what the batch queued; that may complete commands too. */
	if (device_has_poller(dev))
		dev->poller.flush(dev, dev->poller.arg);
	batch_dev = NULL;
	if (batch_needs_kick)
		dev->transport->ops->kick(dev->transport);
}

static void notify_kernel(struct tcmu_device *dev)
{
	if (batch_dev == dev)
		batch_needs_kick = true;
	else
		dev->transport->ops->kick(dev->transport);
}

static void release_range(struct lunar_cmd *cmd)
{
	if (!cmd->range_held)
		return;
	cmd->range_held = false;
	if (cmd->range.admitted)
		overlap_release(&cmd->dev->overlap, &cmd->range);
	else
		overlap_cancel(&cmd->dev->overlap, &cmd->range);
}

void cmd_finish(struct lunar_cmd *cmd, int sts)
{
	struct tcmu_device *dev = cmd->dev;
	struct ring_result res;
	int ret;

	sense_result(cmd, sts, &res);
	if (cmd->unknown_op)
		res.uflags |= TCMU_UFLAG_UNKNOWN_OP;
	lunar_dbg_cmd(dev, "cmd %u opcode 0x%02x done: status 0x%02x sense %x/%02x/%02x",
		      cmd->lib.cmd_id, cmd->ring.cdb[0], res.scsi_status,
		      cmd->lib.sense_buf[2], cmd->lib.sense_buf[12],
		      cmd->lib.sense_buf[13]);
	if (__atomic_load_n(&cmd->rcmd.timed_out, __ATOMIC_RELAXED))
		lunar_warn(dev, "timed-out command %u (opcode 0x%02x) completed late with status 0x%02x",
			   cmd->lib.cmd_id, cmd->ring.cdb[0], res.scsi_status);

	if (!cmd->internal) {
		ret = ring_complete(&dev->ring, cmd->lib.cmd_id, &res);
		if (ret)
			lunar_err(dev, "cannot post completion of command %u: %s",
				  cmd->lib.cmd_id, ret == -ENOSPC ?
				  "no uncompleted slot in the ring" :
				  "ring is corrupt");
		notify_kernel(dev);
	}

	release_range(cmd);
	device_untrack_cmd(dev, &cmd->rcmd);
	cmd_free(cmd);
}

static void finish_io(struct lunar_cmd *cmd, int sts)
{
	cmd_finish(cmd, sts);
}

static void run_emulation(struct lunar_cmd *cmd)
{
	int sts = scsi_execute(cmd);

	if (sts != TCMU_STS_ASYNC_HANDLED)
		cmd_finish(cmd, sts);
}

static void after_handle_cmd(struct lunar_cmd *cmd, int sts)
{
	if (sts == TCMU_STS_NOT_HANDLED)
		run_emulation(cmd);
	else
		cmd_finish(cmd, sts);
}

void dispatch_cmd(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	struct lunar_handler *h = dev->handler;
	struct io_request req = { .kind = IO_HANDLE_CMD };
	int sts;

	cmd->lib.cmd_id = cmd->ring.cmd_id;
	cmd->lib.cdb = cmd->ring.cdb;
	cmd->data_len = iov_length(cmd->ring.iov, cmd->ring.iov_cnt);
	if (!cmd_reset_iov(cmd)) {
		lunar_err(dev, "out of memory for the iovecs of command %u",
			  cmd->lib.cmd_id);
		cmd_finish(cmd, TCMU_STS_NO_RESOURCE);
		return;
	}

	if ((h->passthrough_only || h->ops->handle_cmd) && ha_recovering(dev)) {
		cmd_finish(cmd, TCMU_STS_BUSY);
		return;
	}
	if (h->passthrough_only) {
		io_submit(cmd, &req, finish_io);
		return;
	}
	sts = scsi_precheck(cmd);
	if (sts != TCMU_STS_NOT_HANDLED) {
		cmd_finish(cmd, sts);
		return;
	}
	if (h->ops->handle_cmd) {
		req.inline_async = true;
		io_submit(cmd, &req, after_handle_cmd);
		return;
	}
	run_emulation(cmd);
}

static bool named_by_tmr(struct lunar_cmd *cmd, const void *arg)
{
	const struct ring_tmr *tmr = arg;

	for (uint32_t i = 0; i < tmr->cmd_cnt; i++)
		if (tmr->cmd_ids[i] == cmd->lib.cmd_id)
			return true;
	return false;
}

/*
 * The kernel already treats the named commands as aborted and ignores the
 * status we return.  Commands still waiting behind an overlapping one have
 * not reached the handler and are completed at once; the others cannot be
 * recalled from a handler through the 1.5.4 ABI and complete normally.
 */
void dispatch_tmr(struct tcmu_device *dev, const struct ring_tmr *tmr)
{
	struct lunar_cmd *cancelled[64];
	size_t n, total = 0;

	static const char *const names[] = {
		"UNKNOWN", "ABORT TASK", "ABORT TASK SET", "CLEAR ACA",
		"CLEAR TASK SET", "LUN RESET", "TARGET WARM RESET",
		"TARGET COLD RESET",
	};
	const char *name = tmr->type < sizeof(names) / sizeof(names[0]) ?
			   names[tmr->type] : "LUN RESET (PR)";

	do {
		n = overlap_cancel_where(&dev->overlap, named_by_tmr, tmr,
					 cancelled, 64);
		for (size_t i = 0; i < n; i++) {
			cancelled[i]->range_held = false;
			cancelled[i]->aborted = true;
			cmd_finish(cancelled[i], TCMU_STS_BUSY);
		}
		total += n;
	} while (n == 64);
	lunar_info(dev, "task management %s named %u command(s); %zu aborted before reaching the handler",
		   name, tmr->cmd_cnt, total);
}
