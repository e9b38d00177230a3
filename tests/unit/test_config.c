/*
 * runner/config.c (tcmu.conf, tcmu-runner 1.5.4 syntax) and
 * runner/options.c (lunard's command line, 1.5.4's options plus lunar's).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cluster/budget.h"
#include "runner/config.h"
#include "runner/options.h"

static struct config cfg;

static void parse(const char *text)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	config_parse(text, &cfg);
}

static void test_syntax(void **state)
{
	(void)state;
	parse("# tcmu.conf\n"
	      "\n"
	      "   \t\n"
	      "  # an indented comment\n"
	      "log_level = 4\n"
	      "log_dir = \"/var/log/lunar\"\n");
	assert_true(cfg.has_log_level);
	assert_int_equal(cfg.log_level, 4);
	assert_true(cfg.has_log_dir);
	assert_string_equal(cfg.log_dir, "/var/log/lunar");

	parse("log_dir='/tmp/a b'\nlog_level=0");
	assert_string_equal(cfg.log_dir, "/tmp/a b");
	assert_true(cfg.has_log_level);
	assert_int_equal(cfg.log_level, 0);

	parse("  log_dir   =   /srv/logs   \r\n");
	assert_string_equal(cfg.log_dir, "/srv/logs");
	assert_false(cfg.has_log_level);

	/* Quotes that do not pair are part of the value. */
	parse("log_dir = \"/x'\n");
	assert_string_equal(cfg.log_dir, "\"/x'");

	/* The last assignment wins; a commented-out one does not count. */
	parse("log_level = 2\nlog_level = 3\n#log_level = 1\n");
	assert_int_equal(cfg.log_level, 3);
}

static void test_defaults(void **state)
{
	(void)state;
	parse("");
	assert_false(cfg.has_log_level);
	assert_false(cfg.has_log_dir);
	assert_int_equal(cfg.log_level, 0);
	assert_string_equal(cfg.log_dir, "");
	parse("# nothing but a comment");
	assert_false(cfg.has_log_level);
	assert_false(cfg.has_log_dir);
}

/* Unknown keys, bare or with a value, change nothing. */
static void test_unknown_keys(void **state)
{
	(void)state;
	parse("foo = 1\nenable_everything\nlog_levels = 2\nLOG_LEVEL = 2\n"
	      "bar = \"baz\"\n");
	assert_false(cfg.has_log_level);
	assert_false(cfg.has_log_dir);
	parse("foo = 1\nlog_level = 1\nzzz\n");
	assert_true(cfg.has_log_level);
	assert_int_equal(cfg.log_level, 1);
}

static void test_log_level_values(void **state)
{
	(void)state;
	parse("log_level = 9");
	assert_int_equal(cfg.log_level, 5);
	parse("log_level = 99999999999999999999999");
	assert_int_equal(cfg.log_level, 5);
	parse("log_level = 5");
	assert_int_equal(cfg.log_level, 5);
	parse("log_level = 3 # info");
	assert_true(cfg.has_log_level);
	assert_int_equal(cfg.log_level, 3);

	/* Not a number: ignored, the earlier value stays. */
	parse("log_level = 2\nlog_level = debug\n");
	assert_int_equal(cfg.log_level, 2);
	parse("log_level = debug");
	assert_false(cfg.has_log_level);
	parse("log_level = \"3\"");
	assert_false(cfg.has_log_level);
	parse("log_level = -1");
	assert_false(cfg.has_log_level);
	parse("log_level");
	assert_false(cfg.has_log_level);
	parse("log_level =");
	assert_false(cfg.has_log_level);
	parse("log_dir");
	assert_false(cfg.has_log_dir);
	parse("log_dir = ");
	assert_false(cfg.has_log_dir);
}

/* lunar's HA keys: seconds, ignored unless a number. */
static void test_ha_keys(void **state)
{
	(void)state;
	parse("failover_budget = 30\ntcmur_cmd_time_out = 15\n");
	assert_int_equal(cfg.failover_budget_s, 30);
	assert_int_equal(cfg.cmd_time_out_s, 15);
	parse("failover_budget = soon\ntcmur_cmd_time_out\n");
	assert_int_equal(cfg.failover_budget_s, 0);
	assert_int_equal(cfg.cmd_time_out_s, 0);
	/* Too large for unsigned int: ignored, never wrapped to 0 or 1. */
	parse("tcmur_cmd_time_out = 7\ntcmur_cmd_time_out = 4294967296\n"
	      "failover_budget = 4294967297\n");
	assert_int_equal(cfg.cmd_time_out_s, 7);
	assert_int_equal(cfg.failover_budget_s, 0);
	parse("tcmur_cmd_time_out = 99999999999999999999999\n");
	assert_int_equal(cfg.cmd_time_out_s, 0);
	parse("tcmur_cmd_time_out = 4294967295\n");
	assert_int_equal(cfg.cmd_time_out_s, 4294967295u);
	assert_int_equal(budget_set_s(1), -ERANGE);
	assert_int_equal(budget_set_s(601), -ERANGE);
	assert_int_equal(budget_set_s(20), 0);
	assert_int_equal(budget_holddown_ms(), 4000);
	assert_int_equal(budget_op_timeout_s(), 10);
	assert_int_equal(budget_kernel_cmd_timeout_s(), 24);
	assert_int_equal(budget_hang_ms(), 4000);
	assert_int_equal(budget_set_s(2), 0);
	assert_int_equal(budget_kernel_cmd_timeout_s(), 3);
	assert_int_equal(budget_hang_ms(), 1000);
	assert_int_equal(budget_set_s(BUDGET_DEFAULT_S), 0);
	assert_int_equal(budget_kernel_cmd_timeout_s(), 12);
	assert_int_equal(budget_hang_ms(), 2000);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/lunar-unit-conf-XXXXXX";
	const char *text = "log_level = 1\nlog_dir = /tmp/from-file\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(config_load(path, &cfg), 0);
	assert_int_equal(cfg.log_level, 1);
	assert_string_equal(cfg.log_dir, "/tmp/from-file");
	unlink(path);

	/* A missing file is not an error: everything default. */
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(config_load(path, &cfg), 0);
	assert_false(cfg.has_log_level);
	assert_false(cfg.has_log_dir);
}

static struct options opts;

#define PARSE(...) parse_args((char *[]){ "lunard", __VA_ARGS__, NULL })

static int parse_args(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return options_parse(argc, argv, &opts);
}

static int setup_env(void **state)
{
	(void)state;
	unsetenv("TCMU_LOGDIR");
	return 0;
}

static void test_option_defaults(void **state)
{
	char *argv[] = { "lunard", NULL };

	(void)state;
	assert_int_equal(parse_args(argv), 0);
	assert_false(opts.debug);
	assert_int_equal(opts.nofile, 0);
	/* Where the handlers are installed; Debian's tcmu-runner path for
	 * the package (tests/package/check-deb.sh checks lunard -h there). */
	assert_string_equal(opts.handler_path, LUNAR_HANDLER_INSTALL_DIR);
	assert_string_equal(opts.log_dir, "/var/log");
	assert_string_equal(opts.config_path, "/etc/tcmu/tcmu.conf");
	assert_null(opts.sim_socket);
	assert_false(opts.version);
	assert_false(opts.help);
}

static void test_option_flags(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-d"), 0);
	assert_true(opts.debug);
	assert_int_equal(PARSE("--debug"), 0);
	assert_true(opts.debug);
	assert_int_equal(PARSE("-V"), 0);
	assert_true(opts.version);
	assert_false(opts.help);
	assert_int_equal(PARSE("--version"), 0);
	assert_true(opts.version);
	assert_int_equal(PARSE("-h"), 0);
	assert_true(opts.help);
	assert_int_equal(PARSE("--help"), 0);
	assert_true(opts.help);
	assert_int_equal(PARSE("-dV"), 0);
	assert_true(opts.debug);
	assert_true(opts.version);
}

/* 1.5.4 accepts [65536, 1048576] for -f/--nofile. */
static void test_option_nofile(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-f", "65535"), -1);
	assert_int_equal(PARSE("-f", "65536"), 0);
	assert_int_equal(opts.nofile, 65536);
	assert_int_equal(PARSE("--nofile", "1048576"), 0);
	assert_int_equal(opts.nofile, 1048576);
	assert_int_equal(PARSE("--nofile=100000"), 0);
	assert_int_equal(opts.nofile, 100000);
	assert_int_equal(PARSE("-f100000"), 0);
	assert_int_equal(opts.nofile, 100000);
	assert_int_equal(PARSE("-f", "1048577"), -1);
	assert_int_equal(PARSE("-f", "0"), -1);
	assert_int_equal(PARSE("-f", "abc"), -1);
	assert_int_equal(PARSE("-f", "65536x"), -1);
	assert_int_equal(PARSE("-f", ""), -1);
	assert_int_equal(PARSE("-f", "-65536"), -1);
	assert_int_equal(PARSE("-f", "99999999999999999999999"), -1);
	assert_int_equal(PARSE("-f"), -1);
}

static void test_option_paths(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--handler-path", "/opt/handlers"), 0);
	assert_string_equal(opts.handler_path, "/opt/handlers");
	assert_int_equal(PARSE("--handler-path=/h2"), 0);
	assert_string_equal(opts.handler_path, "/h2");
	assert_int_equal(PARSE("-l", "/tmp/logs"), 0);
	assert_string_equal(opts.log_dir, "/tmp/logs");
	assert_int_equal(PARSE("--tcmu-log-dir", "/tmp/l2"), 0);
	assert_string_equal(opts.log_dir, "/tmp/l2");
	assert_int_equal(PARSE("--config", "/etc/lunar.conf"), 0);
	assert_string_equal(opts.config_path, "/etc/lunar.conf");
	assert_int_equal(PARSE("--sim-socket", "/run/lunar.sock"), 0);
	assert_string_equal(opts.sim_socket, "/run/lunar.sock");
	/* --handler-path has no short form. */
	assert_int_equal(PARSE("-p", "/x"), -1);
}

/* TCMU_LOGDIR sets the default log directory; -l still wins. */
static void test_option_env_log_dir(void **state)
{
	char *argv[] = { "lunard", NULL };

	(void)state;
	setenv("TCMU_LOGDIR", "/env/logs", 1);
	assert_int_equal(parse_args(argv), 0);
	assert_string_equal(opts.log_dir, "/env/logs");
	assert_int_equal(PARSE("-l", "/cli/logs"), 0);
	assert_string_equal(opts.log_dir, "/cli/logs");
	unsetenv("TCMU_LOGDIR");
	assert_int_equal(parse_args(argv), 0);
	assert_string_equal(opts.log_dir, "/var/log");
}

static void test_option_rejects(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-x"), -1);
	assert_int_equal(PARSE("--bogus"), -1);
	assert_int_equal(PARSE("stray"), -1);
	assert_int_equal(PARSE("-d", "stray"), -1);
	assert_int_equal(PARSE("stray", "-d"), -1);
	assert_int_equal(PARSE("-l"), -1);
	assert_int_equal(PARSE("--handler-path"), -1);
	/* A good parse after the failures starts from scratch. */
	assert_int_equal(PARSE("-d"), 0);
	assert_true(opts.debug);
	assert_int_equal(opts.nofile, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_log_level_values),
		cmocka_unit_test(test_ha_keys),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test_setup(test_option_defaults, setup_env),
		cmocka_unit_test_setup(test_option_flags, setup_env),
		cmocka_unit_test_setup(test_option_nofile, setup_env),
		cmocka_unit_test_setup(test_option_paths, setup_env),
		cmocka_unit_test_setup(test_option_env_log_dir, setup_env),
		cmocka_unit_test_setup(test_option_rejects, setup_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
