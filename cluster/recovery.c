/*
 * Per-LUN reopen state machine.  See recovery.h.
 */
#include "recovery.h"

#include <errno.h>
#include <string.h>

#include "agent.h"
#include "runner/cmdproc.h"
#include "runner/device.h"
#include "events.h"
#include "runner/handler.h"
#include "lock.h"
#include "runner/log.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

static int rec_state(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->recovery.state, __ATOMIC_ACQUIRE);
}

static void set_rec_state(struct tcmu_device *dev, int state)
{
	__atomic_store_n(&dev->recovery.state, state, __ATOMIC_RELEASE);
}

bool recovery_active(struct tcmu_device *dev)
{
	return rec_state(dev) != REC_IDLE;
}

void recovery_request(struct tcmu_device *dev, const char *why)
{
	int idle = REC_IDLE;

	if (!__atomic_compare_exchange_n(&dev->recovery.state, &idle,
					 REC_DRAINING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	dev->recovery.why = why;
	__atomic_fetch_add(&dev->recovery.count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&dev->rdev.flags, DEV_FLAG_IN_RECOVERY, __ATOMIC_RELEASE);
	lunar_warn(dev, "%s: reopening the handler once the %u command(s) in flight complete; new commands get BUSY meanwhile",
		   why, tracker_count(&dev->tracker));
	cmdproc_wake(dev);
	agent_kick(dev);
}

void recovery_cmdproc_check(struct tcmu_device *dev)
{
	if (rec_state(dev) != REC_DRAINING || tracker_count(&dev->tracker))
		return;
	__atomic_store_n(&dev->has_poller, false, __ATOMIC_RELEASE);
	set_rec_state(dev, REC_DRAINED);
	agent_kick(dev);
}

static int reopen_once(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = dev->handler->ops;

	if (dev_is_open(dev)) {
		ops->close(dev);
		__atomic_fetch_and(&dev->rdev.flags, ~DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	}
	if (ops->open(dev, true))
		return -EIO;
	__atomic_fetch_or(&dev->rdev.flags, DEV_FLAG_IS_OPEN, __ATOMIC_RELEASE);
	return 0;
}

void recovery_step(struct tcmu_device *dev)
{
	unsigned int attempt = 0, backoff = BACKOFF_FIRST_MS;
	int64_t start = monotonic_ms();

	if (rec_state(dev) != REC_DRAINED)
		return;
	set_rec_state(dev, REC_REOPENING);
	lock_before_reopen(dev);
	events_flush(dev);
	while (reopen_once(dev)) {
		attempt++;
		lunar_warn(dev, "reopen after %s failed (attempt %u); retrying in %u ms",
			   dev->recovery.why, attempt, backoff);
		if (!agent_sleep(dev, backoff))
			return;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	__atomic_store_n(&dev->rdev.lock_lost, false, __ATOMIC_RELEASE);
	__atomic_fetch_and(&dev->rdev.flags, ~DEV_FLAG_IN_RECOVERY, __ATOMIC_RELEASE);
	set_rec_state(dev, REC_IDLE);
	lunar_info(dev, "reopened after %s in %lld ms (%u failed attempt(s)); serving again",
		   dev->recovery.why, (long long)(monotonic_ms() - start), attempt);
	cmdproc_wake(dev);
	lock_resume(dev);
}
