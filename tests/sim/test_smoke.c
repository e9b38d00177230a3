/*
 * Smoke test: the ram handler through the whole core over simring; and
 * the simulated initiator itself: a signal arriving while it waits for a
 * command neither fails the command nor loses its result.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/handler.h"
#include "tests/shared/siminit.h"

static void write_read_back(void **state)
{
	struct siminit_opts o = { .cfgstring = "ram/smoke" };
	struct scsi_result res;
	struct siminit *si;
	uint8_t out[8 * 512], in[8 * 512];

	(void)state;
	assert_int_equal(siminit_load_handlers(LUNAR_HANDLER_DIR), 0);
	assert_int_equal(siminit_open(&o, &si), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(siminit_write(si, 100, 8, out, &res), 0);
	assert_int_equal(res.status, 0);
	memset(in, 0, sizeof(in));
	assert_int_equal(siminit_read(si, 100, 8, in, &res), 0);
	assert_int_equal(res.status, 0);
	assert_memory_equal(in, out, sizeof(out));
	siminit_close(si);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

static void *interrupt_later(void *arg)
{
	usleep(50 * 1000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/* The slow handler holds the read 300 ms; SIGUSR1 lands 50 ms into the wait. */
static void signal_during_wait(void **state)
{
	struct siminit_opts o = { .cfgstring = "slow/sig;hold_ms=300" };
	struct sigaction sa = { .sa_handler = ignore_signal }, old;
	pthread_t self = pthread_self(), thread;
	struct scsi_result res;
	struct siminit *si;
	uint8_t in[512];

	(void)state;
	assert_int_equal(siminit_load_handlers(LUNAR_HANDLER_DIR), 0);
	assert_int_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	assert_int_equal(siminit_open(&o, &si), 0);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&thread, NULL, interrupt_later, &self), 0);
	assert_int_equal(siminit_read(si, 0, 1, in, &res), 0);
	assert_int_equal(res.status, 0);
	pthread_join(thread, NULL);
	sigaction(SIGUSR1, &old, NULL);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_read_back),
		cmocka_unit_test(signal_during_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
