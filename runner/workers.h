/*
 * Per-device worker pool for handlers with nr_threads > 0: a FIFO of
 * commands served by nr_threads threads named "<prefix>-<uio>".
 *
 * Threading: workers_queue() from any thread; workers_stop() only from the
 * thread that owns the device, after no more work can be queued.
 */
#ifndef LUNAR_WORKERS_H
#define LUNAR_WORKERS_H

#include <pthread.h>
#include <stdbool.h>

#include "cmd.h"

struct tcmu_device;

typedef void (*worker_fn)(struct lunar_cmd *cmd);

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cmd_fifo queue;
	bool stopping;
	int nr_threads;
	int started;
	pthread_t *threads;
	struct tcmu_device *dev;
};

int workers_start(struct worker_pool *pool, struct tcmu_device *dev,
		  int nr_threads);
/* Run fn(cmd) on a worker.  Never fails (the queue is intrusive). */
void workers_queue(struct worker_pool *pool, struct lunar_cmd *cmd,
		   worker_fn fn);
/* Finish queued work, then join the threads.  Safe on a zeroed pool. */
void workers_stop(struct worker_pool *pool);

/* The device whose worker is running on this thread, or NULL. */
struct tcmu_device *workers_current_dev(void);

#endif
