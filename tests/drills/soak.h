/*
 * lunar-drill's soak: under writes to several LUNs, one fault every
 * period, in turn (kill, freeze, planned, osd-restart: the soak_faults
 * below), every chunk of every LUN read back after each; after each the
 * gateways' processes are sampled (procstat.h).  This file keeps the
 * counts and judges them; lunar-drill.c drives the faults.
 *
 * Goals, besides each fault's own (report.h, per fault kind: no failed
 * round, no lost or stale write, the pause within its bound, and for
 * osd-restart no lock move, failed path or I/O error):
 *  - no lock move but the ones a fault calls for (one per LUN the hurt
 *    gateway served; none on osd-restart but an owner re-taking its own);
 *  - no gateway exited unless the drill killed it (soak_crash);
 *  - for every gateway process sampled SOAK_MIN_SAMPLES times or more,
 *    from its first sample to its last: descriptors other than sockets
 *    grow by at most SOAK_FD_SLACK, sockets by at most one per LUN and
 *    OSD (connections come and go with OSDs), threads by at most
 *    SOAK_THREAD_SLACK, resident memory by at most SOAK_RSS_SLACK_KB.
 *
 * Threading: the drill's single thread.
 */
#ifndef LUNAR_DRILL_SOAK_H
#define LUNAR_DRILL_SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "procstat.h"
#include "report.h"

#define SOAK_NFAULTS 4
extern const char *const soak_faults[SOAK_NFAULTS];

#define SOAK_MAX_PROCS 64
#define SOAK_MIN_SAMPLES 3
#define SOAK_FD_SLACK 2
#define SOAK_THREAD_SLACK 4
#define SOAK_RSS_SLACK_KB (64u << 10)

/* One gateway process's life as sampled. */
struct soak_proc {
	int gateway;		/* 0-based */
	pid_t pid;
	unsigned int samples;
	struct proc_sample first, last, max;
};

struct soak_report {
	unsigned int nluns, nosds;
	struct scenario_report faults[SOAK_NFAULTS];	/* by soak_faults */
	unsigned int unexpected_moves;	/* lock moves no fault called for */
	unsigned int crashes;
	struct soak_proc procs[SOAK_MAX_PROCS];
	unsigned int nprocs;
	int64_t duration_ms;
};

void soak_init(struct soak_report *s, unsigned int nluns, unsigned int nosds);
/* The report of fault kind name (one of soak_faults). */
struct scenario_report *soak_fault(struct soak_report *s, const char *name);
/* A sample of gateway's process pid (a new pid starts a new life). */
void soak_sample(struct soak_report *s, int gateway, pid_t pid,
		 const struct proc_sample *ps);
/*
 * The goal s missed (see above), or NULL; details such as which process
 * leaked what into detail (detail_size bytes; may be NULL).
 */
const char *soak_missed_goal(const struct soak_report *s,
			     const struct drill_goals *goals,
			     char *detail, size_t detail_size);
/* Print the soak (text); 1 when it missed a goal, else 0. */
int soak_print(const struct soak_report *s, const struct drill_goals *goals);

#endif
