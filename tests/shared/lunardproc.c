/* A lunard process serving simulated devices (lunardproc.h). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lunardproc.h"
#include "runner/sim/simsock.h"

bool lunardproc_wait_socket(const char *path)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 500; i++) {
		int fd = simsock_connect(path);

		if (fd >= 0) {
			close(fd);
			return true;
		}
		nanosleep(&ts, NULL);
	}
	return false;
}

int lunardproc_start(struct lunardproc *p, const char *handler_dir)
{
	char logdir[96];

	snprintf(p->dir, sizeof(p->dir), "/tmp/lunard-test.XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->sock, sizeof(p->sock), "%s/sim.sock", p->dir);
	snprintf(logdir, sizeof(logdir), "%s/log", p->dir);
	p->pid = fork();
	if (p->pid == 0) {
		setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
		execl(LUNARD_PATH, LUNARD_PATH, "--handler-path", handler_dir,
		      "--sim-socket", p->sock, "-l", logdir,
		      "--config", "/nonexistent/tcmu.conf", (char *)NULL);
		_exit(127);
	}
	return p->pid > 0 && lunardproc_wait_socket(p->sock) ? 0 : -1;
}

int lunardproc_stop(struct lunardproc *p)
{
	char cmd[128];

	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
	return system(cmd) == 0 ? 0 : -1;
}

bool lunardproc_alive(const struct lunardproc *p)
{
	return waitpid(p->pid, NULL, WNOHANG) == 0;
}
