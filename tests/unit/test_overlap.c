/*
 * runner/overlap.c: ordering of overlapping media commands.  Plain ranges
 * never wait for each other; an exclusive range waits for every
 * overlapping range and holds back later overlapping ones (FIFO), and is
 * resumed exactly once when it may run; waiting ranges can be cancelled.
 * The tracker only stores command pointers, so the commands are zeroed
 * stand-ins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runner/cmd.h"
#include "runner/overlap.h"

#define N 8

static struct overlap_tracker t;
static struct lunar_cmd cmds[N];
static struct overlap_range r[N];
static struct lunar_cmd *resumed[32];
static int nresumed;

static void resume(struct lunar_cmd *cmd)
{
	assert_true(nresumed < 32);
	resumed[nresumed++] = cmd;
}

static int setup(void **state)
{
	(void)state;
	memset(cmds, 0, sizeof(cmds));
	memset(r, 0, sizeof(r));
	nresumed = 0;
	overlap_init(&t);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	overlap_destroy(&t);
	return 0;
}

/* Register range i over [lba, lba + n); returns whether it runs now. */
static bool admit(int i, uint64_t lba, uint64_t n, bool exclusive)
{
	r[i].lba = lba;
	r[i].nblocks = n;
	r[i].exclusive = exclusive;
	return overlap_admit(&t, &r[i], &cmds[i], resume);
}

static void assert_resumed(int count, const int *which)
{
	assert_int_equal(nresumed, count);
	for (int k = 0; k < count; k++)
		assert_ptr_equal(resumed[k], &cmds[which[k]]);
}

static void test_plain_ranges_never_wait(void **state)
{
	(void)state;
	assert_true(admit(0, 0, 10, false));
	assert_true(admit(1, 5, 10, false));
	assert_true(admit(2, 0, 10, false));
	assert_true(r[2].admitted);
	for (int i = 0; i < 3; i++)
		overlap_release(&t, &r[i]);
	assert_int_equal(nresumed, 0);
	assert_int_equal(t.exclusive_count, 0);
}

/* An exclusive range waits for all overlapping ranges, then runs once. */
static void test_exclusive_waits(void **state)
{
	const int x[1] = { 2 };

	(void)state;
	assert_true(admit(0, 0, 4, false));
	assert_true(admit(1, 4, 4, false));
	assert_false(admit(2, 2, 4, true));	/* overlaps both */
	assert_false(r[2].admitted);
	overlap_release(&t, &r[0]);
	assert_int_equal(nresumed, 0);		/* still blocked by range 1 */
	overlap_release(&t, &r[1]);
	assert_resumed(1, x);
	assert_true(r[2].admitted);
	overlap_release(&t, &r[2]);
	assert_resumed(1, x);
	assert_int_equal(t.exclusive_count, 0);
}

/*
 * Once an exclusive range exists, ranges are admitted through the lists
 * and those that do not overlap (adjacent included) never wait.
 */
static void test_disjoint_ranges_pass(void **state)
{
	(void)state;
	assert_true(admit(1, 10, 10, true));	/* nothing else active */
	assert_true(admit(0, 0, 10, false));	/* adjacent to range 1 */
	assert_true(admit(2, 100, 1, true));
	assert_true(admit(3, 20, 80, false));	/* between the exclusives */
	assert_false(admit(4, 0, 10, true));	/* overlaps 0 */
	assert_false(admit(5, 19, 1, false));	/* overlaps exclusive 1 */
	assert_true(admit(6, 101, 5, false));	/* just past exclusive 2 */
	assert_int_equal(nresumed, 0);
}

/*
 * Plain ranges admitted while nothing exclusive existed are not recorded
 * by LBA: an exclusive range waits for all of them, disjoint or not, and
 * is resumed once when the last one goes.
 */
static void test_exclusive_waits_for_lock_free_ranges(void **state)
{
	const int x[1] = { 2 };

	(void)state;
	assert_true(admit(0, 0, 10, false));
	assert_true(admit(1, 20, 10, false));
	assert_false(admit(2, 500, 1, true));	/* disjoint, still waits */
	overlap_release(&t, &r[0]);
	assert_int_equal(nresumed, 0);
	overlap_release(&t, &r[1]);
	assert_resumed(1, x);
	assert_true(r[2].admitted);
	overlap_release(&t, &r[2]);
	assert_int_equal(t.exclusive_count, 0);
	assert_int_equal(t.fast_active, 0);
}

/* A waiting exclusive holds back later overlapping plain ranges. */
static void test_fifo_no_starvation(void **state)
{
	const int order[2] = { 1, 2 };

	(void)state;
	assert_true(admit(0, 0, 10, false));
	assert_false(admit(1, 0, 10, true));
	/* Plain and overlapping the waiting exclusive: queued behind it. */
	assert_false(admit(2, 5, 1, false));
	/* Plain and clear of it: runs. */
	assert_true(admit(3, 50, 1, false));
	overlap_release(&t, &r[0]);
	assert_resumed(1, order);
	assert_false(r[2].admitted);
	overlap_release(&t, &r[1]);
	assert_resumed(2, order);
	assert_true(r[2].admitted);
}

/* Two exclusives over one range run one after the other, in order. */
static void test_exclusives_in_order(void **state)
{
	const int order[3] = { 1, 2, 3 };

	(void)state;
	assert_true(admit(0, 0, 8, false));
	assert_false(admit(1, 0, 8, true));
	assert_false(admit(2, 4, 8, true));
	assert_false(admit(3, 7, 1, false));
	overlap_release(&t, &r[0]);
	assert_resumed(1, order);
	overlap_release(&t, &r[1]);
	assert_resumed(2, order);
	overlap_release(&t, &r[2]);
	assert_resumed(3, order);
	assert_int_equal(t.exclusive_count, 0);
}

static void test_cancel(void **state)
{
	struct overlap_range never = { 0 };
	const int plain[1] = { 2 };

	(void)state;
	assert_true(admit(0, 0, 10, false));
	assert_false(admit(1, 0, 10, true));
	assert_false(admit(2, 3, 1, false));	/* behind the exclusive */
	assert_false(overlap_cancel(&t, &r[0]));	/* running, not waiting */
	assert_false(overlap_cancel(&t, &never));
	/* Cancelling the exclusive lets the plain range behind it run. */
	assert_true(overlap_cancel(&t, &r[1]));
	assert_resumed(1, plain);
	assert_false(overlap_cancel(&t, &r[1]));
	assert_int_equal(t.exclusive_count, 0);
	overlap_release(&t, &r[0]);
	overlap_release(&t, &r[2]);
	assert_resumed(1, plain);
}

static bool is_aborted(struct lunar_cmd *cmd, const void *arg)
{
	(void)arg;
	return cmd->aborted;
}

static void test_cancel_where(void **state)
{
	struct lunar_cmd *out[N];
	const int left[2] = { 4, 2 };

	(void)state;
	assert_true(admit(0, 0, 100, false));
	assert_false(admit(1, 0, 1, true));
	assert_false(admit(2, 10, 1, true));
	assert_false(admit(3, 20, 1, true));
	assert_false(admit(4, 0, 1, false));	/* behind exclusive 1 */
	cmds[1].aborted = cmds[3].aborted = true;

	assert_int_equal(overlap_cancel_where(&t, is_aborted, NULL, out, 1), 1);
	assert_ptr_equal(out[0], &cmds[1]);
	/* Range 4 no longer waits for anything. */
	assert_resumed(1, left);
	assert_int_equal(overlap_cancel_where(&t, is_aborted, NULL, out, N), 1);
	assert_ptr_equal(out[0], &cmds[3]);
	assert_int_equal(overlap_cancel_where(&t, is_aborted, NULL, out, N), 0);
	assert_int_equal(t.exclusive_count, 1);
	overlap_release(&t, &r[0]);
	assert_resumed(2, left);
}

#define TRACKER_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TRACKER_TEST(test_plain_ranges_never_wait),
		TRACKER_TEST(test_exclusive_waits),
		TRACKER_TEST(test_disjoint_ranges_pass),
		TRACKER_TEST(test_exclusive_waits_for_lock_free_ranges),
		TRACKER_TEST(test_fifo_no_starvation),
		TRACKER_TEST(test_exclusives_in_order),
		TRACKER_TEST(test_cancel),
		TRACKER_TEST(test_cancel_where),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
