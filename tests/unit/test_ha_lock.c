/*
 * cluster/cluster_lock.c through the seam, over the fake core: the
 * implicit takeover policy (a free lock taken on first access, a held one
 * only after the hold-down of continued access), what lock() and unlock()
 * failures lead to, STPG answers (a promise to take the lock, commands
 * parked until it is kept or broken), the check that a held lock still is
 * (one "not locked" is doubt, a second one a period later is a loss),
 * reclaiming a lock a dead lunard held here, the owner tag kept when it
 * cannot be read, teardown, and RTPG waiting for a fresh owner tag.  No agent thread runs: the test calls
 * cluster_lock_step() where the agent would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cluster/agent.h"
#include "cluster/cluster_lock.h"
#include "cluster/ha.h"
#include "cluster/recovery.h"
#include "fake_core.h"
#include "ha_bare.h"

#define LOCAL 1		/* this gateway's group */
#define OTHER 2
#define HOLDDOWN_MS 100

static struct tcmu_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = ha_bare_new("lock");
	cluster_lock_enable(dev, LOCAL, HOLDDOWN_MS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ha_bare_free(dev);
	return 0;
}

/* Access arrives while nobody holds the lock; the next step takes it. */
static void take_free_lock(void)
{
	cluster_lock_step(dev);		/* reads the owner: nobody */
	cluster_lock_contend(dev);
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));
}

/* An STPG for the local group, left waiting for the agent. */
static void stpg_waiting(struct lunar_cmd *cmd, bool active)
{
	fake_cmd_init(cmd, dev, NULL, 0);
	assert_int_equal(cluster_lock_request_stpg(dev, cmd, active),
			 TCMU_STS_ASYNC_HANDLED);
	assert_int_equal(cmd->finishes, 0);
}

/* The status the next step answers such an STPG with. */
static int stpg(bool active)
{
	struct lunar_cmd cmd;

	stpg_waiting(&cmd, active);
	cluster_lock_step(dev);
	assert_int_equal(cmd.finishes, 1);
	return cmd.status;
}

/* What the device looks like once the lock was lost: recovering. */
static void assert_lost(void)
{
	assert_false(cluster_lock_is_held(dev));
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(dev->lock_state, TCMUR_DEV_LOCK_UNLOCKED);
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
	assert_true(recovery_active(dev));
	assert_true(dev->recovering);
}

static void test_contend_free_lock_acquires(void **state)
{
	(void)state;
	cluster_lock_step(dev);
	assert_int_equal(cluster_lock_owner(dev), CLUSTER_OWNER_NONE);
	assert_false(cluster_lock_wanted(dev));

	cluster_lock_contend(dev);
	assert_true(cluster_lock_wanted(dev));
	assert_int_equal(cluster_lock_state(dev), CLUSTER_UNLOCKED);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);

	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 1);
	assert_int_equal(dev->last_lock_tag, LOCAL);
	assert_int_equal(cluster_lock_state(dev), CLUSTER_LOCKED);
	assert_true(cluster_lock_confirmed(dev));
	assert_int_equal(cluster_lock_owner(dev), LOCAL);
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
	assert_int_equal(dev->lock_state, TCMUR_DEV_LOCK_WRITE_LOCKED);
	assert_int_equal(ha_lock_acquisitions(dev), 1);
}

/* Another gateway took the lock between the access and the step. */
static void test_contend_rechecks_owner_before_lock(void **state)
{
	(void)state;
	cluster_lock_step(dev);
	cluster_lock_contend(dev);
	dev->backend.owner = OTHER;
	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
	assert_int_equal(cluster_lock_state(dev), CLUSTER_UNLOCKED);
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(cluster_lock_owner(dev), OTHER);
}

/*
 * Held elsewhere: taken only once access has kept arriving for the
 * hold-down.  Every contention that asked for it must come that late.
 */
static void test_contend_held_elsewhere_waits_holddown(void **state)
{
	int64_t start;
	unsigned int tries = 0;

	(void)state;
	dev->backend.owner = OTHER;
	cluster_lock_step(dev);
	assert_int_equal(cluster_lock_owner(dev), OTHER);

	start = monotonic_ms();
	do {
		cluster_lock_contend(dev);
		tries++;
		if (cluster_lock_wanted(dev))
			break;
		cluster_lock_step(dev);
		assert_int_equal(dev->calls[FAKE_LOCK], 0);
		fake_sleep_ms(10);
	} while (monotonic_ms() - start < FAKE_WAIT_MS);
	assert_true(cluster_lock_wanted(dev));
	assert_true(monotonic_ms() - start >= HOLDDOWN_MS);
	assert_true(tries > 1);

	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 1);
	assert_true(cluster_lock_is_held(dev));
	assert_int_equal(cluster_lock_owner(dev), LOCAL);
}

/* A pause longer than the hold-down starts it over. */
static void test_contend_gap_restarts_holddown(void **state)
{
	(void)state;
	dev->backend.owner = OTHER;
	cluster_lock_step(dev);
	cluster_lock_contend(dev);
	fake_sleep_ms(HOLDDOWN_MS + 50);
	cluster_lock_contend(dev);
	assert_false(cluster_lock_wanted(dev));
}

/* Contend for the free lock while lock() answers sts. */
static void contend_lock_failing(int sts)
{
	dev->backend.lock_sts = sts;
	cluster_lock_step(dev);
	cluster_lock_contend(dev);
	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 1);
	assert_int_equal(cluster_lock_state(dev), CLUSTER_UNLOCKED);
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(dev->lock_state, TCMUR_DEV_LOCK_UNLOCKED);
	assert_false(dev->ua & UA_ALUA_STATE_CHANGED);
}

/* A fenced client serves nothing until reopened. */
static void test_lock_fenced_starts_recovery(void **state)
{
	(void)state;
	contend_lock_failing(TCMU_STS_FENCED);
	assert_true(recovery_active(dev));
	assert_true(dev->recovering);
	assert_int_equal(dev->calls[FAKE_CONN_LOST], 0);
}

static void test_lock_timeout_reports_conn_lost(void **state)
{
	(void)state;
	contend_lock_failing(TCMU_STS_TIMEOUT);
	assert_int_equal(dev->calls[FAKE_CONN_LOST], 1);
	assert_false(recovery_active(dev));
}

/* A transient failure: standby, and the next access asks again. */
static void test_lock_busy_retried_on_next_access(void **state)
{
	(void)state;
	contend_lock_failing(TCMU_STS_BUSY);
	assert_false(recovery_active(dev));
	assert_int_equal(dev->calls[FAKE_CONN_LOST], 0);

	dev->backend.lock_sts = TCMU_STS_OK;
	cluster_lock_contend(dev);
	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 2);
	assert_true(cluster_lock_is_held(dev));
}

/*
 * STPG Active/Optimized is a promise, GOOD at once; the step that runs
 * lock() keeps or breaks it.  Either way a command parked meanwhile goes
 * through the admission again (once), and no promise is left to park
 * for.  Another gateway's tag is on the image, so that admission starts
 * no implicit takeover of its own.
 */
/* STPG Active/Optimized answered GOOD at once, then a WRITE parked. */
static void promise_and_park(struct lunar_cmd *stpg_cmd, struct lunar_cmd *parked)
{
	static const uint8_t write10[10] = { 0x2a };

	fake_cmd_init(stpg_cmd, dev, NULL, 0);
	assert_int_equal(cluster_lock_request_stpg(dev, stpg_cmd, true), TCMU_STS_OK);
	fake_cmd_init(parked, dev, write10, sizeof(write10));
	assert_true(cluster_lock_park(dev, parked));
}

static void promise(int lock_sts)
{
	struct lunar_cmd stpg_cmd, parked;

	dev->backend.owner = OTHER;
	dev->backend.lock_sts = lock_sts;
	dev->ua = 0;
	promise_and_park(&stpg_cmd, &parked);
	assert_true(cluster_lock_promised(dev));
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);	/* RTPG changed */
	dev->ua = 0;
	cluster_lock_step(dev);
	assert_false(cluster_lock_promised(dev));
	assert_int_equal(parked.readmits, 1);
	assert_int_equal(parked.finishes, 1);
	assert_false(cluster_lock_park(dev, &parked));
	/* RTPG changes again only if the promise was broken. */
	assert_int_equal(!!(dev->ua & UA_ALUA_STATE_CHANGED), lock_sts != TCMU_STS_OK);
}

static void test_stpg_active_is_a_promise(void **state)
{
	(void)state;
	promise(TCMU_STS_BUSY);
	assert_false(cluster_lock_is_held(dev));

	promise(TCMU_STS_HW_ERR);
	assert_false(cluster_lock_is_held(dev));

	promise(TCMU_STS_OK);
	assert_true(cluster_lock_is_held(dev));
	assert_int_equal(dev->calls[FAKE_LOCK], 3);
}

/*
 * A promise ends without lock() when the device starts recovering (the
 * drain waits for the parked commands) or is torn down.
 */
static void test_promise_ends_on_recovery_and_teardown(void **state)
{
	struct lunar_cmd stpg_cmd, parked;

	(void)state;
	dev->backend.owner = OTHER;
	for (int recovering = 0; recovering < 2; recovering++) {
		promise_and_park(&stpg_cmd, &parked);
		if (recovering) {
			recovery_request(dev, "test");
			cluster_lock_step(dev);
		} else {
			cluster_lock_teardown(dev);
		}
		assert_int_equal(parked.readmits, 1);
		assert_false(cluster_lock_promised(dev));
	}
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
}

static void test_stpg_standby_answers(void **state)
{
	(void)state;
	take_free_lock();
	dev->ua = 0;
	assert_int_equal(stpg(false), TCMU_STS_OK);
	assert_false(cluster_lock_is_held(dev));
	assert_int_equal(dev->backend.owner, -1);
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
	/* The STPG itself is in flight while unlock() waits for the rest. */
	assert_int_equal(dev->calls[FAKE_WAIT_INFLIGHT], 1);
	assert_int_equal(dev->wait_inflight_max, 1);

	/* unlock() failed, but the lock is gone all the same. */
	take_free_lock();
	dev->backend.unlock_sts = TCMU_STS_HW_ERR;
	dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	assert_int_equal(stpg(false), TCMU_STS_EXPL_TRANSITION_ERR);
	assert_false(cluster_lock_is_held(dev));
}

static void test_unlock_failure_keeps_lock_held(void **state)
{
	(void)state;
	take_free_lock();
	dev->ua = 0;
	dev->backend.unlock_sts = TCMU_STS_BUSY;
	assert_int_equal(stpg(false), TCMU_STS_BUSY);
	assert_int_equal(dev->calls[FAKE_UNLOCK], 1);
	assert_true(cluster_lock_confirmed(dev));
	assert_int_equal(dev->lock_state, TCMUR_DEV_LOCK_WRITE_LOCKED);
	assert_false(dev->ua & UA_ALUA_STATE_CHANGED);
}

/* What needs no transition, or cannot wait for one, is answered at once. */
static void test_stpg_immediate_answers(void **state)
{
	struct lunar_cmd first, second;

	(void)state;
	take_free_lock();
	fake_cmd_init(&second, dev, NULL, 0);
	assert_int_equal(cluster_lock_request_stpg(dev, &second, true),
			 TCMU_STS_OK);

	stpg_waiting(&first, false);
	assert_int_equal(cluster_lock_request_stpg(dev, &second, false),
			 TCMU_STS_BUSY);

	/* The waiting one gets BUSY too once the device recovers. */
	recovery_request(dev, "test");
	assert_int_equal(cluster_lock_request_stpg(dev, &second, false),
			 TCMU_STS_BUSY);
	cluster_lock_step(dev);
	assert_int_equal(first.finishes, 1);
	assert_int_equal(first.status, TCMU_STS_BUSY);
	assert_int_equal(second.finishes, 0);
	assert_int_equal(dev->calls[FAKE_UNLOCK], 0);
}

/*
 * One "not locked" is doubt (RTPG claims nothing meanwhile); a "locked"
 * clears it; the lock is given up only when "not locked" still holds a
 * period after it was first seen.
 */
static void test_verify_held_doubt_then_loss(void **state)
{
	(void)state;
	take_free_lock();
	dev->ua = 0;
	dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));
	assert_false(cluster_lock_confirmed(dev));
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));

	fake_sleep_ms(AGENT_PERIOD_MS);
	dev->backend.state = TCMUR_DEV_LOCK_WRITE_LOCKED;
	cluster_lock_step(dev);
	assert_true(cluster_lock_confirmed(dev));
	dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));
	assert_false(recovery_active(dev));
	assert_int_equal(dev->ua, 0);

	fake_sleep_ms(AGENT_PERIOD_MS);
	cluster_lock_step(dev);
	assert_lost();
	/* Its own tag on the image is a fenced client's stale read. */
	assert_int_equal(cluster_lock_owner(dev), CLUSTER_OWNER_UNKNOWN);
}

static void test_verify_held_other_tag_is_loss(void **state)
{
	(void)state;
	take_free_lock();
	dev->ua = 0;
	dev->backend.owner = OTHER;
	cluster_lock_step(dev);
	assert_lost();
	assert_int_equal(cluster_lock_owner(dev), OTHER);
}

/* This group's tag, not held by this client: an earlier lunard's. */
static void test_reclaim_own_tag(void **state)
{
	(void)state;
	dev->backend.owner = LOCAL;
	cluster_lock_reclaim(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 1);
	assert_int_equal(dev->last_lock_tag, LOCAL);
	assert_true(cluster_lock_is_held(dev));
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
}

static void test_reclaim_leaves_others_lock(void **state)
{
	(void)state;
	dev->backend.owner = OTHER;
	cluster_lock_reclaim(dev);
	dev->backend.owner = -1;
	cluster_lock_reclaim(dev);
	assert_int_equal(dev->calls[FAKE_GET_LOCK_TAG], 2);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
	assert_false(cluster_lock_is_held(dev));
}

/*
 * get_lock_tag() failing: the owner last read stays (the other gateways
 * still report it), but not this group's tag while it does not hold the
 * lock: that would claim it Active/Optimized.
 */
static void test_owner_kept_when_tag_unreadable(void **state)
{
	(void)state;
	dev->backend.owner = OTHER;
	cluster_lock_step(dev);
	dev->backend.tag_sts = TCMU_STS_TIMEOUT;
	cluster_lock_step(dev);
	assert_int_equal(cluster_lock_owner(dev), OTHER);

	/* Its own tag, from a reclaim whose lock() failed. */
	dev->backend.tag_sts = TCMU_STS_OK;
	dev->backend.owner = LOCAL;
	dev->backend.lock_sts = TCMU_STS_BUSY;
	cluster_lock_reclaim(dev);
	assert_false(cluster_lock_is_held(dev));
	assert_int_equal(cluster_lock_owner(dev), LOCAL);
	dev->backend.tag_sts = TCMU_STS_TIMEOUT;
	cluster_lock_step(dev);
	assert_int_equal(cluster_lock_owner(dev), CLUSTER_OWNER_UNKNOWN);
}

static int rtpg_owner;	/* cluster_lock_owner() when the RTPG was answered */

static void rtpg_done(struct lunar_cmd *cmd)
{
	rtpg_owner = cluster_lock_owner(cmd_device(cmd));
	cmd_finish(cmd, TCMU_STS_OK);
}

static void test_teardown_unlocks_and_answers(void **state)
{
	struct lunar_cmd stpg_cmd, rtpg_cmd;

	(void)state;
	take_free_lock();
	stpg_waiting(&stpg_cmd, false);
	fake_cmd_init(&rtpg_cmd, dev, NULL, 0);
	cluster_lock_after_refresh(dev, &rtpg_cmd, rtpg_done);

	cluster_lock_teardown(dev);
	assert_int_equal(stpg_cmd.finishes, 1);
	assert_int_equal(stpg_cmd.status, TCMU_STS_BUSY);
	assert_int_equal(rtpg_cmd.finishes, 1);
	assert_int_equal(dev->calls[FAKE_UNLOCK], 1);
	assert_false(cluster_lock_is_held(dev));
	assert_int_equal(dev->backend.owner, -1);
}

/* RTPG right after a takeover elsewhere names the new owner. */
static void test_after_refresh_answered_on_next_step(void **state)
{
	struct lunar_cmd a, b;

	(void)state;
	cluster_lock_step(dev);
	fake_cmd_init(&a, dev, NULL, 0);
	fake_cmd_init(&b, dev, NULL, 0);
	assert_int_equal(cluster_lock_after_refresh(dev, &a, rtpg_done),
			 TCMU_STS_ASYNC_HANDLED);
	assert_int_equal(cluster_lock_after_refresh(dev, &b, rtpg_done),
			 TCMU_STS_ASYNC_HANDLED);
	assert_int_equal(a.finishes + b.finishes, 0);

	dev->backend.owner = OTHER;
	rtpg_owner = CLUSTER_OWNER_UNKNOWN;
	cluster_lock_step(dev);
	assert_int_equal(a.finishes, 1);
	assert_int_equal(b.finishes, 1);
	assert_int_equal(rtpg_owner, OTHER);
}

/* The agent is busy reopening: no waiting for it. */
static void test_after_refresh_while_recovering(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	recovery_request(dev, "test");
	fake_cmd_init(&cmd, dev, NULL, 0);
	assert_int_equal(cluster_lock_after_refresh(dev, &cmd, rtpg_done),
			 TCMU_STS_ASYNC_HANDLED);
	assert_int_equal(cmd.finishes, 1);
	assert_int_equal(dev->calls[FAKE_GET_LOCK_TAG], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contend_free_lock_acquires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contend_rechecks_owner_before_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contend_held_elsewhere_waits_holddown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contend_gap_restarts_holddown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_fenced_starts_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_timeout_reports_conn_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_busy_retried_on_next_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_active_is_a_promise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promise_ends_on_recovery_and_teardown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_standby_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlock_failure_keeps_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_immediate_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_held_doubt_then_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_held_other_tag_is_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_own_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_leaves_others_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_kept_when_tag_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_unlocks_and_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_refresh_answered_on_next_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_refresh_while_recovering, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
