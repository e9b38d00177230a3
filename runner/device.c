/*
 * Device lifecycle.  See device.h.
 */
#define _GNU_SOURCE
#include "device.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "attr.h"
#include "cmdproc.h"
#include "events.h"
#include "ha_hooks.h"
#include "handler.h"
#include "log.h"

_Static_assert(offsetof(struct lunar_rdev_view, lock_lost_cnt) == 0x30,
	       "1.5.4 handlers read lock_lost_cnt at 0x30");
_Static_assert(offsetof(struct lunar_rdev_view, conn_lost_cnt) == 0x38,
	       "1.5.4 handlers read conn_lost_cnt at 0x38");
_Static_assert(offsetof(struct lunar_rdev_view, cmd_timed_out_cnt) == 0x40,
	       "1.5.4 handlers read cmd_timed_out_cnt at 0x40");
_Static_assert(offsetof(struct lunar_rdev_view, lock_state) == 0x51,
	       "1.5.4 handlers read lock_state at 0x51");

/* tcmu-runner's defaults for what a handler may override in open(). */
#define DEFAULT_MAX_UNMAP_LEN (32u * 1024 * 1024)
#define MAX_CMD_TIME_OUT_S (24u * 3600)
#define RUNNER_OPT_TIMEOUT ";tcmur_cmd_time_out="
#define DRAIN_WARN_S 10

const char *device_label(struct tcmu_device *dev)
{
	return dev->label;
}

const char *device_unit_serial(struct tcmu_device *dev)
{
	pthread_mutex_lock(&dev->serial_lock);
	if (!dev->unit_serial[0] &&
	    attr_unit_serial(dev->transport, dev->unit_serial,
			     sizeof(dev->unit_serial)))
		dev->unit_serial[0] = '\0';
	pthread_mutex_unlock(&dev->serial_lock);
	return dev->unit_serial;
}

uint64_t device_num_lbas(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->num_lbas, __ATOMIC_ACQUIRE);
}

void device_set_size(struct tcmu_device *dev, uint64_t bytes)
{
	uint64_t lbas = bytes / dev->block_size;

	if (__atomic_exchange_n(&dev->num_lbas, lbas, __ATOMIC_ACQ_REL) == lbas)
		return;
	device_raise_ua(dev, UA_CAPACITY_CHANGED);
	lunar_info(dev, "size changed to %llu bytes", (unsigned long long)bytes);
}

bool device_write_cache(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->write_cache, __ATOMIC_ACQUIRE);
}

void device_raise_ua(struct tcmu_device *dev, uint32_t ua)
{
	__atomic_fetch_or(&dev->pending_ua, ua, __ATOMIC_ACQ_REL);
}

int device_strip_runner_options(char *cfg, unsigned int *time_out_s)
{
	char *opt = strstr(cfg, RUNNER_OPT_TIMEOUT), *val, *end;
	uint64_t v;
	char saved;
	int ret;

	*time_out_s = 0;
	if (!opt)
		return 0;
	val = opt + strlen(RUNNER_OPT_TIMEOUT);
	end = val + strcspn(val, ";");
	saved = *end;
	*end = '\0';
	ret = parse_u64(val, &v);
	*end = saved;
	if (ret || v > MAX_CMD_TIME_OUT_S)
		return -EINVAL;
	*time_out_s = (unsigned int)v;
	memmove(opt, end, strlen(end) + 1);
	return 0;
}

static int copy_names(struct tcmu_device *dev, const struct device_params *p,
		      unsigned int *time_out_s)
{
	size_t sub;

	if (snprintf(dev->uio_name, sizeof(dev->uio_name), "%s", p->uio_name) >=
		    (int)sizeof(dev->uio_name) ||
	    snprintf(dev->hba_name, sizeof(dev->hba_name), "%s", p->hba_name) >=
		    (int)sizeof(dev->hba_name) ||
	    snprintf(dev->dev_name, sizeof(dev->dev_name), "%s", p->dev_name) >=
		    (int)sizeof(dev->dev_name) ||
	    snprintf(dev->cfgstring, sizeof(dev->cfgstring), "%s", p->cfgstring) >=
		    (int)sizeof(dev->cfgstring))
		return -ENAMETOOLONG;
	sub = strcspn(dev->cfgstring, "/");
	snprintf(dev->label, sizeof(dev->label), "%.*s/%s", (int)sub,
		 dev->cfgstring, dev->dev_name);
	return device_strip_runner_options(dev->cfgstring, time_out_s);
}

static int read_geometry(struct tcmu_device *dev)
{
	struct lunar_transport *t = dev->transport;
	uint64_t bs, size, max_sectors, wce = 0;
	int ret;

	ret = attr_read_u64(t, "attrib/hw_block_size", &bs);
	if (ret || bs < 512 || bs > 65536 || (bs & (bs - 1))) {
		lunar_err(dev, "attrib/hw_block_size unreadable or not a power of two in 512..65536");
		return ret ? ret : -EINVAL;
	}
	ret = attr_info_u64(t, "Size", &size);
	if (ret || size < bs) {
		lunar_err(dev, "device size unreadable from info, or smaller than one block");
		return ret ? ret : -EINVAL;
	}
	ret = attr_read_u64(t, "attrib/hw_max_sectors", &max_sectors);
	if (ret || !max_sectors || max_sectors > UINT32_MAX) {
		lunar_err(dev, "attrib/hw_max_sectors unreadable or out of range");
		return ret ? ret : -EINVAL;
	}
	if (!device_unit_serial(dev)[0])
		lunar_info(dev, "no unit serial yet (wwn/vpd_unit_serial): VPD identification waits for it");
	/* Optional: the kernel's view of the write cache. */
	attr_read_u64(t, "attrib/emulate_write_cache", &wce);

	dev->block_size = (uint32_t)bs;
	dev->num_lbas = size / bs;
	dev->max_xfer_len = (uint32_t)max_sectors;
	dev->opt_xcopy_rw_len = (uint32_t)max_sectors;
	dev->max_unmap_len = DEFAULT_MAX_UNMAP_LEN;
	dev->opt_unmap_gran = (uint32_t)max_sectors;
	dev->split_unmaps = true;
	dev->write_cache = wce != 0;
	dev->unmap_enabled = dev->handler->ops->unmap != NULL;
	return 0;
}

/*
 * The runner's own timeout (;tcmur_cmd_time_out=) only helps if it fires
 * before the kernel's attrib/cmd_time_out fails the command outright.
 */
static void check_timeout_order(struct tcmu_device *dev)
{
	uint64_t kernel_s;

	if (!dev->tracker.time_out_s ||
	    attr_read_u64(dev->transport, "attrib/cmd_time_out", &kernel_s) ||
	    !kernel_s || dev->tracker.time_out_s < kernel_s)
		return;
	lunar_warn(dev, "tcmur_cmd_time_out=%u is not below the kernel's attrib/cmd_time_out=%llu: the kernel fails slow commands before lunard notices; lower it",
		   dev->tracker.time_out_s, (unsigned long long)kernel_s);
}

bool device_is_shared(const struct tcmu_device *dev)
{
	return dev->handler->ops->lock;
}

static int check_config(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = dev->handler->ops;
	char *reason = NULL;

	if (!ops->check_config || ops->check_config(dev->cfgstring, &reason))
		return 0;
	lunar_err(dev, "configuration rejected by handler: %s",
		  reason ? reason : "no reason given");
	free(reason);
	return -EINVAL;
}

static int init_runtime(struct tcmu_device *dev)
{
	dev->rdev.dev = dev;
	dev->rdev.lock_state = TCMUR_DEV_LOCK_UNKNOWN;
	dev->lib_private = &dev->rdev;
	overlap_init(&dev->overlap);
	tracker_init(&dev->tracker, 0);
	pthread_mutex_init(&dev->drain_lock, NULL);
	pthread_cond_init(&dev->drain_cond, NULL);
	pthread_mutex_init(&dev->foreign_lock, NULL);
	pthread_mutex_init(&dev->serial_lock, NULL);
	dev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return dev->wake_fd < 0 ? -errno : 0;
}

static void free_device(struct tcmu_device *dev)
{
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	pthread_mutex_destroy(&dev->foreign_lock);
	pthread_mutex_destroy(&dev->serial_lock);
	pthread_cond_destroy(&dev->drain_cond);
	pthread_mutex_destroy(&dev->drain_lock);
	tracker_destroy(&dev->tracker);
	overlap_destroy(&dev->overlap);
	ring_detach(&dev->ring);
	if (dev->transport)
		dev->transport->ops->destroy(dev->transport);
	free(dev);
}

static int open_handler(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = dev->handler->ops;
	int ret;

	ret = check_config(dev);
	if (ret)
		return ret;
	ret = ops->open(dev, false);
	if (ret) {
		lunar_err(dev, "handler open failed: %s (%d)",
			  ret < 0 ? strerror(-ret) : "error", ret);
		return ret < 0 ? ret : -EIO;
	}
	__atomic_fetch_or(&dev->rdev.flags, DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	if (ops->nr_threads > 0) {
		ret = workers_start(&dev->workers, dev, ops->nr_threads);
		if (ret) {
			ops->close(dev);
			return ret;
		}
	}
	return 0;
}

int device_add(const struct device_params *p, struct lunar_transport *transport,
	       struct tcmu_device **out)
{
	struct tcmu_device *dev = calloc(1, sizeof(*dev));
	unsigned int time_out_s;
	int ret;

	if (!dev) {
		transport->ops->destroy(transport);
		return -ENOMEM;
	}
	dev->transport = transport;
	dev->wake_fd = -1;
	ret = init_runtime(dev);
	if (ret)
		goto fail_early;
	ret = copy_names(dev, p, &time_out_s);
	if (ret) {
		lunar_err(NULL, "device %s: names or cfgstring too long, or bad ;tcmur_cmd_time_out= value",
			  p->dev_name);
		goto fail_early;
	}
	dev->tracker.time_out_s = time_out_s ? time_out_s : tracker_default_timeout();
	dev->handler = handlers_find(dev->cfgstring);
	if (!dev->handler) {
		lunar_err(dev, "no handler for cfgstring '%s'", dev->cfgstring);
		ret = -ENOENT;
		goto fail_early;
	}
	ret = read_geometry(dev);
	if (ret)
		goto fail_early;
	check_timeout_order(dev);
	ret = ring_attach(&dev->ring, transport->map, transport->map_len);
	if (ret) {
		lunar_err(dev, "ring mapping rejected: bad mailbox (%s)", strerror(-ret));
		goto fail_early;
	}
	ret = open_handler(dev);
	if (ret)
		goto fail_early;
	ret = ha_attach(dev);
	if (ret)
		goto fail_close;
	ret = cmdproc_start(dev);
	if (ret) {
		lunar_err(dev, "cannot start command thread: %s", strerror(-ret));
		goto fail_detach;
	}
	lunar_info(dev, "serving %s: %llu blocks of %u bytes", dev->uio_name,
		   (unsigned long long)dev->num_lbas, dev->block_size);
	*out = dev;
	return 0;

fail_detach:
	ha_detach(dev);
fail_close:
	workers_stop(&dev->workers);
	dev->handler->ops->close(dev);
	ha_release(dev);
fail_early:
	free_device(dev);
	return ret;
}

void device_untrack_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	pthread_mutex_lock(&dev->drain_lock);
	if (tracker_remove(&dev->tracker, rcmd) <= 1) {
		if (ha_recovering(dev))
			cmdproc_wake(dev);	/* its HA tick finishes the drain */
		pthread_cond_broadcast(&dev->drain_cond);
	}
	pthread_mutex_unlock(&dev->drain_lock);
}

void device_wait_inflight(struct tcmu_device *dev, unsigned int max)
{
	pthread_mutex_lock(&dev->drain_lock);
	while (tracker_count(&dev->tracker) > max) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += DRAIN_WARN_S;
		if (pthread_cond_timedwait(&dev->drain_cond, &dev->drain_lock,
					   &until) == ETIMEDOUT)
			lunar_warn(dev, "still waiting for %u command(s) in flight to complete",
				   tracker_count(&dev->tracker));
	}
	pthread_mutex_unlock(&dev->drain_lock);
}

void device_remove(struct tcmu_device *dev)
{
	if (!dev)
		return;
	cmdproc_stop(dev);
	device_wait_inflight(dev, 0);
	ha_detach(dev);
	workers_stop(&dev->workers);
	events_flush(dev);
	if (device_is_open(dev))
		dev->handler->ops->close(dev);
	__atomic_fetch_and(&dev->rdev.flags, ~DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	ha_release(dev);
	lunar_info(dev, "removed");
	free_device(dev);
}

int device_reopen(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = dev->handler->ops;
	int ret;

	events_flush(dev);
	if (device_is_open(dev)) {
		ops->close(dev);
		__atomic_fetch_and(&dev->rdev.flags, ~DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&dev->reopening, true, __ATOMIC_RELEASE);
	ret = ops->open(dev, true);
	__atomic_store_n(&dev->reopening, false, __ATOMIC_RELEASE);
	if (ret)
		return -EIO;
	__atomic_fetch_or(&dev->rdev.flags, DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	return 0;
}

static int handler_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct tcmur_handler *ops = dev->handler->ops;

	return ops->reconfig ? ops->reconfig(dev, cfg) : -EOPNOTSUPP;
}

static int reconfig_size(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	uint64_t bytes = cfg->data.dev_size;
	int ret;

	if (!bytes || bytes % dev->block_size)
		return -EINVAL;
	if (bytes / dev->block_size == device_num_lbas(dev))
		return 0;
	ret = handler_reconfig(dev, cfg);
	if (!ret)
		device_set_size(dev, bytes);
	return ret;
}

/*
 * The runner honours the write cache setting itself (write-through when
 * off), so a handler without an opinion (-EOPNOTSUPP) does not block it.
 */
static int reconfig_write_cache(struct tcmu_device *dev,
				struct tcmulib_cfg_info *cfg)
{
	bool old = device_write_cache(dev);
	int ret;

	if (old == cfg->data.write_cache)
		return 0;
	__atomic_store_n(&dev->write_cache, cfg->data.write_cache, __ATOMIC_RELEASE);
	ret = handler_reconfig(dev, cfg);
	if (ret && ret != -EOPNOTSUPP) {
		__atomic_store_n(&dev->write_cache, old, __ATOMIC_RELEASE);
		return ret;
	}
	device_raise_ua(dev, UA_MODE_PARAMS_CHANGED);
	lunar_info(dev, "write cache %s", cfg->data.write_cache ? "enabled" : "disabled");
	return 0;
}

/*
 * Only the handler can follow a new configuration string.  As in 1.5.4
 * dev->cfgstring keeps the one the device was opened with: handlers hold
 * pointers to it.
 */
static int reconfig_cfgstring(struct tcmu_device *dev,
			      struct tcmulib_cfg_info *cfg)
{
	int ret = handler_reconfig(dev, cfg);

	if (!ret)
		lunar_info(dev, "handler switched to configuration '%s'",
			   cfg->data.dev_cfgstring);
	return ret;
}

int device_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		return reconfig_size(dev, cfg);
	case TCMULIB_CFG_WRITE_CACHE:
		return reconfig_write_cache(dev, cfg);
	case TCMULIB_CFG_DEV_CFGSTR:
		return reconfig_cfgstring(dev, cfg);
	}
	return -EINVAL;
}
