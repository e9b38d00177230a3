/*
 * lunar extensions to the tcmu-runner 1.5.4 handler ABI.
 *
 * Everything here is optional and additive: a handler written for 1.5.4
 * never sees it, and struct tcmur_handler is unchanged.  Structures carry
 * their own size so later versions can grow them.
 *
 * Device poller.  An asynchronous handler (nr_threads == 0) whose backend
 * signals completions on a file descriptor (io_uring, an eventfd, a socket)
 * can let the device's command thread drive it, so that submission,
 * completion and the runner's work for a command all happen on one thread
 * without locks or wake-ups between threads:
 *  - poll(dev, arg) runs on the command thread when fd is readable; it
 *    completes finished commands with tcmur_cmd_complete();
 *  - flush(dev, arg) runs on the command thread after every batch of
 *    commands the runner dispatched (and after every poll()); it submits
 *    what the callouts queued, and may complete commands too.
 * Once a poller is set, the runner calls the handler's data callouts for
 * that device only on its command thread.
 */
#ifndef LUNAR_HANDLER_EXT_H
#define LUNAR_HANDLER_EXT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;

struct lunar_poller {
	uint32_t size;		/* sizeof(struct lunar_poller) */
	int fd;			/* POLLIN means poll() has work */
	void (*poll)(struct tcmu_device *dev, void *arg);
	void (*flush)(struct tcmu_device *dev, void *arg);
	void *arg;
};

/*
 * Call from open() (before any command can arrive).  Returns 0, -EINVAL
 * (bad structure, or the handler has nr_threads > 0) or -EBUSY (already
 * set).
 */
int lunar_dev_set_poller(struct tcmu_device *dev, const struct lunar_poller *p);

/*
 * Backend operation timeout, in seconds, that fits lunard's failover
 * budget (tcmu.conf failover_budget): handlers whose configuration does not set
 * one should use it, so an unreachable backend turns into an error (and a
 * reopen) within the budget instead of a hang.  Any thread.
 */
unsigned int lunar_dev_op_timeout_hint(struct tcmu_device *dev);

#ifdef __cplusplus
}
#endif

#endif
