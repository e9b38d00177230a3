/*
 * The guardian (runner/control/guardian.h): which devices it fails when
 * lunard dies, that a clean exit fails none, that it keeps failing for
 * the hold time holding the host lock (and fails nothing if a new lunard
 * holds it), and — with a real fork — that it outlives a process that
 * dies without a word.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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
	assert_int_equal(guardian_serve(sv[1], record, NULL), 2);
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
	assert_int_equal(guardian_serve(sv[1], record, NULL), 0);
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

/* A "lunard" that watches one device and is killed: the guardian acts. */
static void test_outlives_a_killed_daemon(void **state)
{
	char path[160];
	pid_t pid;
	int status;

	(void)state;
	snprintf(marker_dir, sizeof(marker_dir), "/tmp/lunar-guard.XXXXXX");
	assert_non_null(mkdtemp(marker_dir));
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (guardian_start(leave_marker, NULL))
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
		_exit(guardian_serve(sv[1], tally, host_lock));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_death_fails_what_is_watched),
		cmocka_unit_test(test_clean_exit_fails_nothing),
		cmocka_unit_test(test_outlives_a_killed_daemon),
		cmocka_unit_test(test_death_keeps_failing_under_the_host_lock),
		cmocka_unit_test(test_new_lunard_holding_the_lock_means_nothing_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
