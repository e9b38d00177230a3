/*
 * Per-device HA agent thread.  See agent.h.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "cluster_lock.h"
#include "ha_dev.h"
#include "recovery.h"

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Wait for a kick, stop or ms; false if stopping.  a->mu held. */
static bool wait_locked(struct dev_agent *a, unsigned int ms, bool kickable)
{
	struct timespec until;

	deadline_after(&until, ms);
	while (!a->stop && !(kickable && a->kicked))
		if (pthread_cond_timedwait(&a->cond, &a->mu, &until) == ETIMEDOUT)
			break;
	if (kickable)
		a->kicked = false;
	return !a->stop;
}

bool agent_sleep(struct tcmu_device *dev, unsigned int ms)
{
	struct dev_agent *a = ha_agent(dev);
	bool running;

	pthread_mutex_lock(&a->mu);
	running = wait_locked(a, ms, false);
	pthread_mutex_unlock(&a->mu);
	return running;
}

static void *agent_main(void *arg)
{
	struct tcmu_device *dev = arg;
	struct dev_agent *a = ha_agent(dev);
	char name[16];

	snprintf(name, sizeof(name), "ha-%.12s", device_uio_name(dev));
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		bool running;

		recovery_step(dev);
		cluster_lock_step(dev);
		pthread_mutex_lock(&a->mu);
		running = wait_locked(a, AGENT_PERIOD_MS, true);
		pthread_mutex_unlock(&a->mu);
		if (!running)
			break;
	}
	return NULL;
}

int agent_start(struct tcmu_device *dev)
{
	struct dev_agent *a = ha_agent(dev);
	pthread_condattr_t attr;
	int ret;

	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &attr);
	pthread_condattr_destroy(&attr);
	ret = pthread_create(&a->thread, NULL, agent_main, dev);
	if (ret) {
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->mu);
		return -ret;
	}
	a->started = true;
	return 0;
}

void agent_stop(struct tcmu_device *dev)
{
	struct dev_agent *a = ha_agent(dev);

	if (!a->started)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	a->started = false;
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->mu);
}

void agent_kick(struct tcmu_device *dev)
{
	struct dev_agent *a = ha_agent(dev);

	if (!a->started)
		return;
	pthread_mutex_lock(&a->mu);
	a->kicked = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mu);
}
