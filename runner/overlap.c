/*
 * Ordering of overlapping media commands.  See overlap.h.
 *
 * Fast path: with no exclusive range active or waiting, a plain range is
 * admitted by incrementing fast_active, without the mutex.  An exclusive
 * range increments exclusive_count before it looks at fast_active, and a
 * plain range increments fast_active before it looks at exclusive_count
 * (all sequentially consistent), so at least one of them sees the other.
 * Otherwise a range is checked against the active and waiting lists (both
 * bounded by the queue depth).
 */
#include "overlap.h"

#include <stddef.h>

static void list_init(struct overlap_range *head)
{
	head->prev = head->next = head;
}

static void list_add_tail(struct overlap_range *head, struct overlap_range *r)
{
	r->prev = head->prev;
	r->next = head;
	head->prev->next = r;
	head->prev = r;
}

static void list_del(struct overlap_range *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

void overlap_init(struct overlap_tracker *t)
{
	pthread_mutex_init(&t->lock, NULL);
	list_init(&t->active);
	list_init(&t->waiting);
	t->exclusive_count = 0;
	t->fast_active = 0;
}

void overlap_destroy(struct overlap_tracker *t)
{
	pthread_mutex_destroy(&t->lock);
}

static bool ranges_overlap(const struct overlap_range *a,
			   const struct overlap_range *b)
{
	return a->lba < b->lba + b->nblocks && b->lba < a->lba + a->nblocks;
}

static bool conflicts(const struct overlap_range *a,
		      const struct overlap_range *b)
{
	return (a->exclusive || b->exclusive) && ranges_overlap(a, b);
}

static unsigned int load(const unsigned int *v)
{
	return __atomic_load_n(v, __ATOMIC_SEQ_CST);
}

/*
 * Conflicts with an active range (for an exclusive one: also with any
 * lock-free range, whose LBAs are not recorded), or with a waiting range
 * queued before r.
 */
static bool blocked(struct overlap_tracker *t, struct overlap_range *r,
		    struct overlap_range *stop)
{
	if (r->exclusive && load(&t->fast_active))
		return true;
	for (struct overlap_range *o = t->active.next; o != &t->active; o = o->next)
		if (conflicts(r, o))
			return true;
	for (struct overlap_range *o = t->waiting.next; o != stop; o = o->next)
		if (conflicts(r, o))
			return true;
	return false;
}

static void resume_ready_unlock(struct overlap_tracker *t);

/* Plain range, nothing exclusive around: admitted without the lock. */
static bool admit_fast(struct overlap_tracker *t, struct overlap_range *r)
{
	__atomic_add_fetch(&t->fast_active, 1, __ATOMIC_SEQ_CST);
	if (!load(&t->exclusive_count)) {
		r->fast = true;
		r->admitted = true;
		return true;
	}
	__atomic_sub_fetch(&t->fast_active, 1, __ATOMIC_SEQ_CST);
	return false;
}

bool overlap_admit(struct overlap_tracker *t, struct overlap_range *r,
		   struct lunar_cmd *cmd, void (*resume)(struct lunar_cmd *cmd))
{
	bool run;

	r->cmd = cmd;
	r->resume = resume;
	r->fast = false;
	if (!r->exclusive && admit_fast(t, r))
		return true;
	pthread_mutex_lock(&t->lock);
	if (r->exclusive)
		__atomic_add_fetch(&t->exclusive_count, 1, __ATOMIC_SEQ_CST);
	run = !blocked(t, r, &t->waiting);
	r->admitted = run;
	list_add_tail(run ? &t->active : &t->waiting, r);
	/*
	 * A plain range that gave up the fast path may have been the last
	 * lock-free one an exclusive range waited for.
	 */
	resume_ready_unlock(t);
	return run;
}

/*
 * Admit every waiting range that no longer conflicts and resume it.
 * Called with t->lock held; returns with it released.  Resumes run
 * unlocked, in batches, because a resume may complete commands and
 * re-enter the tracker.
 */
static void resume_ready_unlock(struct overlap_tracker *t)
{
	struct overlap_range *ready[64];
	int n;

	do {
		struct overlap_range *o = t->waiting.next;

		n = 0;
		while (o != &t->waiting && n < 64) {
			struct overlap_range *next = o->next;

			if (!blocked(t, o, o)) {
				list_del(o);
				list_add_tail(&t->active, o);
				o->admitted = true;
				ready[n++] = o;
			}
			o = next;
		}
		pthread_mutex_unlock(&t->lock);
		for (int i = 0; i < n; i++)
			ready[i]->resume(ready[i]->cmd);
		if (n == 64)
			pthread_mutex_lock(&t->lock);
	} while (n == 64);
}

void overlap_release(struct overlap_tracker *t, struct overlap_range *r)
{
	r->admitted = false;
	if (r->fast) {
		r->fast = false;
		if (!__atomic_sub_fetch(&t->fast_active, 1, __ATOMIC_SEQ_CST) &&
		    load(&t->exclusive_count)) {
			pthread_mutex_lock(&t->lock);
			resume_ready_unlock(t);
		}
		return;
	}
	pthread_mutex_lock(&t->lock);
	list_del(r);
	if (r->exclusive)
		__atomic_sub_fetch(&t->exclusive_count, 1, __ATOMIC_SEQ_CST);
	resume_ready_unlock(t);
}

bool overlap_cancel(struct overlap_tracker *t, struct overlap_range *r)
{
	bool was_waiting;

	pthread_mutex_lock(&t->lock);
	was_waiting = r->prev && !r->admitted;
	if (!was_waiting) {
		pthread_mutex_unlock(&t->lock);
		return false;
	}
	list_del(r);
	if (r->exclusive)
		__atomic_sub_fetch(&t->exclusive_count, 1, __ATOMIC_SEQ_CST);
	resume_ready_unlock(t);
	return true;
}

size_t overlap_cancel_where(struct overlap_tracker *t,
			    bool (*match)(struct lunar_cmd *cmd, const void *arg),
			    const void *arg, struct lunar_cmd **out, size_t max)
{
	struct overlap_range *o, *next;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	for (o = t->waiting.next; o != &t->waiting && n < max; o = next) {
		next = o->next;
		if (!match(o->cmd, arg))
			continue;
		list_del(o);
		if (o->exclusive)
			__atomic_sub_fetch(&t->exclusive_count, 1, __ATOMIC_SEQ_CST);
		out[n++] = o->cmd;
	}
	resume_ready_unlock(t);
	return n;
}
