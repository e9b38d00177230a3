/*
 * lunard processes for the drill.  See gateway.h.
 */
#define _GNU_SOURCE
#include "gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/shared/lunardproc.h"

static int write_config(const struct gateway *g, unsigned int budget_s)
{
	char path[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tcmu.conf", g->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "log_level = 3\nfailover_budget = %u\n", budget_s);
	return fclose(f) ? -errno : 0;
}

int gateway_init(struct gateway *g, const struct gateway_env *env, int index)
{
	memset(g, 0, sizeof(*g));
	g->index = index;
	g->gid = GATEWAY_GID_BASE + (gid_t)(getpid() % 1000) * 8 + (gid_t)index;
	snprintf(g->dir, sizeof(g->dir), "%s/gw%d", env->workdir, index + 1);
	snprintf(g->sock, sizeof(g->sock), "%s/sim.sock", g->dir);
	snprintf(g->log, sizeof(g->log), "%s/lunard.log", g->dir);
	snprintf(g->err, sizeof(g->err), "%s/stderr.log", g->dir);
	if (mkdir(g->dir, 0700) && errno != EEXIST)
		return -errno;
	return write_config(g, env->budget_s);
}

static void exec_lunard(const struct gateway *g, const struct gateway_env *env)
{
	char conf[320];
	int fd;
	gid_t gid = g->gid;

	snprintf(conf, sizeof(conf), "%s/tcmu.conf", g->dir);
	/* A drill that dies takes its gateways with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || setgroups(1, &gid) || setgid(gid))
		_exit(126);
	fd = open(g->err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(125);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
	execl(env->lunard, env->lunard, "--handler-path", env->handler_dir,
	      "--sim-socket", g->sock, "-l", g->dir, "--config", conf,
	      (char *)NULL);
	_exit(127);
}

int gateway_start(struct gateway *g, const struct gateway_env *env)
{
	unlink(g->sock);
	g->pid = fork();
	if (g->pid < 0)
		return -errno;
	if (g->pid == 0)
		exec_lunard(g, env);
	g->frozen = false;
	return lunardproc_wait_socket(g->sock) ? 0 : -ETIMEDOUT;
}

/* Wait for it: its wait status, or 0 when it was not running. */
static int reap(struct gateway *g)
{
	int status = 0;

	if (g->pid > 0 && waitpid(g->pid, &status, 0) != g->pid)
		status = -1;
	g->pid = 0;
	g->frozen = false;
	return status;
}

void gateway_kill(struct gateway *g)
{
	if (g->pid > 0)
		kill(g->pid, SIGKILL);
	reap(g);
}

void gateway_stop(struct gateway *g)
{
	int status;

	if (g->pid > 0) {
		if (g->frozen)
			kill(g->pid, SIGCONT);
		kill(g->pid, SIGTERM);
	}
	status = reap(g);
	if (status) {
		g->unclean++;
		fprintf(stderr, "lunar-drill: gateway %d did not stop cleanly (wait status %#x; %s)\n",
			g->index + 1, (unsigned int)status, g->err);
	}
}

void gateway_freeze(struct gateway *g)
{
	if (g->pid > 0 && !kill(g->pid, SIGSTOP))
		g->frozen = true;
}

void gateway_thaw(struct gateway *g)
{
	if (g->pid > 0 && g->frozen)
		kill(g->pid, SIGCONT);
	g->frozen = false;
}

static int iptables(const struct gateway *g, char op)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "iptables -%c OUTPUT -o lo -m owner --gid-owner %u -j DROP",
		 op, (unsigned int)g->gid);
	return system(cmd) == 0 ? 0 : -EIO;
}

int gateway_cut(struct gateway *g)
{
	int ret = g->cut ? 0 : iptables(g, 'I');

	if (!ret)
		g->cut = true;
	return ret;
}

int gateway_restore(struct gateway *g)
{
	int ret = g->cut ? iptables(g, 'D') : 0;

	if (!ret)
		g->cut = false;
	return ret;
}

unsigned int gateway_lock_acquisitions(const struct gateway *g, const char *device)
{
	char line[1024], label[80];
	unsigned int n = 0;
	FILE *f = fopen(g->log, "r");

	if (!f)
		return 0;
	/* Log lines name a device "<handler>/<name>: " (runner/device.c). */
	snprintf(label, sizeof(label), "/%s-", device ? device : "");
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "cluster lock acquired") &&
		     (!device || strstr(line, label));
	fclose(f);
	return n;
}

bool gateway_exited(struct gateway *g)
{
	int status;

	if (g->pid <= 0 || waitpid(g->pid, &status, WNOHANG) != g->pid)
		return false;
	g->pid = 0;
	g->frozen = false;
	g->unclean++;
	fprintf(stderr, "lunar-drill: gateway %d exited by itself (wait status %#x; %s)\n",
		g->index + 1, (unsigned int)status, g->err);
	return true;
}

bool gateway_sanitizer_report(const struct gateway *g, char *line, size_t size)
{
	static const char *const marks[] = {
		"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
	};
	bool found = false;
	FILE *f = fopen(g->err, "r");

	if (!f)
		return false;
	while (!found && fgets(line, (int)size, f))
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			found |= strstr(line, marks[i]) != NULL;
	fclose(f);
	return found;
}
