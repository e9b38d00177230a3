/*
 * lunar-drill's results: per-round timings, per-scenario counts, the
 * goals they are held to, and the JSON or text report.
 */
#ifndef LUNAR_DRILL_REPORT_H
#define LUNAR_DRILL_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#define REPORT_MAX_ROUNDS 1000

struct round {
	int64_t pause_ms;	/* longest acknowledgement gap */
	int64_t detect_ms;	/* event to first command on the new gateway */
	int64_t takeover_ms;	/* that command to its first acknowledgement */
};

struct scenario_report {
	const char *name;
	const char *skipped;	/* why, or NULL */
	unsigned int rounds, failed;
	struct round r[REPORT_MAX_ROUNDS];
	uint64_t acked, verified;	/* writes acknowledged, chunks read back */
	uint64_t lost, stale;
	unsigned int transitions;
	int64_t duration_ms;
};

void report_init(struct scenario_report *rep, const char *name,
		 unsigned int rounds);
void report_round(struct scenario_report *rep, const struct round *r, bool ok);

/* Print all scenarios; returns how many missed a goal or failed rounds. */
int report_print(struct scenario_report *reps, int n, bool json,
		 unsigned int budget_s, const char *alua);

#endif
