/*
 * lunar-drill's goals: every scenario's initiator pause has a bound
 * (report.h), so a drill that passes says the pause held, not only that
 * I/O came back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/drills/report.h"

static const struct drill_goals stpg = {
	.io_timeout_ms = 1000, .holddown_ms = 0,
	.takeover_slack_ms = REPORT_TAKEOVER_SLACK_MS,
	.planned_pause_ms = REPORT_PLANNED_PAUSE_MS,
	.osd_stop_ms = 3000, .osd_hang_pause_ms = 29500, .osd_hang_min_ms = 0,
	.ceph_fault_pause_ms = 10000,
};
static const struct drill_goals implicit = {
	.io_timeout_ms = 1000, .holddown_ms = 2000,
	.takeover_slack_ms = REPORT_TAKEOVER_SLACK_MS,
	.planned_pause_ms = REPORT_PLANNED_PAUSE_MS,
	.osd_stop_ms = 3000, .osd_hang_pause_ms = 29500, .osd_hang_min_ms = 0,
	.ceph_fault_pause_ms = 10000,
};

/* Three clean rounds with these pauses, one lock move each (none in
 * disagree or on a Ceph fault). */
static void three_rounds(struct scenario_report *rep, const char *name,
			 int64_t a, int64_t b, int64_t c)
{
	const int64_t pauses[3] = { a, b, c };

	report_init(rep, name);
	for (int i = 0; i < 3; i++) {
		struct round r = { .pause_ms = pauses[i], .takeover_ms = 60 };

		report_round(rep, &r, true);
	}
	rep->transitions = strcmp(name, "disagree") &&
			   !report_is_ceph_fault(name) ? 3 : 0;
}

static void test_bounds(void **state)
{
	(void)state;
	assert_int_equal(report_pause_bound_ms(&stpg, "planned"), 999);
	assert_int_equal(report_pause_bound_ms(&stpg, "kill"), 2000);
	assert_int_equal(report_pause_bound_ms(&stpg, "freeze"), 2000);
	assert_int_equal(report_pause_bound_ms(&stpg, "ceph-loss"), 2000);
	assert_int_equal(report_pause_bound_ms(&stpg, "restart"), 2000);
	assert_int_equal(report_pause_bound_ms(&stpg, "disagree"), 1000);
	assert_int_equal(report_pause_bound_ms(&implicit, "kill"), 4000);
	assert_int_equal(report_pause_bound_ms(&implicit, "restart"), 2000);
	assert_int_equal(report_pause_bound_ms(&implicit, "osd-stop"), 4000);
	assert_int_equal(report_pause_bound_ms(&implicit, "osd-hang"), 29500);
	assert_int_equal(report_pause_bound_ms(&implicit, "osd-kill"), 10000);
	assert_int_equal(report_pause_bound_ms(&implicit, "mon-restart"), 10000);
}

/* Each scenario passes at its bound and fails one millisecond over it. */
static void test_every_scenario_pause_is_bounded(void **state)
{
	static const char *const names[] = {
		"kill", "freeze", "ceph-loss", "planned", "disagree", "restart",
		"osd-stop", "osd-hang", "osd-kill", "mon-restart",
	};
	const struct drill_goals *sets[] = { &stpg, &implicit };
	struct scenario_report rep;
	char detail[128];

	(void)state;
	for (size_t g = 0; g < 2; g++)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			int64_t bound = report_pause_bound_ms(sets[g], names[i]);

			three_rounds(&rep, names[i], bound - 1, bound, bound - 2);
			assert_null(report_missed_goal(&rep, sets[g], NULL, 0));
			three_rounds(&rep, names[i], bound - 1, bound - 2, bound + 1);
			assert_non_null(report_missed_goal(&rep, sets[g], detail,
							   sizeof(detail)));
			assert_non_null(strstr(detail, "round 3 paused"));
		}
}

static void test_other_goals(void **state)
{
	struct scenario_report rep;

	(void)state;
	three_rounds(&rep, "kill", 1000, 1000, 1000);
	rep.stale = 1;
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
	three_rounds(&rep, "kill", 1000, 1000, 1000);
	rep.transitions = 5;	/* three rounds plus the first acquisition: 4 */
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
	three_rounds(&rep, "freeze", 1000, 1000, 1000);
	rep.r[1].takeover_ms = 5000;
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
	three_rounds(&rep, "restart", 1000, 1000, 1000);
	report_round(&rep, NULL, false);
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
}

/* A lock taken by a gateway no initiator turned to fails any scenario. */
static void test_move_to_a_standby_fails(void **state)
{
	struct scenario_report rep;

	(void)state;
	three_rounds(&rep, "kill", 1000, 1000, 1000);
	assert_null(report_missed_goal(&rep, &stpg, NULL, 0));
	rep.standby_moves = 1;
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
}

/* kill-many: each LUN a round, moved once, the last within 5 s of the first. */
static void test_kill_many(void **state)
{
	struct drill_goals many = stpg;
	struct scenario_report rep;

	(void)state;
	many.takeover_slack_ms = REPORT_TAKEOVER_SLACK_MS + REPORT_SPREAD_MAX_MS;
	three_rounds(&rep, "kill-many", 3000, 5000, 7000);
	rep.spread_ms = REPORT_SPREAD_MAX_MS;
	assert_null(report_missed_goal(&rep, &many, NULL, 0));
	rep.spread_ms = REPORT_SPREAD_MAX_MS + 1;
	assert_non_null(report_missed_goal(&rep, &many, NULL, 0));
	three_rounds(&rep, "kill-many", 3000, 5000, 7000);
	rep.transitions = 2;	/* one LUN's lock never moved */
	assert_non_null(report_missed_goal(&rep, &many, NULL, 0));
	rep.transitions = 4;	/* one moved twice */
	assert_non_null(report_missed_goal(&rep, &many, NULL, 0));
	three_rounds(&rep, "kill-many", 3000, 5000, 7000);
	report_round(&rep, NULL, false);	/* a LUN not served again */
	assert_non_null(report_missed_goal(&rep, &many, NULL, 0));
	three_rounds(&rep, "kill-many", 3000, 5000, 7001);
	assert_non_null(report_missed_goal(&rep, &many, NULL, 0));
}

/* Ceph's own faults move nothing: no lock, no path, no I/O error. */
static void test_ceph_faults_move_nothing(void **state)
{
	static const char *const names[] = {
		"osd-stop", "osd-hang", "osd-kill", "mon-restart",
	};
	struct scenario_report rep;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_true(report_is_ceph_fault(names[i]));
		three_rounds(&rep, names[i], 2000, 2000, 2000);
		assert_null(report_missed_goal(&rep, &stpg, NULL, 0));
		rep.transitions = 1;
		assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
		three_rounds(&rep, names[i], 2000, 2000, 2000);
		rep.path_failures = 1;
		assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
		three_rounds(&rep, names[i], 2000, 2000, 2000);
		rep.io_errors = 1;
		assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
	}
	three_rounds(&rep, "osd-stop", 3000, 1499, 3000);	/* missed the OSD */
	assert_non_null(report_missed_goal(&rep, &stpg, NULL, 0));
	assert_false(report_is_ceph_fault("ceph-loss"));
	three_rounds(&rep, "kill", 1000, 1000, 1000);
	rep.path_failures = 1;	/* a gateway fault fails the path: fine */
	assert_null(report_missed_goal(&rep, &stpg, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_every_scenario_pause_is_bounded),
		cmocka_unit_test(test_other_goals),
		cmocka_unit_test(test_ceph_faults_move_nothing),
		cmocka_unit_test(test_move_to_a_standby_fails),
		cmocka_unit_test(test_kill_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
