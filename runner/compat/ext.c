/*
 * lunar's own handler extensions (include/lunar-handler-ext.h).
 */
#include <errno.h>
#include <stddef.h>

#include "runner/device.h"
#include "runner/export.h"
#include "runner/ha_hooks.h"
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
	 * From open(): before the command thread starts, or in a reopen,
	 * while the command thread leaves the handler alone.
	 */
	if (device_has_poller(dev) ||
	    (dev->cmdproc_started && !__atomic_load_n(&dev->reopening, __ATOMIC_ACQUIRE)))
		return -EBUSY;
	dev->poller = *p;
	__atomic_store_n(&dev->has_poller, true, __ATOMIC_RELEASE);
	return 0;
}

LUNAR_EXPORT unsigned int lunar_dev_op_timeout_hint(struct tcmu_device *dev)
{
	(void)dev;
	return ha_op_timeout_hint_s();
}
