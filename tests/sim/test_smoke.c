/*
 * Smoke test: the ram handler through the whole core over simring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
