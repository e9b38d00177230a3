/*
 * A lunard process serving simulated devices (--sim-socket), for tests
 * that offer it devices through siminit (siminit_opts.sim_socket).  It
 * runs without D-Bus and without a config file, logging into its
 * private directory.
 */
#ifndef LUNAR_LUNARDPROC_H
#define LUNAR_LUNARDPROC_H

#include <stdbool.h>
#include <sys/types.h>

struct lunardproc {
	pid_t pid;
	char dir[64];		/* private directory: socket, log/ */
	char sock[128];		/* its --sim-socket */
};

/* Start lunard with handlers from handler_dir; 0 once it listens, -1. */
int lunardproc_start(struct lunardproc *p, const char *handler_dir);
/* SIGKILL it, reap it, remove its directory; 0 or -1. */
int lunardproc_stop(struct lunardproc *p);
/* Until a lunard accepts connections on path (up to 10 s): true, or false. */
bool lunardproc_wait_socket(const char *path);
/* Still running (not exited). */
bool lunardproc_alive(const struct lunardproc *p);

#endif
