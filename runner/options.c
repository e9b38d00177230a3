/*
 * Command line parsing.  See options.h.
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "attr.h"

/* tcmu-runner's bounds for -f/--nofile. */
#define NOFILE_MIN 65536ul
#define NOFILE_MAX 1048576ul

enum {
	OPT_HANDLER_PATH = 256,
	OPT_CONFIG,
	OPT_SIM_SOCKET,
};

static const struct option long_opts[] = {
	{ "debug", no_argument, NULL, 'd' },
	{ "nofile", required_argument, NULL, 'f' },
	{ "handler-path", required_argument, NULL, OPT_HANDLER_PATH },
	{ "tcmu-log-dir", required_argument, NULL, 'l' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "sim-socket", required_argument, NULL, OPT_SIM_SOCKET },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void options_usage(const char *prog)
{
	printf("Usage: %s [options]\n"
	       "  -d, --debug               log at debug level (tcmu.conf log_level wins)\n"
	       "  -f, --nofile N            raise the open file limit to N (%lu..%lu)\n"
	       "      --handler-path DIR    load handler_*.so from DIR (default %s)\n"
	       "  -l, --tcmu-log-dir DIR    log directory unless tcmu.conf sets log_dir (default %s)\n"
	       "      --config FILE         configuration file (default %s)\n"
	       "      --sim-socket PATH     serve simulated devices offered on PATH (simring)\n"
	       "  -V, --version             print the version and exit\n"
	       "  -h, --help                print this help and exit\n",
	       prog, NOFILE_MIN, NOFILE_MAX, DEFAULT_HANDLER_PATH,
	       DEFAULT_LOG_DIR, DEFAULT_CONFIG_PATH);
}

static int parse_nofile(const char *arg, unsigned long *out)
{
	uint64_t v;

	if (parse_u64(arg, &v) || v < NOFILE_MIN || v > NOFILE_MAX) {
		fprintf(stderr, "--nofile must be a number from %lu to %lu\n",
			NOFILE_MIN, NOFILE_MAX);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

int options_parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){
		.handler_path = DEFAULT_HANDLER_PATH,
		.log_dir = DEFAULT_LOG_DIR,
		.config_path = DEFAULT_CONFIG_PATH,
	};
	if (getenv("TCMU_LOGDIR"))
		o->log_dir = getenv("TCMU_LOGDIR");
	optind = 1;
	while ((c = getopt_long(argc, argv, "df:l:Vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->debug = true;
			break;
		case 'f':
			if (parse_nofile(optarg, &o->nofile))
				return -1;
			break;
		case 'l':
			o->log_dir = optarg;
			break;
		case OPT_HANDLER_PATH:
			o->handler_path = optarg;
			break;
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_SIM_SOCKET:
			o->sim_socket = optarg;
			break;
		case 'V':
			o->version = true;
			break;
		case 'h':
			o->help = true;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	return 0;
}
