/*
 * The handler loader: files that register several handlers, files that
 * are not handlers, duplicate subtypes, unloading and loading again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "handler.h"

/* handler_slow.so registers two handlers, "slow" and "slowx". */
static void two_handlers_one_file(void **state)
{
	(void)state;
	assert_int_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	assert_non_null(handlers_find("slow/a"));
	assert_non_null(handlers_find("slowx/a"));
	assert_ptr_not_equal(handlers_find("slow/a"), handlers_find("slowx/a"));
	assert_null(handlers_find("slo/a"));	/* exact subtype, no prefix */
	assert_null(handlers_find("slow"));	/* no '/' */
	/* Closing the file with the first handler would unmap the second's ops. */
	handlers_unload_all();
	assert_null(handlers_find("slow/a"));
	assert_null(handlers_find("slowx/a"));
	assert_int_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	assert_non_null(handlers_find("slowx/a"));
	handlers_unload_all();
}

static void same_subtypes_twice(void **state)
{
	(void)state;
	assert_int_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	/* Every subtype the second copy offers is taken: nothing registers. */
	assert_int_not_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	assert_non_null(handlers_find("slow/a"));
	handlers_unload_all();
}

static void not_a_handler(void **state)
{
	(void)state;
	assert_int_equal(handlers_load_file("/nonexistent/handler_x.so"), -ENOEXEC);
	/* A real shared object without handler_init(). */
	assert_int_equal(handlers_load_file(NOT_A_HANDLER_PATH), -ENOEXEC);
	assert_int_equal(handlers_load_dir("/nonexistent-dir"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_handlers_one_file),
		cmocka_unit_test(same_subtypes_twice),
		cmocka_unit_test(not_a_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
