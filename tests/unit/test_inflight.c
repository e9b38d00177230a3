/*
 * runner/inflight.c: in-flight command tracking on tcmur_cmd.  Adding
 * stamps CLOCK_MONOTONIC; the sleep until the next timeout and the expiry
 * pass are computed against a given "now", so the tests set start times
 * and "now" by hand and never sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "runner/inflight.h"

#define N 4

static struct cmd_tracker t;
static struct tcmur_cmd cmds[N];
static struct tcmur_cmd *expired[16];
static int nexpired;

static void on_expire(struct tcmur_cmd *cmd, void *arg)
{
	assert_ptr_equal(arg, &t);
	assert_true(nexpired < 16);
	expired[nexpired++] = cmd;
}

static struct timespec at_ms(int64_t ms)
{
	return (struct timespec){ ms / 1000, (ms % 1000) * 1000000 };
}

/* Track cmds[0..n) with the given start times (ms). */
static void add_started(const int64_t *start_ms, int n)
{
	for (int i = 0; i < n; i++) {
		tracker_add(&t, &cmds[i]);
		cmds[i].start_time = at_ms(start_ms[i]);
	}
}

static int setup_2s(void **state)
{
	(void)state;
	memset(cmds, 0, sizeof(cmds));
	nexpired = 0;
	tracker_init(&t, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tracker_destroy(&t);
	return 0;
}

static void test_add_stamps_monotonic(void **state)
{
	struct timespec before, after;

	(void)state;
	cmds[0].timed_out = true;
	clock_gettime(CLOCK_MONOTONIC, &before);
	tracker_add(&t, &cmds[0]);
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_true(timespec_diff_ms(&before, &cmds[0].start_time) >= 0);
	assert_true(timespec_diff_ms(&cmds[0].start_time, &after) >= 0);
	assert_true(cmds[0].start_time.tv_sec > 0 ||
		    cmds[0].start_time.tv_nsec > 0);
	assert_false(cmds[0].timed_out);
	assert_int_equal(tracker_count(&t), 1);
}

static void test_diff_ms(void **state)
{
	struct timespec a = at_ms(1000), b = at_ms(2500);
	struct timespec c = { 5, 999000000 }, d = { 6, 1000000 };

	(void)state;
	assert_int_equal(timespec_diff_ms(&a, &b), 1500);
	assert_int_equal(timespec_diff_ms(&b, &a), -1500);
	assert_int_equal(timespec_diff_ms(&c, &d), 2);
	assert_int_equal(timespec_diff_ms(&a, &a), 0);
}

static void test_next_timeout(void **state)
{
	const int64_t start[3] = { 99500, 99800, 99900 };
	struct timespec now = at_ms(100000);

	(void)state;
	assert_int_equal(tracker_next_timeout_ms(&t, &now), -1);
	add_started(start, 3);
	/* The oldest decides: started 500 ms ago, 1500 ms left. */
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 1500);
	/* Already timed out: the next oldest decides. */
	cmds[0].timed_out = true;
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 1800);
	now = at_ms(105000);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 0);
	/* Completing the oldest hands over to the next one. */
	tracker_remove(&t, &cmds[1]);
	now = at_ms(100000);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 1900);
}

static void test_next_timeout_capped(void **state)
{
	const int64_t start = 100000;
	struct timespec now = at_ms(100000);

	(void)state;
	tracker_destroy(&t);
	tracker_init(&t, 3600);
	add_started(&start, 1);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 1000000);
}

/* Only overdue commands time out, oldest first, once each. */
static void test_expire(void **state)
{
	const int64_t start[4] = { 90000, 97000, 98000, 99500 };
	struct timespec now = at_ms(100000);

	(void)state;
	add_started(start, 4);
	/* 10 s, 3 s and exactly 2 s old: overdue; 0.5 s: not. */
	assert_int_equal(tracker_expire(&t, &now, on_expire, &t), 3);
	assert_int_equal(nexpired, 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(expired[i], &cmds[i]);
		assert_true(cmds[i].timed_out);
	}
	assert_false(cmds[3].timed_out);
	/* Nothing new: no callback. */
	assert_int_equal(tracker_expire(&t, &now, on_expire, &t), 0);
	assert_int_equal(nexpired, 3);
	/* One millisecond short of the limit. */
	now = at_ms(101499);
	assert_int_equal(tracker_expire(&t, &now, on_expire, &t), 0);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), 1);
	now = at_ms(101500);
	assert_int_equal(tracker_expire(&t, &now, on_expire, &t), 1);
	assert_ptr_equal(expired[3], &cmds[3]);
	/* Timed-out commands stay tracked until they complete. */
	assert_int_equal(tracker_count(&t), 4);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), -1);
}

/* Timeout 0 means never. */
static void test_no_timeout(void **state)
{
	const int64_t start[2] = { 0, 1000 };
	struct timespec now = at_ms(1000000000);

	(void)state;
	tracker_destroy(&t);
	tracker_init(&t, 0);
	add_started(start, 2);
	assert_int_equal(tracker_next_timeout_ms(&t, &now), -1);
	assert_int_equal(tracker_expire(&t, &now, on_expire, &t), 0);
	assert_int_equal(nexpired, 0);
	assert_false(cmds[0].timed_out);
}

static void test_remove_counts(void **state)
{
	const int64_t start[3] = { 1, 2, 3 };
	struct tcmur_cmd stranger;

	(void)state;
	memset(&stranger, 0, sizeof(stranger));
	add_started(start, 3);
	assert_int_equal(tracker_count(&t), 3);
	assert_int_equal(tracker_remove(&t, &cmds[1]), 2);
	/* A second removal, or one never added, changes nothing. */
	assert_int_equal(tracker_remove(&t, &cmds[1]), 2);
	assert_int_equal(tracker_remove(&t, &stranger), 2);
	assert_int_equal(tracker_remove(&t, &cmds[0]), 1);
	assert_int_equal(tracker_remove(&t, &cmds[2]), 0);
	assert_int_equal(tracker_count(&t), 0);
	/* The list is whole again: a new command is tracked normally. */
	tracker_add(&t, &cmds[3]);
	assert_int_equal(tracker_count(&t), 1);
	assert_int_equal(tracker_remove(&t, &cmds[3]), 0);
}

/* Without a timeout only the count is kept, with the same contract. */
static void test_remove_counts_without_timeout(void **state)
{
	const int64_t start[2] = { 1, 2 };

	(void)state;
	tracker_destroy(&t);
	tracker_init(&t, 0);
	add_started(start, 2);
	assert_int_equal(tracker_count(&t), 2);
	assert_int_equal(tracker_remove(&t, &cmds[0]), 1);
	assert_int_equal(tracker_remove(&t, &cmds[0]), 1);
	assert_int_equal(tracker_remove(&t, &cmds[1]), 0);
	assert_int_equal(tracker_count(&t), 0);
}

#define TRACKER_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_2s, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TRACKER_TEST(test_add_stamps_monotonic),
		TRACKER_TEST(test_remove_counts_without_timeout),
		cmocka_unit_test(test_diff_ms),
		TRACKER_TEST(test_next_timeout),
		TRACKER_TEST(test_next_timeout_capped),
		TRACKER_TEST(test_expire),
		TRACKER_TEST(test_no_timeout),
		TRACKER_TEST(test_remove_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
