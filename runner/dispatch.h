/*
 * Command dispatch: the path of a command after the command thread decoded
 * it from the ring, and the single place where commands complete.
 *
 * Order (tcmu-runner 1.5.4's, plus lunar's checks):
 *   passthrough-only handler (no read/write/flush) -> handle_cmd only;
 *   pending unit attention; FORMAT in progress (NOT READY + progress);
 *   handler->handle_cmd if present; SCSI core emulation (runner/scsi).
 */
#ifndef LUNAR_DISPATCH_H
#define LUNAR_DISPATCH_H

#include "cmd.h"

struct tcmu_device;
struct ring_tmr;

/* Command thread: route one command.  Completes it, now or later. */
void dispatch_cmd(struct lunar_cmd *cmd);

/*
 * Complete cmd with a TCMU_STS_* status: build SCSI status and sense,
 * write the result into the ring, notify the kernel, free cmd.  Any
 * thread; exactly once per command.
 */
void cmd_finish(struct lunar_cmd *cmd, int sts);

/* Command thread: a TMR notification named these in-flight commands. */
void dispatch_tmr(struct tcmu_device *dev, const struct ring_tmr *tmr);

/*
 * Command thread: completions written between begin and end are announced
 * to the kernel with one notification at end.
 */
void dispatch_batch_begin(struct tcmu_device *dev);
void dispatch_batch_end(struct tcmu_device *dev);

#endif
