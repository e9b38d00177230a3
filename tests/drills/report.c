/*
 * Drill results and goals.  See report.h.
 */
#include "report.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAKEOVER_MAX_MS 5000
#define DISAGREE_PER_MIN_MAX 2.0

struct dist {
	int64_t p50, p99, max;
};

void report_init(struct scenario_report *rep, const char *name)
{
	memset(rep, 0, sizeof(*rep));
	rep->name = name;
	rep->fence_entries = rep->fence_epochs = -1;
	rep->fence_map_bytes = -1;
}

void report_round(struct scenario_report *rep, const struct round *r, bool ok)
{
	if (!ok) {
		rep->failed++;
		return;
	}
	if (rep->rounds < REPORT_MAX_ROUNDS)
		rep->r[rep->rounds++] = *r;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentiles of one field of the rounds. */
static struct dist distribution(const struct scenario_report *rep, size_t field)
{
	int64_t v[REPORT_MAX_ROUNDS];
	struct dist d = { 0, 0, 0 };
	unsigned int n = rep->rounds;

	if (!n)
		return d;
	for (unsigned int i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&rep->r[i] + field, sizeof(v[i]));
	qsort(v, n, sizeof(v[0]), cmp64);
	d.p50 = v[(n - 1) / 2];
	d.p99 = v[(n * 99 + 99) / 100 - 1];
	d.max = v[n - 1];
	return d;
}

/* Transitions per minute; a shorter run counts as one minute. */
static double per_minute(const struct scenario_report *rep)
{
	int64_t ms = rep->duration_ms > 60000 ? rep->duration_ms : 60000;

	return rep->transitions * 60000.0 / (double)ms;
}

static bool is(const char *name, const char *scenario)
{
	return !strcmp(name, scenario);
}

/* Scenarios whose every round moves the lock exactly once. */
static bool one_move_per_round(const char *name)
{
	return is(name, "kill") || is(name, "freeze") ||
	       is(name, "ceph-loss") || is(name, "planned");
}

bool report_is_ceph_fault(const char *name)
{
	return is(name, "osd-stop") || is(name, "osd-hang") ||
	       is(name, "osd-kill") || is(name, "mon-restart") ||
	       is(name, "osd-restart");
}

int64_t report_pause_bound_ms(const struct drill_goals *g, const char *name)
{
	if (is(name, "osd-stop"))
		return g->osd_stop_ms + g->takeover_slack_ms;
	if (is(name, "osd-hang"))
		return g->osd_hang_pause_ms;
	if (report_is_ceph_fault(name))
		return g->ceph_fault_pause_ms;
	if (is(name, "planned"))
		return g->planned_pause_ms - 1;	/* "under 1 s" */
	if (is(name, "disagree"))
		return g->io_timeout_ms;
	if (is(name, "restart"))
		return g->io_timeout_ms + g->takeover_slack_ms;
	return g->io_timeout_ms + g->holddown_ms + g->takeover_slack_ms;
}

/* The least pause an OSD fault must cause (0: none). */
static int64_t fault_min_ms(const struct drill_goals *g, const char *name)
{
	if (is(name, "osd-stop"))
		return g->osd_stop_ms / 2;
	if (is(name, "osd-hang"))
		return g->osd_hang_min_ms;
	return 0;
}

/* The first round whose pause is under min, or -1. */
static int first_short_pause(const struct scenario_report *rep, int64_t min)
{
	for (unsigned int i = 0; i < rep->rounds; i++)
		if (rep->r[i].pause_ms < min)
			return (int)i;
	return -1;
}

/* The first round whose pause is over the bound, or -1. */
static int first_long_pause(const struct scenario_report *rep, int64_t bound)
{
	for (unsigned int i = 0; i < rep->rounds; i++)
		if (rep->r[i].pause_ms > bound)
			return (int)i;
	return -1;
}

const char *report_missed_goal(const struct scenario_report *rep,
			       const struct drill_goals *goals,
			       char *detail, size_t detail_size)
{
	struct dist take = distribution(rep, offsetof(struct round, takeover_ms));
	int64_t bound = report_pause_bound_ms(goals, rep->name);
	int slow = first_long_pause(rep, bound), short_;

	if (detail && detail_size)
		detail[0] = 0;
	if (rep->failed)
		return "I/O did not resume in some rounds";
	if (rep->lost || rep->stale)
		return "lost or stale writes";
	short_ = first_short_pause(rep, fault_min_ms(goals, rep->name));
	if (short_ >= 0) {
		if (detail)
			snprintf(detail, detail_size, "round %d paused %lld ms, at least %lld expected",
				 short_ + 1, (long long)rep->r[short_].pause_ms,
				 (long long)fault_min_ms(goals, rep->name));
		return "the fault never reached the initiator's writes";
	}
	if (report_is_ceph_fault(rep->name)) {
		if (rep->transitions)
			return "the lock moved on a Ceph fault";
		if (rep->path_failures)
			return "the initiator failed a path on a Ceph fault";
		if (rep->io_errors)
			return "the initiator saw I/O errors";
	}
	if (slow >= 0) {
		if (detail)
			snprintf(detail, detail_size, "round %d paused %lld ms, bound %lld ms",
				 slow + 1, (long long)rep->r[slow].pause_ms,
				 (long long)bound);
		return "the initiator's pause was over its bound";
	}
	if ((is(rep->name, "kill") || is(rep->name, "freeze")) &&
	    take.max >= TAKEOVER_MAX_MS)
		return "takeover at the gateway took 5 s or more";
	if (rep->standby_moves)
		return "a lock moved to a gateway no initiator activated";
	if (is(rep->name, "kill-many") && rep->transitions != rep->rounds)
		return "a LUN's lock moved other than exactly once";
	if (is(rep->name, "kill-many") && rep->spread_ms > REPORT_SPREAD_MAX_MS)
		return "the last LUN was served again over 5 s after the first";
	/* One move per round, and the first acquisition of the run. */
	if (one_move_per_round(rep->name) && rep->transitions > rep->rounds + 1)
		return "the lock moved more than once per failure";
	if (is(rep->name, "disagree") && per_minute(rep) > DISAGREE_PER_MIN_MAX)
		return "more than 2 lock transitions per minute";
	return NULL;
}

static void print_dist_json(const char *key, struct dist d, const char *sep)
{
	printf("\"%s\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld}%s", key,
	       (long long)d.p50, (long long)d.p99, (long long)d.max, sep);
}

static void print_json(const struct scenario_report *rep,
		       const struct drill_goals *goals, const char *sep)
{
	char detail[128];
	const char *missed = report_missed_goal(rep, goals, detail, sizeof(detail));

	printf("{\"scenario\":\"%s\",", rep->name);
	printf("\"rounds\":%u,\"failed_rounds\":%u,", rep->rounds, rep->failed);
	print_dist_json("pause_ms", distribution(rep, offsetof(struct round, pause_ms)), ",");
	printf("\"pause_bound_ms\":%lld,",
	       (long long)report_pause_bound_ms(goals, rep->name));
	print_dist_json("takeover_ms", distribution(rep, offsetof(struct round, takeover_ms)), ",");
	print_dist_json("detect_ms", distribution(rep, offsetof(struct round, detect_ms)), ",");
	printf("\"writes_acked\":%llu,\"chunks_verified\":%llu,",
	       (unsigned long long)rep->acked, (unsigned long long)rep->verified);
	printf("\"io_errors\":%llu,\"path_failures\":%llu,",
	       (unsigned long long)rep->io_errors,
	       (unsigned long long)rep->path_failures);
	printf("\"lost_writes\":%llu,\"stale_writes\":%llu,\"lock_transitions\":%u,"
	       "\"standby_moves\":%u,\"transitions_per_min\":%.2f,",
	       (unsigned long long)rep->lost, (unsigned long long)rep->stale,
	       rep->transitions, rep->standby_moves, per_minute(rep));
	if (is(rep->name, "kill-many"))
		printf("\"not_served\":%u,\"spread_ms\":%lld,\"fence_blocklist_entries\":%d,"
		       "\"fence_osdmap_epochs\":%d,\"fence_osdmap_bytes\":%ld,",
		       rep->not_served, (long long)rep->spread_ms, rep->fence_entries,
		       rep->fence_epochs, rep->fence_map_bytes);
	printf("\"goal_met\":%s", missed ? "false" : "true");
	if (missed)
		printf(",\"missed\":\"%s%s%s\"", missed, detail[0] ? ": " : "", detail);
	printf("}%s\n", sep);
}

static void print_text(const struct scenario_report *rep,
		       const struct drill_goals *goals)
{
	struct dist p = distribution(rep, offsetof(struct round, pause_ms));
	struct dist t = distribution(rep, offsetof(struct round, takeover_ms));
	struct dist d = distribution(rep, offsetof(struct round, detect_ms));
	char detail[128];
	const char *missed = report_missed_goal(rep, goals, detail, sizeof(detail));

	if (is(rep->name, "kill-many"))
		printf("kill-many   %u LUNs served again (%u not), the last %lld ms after the first; fencing the dead owner: %d blocklist entries, %d OSD map epochs, OSD map %+ld bytes\n",
		       rep->rounds - rep->not_served, rep->not_served,
		       (long long)rep->spread_ms, rep->fence_entries,
		       rep->fence_epochs, rep->fence_map_bytes);
	printf("%-11s rounds %u (failed %u)  pause_ms p50 %lld p99 %lld max %lld (bound %lld)  takeover_ms p50 %lld max %lld  detect_ms p50 %lld  writes %llu, verified %llu: lost %llu stale %llu  I/O errors %llu, failed paths %llu  lock transitions %u (%.1f/min, %u to a standby)  %s%s%s%s\n",
	       rep->name, rep->rounds, rep->failed, (long long)p.p50,
	       (long long)p.p99, (long long)p.max,
	       (long long)report_pause_bound_ms(goals, rep->name),
	       (long long)t.p50, (long long)t.max, (long long)d.p50,
	       (unsigned long long)rep->acked, (unsigned long long)rep->verified,
	       (unsigned long long)rep->lost, (unsigned long long)rep->stale,
	       (unsigned long long)rep->io_errors,
	       (unsigned long long)rep->path_failures,
	       rep->transitions, per_minute(rep), rep->standby_moves,
	       missed ? "GOAL MISSED: " : "ok",
	       missed ? missed : "", detail[0] ? ": " : "", detail);
}

int report_print(struct scenario_report *reps, int n, bool json,
		 unsigned int budget_s, const char *alua,
		 const struct drill_goals *goals)
{
	int missed = 0;

	if (json)
		printf("{\"failover_budget_s\":%u,\"alua\":\"%s\",\"io_timeout_ms\":%u,"
		       "\"holddown_ms\":%u,\"scenarios\":[\n", budget_s, alua,
		       goals->io_timeout_ms, goals->holddown_ms);
	for (int i = 0; i < n; i++) {
		missed += report_missed_goal(&reps[i], goals, NULL, 0) != NULL;
		if (json)
			print_json(&reps[i], goals, i + 1 < n ? "," : "");
		else
			print_text(&reps[i], goals);
	}
	if (json)
		printf("]}\n");
	return missed;
}
