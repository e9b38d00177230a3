/*
 * The soak's judgement (tests/drills/soak.h): a clean soak passes, and
 * each thing it is there to catch fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/drills/soak.h"

static const struct drill_goals goals = {
	.io_timeout_ms = 1000, .holddown_ms = 0,
	.takeover_slack_ms = REPORT_TAKEOVER_SLACK_MS,
	.planned_pause_ms = REPORT_PLANNED_PAUSE_MS,
	.osd_stop_ms = 3000, .osd_hang_pause_ms = 29500,
	.ceph_fault_pause_ms = 10000,
};

static const struct proc_sample steady = {
	.fds = 30, .sockets = 20, .threads = 90, .rss_kb = 60000,
};

/* Two faults of each kind within their bounds, two gateways sampled
 * four times each, all steady. */
static void clean_soak(struct soak_report *s)
{
	soak_init(s, 4, 3);
	for (int i = 0; i < SOAK_NFAULTS; i++)
		for (int n = 0; n < 2; n++) {
			struct round r = { .pause_ms = 500 };

			report_round(&s->faults[i], &r, true);
		}
	for (int n = 0; n < 4; n++) {
		soak_sample(s, 0, 100, &steady);
		soak_sample(s, 1, 200, &steady);
	}
}

static void test_clean_soak_passes(void **state)
{
	static struct soak_report s;

	(void)state;
	clean_soak(&s);
	assert_null(soak_missed_goal(&s, &goals, NULL, 0));
	assert_int_equal(s.nprocs, 2);
	assert_int_equal(s.procs[0].samples, 4);
}

static void test_lost_or_stale_write_fails(void **state)
{
	static struct soak_report s;

	(void)state;
	clean_soak(&s);
	soak_fault(&s, "freeze")->stale = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
	clean_soak(&s);
	soak_fault(&s, "osd-restart")->lost = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
}

static void test_failed_round_and_long_pause_fail(void **state)
{
	static struct soak_report s;
	struct round slow = { .pause_ms = 2500 };

	(void)state;
	clean_soak(&s);
	report_round(soak_fault(&s, "kill"), &slow, true);
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
	clean_soak(&s);
	report_round(soak_fault(&s, "planned"), &slow, false);
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
}

static void test_osd_restart_moves_nothing(void **state)
{
	static struct soak_report s;

	(void)state;
	clean_soak(&s);
	soak_fault(&s, "osd-restart")->path_failures = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
	clean_soak(&s);
	soak_fault(&s, "osd-restart")->transitions = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
}

static void test_unexpected_move_or_crash_fails(void **state)
{
	static struct soak_report s;

	(void)state;
	clean_soak(&s);
	s.unexpected_moves = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
	clean_soak(&s);
	s.crashes = 1;
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
}

/* Grow one resource of gateway 1's process by delta in its last sample. */
static const char *leak_one(size_t field, long long delta, char *detail, size_t size)
{
	static struct soak_report s;
	struct proc_sample grown = steady;

	clean_soak(&s);
	if (field == offsetof(struct proc_sample, rss_kb))
		grown.rss_kb += (uint64_t)delta;
	else
		*(unsigned int *)((char *)&grown + field) += (unsigned int)delta;
	soak_sample(&s, 1, 200, &grown);
	return soak_missed_goal(&s, &goals, detail, size);
}

static void test_leaks_fail_and_slack_passes(void **state)
{
	char detail[160];

	(void)state;
	assert_null(leak_one(offsetof(struct proc_sample, fds), SOAK_FD_SLACK, NULL, 0));
	assert_non_null(leak_one(offsetof(struct proc_sample, fds), SOAK_FD_SLACK + 1,
				 detail, sizeof(detail)));
	assert_non_null(strstr(detail, "gateway 2 (pid 200) leaked descriptors"));
	/* Sockets may grow by one per LUN and OSD (4 x 3). */
	assert_null(leak_one(offsetof(struct proc_sample, sockets), 12, NULL, 0));
	assert_non_null(leak_one(offsetof(struct proc_sample, sockets), 13, NULL, 0));
	assert_null(leak_one(offsetof(struct proc_sample, threads), SOAK_THREAD_SLACK, NULL, 0));
	assert_non_null(leak_one(offsetof(struct proc_sample, threads), SOAK_THREAD_SLACK + 1,
				 NULL, 0));
	assert_null(leak_one(offsetof(struct proc_sample, rss_kb), SOAK_RSS_SLACK_KB, NULL, 0));
	assert_non_null(leak_one(offsetof(struct proc_sample, rss_kb), SOAK_RSS_SLACK_KB + 1,
				 NULL, 0));
}

/* A process seen too few times is reported, not judged; a new pid of
 * the same gateway is a new life. */
static void test_short_lives_not_judged(void **state)
{
	static struct soak_report s;
	struct proc_sample grown = steady;

	(void)state;
	clean_soak(&s);
	grown.fds += 50;
	soak_sample(&s, 0, 101, &steady);
	soak_sample(&s, 0, 101, &grown);
	assert_int_equal(s.nprocs, 3);
	assert_int_equal(s.procs[2].samples, 2);
	assert_null(soak_missed_goal(&s, &goals, NULL, 0));
	soak_sample(&s, 0, 101, &grown);
	assert_non_null(soak_missed_goal(&s, &goals, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_soak_passes),
		cmocka_unit_test(test_lost_or_stale_write_fails),
		cmocka_unit_test(test_failed_round_and_long_pause_fail),
		cmocka_unit_test(test_osd_restart_moves_nothing),
		cmocka_unit_test(test_unexpected_move_or_crash_fails),
		cmocka_unit_test(test_leaks_fail_and_slack_passes),
		cmocka_unit_test(test_short_lives_not_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
