/*
 * A handler's CheckConfig queue.  See check_queue.h.
 *
 * GThreadPool keeps the waiting jobs sorted by (round, arrival): a job's
 * round is how many calls its sender already had queued or running when
 * it arrived, so a sender's n-th waiting call goes after everyone's
 * (n-1)-th.
 */
#include "check_queue.h"

#include <stdlib.h>

#include "dbus_caller.h"
#include "runner/log.h"
#include "tcmu-runner.h"

struct check_queue {
	struct tcmur_handler *ops;
	GThreadPool *pool;
	GMutex lock;			/* queued, per_sender */
	unsigned int queued;		/* queued or running */
	GHashTable *per_sender;		/* sender -> its queued or running */
	guint64 arrivals;
	gint stopping;
};

struct check_job {
	struct check_queue *q;
	GDBusMethodInvocation *inv;
	char *sender;
	char *cfgstring;
	unsigned int round;
	guint64 arrival;
};

static gint job_order(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct check_job *x = a, *y = b;

	(void)unused;
	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

/* Called with q->lock held. */
static unsigned int sender_count(struct check_queue *q, const char *sender)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(q->per_sender, sender));
}

/* Called with q->lock held. */
static void sender_add(struct check_queue *q, const char *sender, int delta)
{
	unsigned int n = sender_count(q, sender) + (unsigned int)delta;

	if (n)
		g_hash_table_replace(q->per_sender, g_strdup(sender),
				     GUINT_TO_POINTER(n));
	else
		g_hash_table_remove(q->per_sender, sender);
	q->queued += (unsigned int)delta;
}

static void job_done(struct check_job *job)
{
	struct check_queue *q = job->q;

	g_mutex_lock(&q->lock);
	sender_add(q, job->sender, -1);
	g_mutex_unlock(&q->lock);
	g_free(job->sender);
	g_free(job->cfgstring);
	g_free(job);
}

/* Worker thread: one job. */
static void check_run(gpointer data, gpointer user_data)
{
	struct check_job *job = data;
	struct check_queue *q = user_data;
	char *reason = NULL;

	if (g_atomic_int_get(&q->stopping)) {
		g_dbus_method_invocation_return_error_literal(job->inv,
			G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "lunard is stopping");
	} else if (q->ops->check_config(job->cfgstring, &reason)) {
		/* 1.5.4 ignores (and never frees) a reason given with true. */
		dbus_caller_reply(job->inv, TRUE, "success");
	} else {
		dbus_caller_reply(job->inv, FALSE, reason ? reason : "unknown");
		free(reason);
	}
	job_done(job);
}

struct check_queue *check_queue_new(struct tcmur_handler *ops)
{
	struct check_queue *q = g_new0(struct check_queue, 1);

	q->ops = ops;
	g_mutex_init(&q->lock);
	q->per_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	q->pool = g_thread_pool_new(check_run, q, 1, FALSE, NULL);
	if (!q->pool) {
		g_hash_table_unref(q->per_sender);
		g_mutex_clear(&q->lock);
		g_free(q);
		return NULL;
	}
	g_thread_pool_set_sort_function(q->pool, job_order, NULL);
	return q;
}

/* Reserve a place for sender's call: its round, or -1 if it is full. */
static int reserve(struct check_queue *q, const char *sender)
{
	unsigned int round;

	g_mutex_lock(&q->lock);
	round = sender_count(q, sender);
	if (q->queued >= CHECK_QUEUE_MAX || round >= CHECK_QUEUE_PER_SENDER) {
		g_mutex_unlock(&q->lock);
		return -1;
	}
	sender_add(q, sender, 1);
	g_mutex_unlock(&q->lock);
	return (int)round;
}

void check_queue_push(struct check_queue *q, GDBusMethodInvocation *inv,
		      const char *sender, const char *cfgstring)
{
	int round = reserve(q, sender);
	struct check_job *job;
	GError *err = NULL;

	if (round < 0) {
		g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR,
			G_DBUS_ERROR_LIMITS_EXCEEDED,
			"too many CheckConfig calls waiting for handler %s (at most %d per caller, %d in all)",
			q->ops->subtype, CHECK_QUEUE_PER_SENDER, CHECK_QUEUE_MAX);
		return;
	}
	job = g_new(struct check_job, 1);
	*job = (struct check_job){
		.q = q, .inv = inv, .sender = g_strdup(sender),
		.cfgstring = g_strdup(cfgstring), .round = (unsigned int)round,
		.arrival = q->arrivals++,
	};
	/* On failure the job stays queued for the pool's next thread. */
	if (!g_thread_pool_push(q->pool, job, &err)) {
		lunar_warn(NULL, "CheckConfig for %s delayed: %s",
			   q->ops->subtype, err->message);
		g_error_free(err);
	}
}

void check_queue_free(struct check_queue *q)
{
	if (!q)
		return;
	g_atomic_int_set(&q->stopping, 1);
	g_thread_pool_free(q->pool, FALSE, TRUE);
	g_hash_table_unref(q->per_sender);
	g_mutex_clear(&q->lock);
	g_free(q);
}
