/*
 * Gateways for lunar-drill: lunard processes serving simulated devices
 * (--sim-socket) from one RBD image, each with its own directory, config
 * (failover budget) and log, and each run with its own group id so the
 * drill can cut that gateway alone off Ceph (an iptables owner match on
 * loopback).
 *
 * Threading: the drill's single thread.
 */
#ifndef LUNAR_DRILL_GATEWAY_H
#define LUNAR_DRILL_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Gateways of one drill run get group ids from GATEWAY_GID_BASE on, offset
 * by the drill's process id, so that drills running side by side never
 * cut each other's gateways.
 */
#define GATEWAY_GID_BASE 47100

struct gateway {
	int index;		/* 0-based; ALUA group id is index + 1 */
	gid_t gid;		/* its processes' group: what a cut matches */
	pid_t pid;		/* 0: not running */
	bool frozen;
	bool cut;		/* off Ceph */
	unsigned int unclean;	/* stops that did not end in exit status 0 */
	char dir[256];
	char sock[300];
	char log[300];
	char err[300];		/* lunard's stdout and stderr */
};

struct gateway_env {
	const char *lunard;		/* lunard binary */
	const char *handler_dir;
	const char *workdir;
	unsigned int budget_s;
};

int gateway_init(struct gateway *g, const struct gateway_env *env, int index);
/* Start lunard and wait until it takes devices.  0 or -errno. */
int gateway_start(struct gateway *g, const struct gateway_env *env);
/* kill -9 and reap. */
void gateway_kill(struct gateway *g);
/*
 * SIGTERM (devices removed, lock released), wait for exit; an exit status
 * other than 0 (a crash, or a sanitizer's report at exit) is counted in
 * g->unclean.
 */
void gateway_stop(struct gateway *g);
void gateway_freeze(struct gateway *g);
void gateway_thaw(struct gateway *g);
/* Drop / restore this gateway's traffic to Ceph.  0 or -errno. */
int gateway_cut(struct gateway *g);
int gateway_restore(struct gateway *g);
/*
 * "cluster lock acquired" lines in its log so far, of every device or
 * (device not NULL) of the devices whose names start "device-" (the
 * initiator's path name, mpath.h).
 */
unsigned int gateway_lock_acquisitions(const struct gateway *g, const char *device);
/*
 * Whether its lunard ended by itself since it was started: reaped, then
 * counted in g->unclean and logged.
 */
bool gateway_exited(struct gateway *g);
/*
 * The first line of an AddressSanitizer, LeakSanitizer or UBSan report in
 * its output (a sanitizer build's lunard, killed or not), into line
 * (size bytes): true; false when there is none.
 */
bool gateway_sanitizer_report(const struct gateway *g, char *line, size_t size);

#endif
