/*
 * The guardian process.  See guardian.h.
 */
#define _GNU_SOURCE
#include "guardian.h"

#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host_lock.h"
#include "runner/log.h"

/* "+<hba>/<dev>": hba is "user_<n>", dev at most 127 bytes. */
#define GUARD_MSG_MAX 160
#define GUARD_BYE "bye"
#define DEATH_GRACE_MS 200

static int guard_sock = -1;

/* Fail every watched device (logging each the first time); how many. */
static int fail_each(GHashTable *watched, guardian_fail_fn fail, bool first)
{
	GHashTableIter it;
	gpointer key;
	int n = 0;

	g_hash_table_iter_init(&it, watched);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		const char *name = key, *dev = strchr(name, '/') + 1;
		char hba[GUARD_MSG_MAX];
		int ret;

		snprintf(hba, sizeof(hba), "%.*s", (int)(dev - 1 - name), name);
		ret = fail(hba, dev);
		n++;
		if (!first)
			continue;
		if (ret)
			lunar_err(NULL, "%s/%s: lunard died and its in-flight commands could not be failed back: %s; the initiator waits for the kernel's cmd_time_out",
				  hba, dev, strerror(-ret));
		else
			lunar_warn(NULL, "%s/%s: lunard died; its in-flight commands were failed back so the initiator moves to another gateway now",
				   hba, dev);
	}
	return n;
}

/*
 * host_lock's fd, locked; -EAGAIN: another process holds it.  The dying
 * lunard's own lock goes a moment after its end of our socket closes, so
 * a conflict is retried for DEATH_GRACE_MS.
 */
static int take_lock(const char *host_lock)
{
	int fd = host_lock_take(host_lock, DEATH_GRACE_MS);

	if (fd < 0 && fd != -EAGAIN)
		lunar_err(NULL, "cannot take %s (%s): failing the dead lunard's commands once, without holding it",
			  host_lock, strerror(-fd));
	return fd;
}

/*
 * lunard died: fail its shared LUNs' commands, now and, holding the host
 * lock, for GUARD_HOLD_MS.  Without the lock a reset could hit a ring a
 * new lunard serves, so then it fails once (no file) or not at all.
 */
static int on_death(GHashTable *watched, guardian_fail_fn fail,
		    const char *host_lock)
{
	int fd = -1, n;

	if (host_lock && g_hash_table_size(watched))
		fd = take_lock(host_lock);
	if (fd == -EAGAIN) {
		lunar_info(NULL, "lunard died, and a new one already holds %s and its devices; nothing to fail",
			   host_lock);
		return 0;
	}
	n = fail_each(watched, fail, true);
	if (fd < 0)
		return n;
	for (int waited = 0; waited < GUARD_HOLD_MS; waited += GUARD_RETRY_MS) {
		usleep(GUARD_RETRY_MS * 1000);
		fail_each(watched, fail, false);
	}
	lunar_info(NULL, "failed new commands on the dead lunard's %d shared LUN(s) for %d ms; a restarted lunard may adopt them now",
		   n, GUARD_HOLD_MS);
	close(fd);
	return n;
}

int guardian_serve(int sock, guardian_fail_fn fail, const char *host_lock)
{
	GHashTable *watched = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, NULL);
	char msg[GUARD_MSG_MAX + 1];
	ssize_t n;
	int ret = 0;

	while ((n = recv(sock, msg, GUARD_MSG_MAX, 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		msg[n] = '\0';
		if (!strcmp(msg, GUARD_BYE))
			goto out;
		if (!strchr(msg, '/'))
			continue;
		if (msg[0] == '+')
			g_hash_table_add(watched, g_strdup(msg + 1));
		else if (msg[0] == '-')
			g_hash_table_remove(watched, msg + 1);
	}
	ret = on_death(watched, fail, host_lock);
out:
	g_hash_table_destroy(watched);
	return ret;
}

/* In the child: outlive lunard, whatever signal its group gets. */
static void run_child(int sock, guardian_fail_fn fail, const char *host_lock)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_NAME, "lunard-guard");
	guardian_serve(sock, fail, host_lock);
	_exit(0);
}

int guardian_start(guardian_fail_fn fail, const char *host_lock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(sv[0]);
		close(sv[1]);
		return -err;
	}
	if (!pid) {
		close(sv[0]);
		run_child(sv[1], fail, host_lock);
	}
	close(sv[1]);
	guard_sock = sv[0];
	return 0;
}

static void tell(char op, const char *hba, const char *dev)
{
	char msg[GUARD_MSG_MAX + 1];
	int len = snprintf(msg, sizeof(msg), "%c%s/%s", op, hba, dev);

	if (guard_sock < 0 || len > GUARD_MSG_MAX)
		return;
	if (send(guard_sock, msg, (size_t)len, MSG_NOSIGNAL) < 0) {
		lunar_warn(NULL, "the guardian process is gone (%s): if lunard dies, shared LUNs wait for the kernel's cmd_time_out",
			   strerror(errno));
		close(guard_sock);
		guard_sock = -1;
	}
}

void guardian_watch(const char *hba, const char *dev)
{
	tell('+', hba, dev);
}

void guardian_unwatch(const char *hba, const char *dev)
{
	tell('-', hba, dev);
}

void guardian_stop(void)
{
	if (guard_sock < 0)
		return;
	send(guard_sock, GUARD_BYE, strlen(GUARD_BYE), MSG_NOSIGNAL);
	close(guard_sock);
	guard_sock = -1;
}
