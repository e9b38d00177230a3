/*
 * The OSD blocklist: fencing lock owners together, and our own stale
 * entries.
 *
 * Fencing together.  Every takeover from another owner breaks its lock,
 * and librbd's break blocklists the owner first (lock.c).  The monitor
 * commits the blocklist requests that reached it when it proposes, and
 * makes a later one wait until paxos_propose_interval (1 s by default)
 * after that commit.  When a gateway that owned several LUNs dies, its
 * initiators activate the standbys at once and the takeovers start some
 * ms apart; broken as each reached its break, the later ones missed the
 * first proposal (two VM gateways, 4 LUNs: locks taken 1.5-2.0 s after
 * the STPGs, against 0.3 s for one LUN).  So the breaks go in batches: a
 * batch is complete when every takeover under way in this process has
 * joined it and none has joined for GATHER_QUIET_MS, or GATHER_MAX_MS
 * after its first.  A takeover is under way from lrbd_fence_expect()
 * (before it reads the owner) until it joins (lrbd_fence_gather()) or
 * finds nothing to break (lrbd_fence_unexpect()).  A complete batch
 * leaves at the next GATHER_GRID_MS tick of the wall clock: the
 * survivors of a dead gateway each batch their own share of its LUNs,
 * and on clocks kept in step (NTP) their batches then reach the monitor
 * within its paxos_min_wait (50 ms) of each other (the drill's 32 LUNs
 * moving to two gateways: two OSD map epochs, the second 1 s later,
 * without the grid).
 *
 * Stale entries.  A client that another gateway fenced stays on the OSD
 * blocklist for an hour although lunard replaced it on reopen; left
 * there, entries pile up with every failover.  Closing a fenced client
 * remembers its address; the next client this process connects removes
 * the remembered entries ("osd blocklist rm"), as tcmu-runner does after
 * recovery.
 *
 * Threading: any thread; process-wide state, each part under its mutex.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rbd.h"
#include "tcmu-runner.h"

#define MAX_STALE 64
#define ADDR_MAX 256
#define GATHER_QUIET_MS 50
#define GATHER_MAX_MS 400
#define GATHER_GRID_MS 100
#define GATHER_POLL_MS 5

static pthread_mutex_t gather_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int expected;		/* takeovers under way, not joined */
static uint64_t batch, departed;	/* the newest batch; the last gone */
static int64_t batch_first_ms, batch_last_ms;
static int64_t batch_leaves_at_ms;	/* CLOCK_REALTIME; 0: not complete */

static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static char stale[MAX_STALE][ADDR_MAX];
static unsigned int nstale;

static int64_t now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void lrbd_fence_expect(void)
{
	pthread_mutex_lock(&gather_lock);
	expected++;
	pthread_mutex_unlock(&gather_lock);
}

void lrbd_fence_unexpect(void)
{
	pthread_mutex_lock(&gather_lock);
	expected--;
	pthread_mutex_unlock(&gather_lock);
}

/* Whether batch mine leaves now; gather_lock held. */
static bool batch_leaves(uint64_t mine)
{
	int64_t now = now_ms(CLOCK_MONOTONIC), wall = now_ms(CLOCK_REALTIME);

	if (departed >= mine)
		return true;
	if (!batch_leaves_at_ms &&
	    ((!expected && now >= batch_last_ms + GATHER_QUIET_MS) ||
	     now >= batch_first_ms + GATHER_MAX_MS))
		batch_leaves_at_ms = (wall / GATHER_GRID_MS + 1) * GATHER_GRID_MS;
	if (batch_leaves_at_ms && wall >= batch_leaves_at_ms)
		departed = mine;
	return departed >= mine;
}

void lrbd_fence_gather(void)
{
	int64_t now = now_ms(CLOCK_MONOTONIC);
	uint64_t mine;

	pthread_mutex_lock(&gather_lock);
	expected--;
	if (departed == batch) {
		batch++;
		batch_first_ms = now;
		batch_leaves_at_ms = 0;
	}
	batch_last_ms = now;
	mine = batch;
	while (!batch_leaves(mine)) {
		pthread_mutex_unlock(&gather_lock);
		usleep(GATHER_POLL_MS * 1000);
		pthread_mutex_lock(&gather_lock);
	}
	pthread_mutex_unlock(&gather_lock);
}

void lrbd_blocklist_remember(struct lrbd_dev *rd)
{
	char *addrs = NULL;

	if (!__atomic_load_n(&rd->fenced, __ATOMIC_ACQUIRE) ||
	    rados_getaddrs(rd->cluster, &addrs))
		return;
	pthread_mutex_lock(&stale_lock);
	if (nstale < MAX_STALE)
		snprintf(stale[nstale++], ADDR_MAX, "%s", addrs);
	pthread_mutex_unlock(&stale_lock);
	free(addrs);
}

static int remove_entry(rados_t c, const char *addr)
{
	char cmd[ADDR_MAX + 96];
	const char *cmds[1] = { cmd };

	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd blocklist\", \"blocklistop\": \"rm\", \"addr\": \"%.*s\"}",
		 ADDR_MAX - 1, addr);
	return rados_mon_command(c, cmds, 1, "", 0, NULL, NULL, NULL, NULL);
}

void lrbd_blocklist_cleanup(struct lrbd_dev *rd)
{
	char addrs[MAX_STALE][ADDR_MAX];
	unsigned int n;

	pthread_mutex_lock(&stale_lock);
	n = nstale;
	memcpy(addrs, stale, sizeof(addrs[0]) * n);
	nstale = 0;
	pthread_mutex_unlock(&stale_lock);
	for (unsigned int i = 0; i < n; i++) {
		int ret = remove_entry(rd->cluster, addrs[i]);

		if (ret)
			tcmu_dev_warn(rd->dev, "cannot remove stale blocklist entry %s: %s\n",
				      addrs[i], strerror(-ret));
		else
			tcmu_dev_info(rd->dev, "removed stale blocklist entry %s of an earlier client of ours\n",
				      addrs[i]);
	}
}
