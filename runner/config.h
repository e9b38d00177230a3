/*
 * /etc/tcmu/tcmu.conf, tcmu-runner 1.5.4's syntax: "key = value" lines,
 * '#' comments, a bare key means true, values starting with a digit are
 * numbers, strings may be quoted.  Known keys: log_level (0..5, clamped),
 * log_dir, and lunar's failover_budget (seconds, cluster/budget.h) and
 * tcmur_cmd_time_out (seconds: the command timeout of devices whose
 * cfgstring sets none).
 * Unknown keys are ignored with a warning.
 */
#ifndef LUNAR_CONFIG_H
#define LUNAR_CONFIG_H

#include <limits.h>
#include <stdbool.h>

struct config {
	bool has_log_level;
	int log_level;
	bool has_log_dir;
	char log_dir[PATH_MAX];
	unsigned int failover_budget_s;	/* 0: not set */
	unsigned int cmd_time_out_s;	/* 0: not set */
};

/* 0 (also when the file does not exist: all defaults) or -errno. */
int config_load(const char *path, struct config *cfg);

/* Parse text (for tests and config_load). */
void config_parse(const char *text, struct config *cfg);

#endif
