/*
 * cluster/recovery.c through the seam, over the fake core: a request
 * drains (commands get BUSY, the core is told the device recovers), the
 * command thread's tick hands a drained device to the agent, which
 * reopens the handler, retrying a failed open with backoff, and serving
 * resumes; a request while one is under way changes nothing; a cluster
 * lock held before the reopen is asked for again after it, and taken
 * only if no other gateway took it meanwhile.  The test
 * calls the tick and recovery_step() where the command thread and the
 * agent would, except for the backoff, which needs the agent's sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cluster/ha.h"
#include "cluster/ha_dev.h"
#include "fake_core.h"
#include "ha_bare.h"

static struct tcmu_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = ha_bare_new("recovery");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ha_bare_free(dev);
	return 0;
}

static int rec_state(void)
{
	return __atomic_load_n(&ha_recovery(dev)->state, __ATOMIC_ACQUIRE);
}

/* Request recovery and let the command thread see the drain finished. */
static void request_and_drain(void)
{
	recovery_request(dev, "test");
	recovery_cmdproc_check(dev);
	assert_int_equal(rec_state(), REC_DRAINED);
}

static void test_request_starts_draining(void **state)
{
	(void)state;
	recovery_request(dev, "test");
	assert_int_equal(rec_state(), REC_DRAINING);
	assert_true(recovery_active(dev));
	assert_true(dev->recovering);
	/* The command thread runs its tick soon, even with nothing queued. */
	assert_int_equal(dev->calls[FAKE_WAKE], 1);
	assert_int_equal(ha_recoveries(dev), 1);
}

static void test_drain_waits_for_inflight(void **state)
{
	(void)state;
	dev->inflight = 2;
	recovery_request(dev, "test");
	recovery_cmdproc_check(dev);
	assert_int_equal(rec_state(), REC_DRAINING);
	assert_int_equal(dev->calls[FAKE_DROP_POLLER], 0);
	/* The agent leaves a device alone until it is drained. */
	recovery_step(dev);
	assert_int_equal(dev->calls[FAKE_REOPEN], 0);

	dev->inflight = 0;
	recovery_cmdproc_check(dev);
	assert_int_equal(rec_state(), REC_DRAINED);
	assert_int_equal(dev->calls[FAKE_DROP_POLLER], 1);
}

static void test_reopen_returns_to_idle(void **state)
{
	(void)state;
	request_and_drain();
	recovery_step(dev);
	assert_int_equal(dev->calls[FAKE_REOPEN], 1);
	assert_int_equal(dev->calls[FAKE_CLOSE], 1);
	assert_int_equal(dev->calls[FAKE_OPEN], 1);
	assert_true(dev->last_open_reopen);
	assert_int_equal(rec_state(), REC_IDLE);
	assert_false(recovery_active(dev));
	assert_false(dev->recovering);
	assert_int_equal(dev->calls[FAKE_WAKE], 2);
}

static void test_request_while_active_ignored(void **state)
{
	(void)state;
	recovery_request(dev, "first");
	recovery_request(dev, "second");
	assert_int_equal(ha_recoveries(dev), 1);
	assert_string_equal(ha_recovery(dev)->why, "first");
	assert_int_equal(dev->calls[FAKE_WAKE], 1);

	recovery_cmdproc_check(dev);
	recovery_step(dev);
	recovery_request(dev, "third");
	assert_int_equal(ha_recoveries(dev), 2);
	assert_string_equal(ha_recovery(dev)->why, "third");
}

/*
 * Two failed opens: retried after 100 ms, then 200 ms, on the agent
 * thread (its sleep is what spaces them).
 */
static void test_failed_reopen_retried_with_backoff(void **state)
{
	int64_t start;

	(void)state;
	dev->backend.open_failures = 2;
	assert_int_equal(agent_start(dev), 0);
	start = monotonic_ms();
	recovery_request(dev, "test");
	recovery_cmdproc_check(dev);
	WAIT_UNTIL(!recovery_active(dev));
	assert_true(monotonic_ms() - start >= 300);
	assert_int_equal(dev->calls[FAKE_REOPEN], 3);
	assert_int_equal(dev->calls[FAKE_OPEN], 3);
	/* The handler stays closed after a failed open: closed only once. */
	assert_int_equal(dev->calls[FAKE_CLOSE], 1);
	assert_false(dev->recovering);
}

/*
 * A lock held when recovery starts goes with the old client: marked not
 * held before the handler closes, and taken again after it reopened.
 */
static void test_held_lock_taken_again_after_reopen(void **state)
{
	(void)state;
	cluster_lock_enable(dev, 1, 100);
	cluster_lock_step(dev);
	cluster_lock_contend(dev);
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));

	request_and_drain();
	recovery_step(dev);
	assert_int_equal(dev->lock_state_at_open, TCMUR_DEV_LOCK_UNLOCKED);
	assert_false(cluster_lock_is_held(dev));
	assert_true(cluster_lock_wanted(dev));

	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 2);
	assert_true(cluster_lock_is_held(dev));
}

/*
 * Held before the reopen, but another gateway took it over while the old
 * client was stuck (its tag is on the image): not taken back, which
 * would fence the gateway now serving (seen in lunar-drill's soak: a
 * frozen lunard thawed after the takeover, reopened on a command timeout
 * and took the lock back).
 */
static void test_lock_taken_over_meanwhile_not_taken_back(void **state)
{
	(void)state;
	cluster_lock_enable(dev, 1, 100);
	cluster_lock_step(dev);
	cluster_lock_contend(dev);
	cluster_lock_step(dev);
	assert_true(cluster_lock_is_held(dev));

	request_and_drain();
	/* The other gateway fenced our client and took the lock. */
	dev->backend.owner = 2;
	dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	recovery_step(dev);
	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 1);
	assert_false(cluster_lock_is_held(dev));
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(cluster_lock_owner(dev), 2);
}

/* One not held is not taken after the reopen. */
static void test_unheld_lock_stays_free_after_reopen(void **state)
{
	(void)state;
	cluster_lock_enable(dev, 1, 100);
	request_and_drain();
	recovery_step(dev);
	assert_false(cluster_lock_wanted(dev));
	cluster_lock_step(dev);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_starts_draining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_waits_for_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_returns_to_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_while_active_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_reopen_retried_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_lock_taken_again_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_taken_over_meanwhile_not_taken_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unheld_lock_stays_free_after_reopen, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
