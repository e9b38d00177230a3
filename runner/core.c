/*
 * The core API published to the layers above the runner.  See core.h.
 */
#include "core.h"

#include "attr.h"
#include "cmd.h"
#include "cmdproc.h"
#include "device.h"
#include "handler.h"
#include "inflight.h"
#include "ring/transport.h"

const char *device_uio_name(struct tcmu_device *dev)
{
	return dev->uio_name;
}

struct tcmur_handler *device_handler_ops(struct tcmu_device *dev)
{
	return dev->handler->ops;
}

struct ha_dev *device_ha(struct tcmu_device *dev)
{
	return dev->ha;
}

void device_set_ha(struct tcmu_device *dev, struct ha_dev *ha)
{
	dev->ha = ha;
}

unsigned int device_inflight(struct tcmu_device *dev)
{
	return tracker_count(&dev->tracker);
}

void device_wake(struct tcmu_device *dev)
{
	cmdproc_wake(dev);
}

void device_default_cmd_timeout(struct tcmu_device *dev, unsigned int seconds)
{
	unsigned int none = 0;

	__atomic_compare_exchange_n(&dev->tracker.time_out_s, &none, seconds,
				    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void device_drop_poller(struct tcmu_device *dev)
{
	__atomic_store_n(&dev->has_poller, false, __ATOMIC_RELEASE);
}

void device_set_recovering(struct tcmu_device *dev, bool recovering)
{
	if (recovering) {
		__atomic_fetch_or(&dev->rdev.flags, DEV_FLAG_IN_RECOVERY, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&dev->rdev.lock_lost, false, __ATOMIC_RELEASE);
	__atomic_fetch_and(&dev->rdev.flags, ~DEV_FLAG_IN_RECOVERY, __ATOMIC_RELEASE);
}

void device_set_lock_state(struct tcmu_device *dev, uint8_t tcmur_lock_state)
{
	__atomic_store_n(&dev->rdev.lock_state, tcmur_lock_state, __ATOMIC_RELEASE);
}

ssize_t device_read_attr(struct tcmu_device *dev, const char *name, char *buf,
			 size_t size)
{
	return transport_read_attr(dev->transport, name, buf, size);
}

int device_read_attr_u64(struct tcmu_device *dev, const char *name,
			 uint64_t *out)
{
	return attr_read_u64(dev->transport, name, out);
}

int device_write_attr(struct tcmu_device *dev, const char *name,
		      const char *value)
{
	return transport_write_attr(dev->transport, name, value);
}

ssize_t device_list_attr_dir(struct tcmu_device *dev, const char *name,
			     char *buf, size_t size)
{
	return transport_list_dir(dev->transport, name, buf, size);
}

struct tcmu_device *cmd_device(struct lunar_cmd *cmd)
{
	return cmd->dev;
}

const uint8_t *cmd_cdb(struct lunar_cmd *cmd)
{
	return cmd->ring.cdb;
}
