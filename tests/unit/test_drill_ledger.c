/*
 * lunar-drill's ledger: what it calls a lost and a stale write, so a
 * drill reporting "0 lost, 0 stale" means what it says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/drills/ledger.h"

#define CHUNK 4096

struct fx {
	struct ledger l;
	uint8_t buf[4][CHUNK];
};

static int setup(void **state)
{
	static struct fx fx;

	memset(&fx, 0, sizeof(fx));
	*state = &fx;
	return ledger_init(&fx.l, 4);
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	ledger_free(&fx->l);
	return 0;
}

static void test_latest_acked_or_newer_is_fine(void **state)
{
	struct fx *fx = *state;
	uint64_t a = ledger_attempt(&fx->l, 0, fx->buf[0], CHUNK);
	uint64_t b = ledger_attempt(&fx->l, 0, fx->buf[1], CHUNK);

	ledger_ack(&fx->l, a);
	ledger_check(&fx->l, 0, fx->buf[0], CHUNK);	/* the acked one */
	ledger_check(&fx->l, 0, fx->buf[1], CHUNK);	/* unacked but newer */
	assert_true(b > a);
	assert_int_equal(fx->l.lost, 0);
	assert_int_equal(fx->l.stale, 0);
	assert_int_equal(fx->l.checked, 2);
}

static void test_older_abandoned_write_landing_is_stale(void **state)
{
	struct fx *fx = *state;
	uint64_t old = ledger_attempt(&fx->l, 1, fx->buf[0], CHUNK);
	uint64_t newer;

	ledger_abandon(&fx->l, old);		/* in flight on a failed path */
	newer = ledger_attempt(&fx->l, 1, fx->buf[1], CHUNK);
	ledger_ack(&fx->l, newer);
	ledger_check(&fx->l, 1, fx->buf[0], CHUNK);	/* the old one landed last */
	assert_int_equal(fx->l.stale, 1);
	assert_int_equal(fx->l.lost, 0);
}

static void test_acked_write_missing_is_lost(void **state)
{
	struct fx *fx = *state;
	uint64_t first = ledger_attempt(&fx->l, 2, fx->buf[0], CHUNK);
	uint64_t second;
	uint8_t zeros[CHUNK] = { 0 };

	ledger_ack(&fx->l, first);
	second = ledger_attempt(&fx->l, 2, fx->buf[1], CHUNK);
	ledger_ack(&fx->l, second);
	ledger_check(&fx->l, 2, fx->buf[0], CHUNK);	/* second vanished */
	ledger_check(&fx->l, 2, zeros, CHUNK);		/* nothing at all */
	assert_int_equal(fx->l.lost, 2);
	assert_int_equal(fx->l.stale, 0);
}

static void test_torn_or_foreign_chunk_is_lost(void **state)
{
	struct fx *fx = *state;
	uint64_t a = ledger_attempt(&fx->l, 3, fx->buf[0], CHUNK);
	uint64_t b = ledger_attempt(&fx->l, 3, fx->buf[1], CHUNK);

	ledger_ack(&fx->l, a);
	ledger_ack(&fx->l, b);
	/* Half of b, half of a: neither write is whole. */
	memcpy(fx->buf[2], fx->buf[1], CHUNK / 2);
	memcpy(fx->buf[2] + CHUNK / 2, fx->buf[0] + CHUNK / 2, CHUNK / 2);
	ledger_check(&fx->l, 3, fx->buf[2], CHUNK);
	/* Chunk 0's data where chunk 3's belongs. */
	ledger_attempt(&fx->l, 0, fx->buf[3], CHUNK);
	ledger_check(&fx->l, 3, fx->buf[3], CHUNK);
	assert_int_equal(fx->l.lost, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_latest_acked_or_newer_is_fine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_abandoned_write_landing_is_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acked_write_missing_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_or_foreign_chunk_is_lost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
