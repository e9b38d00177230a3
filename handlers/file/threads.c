/*
 * The "threads" engine: a small pool running requests with blocking
 * system calls.  Used where io_uring is unavailable or slower.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "file.h"
#include "tcmu-runner.h"

#define POOL_THREADS 4

struct thread_engine {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct file_req *head, *tail;
	bool stopping;
	int started;
	int fd;
	pthread_t threads[POOL_THREADS];
};

static void *pool_main(void *arg)
{
	struct thread_engine *te = arg;

	pthread_mutex_lock(&te->lock);
	for (;;) {
		struct file_req *req;

		while (!te->head && !te->stopping)
			pthread_cond_wait(&te->cond, &te->lock);
		if (!te->head)
			break;
		req = te->head;
		te->head = req->next;
		if (!te->head)
			te->tail = NULL;
		pthread_mutex_unlock(&te->lock);
		file_req_complete(req, file_req_run_sync(te->fd, req));
		free(req);
		pthread_mutex_lock(&te->lock);
	}
	pthread_mutex_unlock(&te->lock);
	return NULL;
}

static void threads_stop(struct file_dev *fd)
{
	struct thread_engine *te = fd->engine_state;

	if (!te)
		return;
	pthread_mutex_lock(&te->lock);
	te->stopping = true;
	pthread_cond_broadcast(&te->cond);
	pthread_mutex_unlock(&te->lock);
	for (int i = 0; i < te->started; i++)
		pthread_join(te->threads[i], NULL);
	pthread_cond_destroy(&te->cond);
	pthread_mutex_destroy(&te->lock);
	free(te);
	fd->engine_state = NULL;
}

static int threads_start(struct tcmu_device *dev, struct file_dev *fd)
{
	struct thread_engine *te = calloc(1, sizeof(*te));

	if (!te)
		return -ENOMEM;
	te->fd = fd->fd;
	pthread_mutex_init(&te->lock, NULL);
	pthread_cond_init(&te->cond, NULL);
	fd->engine_state = te;
	for (; te->started < POOL_THREADS; te->started++) {
		int ret = pthread_create(&te->threads[te->started], NULL,
					 pool_main, te);

		if (ret) {
			tcmu_dev_err(dev, "cannot start I/O thread: %d", ret);
			threads_stop(fd);
			return -ret;
		}
	}
	return 0;
}

static int threads_submit(struct file_dev *fd, const struct file_req *proto)
{
	struct thread_engine *te = fd->engine_state;
	struct file_req *req = file_req_dup(proto);

	if (!req)
		return TCMU_STS_NO_RESOURCE;
	req->next = NULL;
	pthread_mutex_lock(&te->lock);
	if (te->tail)
		te->tail->next = req;
	else
		te->head = req;
	te->tail = req;
	pthread_cond_signal(&te->cond);
	pthread_mutex_unlock(&te->lock);
	return TCMU_STS_OK;
}

const struct file_engine_ops thread_engine_ops = {
	.name = "threads",
	.start = threads_start,
	.submit = threads_submit,
	.stop = threads_stop,
};
