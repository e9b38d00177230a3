/*
 * What a running process holds, read from /proc: the soak's leak check
 * (soak.h).  Threading: any.
 */
#ifndef LUNAR_DRILL_PROCSTAT_H
#define LUNAR_DRILL_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct proc_sample {
	unsigned int fds;	/* open descriptors other than sockets */
	unsigned int sockets;
	unsigned int threads;
	uint64_t rss_kb;	/* resident memory */
};

/* Sample process pid into *s.  0, or -errno (-ENOENT: it is gone). */
int procstat_read(pid_t pid, struct proc_sample *s);

#endif
