/*
 * cluster/agent.c through the seam, over the fake core: the per-device
 * HA agent thread starts and joins cleanly, steps the cluster lock at
 * once, every AGENT_PERIOD_MS and promptly when kicked, and a stop cuts a
 * reopen backoff short (agent_sleep() returns false).  The agent's steps
 * are seen through the fake handler: with a cluster lock held elsewhere
 * every step asks for the owner's tag once (get_lock_tag()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cluster/ha_dev.h"
#include "fake_core.h"
#include "ha_bare.h"

static struct tcmu_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = ha_bare_new("agent");
	cluster_lock_enable(dev, 1, 100);
	dev->backend.owner = 2;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ha_bare_free(dev);
	return 0;
}

static unsigned int steps(void)
{
	return dev->calls[FAKE_GET_LOCK_TAG];
}

static void test_start_steps_and_stop_joins(void **state)
{
	unsigned int n;

	(void)state;
	assert_int_equal(agent_start(dev), 0);
	WAIT_UNTIL(steps() >= 1);
	agent_stop(dev);
	n = steps();
	/* Joined: nothing runs any more, and a kick finds no thread. */
	agent_kick(dev);
	fake_sleep_ms(20);
	assert_int_equal(steps(), n);
}

static void test_kick_wakes_promptly(void **state)
{
	unsigned int n;
	int64_t kicked;

	(void)state;
	assert_int_equal(agent_start(dev), 0);
	WAIT_UNTIL(steps() >= 1);
	/* Well inside the period, so only the kick can explain a step. */
	fake_sleep_ms(50);
	n = steps();
	kicked = monotonic_ms();
	agent_kick(dev);
	WAIT_UNTIL(steps() > n);
	assert_true(monotonic_ms() - kicked < AGENT_PERIOD_MS / 2);
}

/* Unkicked, it steps again a period later (and not in a busy loop). */
static void test_steps_every_period(void **state)
{
	int64_t first;

	(void)state;
	assert_int_equal(agent_start(dev), 0);
	WAIT_UNTIL(steps() >= 1);
	first = monotonic_ms();
	WAIT_UNTIL(steps() >= 2);
	assert_true(monotonic_ms() - first >= AGENT_PERIOD_MS / 2);
}

/*
 * A reopen failing for good: the agent sleeps 100, 200, 400 ms ... between
 * attempts.  Stopping it during the 400 ms one returns at once and leaves
 * the device as it was.
 */
static void test_stop_cuts_backoff_short(void **state)
{
	int64_t stopping;

	(void)state;
	dev->backend.open_failures = 1000;
	assert_int_equal(agent_start(dev), 0);
	recovery_request(dev, "test");
	recovery_cmdproc_check(dev);
	WAIT_UNTIL(dev->calls[FAKE_REOPEN] >= 3);
	stopping = monotonic_ms();
	agent_stop(dev);
	assert_true(monotonic_ms() - stopping < 200);
	assert_int_equal(dev->calls[FAKE_REOPEN], 3);
	assert_true(recovery_active(dev));
	assert_true(dev->recovering);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_steps_and_stop_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_wakes_promptly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steps_every_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_cuts_backoff_short, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
