/*
 * The per-device cluster lock.  See lock.h.
 */
#include "lock.h"

#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "runner/device.h"
#include "runner/dispatch.h"
#include "runner/handler.h"
#include "runner/log.h"
#include "recovery.h"

void lock_init(struct dev_lock *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	l->owner = LOCK_OWNER_UNKNOWN;
}

void lock_destroy(struct dev_lock *l)
{
	pthread_mutex_destroy(&l->mu);
}

void lock_enable(struct tcmu_device *dev, uint16_t local_tag,
		 unsigned int holddown_ms)
{
	dev->lock.local_tag = local_tag;
	dev->lock.holddown_ms = holddown_ms;
	__atomic_store_n(&dev->lock.enabled, true, __ATOMIC_RELEASE);
}

bool lock_enabled(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->lock.enabled, __ATOMIC_ACQUIRE);
}

int lock_state(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->lock.state, __ATOMIC_ACQUIRE);
}

bool lock_is_held(struct tcmu_device *dev)
{
	return lock_state(dev) == DLOCK_LOCKED;
}

bool lock_wanted(struct tcmu_device *dev)
{
	bool want;

	pthread_mutex_lock(&dev->lock.mu);
	want = dev->lock.want || lock_state(dev) != DLOCK_UNLOCKED;
	pthread_mutex_unlock(&dev->lock.mu);
	return want;
}

int lock_owner(struct tcmu_device *dev)
{
	return __atomic_load_n(&dev->lock.owner, __ATOMIC_ACQUIRE);
}

static void set_state(struct tcmu_device *dev, int state)
{
	static const uint8_t compat[] = {
		[DLOCK_UNLOCKED] = TCMUR_DEV_LOCK_UNLOCKED,
		[DLOCK_ACQUIRING] = TCMUR_DEV_LOCK_WRITE_LOCKING,
		[DLOCK_LOCKED] = TCMUR_DEV_LOCK_WRITE_LOCKED,
	};

	__atomic_store_n(&dev->lock.state, state, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->rdev.lock_state, compat[state], __ATOMIC_RELEASE);
}

static int64_t lock_doubt_since(struct dev_lock *l)
{
	return __atomic_load_n(&l->doubt_since_ms, __ATOMIC_ACQUIRE);
}

static void set_doubt_since(struct dev_lock *l, int64_t ms)
{
	__atomic_store_n(&l->doubt_since_ms, ms, __ATOMIC_RELEASE);
}

bool lock_confirmed(struct tcmu_device *dev)
{
	return lock_is_held(dev) && !lock_doubt_since(&dev->lock);
}

static void set_owner(struct tcmu_device *dev, int owner)
{
	__atomic_store_n(&dev->lock.owner, owner, __ATOMIC_RELEASE);
}

/* Caller holds l->mu. */
static void want_locked(struct dev_lock *l, bool want)
{
	l->want = want;
	l->want_pending = true;
}

static bool contention_says_take(struct dev_lock *l, int owner, int64_t now)
{
	if (owner == LOCK_OWNER_NONE || owner == l->local_tag)
		return true;
	if (!l->contend_last_ms || now - l->contend_last_ms > l->holddown_ms)
		l->contend_first_ms = now;
	l->contend_last_ms = now;
	return now - l->contend_first_ms >= l->holddown_ms;
}

void lock_contend(struct tcmu_device *dev)
{
	struct dev_lock *l = &dev->lock;
	int owner = lock_owner(dev);
	bool take = false;

	pthread_mutex_lock(&l->mu);
	if (lock_state(dev) == DLOCK_UNLOCKED && !(l->want_pending && l->want) &&
	    !l->stpg) {
		take = contention_says_take(l, owner, monotonic_ms());
		if (take) {
			want_locked(l, true);
			l->recheck = owner < 0 || owner == l->local_tag;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (!take)
		return;
	if (owner >= 0 && owner != l->local_tag)
		lunar_warn(dev, "I/O kept arriving here for %u ms while group %d holds the lock; taking it over",
			   l->holddown_ms, owner);
	agent_kick(dev);
}

int lock_request_stpg(struct tcmu_device *dev, struct lunar_cmd *cmd,
		      bool active)
{
	struct dev_lock *l = &dev->lock;
	int sts = TCMU_STS_ASYNC_HANDLED;

	/* The agent may be busy reopening for long: nothing to wait for. */
	if (recovery_active(dev))
		return TCMU_STS_BUSY;
	pthread_mutex_lock(&l->mu);
	if (l->stpg)
		sts = TCMU_STS_BUSY;
	else if (active == lock_is_held(dev) && !l->want_pending)
		sts = TCMU_STS_OK;
	else {
		l->stpg = cmd;
		want_locked(l, active);
		l->recheck = false;
	}
	pthread_mutex_unlock(&l->mu);
	if (sts == TCMU_STS_ASYNC_HANDLED)
		agent_kick(dev);
	return sts;
}

int lock_after_refresh(struct tcmu_device *dev, struct lunar_cmd *cmd,
		       void (*done)(struct lunar_cmd *cmd))
{
	if (recovery_active(dev)) {
		done(cmd);
		return TCMU_STS_ASYNC_HANDLED;
	}
	cmd->work_fn = done;
	pthread_mutex_lock(&dev->lock.mu);
	cmd_fifo_push(&dev->lock.refresh_waiters, cmd);
	pthread_mutex_unlock(&dev->lock.mu);
	agent_kick(dev);
	return TCMU_STS_ASYNC_HANDLED;
}

/* Agent: answer everyone waiting for a fresh owner tag. */
static void answer_refresh_waiters(struct tcmu_device *dev)
{
	struct cmd_fifo todo;
	struct lunar_cmd *cmd;

	pthread_mutex_lock(&dev->lock.mu);
	todo = dev->lock.refresh_waiters;
	dev->lock.refresh_waiters = (struct cmd_fifo){ NULL, NULL };
	pthread_mutex_unlock(&dev->lock.mu);
	while ((cmd = cmd_fifo_pop(&todo)))
		cmd->work_fn(cmd);
}

void lock_before_reopen(struct tcmu_device *dev)
{
	struct dev_lock *l = &dev->lock;

	pthread_mutex_lock(&l->mu);
	if (lock_is_held(dev)) {
		set_state(dev, DLOCK_UNLOCKED);
		l->want = true;
	}
	pthread_mutex_unlock(&l->mu);
}

void lock_resume(struct tcmu_device *dev)
{
	struct dev_lock *l = &dev->lock;
	bool again;

	pthread_mutex_lock(&l->mu);
	again = l->want;
	if (again)
		l->want_pending = true;
	pthread_mutex_unlock(&l->mu);
	if (again)
		agent_kick(dev);
}

void lock_mark_lost(struct tcmu_device *dev, const char *why)
{
	struct dev_lock *l = &dev->lock;
	int was;

	if (!lock_enabled(dev))
		return;
	pthread_mutex_lock(&l->mu);
	was = lock_state(dev);
	if (was == DLOCK_LOCKED) {
		set_state(dev, DLOCK_UNLOCKED);
		l->want = false;
		/* Someone else holds it; who, a fenced client cannot read. */
		if (lock_owner(dev) == l->local_tag)
			set_owner(dev, LOCK_OWNER_UNKNOWN);
	}
	pthread_mutex_unlock(&l->mu);
	if (was != DLOCK_LOCKED)
		return;
	lunar_warn(dev, "cluster lock lost (%s): serving stops here until the handler is reopened",
		   why);
	dev_raise_ua(dev, UA_ALUA_STATE_CHANGED);
	recovery_request(dev, "cluster lock lost");
}

/*
 * The STPG's answer for the status of the handler's lock() or unlock():
 * an error the backend would likely give again is SPC-4's transition
 * failure (HARDWARE ERROR, SET TARGET PORT GROUPS COMMAND FAILED), so the
 * initiator re-reads RTPG and picks another path instead of resending
 * the STPG here; anything else is worth a retry (BUSY).
 */
static int stpg_status(int handler_sts)
{
	if (handler_sts == TCMU_STS_OK)
		return TCMU_STS_OK;
	return handler_sts == TCMU_STS_HW_ERR ? TCMU_STS_EXPL_TRANSITION_ERR :
						TCMU_STS_BUSY;
}

/* Complete the waiting STPG, if any, with the handler's status. */
static void finish_stpg(struct tcmu_device *dev, int handler_sts)
{
	struct lunar_cmd *cmd;

	pthread_mutex_lock(&dev->lock.mu);
	cmd = dev->lock.stpg;
	dev->lock.stpg = NULL;
	pthread_mutex_unlock(&dev->lock.mu);
	if (cmd)
		cmd_finish(cmd, stpg_status(handler_sts));
}

/*
 * When the backend cannot be asked, the last owner read stays (the other
 * gateways still report it), unless it is this gateway without the lock.
 */
static void refresh_owner(struct tcmu_device *dev)
{
	uint16_t tag;
	int sts = dev->handler->ops->get_lock_tag(dev, &tag);

	if (sts == TCMU_STS_OK)
		set_owner(dev, tag);
	else if (sts == TCMU_STS_NO_LOCK_HOLDERS)
		set_owner(dev, LOCK_OWNER_NONE);
	else if (lock_owner(dev) == dev->lock.local_tag && !lock_is_held(dev))
		set_owner(dev, LOCK_OWNER_UNKNOWN);
}

/*
 * In ACQUIRING (so lock_contend() asks for nothing more meanwhile): an
 * implicit acquisition asked for because nobody seemed to hold the
 * lock: look again, another gateway may have taken it since the owner was
 * last read.  Then the hold-down applies instead.
 */
static bool still_free(struct tcmu_device *dev)
{
	int owner;

	refresh_owner(dev);
	owner = lock_owner(dev);
	if (owner < 0 || owner == dev->lock.local_tag) {
		lunar_info(dev, "I/O arrived and no gateway holds the lock; taking it");
		return true;
	}
	pthread_mutex_lock(&dev->lock.mu);
	dev->lock.want = false;
	set_state(dev, DLOCK_UNLOCKED);
	pthread_mutex_unlock(&dev->lock.mu);
	return false;
}

/* The handler's lock() status (TCMU_STS_BUSY if no longer free). */
static int acquire(struct tcmu_device *dev, bool recheck)
{
	struct tcmur_handler *ops = dev->handler->ops;
	int64_t start = monotonic_ms();
	int sts;

	if (recheck && !still_free(dev))
		return TCMU_STS_BUSY;
	sts = ops->lock(dev, dev->lock.local_tag);
	if (sts == TCMU_STS_OK) {
		set_doubt_since(&dev->lock, 0);
		set_owner(dev, dev->lock.local_tag);
		set_state(dev, DLOCK_LOCKED);
		dev->lock.transitions++;
		dev_raise_ua(dev, UA_ALUA_STATE_CHANGED);
		lunar_info(dev, "cluster lock acquired (group %u) in %lld ms; serving I/O",
			   dev->lock.local_tag, (long long)(monotonic_ms() - start));
		return sts;
	}
	set_state(dev, DLOCK_UNLOCKED);
	pthread_mutex_lock(&dev->lock.mu);
	dev->lock.want = false;
	pthread_mutex_unlock(&dev->lock.mu);
	lunar_warn(dev, "cannot take the cluster lock (handler status %d); staying standby",
		   sts);
	if (sts == TCMU_STS_FENCED)
		recovery_request(dev, "this gateway's backend client is fenced");
	else if (sts == TCMU_STS_TIMEOUT)
		tcmu_notify_conn_lost(dev);
	return sts;
}

void lock_reclaim(struct tcmu_device *dev)
{
	if (!lock_enabled(dev))
		return;
	refresh_owner(dev);
	if (lock_owner(dev) != dev->lock.local_tag || lock_is_held(dev))
		return;
	lunar_info(dev, "an earlier lunard on this gateway holds the cluster lock (group %u); taking it back",
		   dev->lock.local_tag);
	set_state(dev, DLOCK_ACQUIRING);
	acquire(dev, false);
}

/*
 * The handler's unlock() status.  When unlock() fails and the handler
 * still says the lock is this client's, nothing changed: it is held again
 * and served on (never taken over meanwhile, or the handler would say
 * otherwise), so the state and RTPG stay true.
 */
static int release(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = dev->handler->ops;
	int sts;

	if (!lock_is_held(dev))
		return TCMU_STS_OK;
	set_state(dev, DLOCK_UNLOCKED);
	/* Let admitted I/O finish first; an STPG waiting on us is in flight. */
	device_wait_inflight(dev, dev->lock.stpg ? 1 : 0);
	sts = ops->unlock(dev);
	if (sts != TCMU_STS_OK &&
	    ops->get_lock_state(dev) == TCMUR_DEV_LOCK_WRITE_LOCKED) {
		set_state(dev, DLOCK_LOCKED);
		lunar_warn(dev, "cannot release the cluster lock (handler status %d); still holding it, serving on",
			   sts);
		return sts;
	}
	dev_raise_ua(dev, UA_ALUA_STATE_CHANGED);
	lunar_info(dev, "cluster lock released%s", sts ? " (handler reported an error)" : "");
	return sts;
}

/*
 * Is a lock this gateway believes held still its own?  Another group's
 * tag on the image says no at once.  A get_lock_state() answer other than
 * "locked" counts only if it still holds AGENT_PERIOD_MS later with no
 * "locked" in between: librbd answers "not the owner" for a moment while
 * it renews its lock cookie after re-registering its watch (after any
 * OSD reconnect), and a reopen then would give up a lock nobody else
 * wanted.  A real loss is seen one period later here, or at once by I/O
 * on the fenced client (tcmu_notify_lock_lost).
 */
static void verify_held(struct tcmu_device *dev)
{
	struct dev_lock *l = &dev->lock;
	int owner = lock_owner(dev), state;
	int64_t now, since;
	char why[80];

	if (!lock_is_held(dev))
		return;
	if (owner >= 0 && owner != l->local_tag) {
		snprintf(why, sizeof(why), "group %d's tag is on the image", owner);
		lock_mark_lost(dev, why);
		return;
	}
	state = dev->handler->ops->get_lock_state(dev);
	if (state == TCMUR_DEV_LOCK_WRITE_LOCKED || !lock_is_held(dev)) {
		set_doubt_since(l, 0);	/* confirmed, or reported lost */
		return;
	}
	now = monotonic_ms();
	since = lock_doubt_since(l);
	if (!since) {
		set_doubt_since(l, now);
		lunar_dbg(dev, "handler does not confirm the cluster lock; asking again before giving it up");
		return;
	}
	if (now - since < AGENT_PERIOD_MS)
		return;
	set_doubt_since(l, 0);
	snprintf(why, sizeof(why), "the handler's lock state has been %s for %lld ms",
		 state == TCMUR_DEV_LOCK_UNLOCKED ? "unlocked" : "unknown",
		 (long long)(now - since));
	lock_mark_lost(dev, why);
}

void lock_step(struct tcmu_device *dev)
{
	struct dev_lock *l = &dev->lock;
	bool pending, want, recheck, held;

	if (!lock_enabled(dev))
		return;
	if (recovery_active(dev)) {
		/* The drain waits for these. */
		finish_stpg(dev, TCMU_STS_BUSY);
		answer_refresh_waiters(dev);
		return;
	}
	pthread_mutex_lock(&l->mu);
	pending = l->want_pending;
	want = l->want;
	recheck = l->recheck;
	l->want_pending = false;
	l->recheck = false;
	held = pending && want && lock_is_held(dev);
	if (pending && want && !held)
		set_state(dev, DLOCK_ACQUIRING);
	pthread_mutex_unlock(&l->mu);
	if (held)
		finish_stpg(dev, TCMU_STS_OK);
	else if (pending)
		finish_stpg(dev, want ? acquire(dev, recheck) : release(dev));
	refresh_owner(dev);
	verify_held(dev);
	answer_refresh_waiters(dev);
}

void lock_teardown(struct tcmu_device *dev)
{
	if (!lock_enabled(dev))
		return;
	finish_stpg(dev, TCMU_STS_BUSY);
	answer_refresh_waiters(dev);
	if (lock_is_held(dev)) {
		set_state(dev, DLOCK_UNLOCKED);
		dev->handler->ops->unlock(dev);
	}
}
