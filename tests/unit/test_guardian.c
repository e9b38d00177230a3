/*
 * The guardian (runner/control/guardian.h): which devices it fails when
 * lunard dies, that a clean exit fails none, that it keeps failing for
 * the hold time holding the host lock (and fails nothing if a new lunard
 * holds it), and — with a real fork — that it outlives a process that
 * dies without a word, kills one that stops (SIGSTOP) while it has shared
 * LUNs, and leaves alone one whose beats go on or that has none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/control/guardian.h"

#define MAX_FAILED 8

static char failed[MAX_FAILED][64];
static int nfailed;
static char marker_dir[64];

static int record(const char *hba, const char *dev)
{
	assert_true(nfailed < MAX_FAILED);
	snprintf(failed[nfailed++], sizeof(failed[0]), "%s/%s", hba, dev);
	return 0;
}

static bool was_failed(const char *name)
{
	for (int i = 0; i < nfailed; i++)
		if (!strcmp(failed[i], name))
			return true;
	return false;
}

static const struct guardian_duty record_duty = { .fail = record };

static void say(int sock, const char *msg)
{
	assert_int_equal(send(sock, msg, strlen(msg), 0), (ssize_t)strlen(msg));
}

static void pair(int sv[2])
{
	nfailed = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void test_death_fails_what_is_watched(void **state)
{
	int sv[2];

	(void)state;
	pair(sv);
	say(sv[0], "+user_1/a");
	say(sv[0], "+user_1/b");
	say(sv[0], "-user_1/a");
	say(sv[0], "+no-slash");
	say(sv[0], "?user_3/x");
	say(sv[0], "+user_2/c");
	say(sv[0], "-user_7/never");
	close(sv[0]);
	assert_int_equal(guardian_serve(sv[1], 0, &record_duty), 2);
	assert_int_equal(nfailed, 2);
	assert_true(was_failed("user_1/b"));
	assert_true(was_failed("user_2/c"));
	close(sv[1]);
}

static void test_clean_exit_fails_nothing(void **state)
{
	int sv[2];

	(void)state;
	pair(sv);
	say(sv[0], "+user_1/a");
	say(sv[0], "bye");
	close(sv[0]);
	assert_int_equal(guardian_serve(sv[1], 0, &record_duty), 0);
	assert_int_equal(nfailed, 0);
	close(sv[1]);
}

/* In the guardian process: leave a file per failed device. */
static int leave_marker(const char *hba, const char *dev)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s-%s", marker_dir, hba, dev);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static bool marker_appears(const char *name, int ms)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", marker_dir, name);
	for (int waited = 0; waited < ms; waited += 10) {
		if (!access(path, F_OK))
			return true;
		usleep(10000);
	}
	return false;
}

static const struct guardian_duty marker_duty = { .fail = leave_marker };

static void make_marker_dir(void)
{
	snprintf(marker_dir, sizeof(marker_dir), "/tmp/lunar-guard.XXXXXX");
	assert_non_null(mkdtemp(marker_dir));
}

static void remove_marker(const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", marker_dir, name);
	unlink(path);
}

/* A "lunard" that watches one device and is killed: the guardian acts. */
static void test_outlives_a_killed_daemon(void **state)
{
	char path[160];
	pid_t pid;
	int status;

	(void)state;
	make_marker_dir();
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (guardian_start(&marker_duty))
			_exit(2);
		guardian_watch("user_4", "shared");
		guardian_watch("user_4", "gone");
		guardian_unwatch("user_4", "gone");
		raise(SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_true(marker_appears("user_4-shared", 5000));
	usleep(100000);
	snprintf(path, sizeof(path), "%s/user_4-gone", marker_dir);
	assert_int_not_equal(access(path, F_OK), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/user_4-shared", marker_dir);
	unlink(path);
	rmdir(marker_dir);
}

static char tally_path[64];

/* In the guardian process: one byte per call. */
static int tally(const char *hba, const char *dev)
{
	int fd = open(tally_path, O_CREAT | O_WRONLY | O_APPEND, 0600);

	(void)hba;
	(void)dev;
	if (fd < 0)
		return -errno;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static long tally_count(void)
{
	struct stat st;

	return stat(tally_path, &st) ? 0 : (long)st.st_size;
}

/* Who holds path's lock (a pid), or 0. */
static pid_t lock_holder(const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR);
	pid_t pid = 0;

	if (fd >= 0 && !fcntl(fd, F_GETLK, &fl) && fl.l_type != F_UNLCK)
		pid = fl.l_pid;
	if (fd >= 0)
		close(fd);
	return pid;
}

/* A guardian process serving one watched device whose lunard just died. */
static pid_t dead_lunard_guardian(const char *host_lock)
{
	int sv[2];
	pid_t pid;

	pair(sv);
	snprintf(tally_path, sizeof(tally_path), "%s.tally", host_lock);
	unlink(tally_path);
	say(sv[0], "+user_5/shared");
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(sv[0]);
		struct guardian_duty duty = { .fail = tally,
					      .host_lock = host_lock };

		_exit(guardian_serve(sv[1], 0, &duty));
	}
	close(sv[1]);
	close(sv[0]);
	return pid;
}

static void test_death_keeps_failing_under_the_host_lock(void **state)
{
	char lock[] = "/tmp/lunar-hostlock.XXXXXX";
	struct timespec t0, t1;
	pid_t pid, holder = 0;
	int status, fd = mkstemp(lock);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = dead_lunard_guardian(lock);
	for (int waited = 0; waited < 500 && holder != pid; waited += 5) {
		holder = lock_holder(lock);
		usleep(5000);
	}
	assert_int_equal(holder, pid);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= GUARD_HOLD_MS);
	assert_true(tally_count() >= GUARD_HOLD_MS / GUARD_RETRY_MS / 2);
	assert_int_equal(lock_holder(lock), 0);
	unlink(tally_path);
	unlink(lock);
}

static void test_new_lunard_holding_the_lock_means_nothing_fails(void **state)
{
	char lock[] = "/tmp/lunar-hostlock.XXXXXX";
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int status, fd = mkstemp(lock);
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);	/* the new lunard */
	pid = dead_lunard_guardian(lock);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(tally_count(), 0);
	close(fd);
	unlink(lock);
}

#define HANG_MS 400

static int64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* waitpid for up to ms (stops reported too); the pid, or 0 if still on. */
static pid_t wait_child(pid_t pid, int *status, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		pid_t got = waitpid(pid, status, WNOHANG | WUNTRACED);

		if (got)
			return got;
		usleep(10000);
	}
	return 0;
}

/*
 * A forked "lunard" with a guardian whose hang time is HANG_MS, watching
 * user_6/shared when shared; it then stops itself (stop) or beats on for
 * 3 × HANG_MS and exits cleanly.
 */
static pid_t fork_lunard(bool shared, bool stop)
{
	static const struct guardian_duty duty = { .fail = leave_marker,
						   .hang_ms = HANG_MS };
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid)
		return pid;
	if (guardian_start(&duty))
		_exit(2);
	if (shared)
		guardian_watch("user_6", "shared");
	if (stop)
		raise(SIGSTOP);
	usleep(3 * HANG_MS * 1000);
	guardian_unwatch("user_6", "shared");
	guardian_stop();
	_exit(0);
}

static void test_stopped_lunard_is_killed_and_its_luns_failed(void **state)
{
	struct timespec t0;
	int status;
	pid_t pid;

	(void)state;
	make_marker_dir();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork_lunard(true, true);
	/* Stopped first (reported under WUNTRACED), then killed. */
	assert_int_equal(wait_child(pid, &status, 2000), pid);
	assert_true(WIFSTOPPED(status));
	if (!wait_child(pid, &status, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the guardian did not kill a lunard stopped for 5 s");
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_true(elapsed_ms(&t0) >= HANG_MS);
	assert_true(marker_appears("user_6-shared", 5000));
	remove_marker("user_6-shared");
	rmdir(marker_dir);
}

static void test_beating_lunard_is_left_alone(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	make_marker_dir();
	pid = fork_lunard(true, false);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(marker_appears("user_6-shared", 200));
	rmdir(marker_dir);
}

/* Nothing to fail over: killing would only stop the LUNs' service. */
static void test_stopped_lunard_without_shared_luns_is_left_alone(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	make_marker_dir();
	pid = fork_lunard(false, true);
	assert_int_equal(wait_child(pid, &status, 2000), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(wait_child(pid, &status, 3 * HANG_MS), 0);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	rmdir(marker_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_death_fails_what_is_watched),
		cmocka_unit_test(test_clean_exit_fails_nothing),
		cmocka_unit_test(test_outlives_a_killed_daemon),
		cmocka_unit_test(test_death_keeps_failing_under_the_host_lock),
		cmocka_unit_test(test_new_lunard_holding_the_lock_means_nothing_fails),
		cmocka_unit_test(test_stopped_lunard_is_killed_and_its_luns_failed),
		cmocka_unit_test(test_beating_lunard_is_left_alone),
		cmocka_unit_test(test_stopped_lunard_without_shared_luns_is_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
