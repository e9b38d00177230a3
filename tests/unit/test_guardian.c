/*
 * The guardian (runner/control/guardian.h): which devices it fails when
 * lunard dies, that a clean exit fails none, and — with a real fork — that
 * it outlives a process that dies without a word.
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/guardian.h"

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
	assert_int_equal(guardian_serve(sv[1], record), 2);
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
	assert_int_equal(guardian_serve(sv[1], record), 0);
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
		if (guardian_start(leave_marker))
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_death_fails_what_is_watched),
		cmocka_unit_test(test_clean_exit_fails_nothing),
		cmocka_unit_test(test_outlives_a_killed_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
