/*
 * tcmu.conf parsing.  See config.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONFIG_MAX (2 * 1024 * 1024)

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static char *unquote(char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v[len - 1] = '\0';
		return v + 1;
	}
	return v;
}

/*
 * A number of seconds for key into *out; a value that is not a number or
 * does not fit in unsigned int (4294967296 must not become 0) is ignored
 * with a warning, leaving *out as it was.
 */
static void parse_seconds(const char *key, const char *value, unsigned int *out)
{
	unsigned long long n;

	if (!value || !isdigit((unsigned char)*value)) {
		lunar_warn(NULL, "tcmu.conf: %s needs a number of seconds; ignored", key);
		return;
	}
	errno = 0;
	n = strtoull(value, NULL, 10);
	if (errno || n > UINT_MAX) {
		lunar_warn(NULL, "tcmu.conf: %s = %s is out of range; ignored", key, value);
		return;
	}
	*out = (unsigned int)n;
}

static void apply(struct config *cfg, const char *key, char *value)
{
	if (!strcmp(key, "log_level")) {
		long lvl;

		if (!value || !isdigit((unsigned char)*value)) {
			lunar_warn(NULL, "tcmu.conf: log_level needs a number; ignored");
			return;
		}
		lvl = strtol(value, NULL, 10);
		cfg->has_log_level = true;
		cfg->log_level = lvl > TCMU_LOG_DEBUG_SCSI_CMD ?
				 TCMU_LOG_DEBUG_SCSI_CMD : (int)lvl;
	} else if (!strcmp(key, "log_dir")) {
		if (!value || !*value) {
			lunar_warn(NULL, "tcmu.conf: log_dir needs a path; ignored");
			return;
		}
		cfg->has_log_dir = true;
		snprintf(cfg->log_dir, sizeof(cfg->log_dir), "%s", unquote(value));
	} else if (!strcmp(key, "tcmur_cmd_time_out")) {
		parse_seconds(key, value, &cfg->cmd_time_out_s);
	} else if (!strcmp(key, "failover_budget")) {
		parse_seconds(key, value, &cfg->failover_budget_s);
	} else {
		lunar_warn(NULL, "tcmu.conf: unknown key '%s' ignored", key);
	}
}

void config_parse(const char *text, struct config *cfg)
{
	char *copy = strdup(text), *save = NULL, *line;

	memset(cfg, 0, sizeof(*cfg));
	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq, *key = trim(line);

		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq) {
			*eq = '\0';
			apply(cfg, trim(key), trim(eq + 1));
		} else {
			apply(cfg, key, NULL);
		}
	}
	free(copy);
}

int config_load(const char *path, struct config *cfg)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	memset(cfg, 0, sizeof(*cfg));
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(CONFIG_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_MAX, f);
	fclose(f);
	buf[n] = '\0';
	config_parse(buf, cfg);
	free(buf);
	return 0;
}
