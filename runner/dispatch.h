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
#include "core.h"

struct tcmu_device;
struct ring_tmr;

/* Command thread: route one command.  Completes it, now or later. */
void dispatch_cmd(struct lunar_cmd *cmd);

/*
 * cmd_finish() (core.h) builds SCSI status and sense from the TCMU_STS_*
 * status, writes the result into the ring, notifies the kernel and frees
 * the command.
 */

/* Command thread: a TMR notification named these in-flight commands. */
void dispatch_tmr(struct tcmu_device *dev, const struct ring_tmr *tmr);

/*
 * Command thread: completions written between begin and end are announced
 * to the kernel with one notification at end.
 */
void dispatch_batch_begin(struct tcmu_device *dev);
void dispatch_batch_end(struct tcmu_device *dev);

#endif
