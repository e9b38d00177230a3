/*
 * Ordering of overlapping media commands.  See overlap.h.
 *
 * Fast path: with no exclusive range active or waiting, admission is an
 * O(1) list insert.  Otherwise a new range is checked against the active
 * and waiting lists (both bounded by the queue depth).
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

/* Conflicts with an active range, or with a waiting one queued before r. */
static bool blocked(struct overlap_tracker *t, struct overlap_range *r,
		    struct overlap_range *stop)
{
	for (struct overlap_range *o = t->active.next; o != &t->active; o = o->next)
		if (conflicts(r, o))
			return true;
	for (struct overlap_range *o = t->waiting.next; o != stop; o = o->next)
		if (conflicts(r, o))
			return true;
	return false;
}

bool overlap_admit(struct overlap_tracker *t, struct overlap_range *r,
		   struct lunar_cmd *cmd, void (*resume)(struct lunar_cmd *cmd))
{
	bool run;

	r->cmd = cmd;
	r->resume = resume;
	pthread_mutex_lock(&t->lock);
	if (r->exclusive)
		t->exclusive_count++;
	/* Nothing exclusive anywhere: a plain command runs at once. */
	run = !r->exclusive && t->exclusive_count == 0 &&
	      t->waiting.next == &t->waiting;
	if (!run)
		run = !blocked(t, r, &t->waiting);
	r->admitted = run;
	list_add_tail(run ? &t->active : &t->waiting, r);
	pthread_mutex_unlock(&t->lock);
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
	pthread_mutex_lock(&t->lock);
	list_del(r);
	r->admitted = false;
	if (r->exclusive)
		t->exclusive_count--;
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
		t->exclusive_count--;
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
			t->exclusive_count--;
		out[n++] = o->cmd;
	}
	resume_ready_unlock(t);
	return n;
}
