/*
 * tcmu_notify_cmd_timed_out / conn_lost / lock_lost (libtcmu.h): a handler
 * reports trouble with its backend.  Counted in the device's
 * 1.5.4-compatible view (handlers read the counters), logged, passed to
 * the handler's report_event() on the event thread (runner/events.h), and
 * for a lost connection or lock to the HA layer, which reopens the device.
 * Any thread, typically a backend library's callback.
 */
#include "runner/device.h"
#include "runner/events.h"
#include "runner/export.h"
#include "runner/ha_hooks.h"
#include "runner/log.h"

LUNAR_EXPORT void tcmu_notify_cmd_timed_out(struct tcmu_device *dev)
{
	__atomic_fetch_add(&dev->rdev.cmd_timed_out_cnt, 1, __ATOMIC_RELAXED);
	events_report(dev);
}

LUNAR_EXPORT void tcmu_notify_conn_lost(struct tcmu_device *dev)
{
	__atomic_fetch_add(&dev->rdev.conn_lost_cnt, 1, __ATOMIC_RELAXED);
	lunar_warn(dev, "handler reports its backend connection lost");
	events_report(dev);
	ha_handler_event(dev, TCMUR_EVT_CONN_LOST);
}

LUNAR_EXPORT void tcmu_notify_lock_lost(struct tcmu_device *dev)
{
	__atomic_fetch_add(&dev->rdev.lock_lost_cnt, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&dev->rdev.lock_lost, true, __ATOMIC_RELEASE);
	lunar_warn(dev, "handler reports the cluster lock lost");
	events_report(dev);
	ha_handler_event(dev, TCMUR_EVT_LOCK_LOST);
}
