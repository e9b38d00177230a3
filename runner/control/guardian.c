/*
 * The guardian process.  See guardian.h.
 */
#define _GNU_SOURCE
#include "guardian.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host_lock.h"
#include "runner/clock.h"
#include "runner/log.h"

/* "+<hba>/<dev>": hba is "user_<n>", dev at most 127 bytes. */
#define GUARD_MSG_MAX 160
#define GUARD_BYE "bye"
#define GUARD_BEAT "."
#define DEATH_GRACE_MS 200

/* lunard's end of the socket; the lock orders the beat thread's sends
 * against tell() and guardian_stop() closing it. */
static int guard_sock = -1;
static pthread_mutex_t guard_sock_lock = PTHREAD_MUTEX_INITIALIZER;

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

struct guard_state {
	pid_t lunard;
	const struct guardian_duty *duty;
	GHashTable *watched;
	int64_t heard_ms;	/* the last record, beats included */
	bool killed;
};

/* How long poll() may wait for lunard's next record; -1: forever. */
static int hang_wait_ms(const struct guard_state *gs)
{
	int64_t left;

	if (gs->killed || !gs->lunard || !gs->duty->hang_ms ||
	    !g_hash_table_size(gs->watched))
		return -1;
	left = gs->heard_ms + gs->duty->hang_ms - monotonic_ms();
	return left > 0 ? (int)left : 0;
}

/*
 * lunard has been silent for hang_ms with shared LUNs: kill it.  Its end
 * of the socket then closes and the loop goes on as for any death.
 */
static void kill_hung(struct guard_state *gs)
{
	lunar_err(NULL, "lunard (pid %d) silent for %lld ms with %u shared LUN(s): stopped or hung; killing it so their initiators move to another gateway",
		  (int)gs->lunard, (long long)(monotonic_ms() - gs->heard_ms),
		  g_hash_table_size(gs->watched));
	if (kill(gs->lunard, SIGKILL))
		lunar_err(NULL, "cannot kill lunard (pid %d): %s; its initiators wait for the kernel's cmd_time_out",
			  (int)gs->lunard, strerror(errno));
	gs->killed = true;
}

/* One record from lunard: 1 go on, 0 it said bye, -1 it died. */
static int take_record(int sock, struct guard_state *gs)
{
	char msg[GUARD_MSG_MAX + 1];
	ssize_t n = recv(sock, msg, GUARD_MSG_MAX, MSG_DONTWAIT);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return -1;
	gs->heard_ms = monotonic_ms();
	msg[n] = '\0';
	if (!strcmp(msg, GUARD_BYE))
		return 0;
	if (!strchr(msg, '/'))
		return 1;
	if (msg[0] == '+')
		g_hash_table_add(gs->watched, g_strdup(msg + 1));
	else if (msg[0] == '-')
		g_hash_table_remove(gs->watched, msg + 1);
	return 1;
}

int guardian_serve(int sock, pid_t lunard, const struct guardian_duty *duty)
{
	struct guard_state gs = {
		.lunard = lunard,
		.duty = duty,
		.watched = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL),
		.heard_ms = monotonic_ms(),
	};
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int ret = 0, state = 1;

	while (state > 0) {
		int ready = poll(&pfd, 1, hang_wait_ms(&gs));

		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0)
			state = take_record(sock, &gs);
		else if (!ready && hang_wait_ms(&gs) == 0)
			kill_hung(&gs);
	}
	if (state != 0)
		ret = on_death(gs.watched, duty->fail, duty->host_lock);
	g_hash_table_destroy(gs.watched);
	return ret;
}

/* In the child: outlive lunard, whatever signal its group gets. */
static void run_child(int sock, pid_t lunard, const struct guardian_duty *duty)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_NAME, "lunard-guard");
	guardian_serve(sock, lunard, duty);
	_exit(0);
}

/* false once the socket is gone (the guardian died, or a clean stop). */
static bool send_locked(const char *msg, size_t len)
{
	bool sent = false;

	pthread_mutex_lock(&guard_sock_lock);
	if (guard_sock >= 0 &&
	    send(guard_sock, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		sent = true;
	else if (guard_sock >= 0 && errno == EAGAIN)
		sent = true;	/* full of beats: it is not reading, not gone */
	pthread_mutex_unlock(&guard_sock_lock);
	return sent;
}

static void *beat(void *unused)
{
	(void)unused;
	prctl(PR_SET_NAME, "lunard-beat");
	do
		usleep(GUARD_BEAT_MS * 1000);
	while (send_locked(GUARD_BEAT, strlen(GUARD_BEAT)));
	return NULL;
}

int guardian_start(const struct guardian_duty *duty)
{
	pthread_t beater;
	pid_t lunard = getpid(), pid;
	int sv[2], ret;

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
		run_child(sv[1], lunard, duty);
	}
	close(sv[1]);
	guard_sock = sv[0];
	ret = pthread_create(&beater, NULL, beat, NULL);
	if (ret) {
		lunar_warn(NULL, "no beat thread (%s): the guardian cannot tell a hung lunard; it acts only when lunard dies",
			   strerror(ret));
		return 0;
	}
	pthread_detach(beater);
	return 0;
}

static void tell(char op, const char *hba, const char *dev)
{
	char msg[GUARD_MSG_MAX + 1];
	int len = snprintf(msg, sizeof(msg), "%c%s/%s", op, hba, dev);

	if (len > GUARD_MSG_MAX || send_locked(msg, (size_t)len))
		return;
	pthread_mutex_lock(&guard_sock_lock);
	if (guard_sock >= 0) {
		lunar_warn(NULL, "the guardian process is gone (%s): if lunard dies or hangs, shared LUNs wait for the kernel's cmd_time_out",
			   strerror(errno));
		close(guard_sock);
		guard_sock = -1;
	}
	pthread_mutex_unlock(&guard_sock_lock);
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
	pthread_mutex_lock(&guard_sock_lock);
	if (guard_sock >= 0) {
		send(guard_sock, GUARD_BYE, strlen(GUARD_BYE),
		     MSG_NOSIGNAL | MSG_DONTWAIT);
		close(guard_sock);
		guard_sock = -1;
	}
	pthread_mutex_unlock(&guard_sock_lock);
}
