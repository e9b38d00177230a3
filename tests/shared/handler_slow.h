/*
 * What sim tests see of handler_slow (tests/shared/handler_slow.c): the
 * device's private pointer (tcmur_dev_get_private) starts with this.
 */
#ifndef LUNAR_TEST_HANDLER_SLOW_H
#define LUNAR_TEST_HANDLER_SLOW_H

#include <stdint.h>

#define SLOW_MAX_UNMAPS 64

struct slow_extent {
	uint64_t off;
	uint64_t len;
};

struct slow_ctl {
	/* Calls so far (atomics). */
	unsigned int flush_calls;
	unsigned int unmap_calls;
	unsigned int writesame_calls;
	unsigned int caw_calls;
	/* The first SLOW_MAX_UNMAPS unmap calls, in bytes. */
	struct slow_extent unmaps[SLOW_MAX_UNMAPS];
	/* Set by a test: TCMU_STS_* every such call returns (0: work). */
	int fail_read;
	int fail_write;
	int fail_unmap;
	/* Set by a test: every I/O is held this long before completing. */
	unsigned int hold_ms;
};

#endif
