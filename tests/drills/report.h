/*
 * lunar-drill's results: per-round timings, per-scenario counts, the
 * goals they are held to, and the JSON or text report.
 *
 * Every scenario's initiator pause (the longest gap between
 * acknowledgements, in every round) is bounded:
 *   planned                     < planned_pause_ms (1 s)
 *   kill, freeze, ceph-loss     <= io_timeout + holddown + takeover slack
 *   restart                     <= io_timeout + takeover slack
 *   disagree (no failure)       <= io_timeout
 * io_timeout is the initiator's (it fails a path whose command takes that
 * long), holddown the gateways' implicit takeover hold-down (0 when the
 * initiator sends STPG: explicit ALUA), and the slack what a takeover at
 * the gateway may take (fencing the old owner, taking the lock, writing
 * the tag).  Also: kill/freeze takeovers at the gateway < 5 s, at most 2
 * lock transitions a minute in disagree, one lock move per round, and
 * never a move to a gateway no initiator activated (standby_moves).
 *
 * kill-many (one gateway owning every LUN killed; each LUN a round): every
 * LUN served again, its lock moved exactly once, the last LUN served at
 * most REPORT_SPREAD_MAX_MS after the first; its pause bound is kill's
 * with that spread in the takeover slack.
 *
 * Ceph's own faults (osd-stop, osd-hang, osd-kill, mon-restart, and the
 * soak's osd-restart: the
 * gateways are fine) move nothing: no lock transition, no failed path, no
 * I/O error at the initiator; the pause is what Ceph takes, bounded by
 *   osd-stop                    osd_stop_ms + takeover slack
 *   osd-hang                    osd_hang_pause_ms (lunar-drill: the
 *                               monitor's detection, measured, + 5 s)
 *   osd-kill, mon-restart,
 *   osd-restart                 ceph_fault_pause_ms
 * and an OSD fault that stops the OSD serving the initiator's writes
 * must show in the pause, or the drill did not test what it says:
 *   osd-stop >= osd_stop_ms / 2, osd-hang >= osd_hang_min_ms.
 */
#ifndef LUNAR_DRILL_REPORT_H
#define LUNAR_DRILL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_MAX_ROUNDS 1000

struct round {
	int64_t pause_ms;	/* longest acknowledgement gap */
	/* event to first command on the new gateway; osd-hang: the OSD
	 * stopped to the monitor marking it down */
	int64_t detect_ms;
	int64_t takeover_ms;	/* that command to its first acknowledgement */
};

struct scenario_report {
	const char *name;
	unsigned int rounds, failed;
	struct round r[REPORT_MAX_ROUNDS];
	uint64_t acked, verified;	/* writes acknowledged, chunks read back */
	uint64_t lost, stale;
	uint64_t io_errors, path_failures;	/* at the initiator */
	unsigned int transitions;
	/* Lock acquisitions by a gateway that neither owned the LUN nor was
	 * activated by its initiator: a lock that moved between standbys. */
	unsigned int standby_moves;
	int64_t duration_ms;
	/* kill-many: each LUN is a round; the first LUN served again to the
	 * last, and what fencing the dead owner cost the monitor. */
	int64_t spread_ms;
	unsigned int not_served;	/* LUNs no gateway served again */
	int fence_entries;	/* OSD blocklist entries added; -1 unknown */
	int fence_epochs;	/* OSD map epochs committed; -1 unknown */
	long fence_map_bytes;	/* growth of the full OSD map; -1 unknown */
};

/* What the drill's set-up implies for the bounds above. */
struct drill_goals {
	unsigned int io_timeout_ms;	/* the initiator's */
	unsigned int holddown_ms;	/* implicit takeover; 0 with STPG */
	unsigned int takeover_slack_ms;
	unsigned int planned_pause_ms;
	unsigned int osd_stop_ms;	/* how long osd-stop stops an OSD */
	unsigned int osd_hang_pause_ms;
	unsigned int osd_hang_min_ms;	/* half the heartbeat grace */
	unsigned int ceph_fault_pause_ms;
};

/* kill-many: the last LUN served at most this long after the first. */
#define REPORT_SPREAD_MAX_MS 5000

/* Scenarios that hurt Ceph, not a gateway. */
bool report_is_ceph_fault(const char *name);

#define REPORT_TAKEOVER_SLACK_MS 1000
#define REPORT_PLANNED_PAUSE_MS 1000

void report_init(struct scenario_report *rep, const char *name);
void report_round(struct scenario_report *rep, const struct round *r, bool ok);

/* The largest pause scenario name may show under goals (ms). */
int64_t report_pause_bound_ms(const struct drill_goals *goals, const char *name);

/*
 * The goal rep missed, or NULL.  The returned text names the goal; a
 * missed pause bound also says which round and by how much in *detail
 * (detail_size bytes; may be NULL).
 */
const char *report_missed_goal(const struct scenario_report *rep,
			       const struct drill_goals *goals,
			       char *detail, size_t detail_size);

/* Print all scenarios; returns how many missed a goal or failed rounds. */
int report_print(struct scenario_report *reps, int n, bool json,
		 unsigned int budget_s, const char *alua,
		 const struct drill_goals *goals);

#endif
