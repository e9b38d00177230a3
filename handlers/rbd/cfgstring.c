/*
 * The rbd cfgstring, tcmu-runner 1.5.4's grammar extended:
 *
 *   rbd/<pool>[/<namespace>]/<image>[@<snap>][;osd_op_timeout=N][;conf=PATH][;id=USER]
 *
 * Every string 1.5.4 opens means the same here: leading slashes before the
 * pool are skipped and empty options ignored, as its strtok() did.  New:
 * a namespace (1.5.4 took "ns/image" as an image name, which cannot exist)
 * and a snapshot (read-only).  Unlike 1.5.4, which ignored options it did
 * not know, an unknown option is an error: a misspelt osd_op_timeout would
 * otherwise silently leave the timeout at its default.  The runner's own
 * ;tcmur_cmd_time_out=N is accepted and left to the runner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"

/* Longer timeouts are a configuration mistake, not a wish. */
#define OSD_OP_TIMEOUT_MAX 3600

int lrbd_fail(char **reason, int err, const char *fmt, ...)
{
	va_list ap;

	if (reason) {
		va_start(ap, fmt);
		if (vasprintf(reason, fmt, ap) < 0)
			*reason = NULL;
		va_end(ap);
	}
	return err;
}

static int parse_timeout(const char *val, unsigned int *out, char **reason)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (!*val || *end || errno || v < 1 || v > OSD_OP_TIMEOUT_MAX)
		return lrbd_fail(reason, -EINVAL, "osd_op_timeout=%s: want whole seconds, 1..%d",
			   val, OSD_OP_TIMEOUT_MAX);
	*out = (unsigned int)v;
	return 0;
}

static int set_string(char **field, const char *key, const char *val,
		      char **reason)
{
	if (!*val)
		return lrbd_fail(reason, -EINVAL, "%s= needs a value", key);
	free(*field);
	*field = strdup(val);
	return *field ? 0 : -ENOMEM;
}

/* One "key=value" option. */
static int parse_option(char *opt, struct lrbd_cfg *cfg, char **reason)
{
	char *val = strchr(opt, '=');

	if (!val)
		return lrbd_fail(reason, -EINVAL, "option '%s' has no value (osd_op_timeout=N, conf=PATH, id=USER)",
			   opt);
	*val++ = '\0';
	if (!strcmp(opt, "osd_op_timeout"))
		return parse_timeout(val, &cfg->osd_op_timeout, reason);
	if (!strcmp(opt, "conf"))
		return set_string(&cfg->conf, opt, val, reason);
	if (!strcmp(opt, "id"))
		return set_string(&cfg->id, opt, val, reason);
	if (!strcmp(opt, "tcmur_cmd_time_out"))
		return 0;
	return lrbd_fail(reason, -EINVAL, "unknown option '%s' (known: osd_op_timeout, conf, id)", opt);
}

/* Split spec at '/' into at most 3 non-empty parts; returns their count. */
static int split_path(char *spec, char *part[3])
{
	int n = 0;
	char *p = spec;

	for (;;) {
		char *slash = strchr(p, '/');

		if (n == 3 || !*p || slash == p)
			return -1;
		part[n++] = p;
		if (!slash)
			return n;
		*slash = '\0';
		p = slash + 1;
	}
}

/* "<pool>[/<ns>]/<image>[@<snap>]" */
static int parse_path(char *spec, struct lrbd_cfg *cfg, char **reason)
{
	char *part[3], *at, given[256];
	int n;

	while (*spec == '/')
		spec++;
	snprintf(given, sizeof(given), "%s", spec);
	n = split_path(spec, part);
	if (n < 2)
		return lrbd_fail(reason, -EINVAL, "want rbd/<pool>[/<namespace>]/<image>[@<snap>], got '%s'",
				 given);
	at = strchr(part[n - 1], '@');
	if (at) {
		*at++ = '\0';
		if (!*at || !*part[n - 1])
			return lrbd_fail(reason, -EINVAL, "empty image or snapshot name in '%s@%s'",
				   part[n - 1], at);
		cfg->snap = strdup(at);
	}
	cfg->pool = strdup(part[0]);
	cfg->ns = n == 3 ? strdup(part[1]) : NULL;
	cfg->image = strdup(part[n - 1]);
	if (!cfg->pool || !cfg->image || (n == 3 && !cfg->ns) || (at && !cfg->snap))
		return -ENOMEM;
	return 0;
}

int lrbd_cfg_parse(const char *cfgstring, struct lrbd_cfg *cfg, char **reason)
{
	const char *slash = cfgstring ? strchr(cfgstring, '/') : NULL;
	char *copy, *opts, *opt, *save = NULL;
	int ret;

	*cfg = (struct lrbd_cfg){ 0 };
	if (!slash)
		return lrbd_fail(reason, -EINVAL, "want rbd/<pool>[/<namespace>]/<image>..., got '%s'",
			   cfgstring ? cfgstring : "");
	copy = strdup(slash + 1);
	if (!copy)
		return -ENOMEM;
	opts = strchr(copy, ';');
	if (opts)
		*opts++ = '\0';
	ret = parse_path(copy, cfg, reason);
	for (opt = opts ? strtok_r(opts, ";", &save) : NULL; !ret && opt;
	     opt = strtok_r(NULL, ";", &save))
		ret = parse_option(opt, cfg, reason);
	free(copy);
	if (ret)
		lrbd_cfg_free(cfg);
	return ret;
}

void lrbd_cfg_free(struct lrbd_cfg *cfg)
{
	free(cfg->pool);
	free(cfg->ns);
	free(cfg->image);
	free(cfg->snap);
	free(cfg->conf);
	free(cfg->id);
	*cfg = (struct lrbd_cfg){ 0 };
}

void lrbd_cfg_format(const struct lrbd_cfg *cfg, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s%s%s%s%s", cfg->pool,
		 cfg->ns ? cfg->ns : "", cfg->ns ? "/" : "", cfg->image,
		 cfg->snap ? "@" : "", cfg->snap ? cfg->snap : "");
}
