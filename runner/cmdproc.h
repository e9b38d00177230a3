/*
 * The per-device command thread: waits for the kernel's notification,
 * takes every new entry off the ring, dispatches it, announces the batch's
 * completions with one kick, and watches command timeouts.
 */
#ifndef LUNAR_CMDPROC_H
#define LUNAR_CMDPROC_H

#include <stdbool.h>

struct tcmu_device;

/* Start the device's command thread.  0 or -errno. */
int cmdproc_start(struct tcmu_device *dev);

/*
 * Stop taking commands, let the thread finish the ones in flight (it
 * drives the handler's poller, if any, until they complete), join it.
 */
void cmdproc_stop(struct tcmu_device *dev);

/* Whether the caller is dev's command thread. */
bool cmdproc_is_current(struct tcmu_device *dev);

/* Wake dev's command thread (any thread). */
void cmdproc_wake(struct tcmu_device *dev);

#endif
