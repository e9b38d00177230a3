/*
 * The CheckConfig queue of one loaded handler: its check_config() runs on
 * one worker thread, one call at a time (as 1.5.4's main thread ran them),
 * and the worker sends the D-Bus reply.
 *
 * Fair between callers: each D-Bus sender may have at most
 * CHECK_QUEUE_PER_SENDER calls queued or running, the queue at most
 * CHECK_QUEUE_MAX, and the worker takes calls round by round (every
 * sender's first waiting call, then every sender's second, ...), so one
 * caller flooding a slow check_config() (an rbd check waiting 10 s on
 * unreachable monitors) delays another caller's call by at most one call
 * per flooding sender, not by its whole backlog.
 *
 * Threading: new, push and free on the main thread; the worker touches
 * only the job it runs and, under the queue's lock, the per-sender counts.
 */
#ifndef LUNAR_CHECK_QUEUE_H
#define LUNAR_CHECK_QUEUE_H

#include <gio/gio.h>

#define CHECK_QUEUE_MAX		64
#define CHECK_QUEUE_PER_SENDER	8

struct tcmur_handler;
struct check_queue;

/* A queue for ops->check_config (which must exist); NULL on failure. */
struct check_queue *check_queue_new(struct tcmur_handler *ops);

/*
 * Queue CheckConfig(cfgstring) from sender, or refuse it at once with
 * G_DBUS_ERROR_LIMITS_EXCEEDED when that sender or the queue is full.
 * Takes over inv.
 */
void check_queue_push(struct check_queue *q, GDBusMethodInvocation *inv,
		      const char *sender, const char *cfgstring);

/*
 * Let a running check_config() answer, refuse every queued call ("lunard
 * is stopping"), then free the queue.
 */
void check_queue_free(struct check_queue *q);

#endif
