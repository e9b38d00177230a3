/*
 * runner/cmd.c: the working copy of a command's iovecs.  Handlers consume
 * the copy they are given, so each reset starts again from the ring's
 * pristine list; when the copy cannot be allocated the command must fail,
 * never run on the pristine list itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runner/cmd.h"

static uint8_t data[8][64];

static void fill_ring_iovs(struct lunar_cmd *cmd, struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		iov[i] = (struct iovec){ data[i], sizeof(data[i]) };
	cmd->ring.iov = iov;
	cmd->ring.iov_cnt = (uint32_t)n;
}

/* A handler consuming its copy leaves the next reset whole. */
static void test_reset_restores_consumed_copy(void **state)
{
	struct lunar_cmd *cmd = cmd_alloc(NULL);
	struct iovec ring_iov[8], *iov;

	(void)state;
	assert_non_null(cmd);
	fill_ring_iovs(cmd, ring_iov, 8);
	iov = cmd_iov_for(cmd, 100);
	assert_non_null(iov);
	assert_true(iov != ring_iov);
	assert_int_equal(cmd->lib.iov_cnt, 2);
	assert_int_equal(iov[1].iov_len, 36);
	iov[0].iov_len = 0;		/* consumed */
	iov = cmd_reset_iov(cmd);
	assert_int_equal(cmd->lib.iov_cnt, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(iov[i].iov_len, 64);
	assert_int_equal(ring_iov[0].iov_len, 64);
	cmd->ring.iov = NULL;	/* the ring's list is not the command's to free */
	cmd_free(cmd);
}

/*
 * An iovec list too long to copy (no allocator gives 128 GiB here): NULL,
 * and lib.iovec is not the ring's own list.
 */
static void test_failed_copy_is_never_the_ring_list(void **state)
{
	struct lunar_cmd *cmd = cmd_alloc(NULL);
	struct iovec ring_iov[1] = { { data[0], 64 } };

	(void)state;
	assert_non_null(cmd);
	cmd->ring.iov = ring_iov;
	cmd->ring.iov_cnt = UINT32_MAX;
	cmd->ring.iov_bidi_cnt = UINT32_MAX;
	assert_null(cmd_reset_iov(cmd));
	assert_null(cmd->lib.iovec);
	assert_int_equal(cmd->lib.iov_cnt, 0);
	assert_null(cmd_iov_for(cmd, 64));
	assert_null(cmd->lib.iovec);
	cmd->ring.iov = NULL;
	cmd_free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_restores_consumed_copy),
		cmocka_unit_test(test_failed_copy_is_never_the_ring_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
