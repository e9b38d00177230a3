/*
 * Per-LUN reopen state machine for TCMUR_EVT_CONN_LOST and
 * TCMUR_EVT_LOCK_LOST (and command timeouts escalated to them).  Only the
 * affected device is recovered: other LUNs and the target port group keep
 * serving (tcmu-runner 1.5.4 disables the whole TPG instead).
 *
 *   IDLE --request--> DRAINING --in-flight = 0--> DRAINED --agent--> REOPENING
 *    ^                 (cmd thread)                                   |
 *    |          open OK (lock asked for again if it was held)         |
 *    +----------------------------------------------------------------+
 *                      open failed: retry after backoff (0.1 s doubling to 5 s)
 *
 * Outside IDLE every command that would reach the handler is answered BUSY
 * (the initiator retries; multipath may move to another gateway).  In
 * DRAINING the commands already in the handler complete normally (late
 * completions of timed-out commands included); the handler is closed only
 * when none is left, and reopened with reopen = true.
 *
 * Threading: recovery_request() and recovery_active() from any thread;
 * recovery_cmdproc_check() on the device's command thread; recovery_step()
 * on its HA agent thread.
 */
#ifndef LUNAR_RECOVERY_H
#define LUNAR_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct tcmu_device;

enum recovery_state {
	REC_IDLE,
	REC_DRAINING,
	REC_DRAINED,
	REC_REOPENING,
};

struct dev_recovery {
	int state;		/* enum recovery_state; atomic */
	const char *why;	/* static string naming the cause */
	uint64_t count;		/* recoveries started */
};

/* Start recovery of dev unless one is under way.  Any thread. */
void recovery_request(struct tcmu_device *dev, const char *why);
bool recovery_active(struct tcmu_device *dev);

/*
 * Command thread, every loop: once DRAINING and nothing is in flight, stop
 * driving the handler's poller and hand over to the agent.
 */
void recovery_cmdproc_check(struct tcmu_device *dev);

/*
 * Agent thread: close and reopen a DRAINED device, retrying with backoff
 * until it opens or the agent is stopped.
 */
void recovery_step(struct tcmu_device *dev);

#endif
