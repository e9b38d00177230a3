/*
 * Per-LUN reopen state machine.  See recovery.h.
 */
#include "recovery.h"

#include <errno.h>
#include <string.h>

#include "agent.h"
#include "cluster_lock.h"
#include "ha_dev.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

static int rec_state(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_recovery(dev)->state, __ATOMIC_ACQUIRE);
}

static void set_rec_state(struct tcmu_device *dev, int state)
{
	__atomic_store_n(&ha_recovery(dev)->state, state, __ATOMIC_RELEASE);
}

bool recovery_active(struct tcmu_device *dev)
{
	return rec_state(dev) != REC_IDLE;
}

void recovery_request(struct tcmu_device *dev, const char *why)
{
	int idle = REC_IDLE;

	if (!__atomic_compare_exchange_n(&ha_recovery(dev)->state, &idle,
					 REC_DRAINING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	ha_recovery(dev)->why = why;
	__atomic_fetch_add(&ha_recovery(dev)->count, 1, __ATOMIC_RELAXED);
	device_set_recovering(dev, true);
	lunar_warn(dev, "%s: reopening the handler once the %u command(s) in flight complete; new commands get BUSY meanwhile",
		   why, device_inflight(dev));
	device_wake(dev);
	agent_kick(dev);
}

void recovery_cmdproc_check(struct tcmu_device *dev)
{
	if (rec_state(dev) != REC_DRAINING || device_inflight(dev))
		return;
	device_drop_poller(dev);
	set_rec_state(dev, REC_DRAINED);
	agent_kick(dev);
}

void recovery_step(struct tcmu_device *dev)
{
	unsigned int attempt = 0, backoff = BACKOFF_FIRST_MS;
	int64_t start = monotonic_ms();

	if (rec_state(dev) != REC_DRAINED)
		return;
	set_rec_state(dev, REC_REOPENING);
	cluster_lock_before_reopen(dev);
	while (device_reopen(dev)) {
		attempt++;
		lunar_warn(dev, "reopen after %s failed (attempt %u); retrying in %u ms",
			   ha_recovery(dev)->why, attempt, backoff);
		if (!agent_sleep(dev, backoff))
			return;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	device_set_recovering(dev, false);
	set_rec_state(dev, REC_IDLE);
	lunar_info(dev, "reopened after %s in %lld ms (%u failed attempt(s)); serving again",
		   ha_recovery(dev)->why, (long long)(monotonic_ms() - start), attempt);
	device_wake(dev);
	cluster_lock_resume(dev);
}
