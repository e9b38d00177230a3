/*
 * lunar's own handler extensions (include/lunar-handler-ext.h).
 */
#include <errno.h>
#include <stddef.h>

#include "runner/device.h"
#include "runner/export.h"
#include "runner/handler.h"
#include "runner/log.h"

LUNAR_EXPORT int lunar_dev_set_poller(struct tcmu_device *dev,
				      const struct lunar_poller *p)
{
	if (!p || p->size < offsetof(struct lunar_poller, arg) + sizeof(p->arg) ||
	    p->fd < 0 || !p->poll || !p->flush ||
	    dev->handler->ops->nr_threads > 0) {
		lunar_err(dev, "handler poller rejected: incomplete, or the handler is not asynchronous");
		return -EINVAL;
	}
	/*
	 * Before the command thread starts, or while a reopen has it leave
	 * the handler alone (cluster/recovery.h).
	 */
	if (dev_has_poller(dev) ||
	    (dev->cmdproc_started && dev->recovery.state != REC_REOPENING))
		return -EBUSY;
	dev->poller = *p;
	__atomic_store_n(&dev->has_poller, true, __ATOMIC_RELEASE);
	return 0;
}
