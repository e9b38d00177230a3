/*
 * libtcmu per-device accessors for handlers (tcmu_dev_*, tcmur_dev_*).
 *
 * Setters are meant for a handler's open(); the geometry they change is
 * read by the SCSI core without locks (atomics where it may change while
 * commands run: num_lbas, write cache).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/export.h"
#include "runner/handler.h"
#include "runner/log.h"

LUNAR_EXPORT void *tcmu_dev_get_private(struct tcmu_device *dev)
{
	return dev->lib_private;
}

LUNAR_EXPORT void tcmu_dev_set_private(struct tcmu_device *dev, void *priv)
{
	dev->lib_private = priv;
}

LUNAR_EXPORT void *tcmur_dev_get_private(struct tcmu_device *dev)
{
	return dev->rdev.hm_private;
}

LUNAR_EXPORT void tcmur_dev_set_private(struct tcmu_device *dev, void *priv)
{
	dev->rdev.hm_private = priv;
}

LUNAR_EXPORT const char *tcmu_dev_get_uio_name(struct tcmu_device *dev)
{
	return dev->uio_name;
}

LUNAR_EXPORT int tcmu_dev_get_fd(struct tcmu_device *dev)
{
	return dev->transport->event_fd;
}

LUNAR_EXPORT char *tcmu_dev_get_memory_info(struct tcmu_device *dev,
					    void **base, size_t *len,
					    off_t *offset)
{
	*base = dev->transport->map;
	*len = dev->transport->map_len;
	*offset = 0;
	return dev->uio_name;
}

LUNAR_EXPORT char *tcmu_dev_get_cfgstring(struct tcmu_device *dev)
{
	return dev->cfgstring;
}

LUNAR_EXPORT struct tcmulib_handler *tcmu_dev_get_handler(struct tcmu_device *dev)
{
	return &dev->handler->lib;
}

LUNAR_EXPORT void tcmu_dev_set_num_lbas(struct tcmu_device *dev,
					uint64_t num_lbas)
{
	__atomic_store_n(&dev->num_lbas, num_lbas, __ATOMIC_RELEASE);
}

LUNAR_EXPORT uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev)
{
	return device_num_lbas(dev);
}

LUNAR_EXPORT void tcmu_dev_set_block_size(struct tcmu_device *dev,
					  uint32_t block_size)
{
	dev->block_size = block_size;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev)
{
	return dev->block_size;
}

LUNAR_EXPORT uint64_t tcmu_lba_to_byte(struct tcmu_device *dev, uint64_t lba)
{
	return lba * dev->block_size;
}

LUNAR_EXPORT uint64_t tcmu_byte_to_lba(struct tcmu_device *dev, uint64_t byte)
{
	return byte / dev->block_size;
}

LUNAR_EXPORT void tcmu_dev_set_max_xfer_len(struct tcmu_device *dev,
					    uint32_t len)
{
	dev->max_xfer_len = len;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev)
{
	return dev->max_xfer_len;
}

LUNAR_EXPORT void tcmu_dev_set_opt_xcopy_rw_len(struct tcmu_device *dev,
						uint32_t len)
{
	dev->opt_xcopy_rw_len = len;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_opt_xcopy_rw_len(struct tcmu_device *dev)
{
	return dev->opt_xcopy_rw_len;
}

LUNAR_EXPORT void tcmu_dev_set_max_unmap_len(struct tcmu_device *dev,
					     uint32_t len)
{
	dev->max_unmap_len = len;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_max_unmap_len(struct tcmu_device *dev)
{
	return dev->max_unmap_len;
}

LUNAR_EXPORT void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev,
					      uint32_t len, bool split)
{
	dev->opt_unmap_gran = len;
	dev->split_unmaps = split;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_opt_unmap_gran(struct tcmu_device *dev)
{
	return dev->opt_unmap_gran;
}

LUNAR_EXPORT void tcmu_dev_set_unmap_gran_align(struct tcmu_device *dev,
						uint32_t len)
{
	dev->unmap_gran_align = len;
}

LUNAR_EXPORT uint32_t tcmu_dev_get_unmap_gran_align(struct tcmu_device *dev)
{
	return dev->unmap_gran_align;
}

LUNAR_EXPORT void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev,
						   bool enabled)
{
	__atomic_store_n(&dev->write_cache, enabled, __ATOMIC_RELEASE);
}

LUNAR_EXPORT bool tcmu_dev_get_write_cache_enabled(struct tcmu_device *dev)
{
	return device_write_cache(dev);
}

LUNAR_EXPORT void tcmu_dev_set_solid_state_media(struct tcmu_device *dev,
						 bool solid_state)
{
	dev->solid_state = solid_state;
}

LUNAR_EXPORT bool tcmu_dev_get_solid_state_media(struct tcmu_device *dev)
{
	return dev->solid_state;
}

LUNAR_EXPORT void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev,
					     bool enabled)
{
	/* Advertising UNMAP needs a callout to serve it. */
	dev->unmap_enabled = enabled && dev->handler->ops->unmap;
}

LUNAR_EXPORT bool tcmu_dev_get_unmap_enabled(struct tcmu_device *dev)
{
	return dev->unmap_enabled;
}

LUNAR_EXPORT bool tcmu_dev_oooc_supported(struct tcmu_device *dev)
{
	return dev->ring.mb_flags & TCMU_MAILBOX_FLAG_CAP_OOOC;
}

/*
 * Wait until every command the kernel queued has been completed.  Called
 * by handlers from their own threads (never from a callout of a command
 * of the same device, which would wait for itself).
 */
LUNAR_EXPORT void tcmu_dev_flush_ring(struct tcmu_device *dev)
{
	pthread_mutex_lock(&dev->drain_lock);
	while (tracker_count(&dev->tracker))
		pthread_cond_wait(&dev->drain_cond, &dev->drain_lock);
	pthread_mutex_unlock(&dev->drain_lock);
}

/*
 * The backend's size changed (handler-initiated): tell the kernel through
 * configfs, take the new size and raise CAPACITY DATA HAS CHANGED.
 */
LUNAR_EXPORT int tcmur_dev_update_size(struct tcmu_device *dev,
				       uint64_t new_size)
{
	char val[48];
	int ret;

	if (!new_size || new_size % dev->block_size)
		return -EINVAL;
	snprintf(val, sizeof(val), "dev_size=%llu", (unsigned long long)new_size);
	ret = transport_write_attr(dev->transport, "control", val);
	if (ret) {
		lunar_err(dev, "cannot set the kernel's device size to %llu: %d",
			  (unsigned long long)new_size, ret);
		return ret;
	}
	/* Through the kernel's RECONFIG this is already done; not in the sim. */
	device_set_size(dev, new_size);
	return 0;
}
