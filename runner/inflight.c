/*
 * In-flight command tracking and timeouts.  See inflight.h.
 */
#include "inflight.h"

#include <stddef.h>

#define CMD_OF(node) \
	((struct tcmur_cmd *)((char *)(node) - offsetof(struct tcmur_cmd, cmds_list_entry)))

static unsigned int default_time_out_s;

void tracker_set_default_timeout(unsigned int time_out_s)
{
	default_time_out_s = time_out_s;
}

unsigned int tracker_default_timeout(void)
{
	return default_time_out_s;
}

void tracker_init(struct cmd_tracker *t, unsigned int time_out_s)
{
	pthread_mutex_init(&t->lock, NULL);
	t->head.next = t->head.prev = &t->head;
	t->count = 0;
	t->time_out_s = time_out_s;
}

void tracker_destroy(struct cmd_tracker *t)
{
	pthread_mutex_destroy(&t->lock);
}

/*
 * Without a timeout nothing walks the list, so only the count is kept:
 * no lock and no clock read on the I/O path (tcmu-runner 1.5.4 stamps
 * start_time only with a timeout, too).  A command records how it was
 * added in its list node: linked (next set), counted only (prev pointing
 * at itself), or not tracked (both NULL), so removal is exact and
 * idempotent.
 *
 * tracker_remove() tells linked from not without the lock, by whether
 * next is NULL; another command's add or removal may meanwhile rewrite a
 * linked node's next (never to NULL), so next is always written and read
 * without the lock atomically.
 */
void tracker_add(struct cmd_tracker *t, struct tcmur_cmd *cmd)
{
	struct list_node *n = &cmd->cmds_list_entry;

	__atomic_store_n(&cmd->timed_out, false, __ATOMIC_RELAXED);
	__atomic_store_n(&n->next, NULL, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&t->time_out_s, __ATOMIC_RELAXED)) {
		n->prev = n;
		__atomic_add_fetch(&t->count, 1, __ATOMIC_ACQ_REL);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &cmd->start_time);
	pthread_mutex_lock(&t->lock);
	n->prev = t->head.prev;
	__atomic_store_n(&n->next, &t->head, __ATOMIC_RELAXED);
	__atomic_store_n(&t->head.prev->next, n, __ATOMIC_RELAXED);
	t->head.prev = n;
	__atomic_add_fetch(&t->count, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&t->lock);
}

unsigned int tracker_remove(struct cmd_tracker *t, struct tcmur_cmd *cmd)
{
	struct list_node *n = &cmd->cmds_list_entry;

	if (__atomic_load_n(&n->next, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&t->lock);
		__atomic_store_n(&n->prev->next, n->next, __ATOMIC_RELAXED);
		n->next->prev = n->prev;
		__atomic_store_n(&n->next, NULL, __ATOMIC_RELAXED);
		n->prev = NULL;
		pthread_mutex_unlock(&t->lock);
	} else if (n->prev == n) {
		n->prev = NULL;
	} else {
		return tracker_count(t);
	}
	return __atomic_sub_fetch(&t->count, 1, __ATOMIC_ACQ_REL);
}

unsigned int tracker_count(struct cmd_tracker *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_ACQUIRE);
}

int tracker_next_timeout_ms(struct cmd_tracker *t, const struct timespec *now)
{
	int ret = -1;

	pthread_mutex_lock(&t->lock);
	if (t->time_out_s) {
		/* Oldest first: the first not yet timed out decides. */
		for (struct list_node *n = t->head.next; n != &t->head; n = n->next) {
			struct tcmur_cmd *cmd = CMD_OF(n);
			int64_t left;

			if (cmd->timed_out)
				continue;
			left = (int64_t)t->time_out_s * 1000 -
			       timespec_diff_ms(&cmd->start_time, now);
			ret = left < 0 ? 0 : (left > 1000000 ? 1000000 : (int)left);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

unsigned int tracker_expire(struct cmd_tracker *t, const struct timespec *now,
			    void (*fn)(struct tcmur_cmd *cmd, void *arg),
			    void *arg)
{
	unsigned int expired = 0;

	pthread_mutex_lock(&t->lock);
	for (struct list_node *n = t->head.next; t->time_out_s && n != &t->head;
	     n = n->next) {
		struct tcmur_cmd *cmd = CMD_OF(n);

		if (__atomic_load_n(&cmd->timed_out, __ATOMIC_RELAXED))
			continue;
		if (timespec_diff_ms(&cmd->start_time, now) <
		    (int64_t)t->time_out_s * 1000)
			break;
		/* Read without the lock by cmd_finish() on the completing thread. */
		__atomic_store_n(&cmd->timed_out, true, __ATOMIC_RELAXED);
		expired++;
		fn(cmd, arg);
	}
	pthread_mutex_unlock(&t->lock);
	return expired;
}
