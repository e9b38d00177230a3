/*
 * lunard: the TCMU userspace daemon.
 *
 * Start-up: options, tcmu.conf, logging, open-file limit, handlers, then
 * the control plane (the kernel's TCMU devices, or the simulated kernel
 * with --sim-socket), the D-Bus service, and the GLib main loop until
 * SIGINT/SIGTERM, which drain and close every device.  SIGHUP reopens the
 * log file.  The kernel's netlink stays blocked until D-Bus is up, as with
 * tcmu-runner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cluster/budget.h"
#include "cluster/ha.h"
#include "inflight.h"
#include "config.h"
#include "runner/control/dbus.h"
#include "runner/control/guardian.h"
#include "runner/control/host_lock.h"
#include "runner/sim/sim_server.h"
#include "runner/control/kernel_devices.h"
#include "runner/control/uio.h"
#include "events.h"
#include "ha.h"
#include "handler.h"
#include "log.h"
#include "options.h"
#include "runner/build_config.h"

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

/* HA (cluster/): registered with the failover budget of tcmu.conf. */
static void apply_cluster_settings(const struct config *cfg)
{
	tracker_set_default_timeout(cfg->cmd_time_out_s);
	ha_register(&cluster_ha_ops);
	if (cfg->failover_budget_s && budget_set_s(cfg->failover_budget_s))
		lunar_warn(NULL, "tcmu.conf: failover_budget %u s is outside %u..%u; using %u s",
			   cfg->failover_budget_s, BUDGET_MIN_S, BUDGET_MAX_S,
			   budget_s());
	lunar_info(NULL, "failover budget %u s: takeover hold-down %u ms, backend op timeout %u s, command timeout %u s, silent lunard killed after %u ms",
		   budget_s(), budget_holddown_ms(), budget_op_timeout_s(),
		   budget_cmd_timeout_s(), budget_hang_ms());
}

/* Logging and the settings of tcmu.conf. */
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
	apply_cluster_settings(&cfg);
	return 0;
}

static gboolean on_netlink(gint fd, GIOCondition cond, gpointer unused)
{
	(void)fd;
	(void)cond;
	(void)unused;
	kernel_devices_dispatch();
	return G_SOURCE_CONTINUE;
}

/* The simulated kernel (--sim-socket) or the real one.  0 or -errno, logged. */
static int start_control(const struct options *o)
{
	int ret;

	if (!o->sim_socket) {
		ret = kernel_devices_start();
		if (!ret)
			g_unix_fd_add(kernel_devices_fd(), G_IO_IN, on_netlink, NULL);
		return ret;
	}
	ret = sim_server_start(o->sim_socket);
	if (ret)
		lunar_err(NULL, "cannot listen on %s: %s", o->sim_socket,
			  strerror(-ret));
	return ret;
}

static void stop_control(const struct options *o)
{
	if (o->sim_socket)
		sim_server_stop();
	else
		kernel_devices_stop();
}

static void serve(void)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);

	g_unix_signal_add(SIGINT, on_stop, loop);
	g_unix_signal_add(SIGTERM, on_stop, loop);
	g_unix_signal_add(SIGHUP, on_hup, NULL);
	lunar_info(NULL, "lunard %s ready", LUNAR_VERSION);
	g_main_loop_run(loop);
	g_main_loop_unref(loop);
}

int main(int argc, char **argv)
{
	struct guardian_duty duty = { .fail = uio_fail_inflight,
				      .host_lock = TCMU_HOST_LOCK };
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
	duty.hang_ms = budget_hang_ms();
	if (o.nofile && (ret = raise_nofile(o.nofile))) {
		lunar_err(NULL, "cannot raise the open file limit to %lu: %s",
			  o.nofile, strerror(-ret));
		return 1;
	}
	/* Forks: before handlers or GLib start any thread. */
	if (!o.sim_socket && (ret = guardian_start(&duty)))
		lunar_warn(NULL, "no guardian process (%s): if lunard dies, shared LUNs wait for the kernel's cmd_time_out",
			   strerror(-ret));
	n = handlers_load_dir(o.handler_path);
	lunar_info(NULL, "%d handler(s) loaded from %s", n < 0 ? 0 : n,
		   o.handler_path);

	ret = start_control(&o);
	if (ret)
		goto out;
	ret = dbus_service_start();
	if (ret)
		lunar_err(NULL, "no D-Bus service (%s); serving I/O without it",
			  strerror(-ret));
	if (!o.sim_socket)
		kernel_devices_ready();

	serve();
	stop_control(&o);
	ret = 0;
	dbus_service_stop();
out:
	guardian_stop();
	events_shutdown();
	handlers_unload_all();
	lunar_info(NULL, "lunard stopped");
	log_close();
	return ret ? 1 : 0;
}
