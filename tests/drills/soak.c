/*
 * The soak's counts and goals.  See soak.h.
 */
#include "soak.h"

#include <stdio.h>
#include <string.h>

const char *const soak_faults[SOAK_NFAULTS] = {
	"kill", "freeze", "planned", "osd-restart",
};

void soak_init(struct soak_report *s, unsigned int nluns, unsigned int nosds)
{
	memset(s, 0, sizeof(*s));
	s->nluns = nluns;
	s->nosds = nosds;
	for (int i = 0; i < SOAK_NFAULTS; i++)
		report_init(&s->faults[i], soak_faults[i]);
}

struct scenario_report *soak_fault(struct soak_report *s, const char *name)
{
	for (int i = 0; i < SOAK_NFAULTS; i++)
		if (!strcmp(soak_faults[i], name))
			return &s->faults[i];
	return NULL;
}

static void keep_max(struct proc_sample *max, const struct proc_sample *ps)
{
	if (ps->fds > max->fds)
		max->fds = ps->fds;
	if (ps->sockets > max->sockets)
		max->sockets = ps->sockets;
	if (ps->threads > max->threads)
		max->threads = ps->threads;
	if (ps->rss_kb > max->rss_kb)
		max->rss_kb = ps->rss_kb;
}

void soak_sample(struct soak_report *s, int gateway, pid_t pid,
		 const struct proc_sample *ps)
{
	struct soak_proc *p = NULL;

	for (unsigned int i = 0; i < s->nprocs && !p; i++)
		if (s->procs[i].gateway == gateway && s->procs[i].pid == pid)
			p = &s->procs[i];
	if (!p) {
		if (s->nprocs == SOAK_MAX_PROCS)
			return;	/* the first lives are judged */
		p = &s->procs[s->nprocs++];
		p->gateway = gateway;
		p->pid = pid;
		p->first = p->max = *ps;
	}
	p->samples++;
	p->last = *ps;
	keep_max(&p->max, ps);
}

static long long grew(uint64_t first, uint64_t last)
{
	return (long long)last - (long long)first;
}

/* What process p leaked, or NULL. */
static const char *leaked(const struct soak_report *s, const struct soak_proc *p)
{
	if (p->samples < SOAK_MIN_SAMPLES)
		return NULL;
	if (grew(p->first.fds, p->last.fds) > SOAK_FD_SLACK)
		return "descriptors";
	if (grew(p->first.sockets, p->last.sockets) > (long long)(s->nluns * s->nosds))
		return "sockets";
	if (grew(p->first.threads, p->last.threads) > SOAK_THREAD_SLACK)
		return "threads";
	if (grew(p->first.rss_kb, p->last.rss_kb) > SOAK_RSS_SLACK_KB)
		return "resident memory";
	return NULL;
}

const char *soak_missed_goal(const struct soak_report *s,
			     const struct drill_goals *goals,
			     char *detail, size_t detail_size)
{
	const char *missed;

	if (detail && detail_size)
		detail[0] = '\0';
	for (int i = 0; i < SOAK_NFAULTS; i++) {
		missed = report_missed_goal(&s->faults[i], goals, detail, detail_size);
		if (missed)
			return missed;
	}
	if (s->unexpected_moves)
		return "the lock moved where no fault called for it";
	if (s->crashes)
		return "a gateway exited that the drill did not kill";
	for (unsigned int i = 0; i < s->nprocs; i++) {
		missed = leaked(s, &s->procs[i]);
		if (missed) {
			if (detail)
				snprintf(detail, detail_size, "gateway %d (pid %d) leaked %s",
					 s->procs[i].gateway + 1, (int)s->procs[i].pid, missed);
			return "a gateway process leaked";
		}
	}
	return NULL;
}

static void print_proc(const struct soak_report *s, const struct soak_proc *p)
{
	const char *leak = leaked(s, p);

	printf("soak: gateway %d pid %d, %u samples: descriptors %u -> %u (max %u), sockets %u -> %u (max %u), threads %u -> %u (max %u), RSS %llu -> %llu KiB (max %llu, growth %+lld KiB)  %s%s\n",
	       p->gateway + 1, (int)p->pid, p->samples, p->first.fds, p->last.fds,
	       p->max.fds, p->first.sockets, p->last.sockets, p->max.sockets,
	       p->first.threads, p->last.threads, p->max.threads,
	       (unsigned long long)p->first.rss_kb, (unsigned long long)p->last.rss_kb,
	       (unsigned long long)p->max.rss_kb, grew(p->first.rss_kb, p->last.rss_kb),
	       p->samples < SOAK_MIN_SAMPLES ? "too short-lived to judge" :
	       leak ? "LEAKED " : "ok", leak ? leak : "");
}

int soak_print(const struct soak_report *s, const struct drill_goals *goals)
{
	struct scenario_report faults[SOAK_NFAULTS];
	char detail[160];
	const char *missed;
	unsigned int n = 0;

	memcpy(faults, s->faults, sizeof(faults));
	report_print(faults, SOAK_NFAULTS, false, 0, "", goals);
	for (int i = 0; i < SOAK_NFAULTS; i++)
		n += s->faults[i].rounds + s->faults[i].failed;
	for (unsigned int i = 0; i < s->nprocs; i++)
		print_proc(s, &s->procs[i]);
	missed = soak_missed_goal(s, goals, detail, sizeof(detail));
	printf("soak: %lld s, %u LUNs, %u faults; lock moves no fault called for %u; gateway crashes %u  %s%s%s%s\n",
	       (long long)(s->duration_ms / 1000), s->nluns, n, s->unexpected_moves,
	       s->crashes, missed ? "GOAL MISSED: " : "ok", missed ? missed : "",
	       detail[0] ? ": " : "", detail);
	return missed ? 1 : 0;
}
