/*
 * Drill results and goals.  See report.h.
 */
#include "report.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLANNED_PAUSE_MAX_MS 1000
#define TAKEOVER_MAX_MS 5000
#define DISAGREE_PER_MIN_MAX 2.0

struct dist {
	int64_t p50, p99, max;
};

void report_init(struct scenario_report *rep, const char *name,
		 unsigned int rounds)
{
	memset(rep, 0, sizeof(*rep));
	rep->name = name;
	(void)rounds;
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

/* Scenarios whose every round moves the lock exactly once. */
static bool one_move_per_round(const char *name)
{
	return !strcmp(name, "kill") || !strcmp(name, "freeze") ||
	       !strcmp(name, "ceph-loss") || !strcmp(name, "planned");
}

/* The goal this scenario missed, or NULL. */
static const char *missed_goal(const struct scenario_report *rep)
{
	struct dist pause = distribution(rep, offsetof(struct round, pause_ms));
	struct dist take = distribution(rep, offsetof(struct round, takeover_ms));

	if (rep->skipped)
		return NULL;
	if (rep->failed)
		return "I/O did not resume in some rounds";
	if (rep->lost || rep->stale)
		return "lost or stale writes";
	if (!strcmp(rep->name, "planned") && pause.max >= PLANNED_PAUSE_MAX_MS)
		return "planned move paused I/O for 1 s or more";
	if ((!strcmp(rep->name, "kill") || !strcmp(rep->name, "freeze")) &&
	    take.max >= TAKEOVER_MAX_MS)
		return "takeover at the gateway took 5 s or more";
	/* One move per round, and the first acquisition of the run. */
	if (one_move_per_round(rep->name) && rep->transitions > rep->rounds + 1)
		return "the lock moved more than once per failure";
	if (!strcmp(rep->name, "disagree") && per_minute(rep) > DISAGREE_PER_MIN_MAX)
		return "more than 2 lock transitions per minute";
	return NULL;
}

static void print_dist_json(const char *key, struct dist d, const char *sep)
{
	printf("\"%s\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld}%s", key,
	       (long long)d.p50, (long long)d.p99, (long long)d.max, sep);
}

static void print_json(const struct scenario_report *rep, const char *sep)
{
	const char *missed = missed_goal(rep);

	printf("{\"scenario\":\"%s\",", rep->name);
	if (rep->skipped) {
		printf("\"skipped\":\"%s\"}%s\n", rep->skipped, sep);
		return;
	}
	printf("\"rounds\":%u,\"failed_rounds\":%u,", rep->rounds, rep->failed);
	print_dist_json("pause_ms", distribution(rep, offsetof(struct round, pause_ms)), ",");
	print_dist_json("takeover_ms", distribution(rep, offsetof(struct round, takeover_ms)), ",");
	print_dist_json("detect_ms", distribution(rep, offsetof(struct round, detect_ms)), ",");
	printf("\"writes_acked\":%llu,\"chunks_verified\":%llu,",
	       (unsigned long long)rep->acked, (unsigned long long)rep->verified);
	printf("\"lost_writes\":%llu,\"stale_writes\":%llu,\"lock_transitions\":%u,"
	       "\"transitions_per_min\":%.2f,\"goal_met\":%s%s%s%s}%s\n",
	       (unsigned long long)rep->lost, (unsigned long long)rep->stale,
	       rep->transitions, per_minute(rep), missed ? "false" : "true",
	       missed ? ",\"missed\":\"" : "", missed ? missed : "",
	       missed ? "\"" : "", sep);
}

static void print_text(const struct scenario_report *rep)
{
	struct dist p = distribution(rep, offsetof(struct round, pause_ms));
	struct dist t = distribution(rep, offsetof(struct round, takeover_ms));
	struct dist d = distribution(rep, offsetof(struct round, detect_ms));
	const char *missed = missed_goal(rep);

	if (rep->skipped) {
		printf("%-9s skipped: %s\n", rep->name, rep->skipped);
		return;
	}
	printf("%-9s rounds %u (failed %u)  pause_ms p50 %lld p99 %lld max %lld  takeover_ms p50 %lld max %lld  detect_ms p50 %lld  writes %llu, verified %llu: lost %llu stale %llu  lock transitions %u (%.1f/min)  %s%s\n",
	       rep->name, rep->rounds, rep->failed, (long long)p.p50,
	       (long long)p.p99, (long long)p.max, (long long)t.p50,
	       (long long)t.max, (long long)d.p50,
	       (unsigned long long)rep->acked, (unsigned long long)rep->verified,
	       (unsigned long long)rep->lost, (unsigned long long)rep->stale,
	       rep->transitions, per_minute(rep), missed ? "GOAL MISSED: " : "ok",
	       missed ? missed : "");
}

int report_print(struct scenario_report *reps, int n, bool json,
		 unsigned int budget_s, const char *alua)
{
	int missed = 0;

	if (json)
		printf("{\"failover_budget_s\":%u,\"alua\":\"%s\",\"scenarios\":[\n",
		       budget_s, alua);
	for (int i = 0; i < n; i++) {
		missed += missed_goal(&reps[i]) != NULL;
		if (json)
			print_json(&reps[i], i + 1 < n ? "," : "");
		else
			print_text(&reps[i]);
	}
	if (json)
		printf("]}\n");
	return missed;
}
