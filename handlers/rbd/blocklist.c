/*
 * Stale blocklist entries of our own.  A client that another gateway
 * fenced stays on the OSD blocklist for an hour although lunard replaced
 * it on reopen; left there, entries pile up with every failover.  Closing
 * a fenced client remembers its address; the next client this process
 * connects removes the remembered entries ("osd blocklist rm"), as
 * tcmu-runner does after recovery.
 *
 * Threading: any thread; a process-wide list under a mutex.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"
#include "tcmu-runner.h"

#define MAX_STALE 64
#define ADDR_MAX 256

static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static char stale[MAX_STALE][ADDR_MAX];
static unsigned int nstale;

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
