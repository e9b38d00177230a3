/*
 * Process samples from /proc.  See procstat.h.
 */
#define _GNU_SOURCE
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Count pid's descriptors, sockets apart. */
static int count_fds(pid_t pid, struct proc_sample *s)
{
	char dir[64], path[320], target[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;	/* closed since readdir */
		target[n] = '\0';
		if (!strncmp(target, "socket:", 7))
			s->sockets++;
		else
			s->fds++;
	}
	closedir(d);
	return 0;
}

/* Threads and VmRSS from /proc/pid/status. */
static int read_status(pid_t pid, struct proc_sample *s)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Threads: %llu", &v) == 1)
			s->threads = (unsigned int)v;
		else if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
			s->rss_kb = v;
	}
	fclose(f);
	return s->threads ? 0 : -ENOENT;
}

int procstat_read(pid_t pid, struct proc_sample *s)
{
	memset(s, 0, sizeof(*s));
	return count_fds(pid, s) ?: read_status(pid, s);
}
