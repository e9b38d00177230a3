/*
 * lunard's command line: tcmu-runner 1.5.4's options plus lunar's own.
 */
#ifndef LUNAR_OPTIONS_H
#define LUNAR_OPTIONS_H

#include <stdbool.h>

#include "runner/build_config.h"

/* Debian's tcmu-runner path when installed under /usr, as the package is. */
#define DEFAULT_HANDLER_PATH LUNAR_HANDLER_INSTALL_DIR
#define DEFAULT_CONFIG_PATH "/etc/tcmu/tcmu.conf"
#define DEFAULT_LOG_DIR "/var/log"

struct options {
	bool debug;			/* -d */
	unsigned long nofile;		/* -f N, 0 = leave the limit alone */
	const char *handler_path;	/* --handler-path */
	const char *log_dir;		/* -l, default when tcmu.conf has none */
	const char *config_path;	/* --config (lunar) */
	const char *sim_socket;		/* --sim-socket (lunar) */
	bool version;			/* -V */
	bool help;			/* -h */
};

/*
 * Parse argv.  Returns 0, or -1 after printing why to stderr (the caller
 * prints usage and exits 1).
 */
int options_parse(int argc, char **argv, struct options *o);
void options_usage(const char *prog);

#endif
