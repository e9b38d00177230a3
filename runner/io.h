/*
 * Calling a handler's data callouts, for any command family.
 *
 * io_submit() runs one callout (read, write, flush, unmap, writesame, caw,
 * handle_cmd) and arranges for done(cmd, sts) to run exactly once when it
 * has finished:
 *  - nr_threads > 0: the callout runs on one of the device's workers and
 *    done runs there too (a callout issued from a worker runs inline);
 *  - nr_threads == 0: the callout runs on the calling thread; done runs
 *    when the handler calls tcmur_cmd_complete(), possibly before the
 *    callout returned, possibly on a handler thread.
 * Completions that arrive while this thread is already running one are
 * queued and run iteratively (a trampoline), so multi-step commands never
 * recurse deeper than one level, whatever the handler does.
 */
#ifndef LUNAR_IO_H
#define LUNAR_IO_H

#include <stdbool.h>

#include "cmd.h"

void io_submit(struct lunar_cmd *cmd, const struct io_request *req,
	       io_done_fn done);

/* Whether dev's handler implements the callout for kind. */
bool io_supported(struct tcmu_device *dev, enum io_kind kind);

/* Run fn(cmd, sts) through this thread's trampoline. */
void io_run_done(struct lunar_cmd *cmd, io_done_fn fn, int sts);

/*
 * Run fn(cmd, TCMU_STS_OK) on a new detached thread: long runner-driven
 * operations (FORMAT UNIT) must not hold the device's command thread,
 * which keeps answering other commands meanwhile.  0 or -errno.
 */
int io_run_background(struct lunar_cmd *cmd, io_done_fn fn);

#endif
