/*
 * The event thread.  See events.h.
 */
#define _GNU_SOURCE
#include "events.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "device.h"
#include "handler.h"
#include "log.h"

struct event {
	struct tcmu_device *dev;
	struct event *next;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static struct event *ev_head, *ev_tail;
static struct tcmu_device *ev_running;
static bool ev_started, ev_stopping;
static pthread_t ev_thread;

static bool queued(struct tcmu_device *dev)
{
	for (struct event *e = ev_head; e; e = e->next)
		if (e->dev == dev)
			return true;
	return false;
}

static void *event_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "events");
	pthread_mutex_lock(&ev_lock);
	for (;;) {
		struct event *e;

		while (!ev_head && !ev_stopping)
			pthread_cond_wait(&ev_cond, &ev_lock);
		if (!ev_head)
			break;
		e = ev_head;
		ev_head = e->next;
		if (!ev_head)
			ev_tail = NULL;
		ev_running = e->dev;
		pthread_mutex_unlock(&ev_lock);

		if (e->dev->handler->ops->report_event)
			e->dev->handler->ops->report_event(e->dev);
		free(e);

		pthread_mutex_lock(&ev_lock);
		ev_running = NULL;
		pthread_cond_broadcast(&ev_cond);
	}
	pthread_mutex_unlock(&ev_lock);
	return NULL;
}

void events_report(struct tcmu_device *dev)
{
	struct event *e;

	if (!dev->handler->ops->report_event)
		return;
	pthread_mutex_lock(&ev_lock);
	if (ev_stopping || queued(dev))
		goto out;
	if (!ev_started) {
		if (pthread_create(&ev_thread, NULL, event_main, NULL)) {
			lunar_err(dev, "cannot start the event thread; event not reported to the handler");
			goto out;
		}
		ev_started = true;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		lunar_err(dev, "out of memory; event not reported to the handler");
		goto out;
	}
	e->dev = dev;
	e->next = NULL;
	if (ev_tail)
		ev_tail->next = e;
	else
		ev_head = e;
	ev_tail = e;
	pthread_cond_broadcast(&ev_cond);
out:
	pthread_mutex_unlock(&ev_lock);
}

void events_flush(struct tcmu_device *dev)
{
	pthread_mutex_lock(&ev_lock);
	while (queued(dev) || ev_running == dev)
		pthread_cond_wait(&ev_cond, &ev_lock);
	pthread_mutex_unlock(&ev_lock);
}

void events_shutdown(void)
{
	pthread_mutex_lock(&ev_lock);
	ev_stopping = true;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
	if (ev_started)
		pthread_join(ev_thread, NULL);
	ev_started = false;
}
