/*
 * Handler data callouts with one completion path.  See io.h.
 */
#define _GNU_SOURCE
#include "io.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "cmdproc.h"
#include "device.h"
#include "export.h"
#include "handler.h"
#include "log.h"
#include "workers.h"

enum {
	IO_IDLE,
	IO_SUBMITTING,	/* callout running, no completion yet */
	IO_DONE_EARLY,	/* completed before the callout returned */
	IO_IN_FLIGHT,	/* callout returned, completion pending */
};

static __thread bool tramp_running;
static __thread struct lunar_cmd *tramp_head, *tramp_tail;

void io_run_done(struct lunar_cmd *cmd, io_done_fn fn, int sts)
{
	if (tramp_running) {
		cmd->tramp_fn = fn;
		cmd->tramp_sts = sts;
		cmd->tramp_next = NULL;
		if (tramp_tail)
			tramp_tail->tramp_next = cmd;
		else
			tramp_head = cmd;
		tramp_tail = cmd;
		return;
	}
	tramp_running = true;
	fn(cmd, sts);
	while (tramp_head) {
		struct lunar_cmd *next = tramp_head;

		tramp_head = next->tramp_next;
		if (!tramp_head)
			tramp_tail = NULL;
		next->tramp_fn(next, next->tramp_sts);
	}
	tramp_running = false;
}

static int call_handler(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;
	struct tcmur_handler *h = dev->handler->ops;
	struct io_request *r = &cmd->io;

	switch (r->kind) {
	case IO_READ:
		return h->read(dev, &cmd->rcmd, r->iov, r->iov_cnt, r->len,
			       (off_t)r->off);
	case IO_WRITE:
		return h->write(dev, &cmd->rcmd, r->iov, r->iov_cnt, r->len,
				(off_t)r->off);
	case IO_FLUSH:
		return h->flush(dev, &cmd->rcmd);
	case IO_UNMAP:
		return h->unmap(dev, &cmd->rcmd, r->off, r->len);
	case IO_WRITESAME:
		return h->writesame(dev, &cmd->rcmd, r->off, r->len, r->iov,
				    r->iov_cnt);
	case IO_CAW:
		return h->caw(dev, &cmd->rcmd, r->off, r->len, r->iov,
			      r->iov_cnt);
	case IO_HANDLE_CMD:
		return h->handle_cmd(dev, &cmd->rcmd);
	}
	return TCMU_STS_HW_ERR;
}

/* The handler's tcmur_cmd_complete() lands here (rcmd.done). */
static void async_complete(struct tcmu_device *dev, struct tcmur_cmd *rcmd,
			   int sts)
{
	struct lunar_cmd *cmd = cmd_from_tcmur(rcmd);

	for (;;) {
		int state = __atomic_load_n(&cmd->io_state, __ATOMIC_ACQUIRE);

		if (state == IO_SUBMITTING) {
			cmd->io_sts = sts;
			if (__atomic_compare_exchange_n(&cmd->io_state, &state,
							IO_DONE_EARLY, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return;
		} else if (state == IO_IN_FLIGHT) {
			if (__atomic_compare_exchange_n(&cmd->io_state, &state,
							IO_IDLE, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				io_run_done(cmd, cmd->io_done, sts);
				return;
			}
		} else {
			lunar_err(dev, "handler completed command %u that has no I/O in flight; ignored",
				  cmd->lib.cmd_id);
			return;
		}
	}
}

/* Whether the callout's return value means "queued, completion follows". */
static bool queued(const struct io_request *r, int sts)
{
	if (r->kind == IO_HANDLE_CMD)
		return sts == TCMU_STS_ASYNC_HANDLED;
	return sts == TCMU_STS_OK;
}

static void submit_here(struct lunar_cmd *cmd)
{
	int sts, state = IO_SUBMITTING;

	cmd->rcmd.done = async_complete;
	__atomic_store_n(&cmd->io_state, IO_SUBMITTING, __ATOMIC_RELEASE);
	sts = call_handler(cmd);
	if (!cmd->io_async || !queued(&cmd->io, sts)) {
		__atomic_store_n(&cmd->io_state, IO_IDLE, __ATOMIC_RELEASE);
		io_run_done(cmd, cmd->io_done, sts);
		return;
	}
	if (__atomic_compare_exchange_n(&cmd->io_state, &state, IO_IN_FLIGHT,
					false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	/* The handler completed before returning. */
	__atomic_store_n(&cmd->io_state, IO_IDLE, __ATOMIC_RELEASE);
	io_run_done(cmd, cmd->io_done, cmd->io_sts);
}

static void worker_run(struct lunar_cmd *cmd)
{
	submit_here(cmd);
}

/* Hand cmd to dev's command thread, which owns a polled handler. */
static void submit_on_cmd_thread(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd->dev;

	cmd->work_fn = worker_run;
	pthread_mutex_lock(&dev->foreign_lock);
	cmd_fifo_push(&dev->foreign, cmd);
	pthread_mutex_unlock(&dev->foreign_lock);
	cmdproc_wake(dev);
}

void io_submit(struct lunar_cmd *cmd, const struct io_request *req,
	       io_done_fn done)
{
	struct tcmu_device *dev = cmd->dev;
	bool sync_handler = dev->handler->ops->nr_threads > 0;

	cmd->io = *req;
	cmd->io_done = done;
	cmd->io_async = req->inline_async || !sync_handler;
	if (!cmd->io_async && workers_current_dev() != dev) {
		workers_queue(&dev->workers, cmd, worker_run);
		return;
	}
	if (device_has_poller(dev) && !cmdproc_is_current(dev)) {
		submit_on_cmd_thread(cmd);
		return;
	}
	submit_here(cmd);
}

bool io_supported(struct tcmu_device *dev, enum io_kind kind)
{
	struct tcmur_handler *h = dev->handler->ops;

	switch (kind) {
	case IO_READ:
		return h->read;
	case IO_WRITE:
		return h->write;
	case IO_FLUSH:
		return h->flush;
	case IO_UNMAP:
		return h->unmap;
	case IO_WRITESAME:
		return h->writesame;
	case IO_CAW:
		return h->caw;
	case IO_HANDLE_CMD:
		return h->handle_cmd;
	}
	return false;
}

LUNAR_EXPORT void tcmur_cmd_complete(struct tcmu_device *dev, void *data,
				     int rc)
{
	struct tcmur_cmd *rcmd = data;

	if (!rcmd || !rcmd->done) {
		lunar_err(dev, "tcmur_cmd_complete called without a command; ignored");
		return;
	}
	rcmd->done(dev, rcmd, rc);
}

struct background_job {
	struct lunar_cmd *cmd;
	io_done_fn fn;
};

static void *background_main(void *arg)
{
	struct background_job job = *(struct background_job *)arg;

	free(arg);
	pthread_setname_np(pthread_self(), "background");
	io_run_done(job.cmd, job.fn, TCMU_STS_OK);
	return NULL;
}

int io_run_background(struct lunar_cmd *cmd, io_done_fn fn)
{
	struct background_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t thread;
	int ret;

	if (!job)
		return -ENOMEM;
	job->cmd = cmd;
	job->fn = fn;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, background_main, job);
	pthread_attr_destroy(&attr);
	if (ret) {
		free(job);
		return -ret;
	}
	return 0;
}
