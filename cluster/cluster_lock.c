/*
 * The per-device cluster lock.  See lock.h.
 */
#include "cluster_lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ha_dev.h"
#include "recovery.h"

enum { OWNER_NAME_MAX = 24 };

/*
 * A command waiting for the agent: a REPORT TARGET PORT GROUPS for a fresh
 * owner tag (done answers it), or a command parked for an STPG's promise
 * (done is cmd_readmit).
 */
struct lock_waiter {
	struct lunar_cmd *cmd;
	void (*done)(struct lunar_cmd *cmd);
	struct lock_waiter *next;
};

/* Call every waiter of a list taken off the lock, in list order. */
static void call_waiters(struct lock_waiter *w)
{
	struct lock_waiter *next;

	for (; w; w = next) {
		next = w->next;
		w->done(w->cmd);
		free(w);
	}
}

void cluster_lock_init(struct cluster_lock *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	l->owner = CLUSTER_OWNER_UNKNOWN;
	l->parked_tail = &l->parked;
}

void cluster_lock_destroy(struct cluster_lock *l)
{
	pthread_mutex_destroy(&l->mu);
}

void cluster_lock_enable(struct tcmu_device *dev, uint16_t local_tag,
			 unsigned int holddown_ms)
{
	ha_cluster_lock(dev)->local_tag = local_tag;
	ha_cluster_lock(dev)->holddown_ms = holddown_ms;
	__atomic_store_n(&ha_cluster_lock(dev)->enabled, true, __ATOMIC_RELEASE);
}

bool cluster_lock_enabled(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_cluster_lock(dev)->enabled, __ATOMIC_ACQUIRE);
}

int cluster_lock_state(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_cluster_lock(dev)->state, __ATOMIC_ACQUIRE);
}

bool cluster_lock_is_held(struct tcmu_device *dev)
{
	return cluster_lock_state(dev) == CLUSTER_LOCKED;
}

bool cluster_lock_wanted(struct tcmu_device *dev)
{
	bool want;

	pthread_mutex_lock(&ha_cluster_lock(dev)->mu);
	want = ha_cluster_lock(dev)->want || cluster_lock_state(dev) != CLUSTER_UNLOCKED;
	pthread_mutex_unlock(&ha_cluster_lock(dev)->mu);
	return want;
}

int cluster_lock_owner(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_cluster_lock(dev)->owner, __ATOMIC_ACQUIRE);
}

static void set_state(struct tcmu_device *dev, int state)
{
	static const uint8_t compat[] = {
		[CLUSTER_UNLOCKED] = TCMUR_DEV_LOCK_UNLOCKED,
		[CLUSTER_ACQUIRING] = TCMUR_DEV_LOCK_WRITE_LOCKING,
		[CLUSTER_LOCKED] = TCMUR_DEV_LOCK_WRITE_LOCKED,
	};

	__atomic_store_n(&ha_cluster_lock(dev)->state, state, __ATOMIC_RELEASE);
	device_set_lock_state(dev, compat[state]);
}

static int64_t cluster_lock_doubt_since(struct cluster_lock *l)
{
	return __atomic_load_n(&l->doubt_since_ms, __ATOMIC_ACQUIRE);
}

static void set_doubt_since(struct cluster_lock *l, int64_t ms)
{
	__atomic_store_n(&l->doubt_since_ms, ms, __ATOMIC_RELEASE);
}

bool cluster_lock_confirmed(struct tcmu_device *dev)
{
	return cluster_lock_is_held(dev) && !cluster_lock_doubt_since(ha_cluster_lock(dev));
}

static void set_owner(struct tcmu_device *dev, int owner)
{
	__atomic_store_n(&ha_cluster_lock(dev)->owner, owner, __ATOMIC_RELEASE);
}

/* Caller holds l->mu. */
static void want_locked(struct cluster_lock *l, bool want)
{
	l->want = want;
	l->want_pending = true;
}

/* OWNER (another gateway's tag) as log lines name it. */
static const char *owner_name(int owner, char buf[static OWNER_NAME_MAX])
{
	if (owner == CLUSTER_OWNER_UNTAGGED)
		return "a gateway that writes no lock tag (tcmu-runner 1.5.4?)";
	snprintf(buf, OWNER_NAME_MAX, "group %d", owner);
	return buf;
}

static bool contention_says_take(struct cluster_lock *l, int owner, int64_t now)
{
	if (owner == CLUSTER_OWNER_NONE || owner == l->local_tag)
		return true;
	if (!l->contend_last_ms || now - l->contend_last_ms > l->holddown_ms)
		l->contend_first_ms = now;
	l->contend_last_ms = now;
	return now - l->contend_first_ms >= l->holddown_ms;
}

void cluster_lock_contend(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	int owner = cluster_lock_owner(dev);
	char name[OWNER_NAME_MAX];
	bool take = false;

	pthread_mutex_lock(&l->mu);
	if (cluster_lock_state(dev) == CLUSTER_UNLOCKED && !(l->want_pending && l->want) &&
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
		lunar_warn(dev, "I/O kept arriving here for %u ms while %s holds the lock; taking it over",
			   l->holddown_ms, owner_name(owner, name));
	agent_kick(dev);
}

bool cluster_lock_promised(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_cluster_lock(dev)->promised, __ATOMIC_ACQUIRE);
}

int cluster_lock_request_stpg(struct tcmu_device *dev, struct lunar_cmd *cmd,
			      bool active)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	int sts = TCMU_STS_ASYNC_HANDLED;
	bool kick = false;

	/* The agent may be busy reopening for long: nothing to wait for. */
	if (recovery_active(dev))
		return TCMU_STS_BUSY;
	pthread_mutex_lock(&l->mu);
	if (l->stpg)
		sts = TCMU_STS_BUSY;
	else if (active == cluster_lock_is_held(dev) && !l->want_pending)
		sts = TCMU_STS_OK;
	else {
		kick = true;
		want_locked(l, active);
		l->recheck = false;
		if (active) {
			/* RTPG's answer changes now (the lock's state later). */
			if (!l->promised)
				device_raise_ua(dev, UA_ALUA_STATE_CHANGED);
			__atomic_store_n(&l->promised, true, __ATOMIC_RELEASE);
			sts = TCMU_STS_OK;
		} else {
			l->stpg = cmd;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (kick)
		agent_kick(dev);
	return sts;
}

bool cluster_lock_park(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	struct lock_waiter *p;
	bool parked = false;

	if (!cluster_lock_promised(dev))
		return false;
	p = malloc(sizeof(*p));
	if (!p)
		return false;
	p->cmd = cmd;
	p->done = cmd_readmit;
	p->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->promised) {
		*l->parked_tail = p;
		l->parked_tail = &p->next;
		parked = true;
	}
	pthread_mutex_unlock(&l->mu);
	if (!parked)
		free(p);
	return parked;
}

/*
 * Agent (or teardown): the promise is kept (LOCKED) or broken; the parked
 * commands go through the admission again, in their order.  A broken
 * promise changes what RTPG says: the initiator hears it (unit attention).
 */
static void end_promise(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	struct lock_waiter *p;
	bool was;

	pthread_mutex_lock(&l->mu);
	was = l->promised;
	__atomic_store_n(&l->promised, false, __ATOMIC_RELEASE);
	p = l->parked;
	l->parked = NULL;
	l->parked_tail = &l->parked;
	pthread_mutex_unlock(&l->mu);
	if (was && !cluster_lock_is_held(dev))
		device_raise_ua(dev, UA_ALUA_STATE_CHANGED);
	call_waiters(p);
}

int cluster_lock_after_refresh(struct tcmu_device *dev, struct lunar_cmd *cmd,
			       void (*done)(struct lunar_cmd *cmd))
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	struct lock_waiter *w;

	if (recovery_active(dev)) {
		done(cmd);
		return TCMU_STS_ASYNC_HANDLED;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		done(cmd);	/* with the owner as last read */
		return TCMU_STS_ASYNC_HANDLED;
	}
	w->cmd = cmd;
	w->done = done;
	pthread_mutex_lock(&l->mu);
	w->next = l->refresh_waiters;
	l->refresh_waiters = w;
	pthread_mutex_unlock(&l->mu);
	agent_kick(dev);
	return TCMU_STS_ASYNC_HANDLED;
}

/* Agent: answer everyone waiting for a fresh owner tag. */
static void answer_refresh_waiters(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	struct lock_waiter *w;

	pthread_mutex_lock(&l->mu);
	w = l->refresh_waiters;
	l->refresh_waiters = NULL;
	pthread_mutex_unlock(&l->mu);
	call_waiters(w);
}

void cluster_lock_before_reopen(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);

	pthread_mutex_lock(&l->mu);
	if (cluster_lock_is_held(dev)) {
		set_state(dev, CLUSTER_UNLOCKED);
		l->want = true;
	}
	pthread_mutex_unlock(&l->mu);
}

/*
 * After a reopen, a lock held before it is taken again only if it is
 * still this gateway's or nobody's (recheck): while the old client was
 * stuck (a stopped lunard, a stalled backend) another gateway may have
 * fenced it and taken over, and taking it back would fence that one.
 */
void cluster_lock_resume(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	bool again;

	pthread_mutex_lock(&l->mu);
	again = l->want;
	if (again) {
		l->want_pending = true;
		l->recheck = true;
	}
	pthread_mutex_unlock(&l->mu);
	if (again)
		agent_kick(dev);
}

void cluster_lock_mark_lost(struct tcmu_device *dev, const char *why)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	int was;

	if (!cluster_lock_enabled(dev))
		return;
	pthread_mutex_lock(&l->mu);
	was = cluster_lock_state(dev);
	if (was == CLUSTER_LOCKED) {
		set_state(dev, CLUSTER_UNLOCKED);
		l->want = false;
		/* Someone else holds it; who, a fenced client cannot read. */
		if (cluster_lock_owner(dev) == l->local_tag)
			set_owner(dev, CLUSTER_OWNER_UNKNOWN);
	}
	pthread_mutex_unlock(&l->mu);
	if (was != CLUSTER_LOCKED)
		return;
	lunar_warn(dev, "cluster lock lost (%s): serving stops here until the handler is reopened",
		   why);
	device_raise_ua(dev, UA_ALUA_STATE_CHANGED);
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

	pthread_mutex_lock(&ha_cluster_lock(dev)->mu);
	cmd = ha_cluster_lock(dev)->stpg;
	ha_cluster_lock(dev)->stpg = NULL;
	pthread_mutex_unlock(&ha_cluster_lock(dev)->mu);
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
	int sts = device_handler_ops(dev)->get_lock_tag(dev, &tag);

	if (sts == TCMU_STS_OK)
		set_owner(dev, tag);
	else if (sts == TCMU_STS_NO_LOCK_HOLDERS)
		set_owner(dev, CLUSTER_OWNER_NONE);
	else if (cluster_lock_owner(dev) == ha_cluster_lock(dev)->local_tag && !cluster_lock_is_held(dev))
		set_owner(dev, CLUSTER_OWNER_UNKNOWN);
}

/*
 * In ACQUIRING (so cluster_lock_contend() asks for nothing more meanwhile):
 * an acquisition asked for because nobody seemed to hold the lock (an
 * implicit one) or because this gateway held it before a reopen: look
 * again, another gateway may have taken it since.  Then this gateway
 * stays standby (implicit: the hold-down applies).
 */
static bool still_free(struct tcmu_device *dev)
{
	char name[OWNER_NAME_MAX];
	int owner;

	refresh_owner(dev);
	owner = cluster_lock_owner(dev);
	if (owner < 0 || owner == ha_cluster_lock(dev)->local_tag) {
		lunar_info(dev, "no other gateway holds the cluster lock; taking it");
		return true;
	}
	pthread_mutex_lock(&ha_cluster_lock(dev)->mu);
	ha_cluster_lock(dev)->want = false;
	set_state(dev, CLUSTER_UNLOCKED);
	pthread_mutex_unlock(&ha_cluster_lock(dev)->mu);
	lunar_info(dev, "%s holds the cluster lock now; staying standby", owner_name(owner, name));
	return false;
}

/* The handler's lock() status (TCMU_STS_BUSY if no longer free). */
static int acquire(struct tcmu_device *dev, bool recheck)
{
	struct tcmur_handler *ops = device_handler_ops(dev);
	int64_t start = monotonic_ms();
	int sts;

	if (recheck && !still_free(dev))
		return TCMU_STS_BUSY;
	sts = ops->lock(dev, ha_cluster_lock(dev)->local_tag);
	if (sts == TCMU_STS_OK) {
		set_doubt_since(ha_cluster_lock(dev), 0);
		set_owner(dev, ha_cluster_lock(dev)->local_tag);
		set_state(dev, CLUSTER_LOCKED);
		ha_cluster_lock(dev)->transitions++;
		/*
		 * A kept promise changes nothing RTPG said: no unit attention,
		 * which Linux would meet on the first write after the takeover
		 * and retry — and its 6.1 kernel fails a retried dm-multipath
		 * write at once ("timing out command, waited 180s": the clone's
		 * age is counted from an old allocation), failing the path.
		 */
		if (!cluster_lock_promised(dev))
			device_raise_ua(dev, UA_ALUA_STATE_CHANGED);
		lunar_info(dev, "cluster lock acquired (group %u) in %lld ms; serving I/O",
			   ha_cluster_lock(dev)->local_tag, (long long)(monotonic_ms() - start));
		return sts;
	}
	set_state(dev, CLUSTER_UNLOCKED);
	pthread_mutex_lock(&ha_cluster_lock(dev)->mu);
	ha_cluster_lock(dev)->want = false;
	pthread_mutex_unlock(&ha_cluster_lock(dev)->mu);
	lunar_warn(dev, "cannot take the cluster lock (handler status %d); staying standby",
		   sts);
	if (sts == TCMU_STS_FENCED)
		recovery_request(dev, "this gateway's backend client is fenced");
	else if (sts == TCMU_STS_TIMEOUT)
		tcmu_notify_conn_lost(dev);
	return sts;
}

void cluster_lock_reclaim(struct tcmu_device *dev)
{
	if (!cluster_lock_enabled(dev))
		return;
	refresh_owner(dev);
	if (cluster_lock_owner(dev) != ha_cluster_lock(dev)->local_tag || cluster_lock_is_held(dev))
		return;
	lunar_info(dev, "an earlier lunard on this gateway holds the cluster lock (group %u); taking it back",
		   ha_cluster_lock(dev)->local_tag);
	set_state(dev, CLUSTER_ACQUIRING);
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
	struct tcmur_handler *ops = device_handler_ops(dev);
	int sts;

	if (!cluster_lock_is_held(dev))
		return TCMU_STS_OK;
	set_state(dev, CLUSTER_UNLOCKED);
	/* Let admitted I/O finish first; an STPG waiting on us is in flight. */
	device_wait_inflight(dev, ha_cluster_lock(dev)->stpg ? 1 : 0);
	sts = ops->unlock(dev);
	if (sts != TCMU_STS_OK &&
	    ops->get_lock_state(dev) == TCMUR_DEV_LOCK_WRITE_LOCKED) {
		set_state(dev, CLUSTER_LOCKED);
		lunar_warn(dev, "cannot release the cluster lock (handler status %d); still holding it, serving on",
			   sts);
		return sts;
	}
	device_raise_ua(dev, UA_ALUA_STATE_CHANGED);
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
	struct cluster_lock *l = ha_cluster_lock(dev);
	int owner = cluster_lock_owner(dev), state;
	int64_t now, since;
	char why[80];

	if (!cluster_lock_is_held(dev))
		return;
	if (owner >= 0 && owner != l->local_tag) {
		snprintf(why, sizeof(why), "group %d's tag is on the image", owner);
		cluster_lock_mark_lost(dev, why);
		return;
	}
	state = device_handler_ops(dev)->get_lock_state(dev);
	if (state == TCMUR_DEV_LOCK_WRITE_LOCKED || !cluster_lock_is_held(dev)) {
		set_doubt_since(l, 0);	/* confirmed, or reported lost */
		return;
	}
	now = monotonic_ms();
	since = cluster_lock_doubt_since(l);
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
	cluster_lock_mark_lost(dev, why);
}

void cluster_lock_step(struct tcmu_device *dev)
{
	struct cluster_lock *l = ha_cluster_lock(dev);
	bool pending, want, recheck, held;

	if (!cluster_lock_enabled(dev))
		return;
	if (recovery_active(dev)) {
		/* The drain waits for these. */
		finish_stpg(dev, TCMU_STS_BUSY);
		end_promise(dev);
		answer_refresh_waiters(dev);
		return;
	}
	pthread_mutex_lock(&l->mu);
	pending = l->want_pending;
	want = l->want;
	recheck = l->recheck;
	l->want_pending = false;
	l->recheck = false;
	held = pending && want && cluster_lock_is_held(dev);
	if (pending && want && !held)
		set_state(dev, CLUSTER_ACQUIRING);
	pthread_mutex_unlock(&l->mu);
	if (held)
		finish_stpg(dev, TCMU_STS_OK);
	else if (pending)
		finish_stpg(dev, want ? acquire(dev, recheck) : release(dev));
	if (pending)
		end_promise(dev);
	refresh_owner(dev);
	verify_held(dev);
	answer_refresh_waiters(dev);
}

void cluster_lock_teardown(struct tcmu_device *dev)
{
	if (!cluster_lock_enabled(dev))
		return;
	finish_stpg(dev, TCMU_STS_BUSY);
	end_promise(dev);
	answer_refresh_waiters(dev);
	if (cluster_lock_is_held(dev)) {
		set_state(dev, CLUSTER_UNLOCKED);
		device_handler_ops(dev)->unlock(dev);
	}
}
