/*
 * The per-device command thread: waits for the kernel's notification,
 * takes every new entry off the ring, dispatches it, announces the batch's
 * completions with one kick, and watches command timeouts.
 */
#ifndef LUNAR_CMDPROC_H
#define LUNAR_CMDPROC_H

struct tcmu_device;

/* Start / stop the device's command thread.  0 or -errno. */
int cmdproc_start(struct tcmu_device *dev);
void cmdproc_stop(struct tcmu_device *dev);

#endif
