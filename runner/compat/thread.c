/*
 * libtcmu thread helpers for handlers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runner/device.h"
#include "runner/export.h"
#include "runner/log.h"

/* Name the calling thread "<prefix>-<uio name>" (15 characters at most). */
LUNAR_EXPORT void tcmu_set_thread_name(const char *prefix,
				       struct tcmu_device *dev)
{
	char name[TCMU_THREAD_NAME_LEN];

	if (!prefix)
		return;
	if (dev)
		snprintf(name, sizeof(name), "%.7s-%.7s", prefix, dev->uio_name);
	else
		snprintf(name, sizeof(name), "%s", prefix);
	pthread_setname_np(pthread_self(), name);
}

LUNAR_EXPORT void tcmu_thread_cancel(pthread_t thread)
{
	int ret = pthread_cancel(thread);

	if (ret) {
		lunar_err(NULL, "pthread_cancel failed: %s", strerror(ret));
		return;
	}
	ret = pthread_join(thread, NULL);
	if (ret)
		lunar_err(NULL, "pthread_join failed: %s", strerror(ret));
}
