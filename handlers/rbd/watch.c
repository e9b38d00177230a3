/*
 * Resize on the Ceph side (rbd resize, the dashboard): librbd's update
 * watch fires on every change of the image header; when the size differs
 * from the LUN's, the runner is told (tcmur_dev_update_size: the kernel's
 * device size, then CAPACITY DATA HAS CHANGED for the initiators).  1.5.4
 * left this to the admin tool.
 *
 * The callback runs on a librbd thread; rbd_update_unwatch() waits for a
 * running one, so close never races it.  Once close has begun the
 * callback no longer resizes: tcmur_dev_update_size() waits for the
 * kernel, which may be waiting for the device's removal to finish.
 */
#include <errno.h>
#include <string.h>

#include "rbd.h"
#include "tcmu-runner.h"

static void on_header_update(void *arg)
{
	struct lrbd_dev *rd = arg;
	struct tcmu_device *dev = rd->dev;
	uint64_t size, lun;
	int ret;

	if (__atomic_load_n(&rd->closing, __ATOMIC_ACQUIRE) ||
	    rbd_get_size(rd->image, &size))
		return;
	lun = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	if (size == lun)
		return;
	tcmu_dev_info(dev, "%s resized in Ceph from %llu to %llu bytes: resizing the LUN",
		      rd->name, (unsigned long long)lun, (unsigned long long)size);
	ret = tcmur_dev_update_size(dev, size);
	if (ret)
		tcmu_dev_err(dev, "cannot follow the resize of %s to %llu bytes (%s): the LUN stays at %llu bytes",
			     rd->name, (unsigned long long)size, strerror(-ret),
			     (unsigned long long)lun);
}

int lrbd_watch_start(struct lrbd_dev *rd)
{
	int ret = rbd_update_watch(rd->image, &rd->watch_handle,
				   on_header_update, rd);

	if (ret) {
		tcmu_dev_warn(rd->dev, "cannot watch %s for resizes (%s): resize the LUN by hand",
			      rd->name, strerror(-ret));
		return ret;
	}
	rd->watching = true;
	return 0;
}

void lrbd_watch_stop(struct lrbd_dev *rd)
{
	__atomic_store_n(&rd->closing, true, __ATOMIC_RELEASE);
	if (rd->watching)
		rbd_update_unwatch(rd->image, rd->watch_handle);
	rd->watching = false;
}
