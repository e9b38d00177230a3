/*
 * handler_rbd's cfgstring parser (handlers/rbd/cfgstring.c): every form
 * tcmu-runner 1.5.4 opens means the same, the new forms (namespace,
 * snapshot) parse, and malformed strings get an actionable reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd.h"

struct expect {
	const char *cfgstring;
	const char *pool, *ns, *image, *snap, *conf, *id;
	unsigned int timeout;
};

static void check_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void parses(const struct expect *e)
{
	struct lrbd_cfg cfg;
	char *reason = NULL;

	if (lrbd_cfg_parse(e->cfgstring, &cfg, &reason))
		fail_msg("'%s' refused: %s", e->cfgstring, reason);
	check_str(cfg.pool, e->pool);
	check_str(cfg.ns, e->ns);
	check_str(cfg.image, e->image);
	check_str(cfg.snap, e->snap);
	check_str(cfg.conf, e->conf);
	check_str(cfg.id, e->id);
	assert_int_equal(cfg.osd_op_timeout, e->timeout);
	lrbd_cfg_free(&cfg);
}

/* What ceph-iscsi and targetcli write, as tcmu-runner 1.5.4 reads it. */
static void test_tcmu_runner_forms(void **state)
{
	static const struct expect forms[] = {
		{ "rbd/rbd/disk_1", "rbd", NULL, "disk_1", NULL, NULL, NULL, 0 },
		{ "rbd/rbd/disk_1;osd_op_timeout=30", "rbd", NULL, "disk_1", NULL, NULL, NULL, 30 },
		{ "rbd/data/img;osd_op_timeout=30;conf=/etc/ceph/c2.conf;id=iscsi",
		  "data", NULL, "img", NULL, "/etc/ceph/c2.conf", "iscsi", 30 },
		{ "rbd/p/i;id=gw;conf=/c.conf", "p", NULL, "i", NULL, "/c.conf", "gw", 0 },
		/* strtok() in 1.5.4: leading slashes and empty options vanish. */
		{ "rbd//p/i", "p", NULL, "i", NULL, NULL, NULL, 0 },
		{ "rbd/p/i;;osd_op_timeout=5;", "p", NULL, "i", NULL, NULL, NULL, 5 },
		/* A later option wins, as its loop overwrote. */
		{ "rbd/p/i;id=a;id=b", "p", NULL, "i", NULL, NULL, "b", 0 },
		/* The runner's own option is left to the runner. */
		{ "rbd/p/i;tcmur_cmd_time_out=10", "p", NULL, "i", NULL, NULL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		parses(&forms[i]);
}

static void test_namespace_and_snapshot(void **state)
{
	static const struct expect forms[] = {
		{ "rbd/p/ns/i", "p", "ns", "i", NULL, NULL, NULL, 0 },
		{ "rbd/p/i@snap1", "p", NULL, "i", "snap1", NULL, NULL, 0 },
		{ "rbd/p/ns/i@s;osd_op_timeout=40", "p", "ns", "i", "s", NULL, NULL, 40 },
	};
	struct lrbd_cfg cfg;
	char name[64];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		parses(&forms[i]);
	assert_int_equal(lrbd_cfg_parse("rbd/p/ns/i@s", &cfg, NULL), 0);
	lrbd_cfg_format(&cfg, name, sizeof(name));
	assert_string_equal(name, "p/ns/i@s");
	lrbd_cfg_free(&cfg);
}

static void refused(const char *cfgstring, const char *why)
{
	struct lrbd_cfg cfg;
	char *reason = NULL;

	assert_int_equal(lrbd_cfg_parse(cfgstring, &cfg, &reason), -EINVAL);
	assert_non_null(reason);
	if (!strstr(reason, why))
		fail_msg("'%s': reason '%s' lacks '%s'", cfgstring, reason, why);
	free(reason);
	/* Nothing is left allocated in cfg. */
	assert_null(cfg.pool);
	assert_null(cfg.image);
	assert_null(cfg.conf);
}

static void test_malformed(void **state)
{
	(void)state;
	refused("rbd", "want rbd/<pool>");
	refused("rbd/", "want rbd/<pool>");
	refused("rbd/onlyimage", "want rbd/<pool>");
	refused("rbd/p/", "want rbd/<pool>");
	refused("rbd/p//i", "want rbd/<pool>");
	refused("rbd/p/a/b/c", "want rbd/<pool>");
	refused("rbd/p/i@", "empty image or snapshot");
	refused("rbd/p/@s", "empty image or snapshot");
	refused("rbd/p/i;osd_op_timout=30", "unknown option 'osd_op_timout'");
	refused("rbd/p/i;osd_op_timeout", "has no value");
	refused("rbd/p/i;osd_op_timeout=", "osd_op_timeout=");
	refused("rbd/p/i;osd_op_timeout=-1", "whole seconds");
	refused("rbd/p/i;osd_op_timeout=30s", "whole seconds");
	refused("rbd/p/i;osd_op_timeout=99999", "whole seconds");
	refused("rbd/p/i;conf=", "conf= needs a value");
	refused("rbd/p/i;conf=/c;id=", "id= needs a value");
}

static void test_no_reason_pointer(void **state)
{
	struct lrbd_cfg cfg;

	(void)state;
	assert_int_equal(lrbd_cfg_parse("rbd/x", &cfg, NULL), -EINVAL);
	assert_int_equal(lrbd_cfg_parse(NULL, &cfg, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcmu_runner_forms),
		cmocka_unit_test(test_namespace_and_snapshot),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_reason_pointer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
