/*
 * The handler loader: files that register several handlers, files that
 * are not handlers, duplicate subtypes, a handler_init() that fails after
 * registering, unloading and loading again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/handler.h"

/* Whether the dynamic linker still has path mapped. */
static bool mapped(const char *path)
{
	void *dl = dlopen(path, RTLD_NOLOAD | RTLD_NOW);

	if (dl)
		dlclose(dl);
	return dl != NULL;
}

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
	/* The failed second load let go of its reference to the file. */
	assert_false(mapped(SLOW_HANDLER_PATH));
}

static void not_a_handler(void **state)
{
	(void)state;
	assert_int_equal(handlers_load_file("/nonexistent/handler_x.so"), -ENOEXEC);
	/* A real shared object without handler_init(). */
	assert_int_equal(handlers_load_file(NOT_A_HANDLER_PATH), -ENOEXEC);
	assert_int_equal(handlers_load_dir("/nonexistent-dir"), -ENOENT);
}

/* Counted by handler_bad_init.so's destroy(). */
__attribute__((visibility("default"))) unsigned int bad_init_destroyed;

/*
 * handler_init() registered two handlers and failed: neither stays in the
 * registry (their ops would point into an unmapped, half-initialised
 * file), both were destroyed, the file is unloaded, and loading goes on.
 */
static void init_fails_after_registering(void **state)
{
	(void)state;
	assert_int_equal(handlers_load_file(BAD_INIT_HANDLER_PATH), -EIO);
	assert_null(handlers_first());	/* before a lookup reads their ops */
	assert_null(handlers_find("badinit/x"));
	assert_null(handlers_find("badinit2/x"));
	assert_int_equal(bad_init_destroyed, 2);
	assert_false(mapped(BAD_INIT_HANDLER_PATH));
	assert_int_equal(handlers_load_file(SLOW_HANDLER_PATH), 0);
	assert_non_null(handlers_find("slow/a"));
	assert_true(mapped(SLOW_HANDLER_PATH));
	handlers_unload_all();
	assert_false(mapped(SLOW_HANDLER_PATH));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_handlers_one_file),
		cmocka_unit_test(same_subtypes_twice),
		cmocka_unit_test(not_a_handler),
		cmocka_unit_test(init_fails_after_registering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
