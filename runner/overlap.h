/*
 * Ordering of media commands that must not overlap: COMPARE AND WRITE,
 * WRITE AND VERIFY and FORMAT UNIT run exclusively over their LBA range;
 * every other media command may overlap any non-exclusive one.  A command
 * that conflicts waits (FIFO) and is resumed when the conflict completes.
 * A waiting exclusive command also holds back later overlapping commands,
 * so a stream of writes cannot starve a COMPARE AND WRITE.
 *
 * Threading: any thread; internal mutex.  Resume callbacks run on the
 * thread that released the conflicting command, without the mutex held.
 *
 * While no exclusive range exists, plain ranges are admitted without the
 * mutex (a counter instead of a list); an exclusive range then waits until
 * no such range is active, whatever its LBAs.
 */
#ifndef LUNAR_OVERLAP_H
#define LUNAR_OVERLAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct lunar_cmd;

struct overlap_range {
	uint64_t lba;
	uint64_t nblocks;
	bool exclusive;
	bool admitted;
	bool fast;		/* admitted without the lock; not on a list */
	struct overlap_range *prev, *next;
	void (*resume)(struct lunar_cmd *cmd);
	struct lunar_cmd *cmd;
};

struct overlap_tracker {
	pthread_mutex_t lock;
	struct overlap_range active;	/* list heads (sentinels) */
	struct overlap_range waiting;
	unsigned int exclusive_count;	/* atomic: exclusive active or waiting */
	unsigned int fast_active;	/* atomic: ranges admitted lock-free */
};

void overlap_init(struct overlap_tracker *t);
void overlap_destroy(struct overlap_tracker *t);

/*
 * Register r for cmd.  Returns true if cmd may run now; false if it was
 * queued and resume(cmd) will be called once it may run.
 */
bool overlap_admit(struct overlap_tracker *t, struct overlap_range *r,
		   struct lunar_cmd *cmd, void (*resume)(struct lunar_cmd *cmd));

/* Drop an admitted range and resume whatever it was holding back. */
void overlap_release(struct overlap_tracker *t, struct overlap_range *r);

/* Remove a range that is still waiting (abort).  True if it was waiting. */
bool overlap_cancel(struct overlap_tracker *t, struct overlap_range *r);

/*
 * Remove every waiting range whose command satisfies match(cmd, arg) and
 * store those commands in out[] (at most max).  The caller now owns their
 * completion.  Returns how many were removed.
 */
size_t overlap_cancel_where(struct overlap_tracker *t,
			    bool (*match)(struct lunar_cmd *cmd, const void *arg),
			    const void *arg, struct lunar_cmd **out, size_t max);

#endif
