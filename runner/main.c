/*
 * lunard: the TCMU userspace daemon.
 *
 * Start-up: options, tcmu.conf, logging, open-file limit, handlers, then
 * the control planes (the simulated one with --sim-socket), then the GLib
 * main loop until SIGINT/SIGTERM.  SIGHUP reopens the log file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "control/sim_server.h"
#include "events.h"
#include "handler.h"
#include "log.h"
#include "options.h"
#include "version.h"

static gboolean on_stop(gpointer loop)
{
	lunar_info(NULL, "stop requested; draining devices");
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer unused)
{
	(void)unused;
	if (log_reopen())
		lunar_err(NULL, "cannot reopen the log file");
	else
		lunar_info(NULL, "log file reopened");
	return G_SOURCE_CONTINUE;
}

static int raise_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

static int setup_logging(const struct options *o)
{
	struct config cfg;
	const char *dir = o->log_dir;
	int ret;

	log_set_level(o->debug ? TCMU_LOG_DEBUG_SCSI_CMD : TCMU_LOG_INFO);
	ret = config_load(o->config_path, &cfg);
	if (ret)
		lunar_warn(NULL, "cannot read %s: %s; using defaults",
			   o->config_path, strerror(-ret));
	if (cfg.has_log_level)
		log_set_level(cfg.log_level);
	if (cfg.has_log_dir)
		dir = cfg.log_dir;
	ret = log_open(dir);
	if (ret)
		lunar_warn(NULL, "cannot log to %s/lunard.log: %s; logging to stderr only",
			   dir, strerror(-ret));
	return 0;
}

static int serve(const struct options *o)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	int ret = 0;

	g_unix_signal_add(SIGINT, on_stop, loop);
	g_unix_signal_add(SIGTERM, on_stop, loop);
	g_unix_signal_add(SIGHUP, on_hup, NULL);
	if (o->sim_socket) {
		ret = sim_server_start(o->sim_socket);
		if (ret) {
			lunar_err(NULL, "cannot listen on %s: %s", o->sim_socket,
				  strerror(-ret));
			goto out;
		}
	}
	lunar_info(NULL, "lunard %s ready", LUNAR_VERSION);
	g_main_loop_run(loop);
	sim_server_stop();
out:
	g_main_loop_unref(loop);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	int ret, n;

	if (options_parse(argc, argv, &o)) {
		options_usage(argv[0]);
		return 1;
	}
	if (o.help) {
		options_usage(argv[0]);
		return 0;
	}
	if (o.version) {
		printf("lunard %s (tcmu-runner 1.5.4 handler ABI)\n", LUNAR_VERSION);
		return 0;
	}
	setup_logging(&o);
	if (o.nofile && (ret = raise_nofile(o.nofile))) {
		lunar_err(NULL, "cannot raise the open file limit to %lu: %s",
			  o.nofile, strerror(-ret));
		return 1;
	}
	n = handlers_load_dir(o.handler_path);
	lunar_info(NULL, "%d handler(s) loaded from %s", n < 0 ? 0 : n,
		   o.handler_path);

	ret = serve(&o);

	events_shutdown();
	handlers_unload_all();
	lunar_info(NULL, "lunard stopped");
	log_close();
	return ret ? 1 : 0;
}
