/*
 * The per-device cluster lock: lunard's side of the handler's lock(tag) /
 * unlock / get_lock_tag / get_lock_state callouts (any handler that has
 * them, tcmu-runner 1.5.4's handler_rbd.so included).
 *
 *              acquire requested               lock(tag) OK
 *   UNLOCKED ----------------------> ACQUIRING ------------> LOCKED
 *      ^  ^     lock() failed            |                     |
 *      |  +-------------------------------+                     |
 *      |        release requested (STPG Standby) / lock lost    |
 *      +--------------------------------------------------------+
 *
 * Fence before serve: commands reach the backend only in LOCKED, which is
 * entered only after lock(tag) returned OK; handlers fence the previous
 * owner inside lock() (rbd: blocklist it and wait until this client has
 * the OSD map that carries the entry), so no write the old owner queued
 * can land after one acknowledged here.  The tag stored with the lock is
 * the local ALUA target port group id, so every gateway can read who owns
 * the image (get_lock_tag) and answer REPORT TARGET PORT GROUPS alike.
 *
 * An STPG that asks this gateway to take the lock is answered GOOD at
 * once (a promise): REPORT TARGET PORT GROUPS names the local group
 * Active/Optimized and the others Standby from then on (a unit attention
 * says so, as the STPG is answered; none when the promise is kept), and
 * media access is parked until lock(tag) returns, then served (LOCKED)
 * or answered as a non-owner with a unit attention (the promise broken).
 * An initiator that waited seconds for each STPG would serialize a
 * gateway's takeovers: Linux sends STPG from a workqueue whose rescuer
 * thread, when workers are short, runs the queued STPGs of many LUNs one
 * after another.
 *
 * Implicit takeover policy (documented in docs/ha.md): medium access on a
 * gateway that does not hold the lock is answered NOT READY, ASYMMETRIC
 * ACCESS STATE TRANSITION (the initiator retries).  The lock is taken at
 * once when nobody holds it; when another gateway does, only after such
 * access has kept arriving for the hold-down (initiators that can reach
 * the owner follow RTPG and stop sending here; ones that keep sending
 * cannot reach it).  No write steals the lock on arrival.
 *
 * Threading: cluster_lock_contend(), cluster_lock_is_held(),
 * cluster_lock_owner() and the request functions from any thread without
 * blocking (the command thread calls
 * them); cluster_lock_step() and cluster_lock_before_reopen() only on the device's HA
 * agent thread (cluster/agent.h), cluster_lock_reclaim() before it started and
 * cluster_lock_teardown() after it stopped: one thread at a time calls the
 * handler's lock callouts.
 */
#ifndef LUNAR_CLUSTER_LOCK_H
#define LUNAR_CLUSTER_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcmu-runner.h"

struct tcmu_device;
struct lunar_cmd;
struct lock_waiter;

enum cluster_lock_state {
	CLUSTER_UNLOCKED,
	CLUSTER_ACQUIRING,
	CLUSTER_LOCKED,
};

/* cluster_lock_owner() results besides a tag. */
#define CLUSTER_OWNER_NONE	(-1)	/* nobody holds the lock */
#define CLUSTER_OWNER_UNKNOWN	(-2)	/* not asked yet, or the ask failed */
/*
 * Held by a gateway that wrote no tag: tcmu-runner 1.5.4 under implicit
 * ALUA (a mixed cluster during a rolling upgrade).  Another gateway's lock
 * for the takeover policy; which group it serves is not known.
 */
#define CLUSTER_OWNER_UNTAGGED	TCMU_INVALID_LOCK_TAG

struct cluster_lock {
	pthread_mutex_t mu;
	bool enabled;
	uint16_t local_tag;
	unsigned int holddown_ms;

	int state;			/* enum cluster_lock_state; atomic */
	bool want;			/* agent: acquire (true) or release */
	bool want_pending;
	bool recheck;			/* read the owner before taking */
	int owner;			/* cached get_lock_tag(); atomic */
	int64_t doubt_since_ms;		/* held, not confirmed since; atomic */

	int64_t contend_first_ms;	/* implicit: non-owner access began */
	int64_t contend_last_ms;
	struct lunar_cmd *stpg;		/* a release waiting for unlock() */
	bool promised;			/* STPG answered, lock() to come; atomic */
	struct lock_waiter *parked;	/* waiting for the promise, FIFO */
	struct lock_waiter **parked_tail;
	struct lock_waiter *refresh_waiters;	/* after_refresh(), LIFO */

	uint64_t transitions;		/* acquisitions, for counters */
};

void cluster_lock_init(struct cluster_lock *l);
void cluster_lock_destroy(struct cluster_lock *l);

/*
 * Turn lock driving on for dev (its handler has all four callouts and an
 * ALUA group with a local port exists): local_tag is that group's id.
 */
void cluster_lock_enable(struct tcmu_device *dev, uint16_t local_tag,
			 unsigned int holddown_ms);
bool cluster_lock_enabled(struct tcmu_device *dev);

bool cluster_lock_is_held(struct tcmu_device *dev);
/*
 * Held, and the handler's last answer confirmed it (after a "not locked"
 * the agent asks again before it gives the lock up; meanwhile this is
 * false and REPORT TARGET PORT GROUPS claims nothing).
 */
bool cluster_lock_confirmed(struct tcmu_device *dev);
/*
 * Whether this gateway means to hold the lock: it does, is acquiring it,
 * or takes it again after a reopen.
 */
bool cluster_lock_wanted(struct tcmu_device *dev);
int cluster_lock_state(struct tcmu_device *dev);
/* Owner's tag from the last check, CLUSTER_OWNER_NONE, _UNKNOWN or _UNTAGGED. */
int cluster_lock_owner(struct tcmu_device *dev);

/*
 * Implicit ALUA: medium access arrived while this gateway does not hold
 * the lock.  Applies the takeover policy above (may request acquisition);
 * the caller answers the command with a transition.
 */
void cluster_lock_contend(struct tcmu_device *dev);

/*
 * STPG: make this gateway the owner (active) or give the lock up.
 * Active: a promise (above), GOOD at once.  Release: cmd completes when
 * the transition has (GOOD) or has not happened: BUSY (the initiator
 * retries) when unlock() failed transiently, the device started
 * recovering, or it is torn down; TCMU_STS_EXPL_TRANSITION_ERR (HARDWARE
 * ERROR, SET TARGET PORT GROUPS COMMAND FAILED: the initiator re-reads
 * RTPG and may pick another path) when it returned TCMU_STS_HW_ERR.  A
 * failed unlock() that leaves the lock with this client keeps it held
 * and served.  Returns TCMU_STS_ASYNC_HANDLED, or a status for cmd at
 * once: GOOD if nothing is to change or for a promise, BUSY while a
 * release waits or the device recovers.
 */
int cluster_lock_request_stpg(struct tcmu_device *dev, struct lunar_cmd *cmd,
			      bool active);

/* Whether an STPG's promise to take the lock is pending. */
bool cluster_lock_promised(struct tcmu_device *dev);

/*
 * Command thread, a command the lock does not admit yet: park it until
 * the promise is kept or broken (then cmd_readmit() runs it through the
 * admission again, on the agent's thread).  False when no promise is
 * pending (or no memory): the caller answers it now.
 */
bool cluster_lock_park(struct tcmu_device *dev, struct lunar_cmd *cmd);

/*
 * Have the agent read the owner tag afresh, then call done(cmd) on its
 * thread (done completes cmd), so REPORT TARGET PORT GROUPS tells the
 * truth right after a takeover elsewhere.  While the device recovers the
 * agent is busy reopening: done runs at once on the caller's thread, with
 * the owner as last read.  Returns TCMU_STS_ASYNC_HANDLED.
 */
int cluster_lock_after_refresh(struct tcmu_device *dev, struct lunar_cmd *cmd,
			       void (*done)(struct lunar_cmd *cmd));

/*
 * Recovery is about to close the handler: a lock still held goes with the
 * old client, so it is marked not held and to be taken again.  Agent.
 */
void cluster_lock_before_reopen(struct tcmu_device *dev);

/*
 * After a reopen: ask for the lock again if this gateway was meant to hold
 * it (it held it, or an acquisition was under way), to be taken only if
 * the owner's tag still names this gateway or nobody: another gateway may
 * have taken over while the old client was stuck.  Any thread.
 */
void cluster_lock_resume(struct tcmu_device *dev);

/*
 * The lock is gone (why: for the log, e.g. the handler reported it through
 * tcmu_notify_lock_lost): stop serving and reopen.  Any thread.
 */
void cluster_lock_mark_lost(struct tcmu_device *dev, const char *why);

/*
 * Device add, before the agent starts: if the image's owner tag is this
 * gateway's group while this device does not hold the lock, the holder is
 * the client of a lunard that served here before and died (a supervised
 * restart adopting the ring): take the lock back at once, fencing that
 * client.  The device is still blocked in the kernel, so initiators get
 * BUSY and retry on the same path — no path failure, no move to another
 * gateway, whose RTPG already names this group as the owner.
 */
void cluster_lock_reclaim(struct tcmu_device *dev);

/*
 * Agent thread: carry out a pending acquire or release, refresh the owner
 * tag and check that a lock believed held still is.
 */
void cluster_lock_step(struct tcmu_device *dev);

/* Device going away, its agent stopped: release the lock if held. */
void cluster_lock_teardown(struct tcmu_device *dev);

#endif
