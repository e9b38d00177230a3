/*
 * In-flight command tracking on tcmur_cmd.start_time.
 *
 * Every command taken off the ring is stamped (CLOCK_MONOTONIC) and kept on
 * its device's list, oldest first, until it completes.  With a command
 * timeout configured (cfgstring ";tcmur_cmd_time_out=N", seconds) the
 * device's command thread asks how long it may sleep and, when woken, which
 * commands have exceeded the limit.  A timed-out command stays tracked: its
 * late completion is still delivered normally.
 *
 * Threading: any thread; internal mutex.
 */
#ifndef LUNAR_INFLIGHT_H
#define LUNAR_INFLIGHT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "tcmu-runner.h"

struct cmd_tracker {
	pthread_mutex_t lock;
	struct list_node head;
	unsigned int count;
	unsigned int time_out_s;	/* 0: no timeout */
};

void tracker_init(struct cmd_tracker *t, unsigned int time_out_s);

/*
 * The timeout of devices whose cfgstring names none (tcmu.conf
 * "tcmur_cmd_time_out", 0: none).  Set once at start-up.
 */
void tracker_set_default_timeout(unsigned int time_out_s);
unsigned int tracker_default_timeout(void);
void tracker_destroy(struct cmd_tracker *t);

/* Count cmd; with a timeout, also stamp start_time and append it. */
void tracker_add(struct cmd_tracker *t, struct tcmur_cmd *cmd);
/* Returns how many commands remain tracked. */
unsigned int tracker_remove(struct cmd_tracker *t, struct tcmur_cmd *cmd);
unsigned int tracker_count(struct cmd_tracker *t);

/*
 * Milliseconds until the oldest command not yet timed out reaches the
 * timeout (0 if overdue), or -1 if nothing can time out.
 */
int tracker_next_timeout_ms(struct cmd_tracker *t, const struct timespec *now);

/*
 * Mark every overdue command timed_out and call fn(cmd, arg) for each
 * newly timed-out one (with the tracker lock held: fn must not complete
 * commands).  Returns how many timed out now.
 */
unsigned int tracker_expire(struct cmd_tracker *t, const struct timespec *now,
			    void (*fn)(struct tcmur_cmd *cmd, void *arg),
			    void *arg);


#endif
