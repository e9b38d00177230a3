/*
 * Command objects.  See cmd.h.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "device.h"

struct lunar_cmd *cmd_alloc(struct tcmu_device *dev)
{
	struct lunar_cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return NULL;
	cmd->dev = dev;
	cmd->lib.hm_private = &cmd->rcmd;
	cmd->rcmd.lib_cmd = &cmd->lib;
	return cmd;
}

void cmd_free(struct lunar_cmd *cmd)
{
	if (!cmd)
		return;
	if (cmd->state) {
		if (cmd->state_free)
			cmd->state_free(cmd->state);
		else
			free(cmd->state);
	}
	if (cmd->work_iov && cmd->work_iov != cmd->work_inline)
		free(cmd->work_iov);
	ring_cmd_release(&cmd->ring);
	free(cmd);
}

struct iovec *cmd_reset_iov(struct lunar_cmd *cmd)
{
	size_t cnt = cmd->ring.iov_cnt + (size_t)cmd->ring.iov_bidi_cnt;

	if (!cmd->work_iov) {
		cmd->work_iov = cnt <= RING_INLINE_IOVS ? cmd->work_inline :
			malloc(cnt * sizeof(struct iovec));
		if (!cmd->work_iov) {
			/* Fall back to the pristine copy; compound ops re-check. */
			cmd->work_iov = NULL;
			cmd->lib.iovec = cmd->ring.iov;
			cmd->lib.iov_cnt = cmd->ring.iov_cnt;
			return cmd->lib.iovec;
		}
	}
	memcpy(cmd->work_iov, cmd->ring.iov, cnt * sizeof(struct iovec));
	cmd->lib.iovec = cmd->work_iov;
	cmd->lib.iov_cnt = cmd->ring.iov_cnt;
	return cmd->lib.iovec;
}

void cmd_set_state(struct lunar_cmd *cmd, void *state,
		   void (*free_fn)(void *state))
{
	cmd->state = state;
	cmd->state_free = free_fn;
}
