/*
 * Per-device worker pool.  See workers.h.
 */
#define _GNU_SOURCE
#include "workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "device.h"
#include "log.h"

static __thread struct tcmu_device *current_dev;

struct tcmu_device *workers_current_dev(void)
{
	return current_dev;
}

static void *worker_main(void *arg)
{
	struct worker_pool *pool = arg;
	char name[16];

	snprintf(name, sizeof(name), "io-%.12s", pool->dev->uio_name);
	pthread_setname_np(pthread_self(), name);
	current_dev = pool->dev;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct lunar_cmd *cmd;

		while (!pool->queue.head && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		cmd = cmd_fifo_pop(&pool->queue);
		if (!cmd)
			break;
		pthread_mutex_unlock(&pool->lock);
		cmd->work_fn(cmd);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int workers_start(struct worker_pool *pool, struct tcmu_device *dev,
		  int nr_threads)
{
	int ret;

	pool->dev = dev;
	pool->nr_threads = nr_threads;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->threads = calloc((size_t)nr_threads, sizeof(pthread_t));
	if (!pool->threads)
		return -ENOMEM;
	for (pool->started = 0; pool->started < nr_threads; pool->started++) {
		ret = pthread_create(&pool->threads[pool->started], NULL,
				     worker_main, pool);
		if (ret) {
			lunar_err(dev, "cannot start worker thread: %d", ret);
			workers_stop(pool);
			return -ret;
		}
	}
	return 0;
}

void workers_queue(struct worker_pool *pool, struct lunar_cmd *cmd,
		   worker_fn fn)
{
	cmd->work_fn = fn;
	pthread_mutex_lock(&pool->lock);
	cmd_fifo_push(&pool->queue, cmd);
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

void workers_stop(struct worker_pool *pool)
{
	if (!pool->threads)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	free(pool->threads);
	pool->threads = NULL;
	pool->started = 0;
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
}
