/*
 * lunard, the daemon binary, over simring: started as a separate process
 * with --sim-socket, it loads handlers, takes simulated devices offered by
 * this test (which plays the kernel and the initiator), serves verified
 * I/O, refuses malformed control messages and memfds their sender could
 * still shrink without dying, drops a
 * client's devices when it disconnects, and stops cleanly on SIGTERM.
 * Also its command line: -V, -h, bad options.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/shared/lunardproc.h"
#include "runner/sim/simsock.h"
#include "runner/sim/transport_sim.h"
#include "tests/shared/scsi_check.h"

static struct lunardproc d;

/*
 * Run argv with its output in out (NULL: discarded), after prepare() (if
 * given) succeeded in the child; its exit status, or -1 (126: prepare()
 * failed, its reason in out).
 */
static int run_in(char *const argv[], const char *out, int (*prepare)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out ? out : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		/* Never the real system bus from a test. */
		setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
		if (prepare && prepare())
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int run_to(char *const argv[], const char *out)
{
	return run_in(argv, out, NULL);
}

static int run_quiet(char *const argv[])
{
	return run_to(argv, NULL);
}

static int start_daemon(void **state)
{
	(void)state;
	return lunardproc_start(&d, LUNAR_HANDLER_DIR);
}

static int stop_daemon(void **state)
{
	(void)state;
	return lunardproc_stop(&d);
}

static bool daemon_alive(void)
{
	return lunardproc_alive(&d);
}

static void test_io_through_daemon(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/daemon", .name = "lun-d", .size = 32 << 20,
		.sim_socket = d.sock,
	};
	uint8_t out[32 * 512], in[32 * 512];
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 3 + 1);
	write_read_back(si, 4000, 32, out, sizeof(out));
	assert_int_equal(siminit_cmd(si, inq, SIMRING_DIR_IN, in, 36, &res), 0);
	assert_good(&res);
	assert_memory_equal(in + 8, "LIO-ORG ", 8);
	siminit_close(si);
	assert_true(daemon_alive());
}

static void test_bad_devices_refused(void **state)
{
	struct siminit_opts unknown = {
		.cfgstring = "nosuch/x", .name = "bad1", .sim_socket = d.sock,
	};
	struct siminit_opts badopt = {
		.cfgstring = "ram/x;tcmur_cmd_time_out=abc", .name = "bad2",
		.sim_socket = d.sock,
	};
	struct siminit *si = NULL;

	(void)state;
	assert_int_equal(siminit_open(&unknown, &si), -ENOENT);
	assert_int_equal(siminit_open(&badopt, &si), -EINVAL);
	assert_true(daemon_alive());
}

static void test_malformed_messages(void **state)
{
	struct simsock_msg m;
	int fds[3], n, fd = simsock_connect(d.sock);
	char junk[7] = "garbage";

	(void)state;
	assert_true(fd >= 0);
	/* ADD without descriptors. */
	memset(&m, 0, sizeof(m));
	m.magic = SIMSOCK_MAGIC;
	m.op = SIMSOCK_ADD;
	strcpy(m.name, "x");
	strcpy(m.cfgstring, "ram/x");
	assert_int_equal(simsock_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simsock_recv(fd, &m, fds, &n), 0);
	assert_int_equal(m.status, -EINVAL);
	/* Unterminated name, unknown op, wrong magic, short packet. */
	memset(&m, 'A', sizeof(m));
	m.magic = SIMSOCK_MAGIC;
	m.op = SIMSOCK_REMOVE;
	assert_int_equal(simsock_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simsock_recv(fd, &m, fds, &n), 0);
	assert_int_equal(m.status, -EINVAL);
	m.op = 99;
	assert_int_equal(simsock_send(fd, &m, NULL, 0), 0);
	assert_int_equal(simsock_recv(fd, &m, fds, &n), 0);
	assert_int_equal(m.status, -EOPNOTSUPP);
	assert_int_equal(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	assert_int_equal(simsock_recv(fd, &m, fds, &n), 0);
	assert_int_equal(m.status, -EPROTO);
	close(fd);
	assert_true(daemon_alive());
}

/*
 * A memfd without F_SEAL_SHRINK: its sender could truncate it under the
 * daemon's mapping, and the next access would kill lunard with SIGBUS.
 */
static void test_unsealed_memfd_refused(void **state)
{
	struct simsock_msg m;
	struct simring *sr;
	int fds[3], n, fd = simsock_connect(d.sock);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(simring_create(NULL, &sr), 0);
	memset(&m, 0, sizeof(m));
	m.magic = SIMSOCK_MAGIC;
	m.op = SIMSOCK_ADD;
	m.size = 8 << 20;
	m.block_size = 512;
	m.max_sectors = 128;
	m.map_len = simring_map_len(sr);
	strcpy(m.name, "unsealed");
	strcpy(m.cfgstring, "ram/unsealed");
	fds[0] = memfd_create("unsealed", MFD_CLOEXEC);
	assert_true(fds[0] >= 0);
	assert_int_equal(ftruncate(fds[0], (off_t)m.map_len), 0);
	fds[1] = simring_user_fd(sr);
	fds[2] = simring_kernel_fd(sr);
	assert_int_equal(simsock_send(fd, &m, fds, 3), 0);
	close(fds[0]);
	assert_int_equal(simsock_recv(fd, &m, fds, &n), 0);
	assert_int_equal(m.status, -EPERM);
	close(fd);
	simring_destroy(sr);
	assert_true(daemon_alive());
}

static void test_disconnect_removes_devices(void **state)
{
	struct sim_attrs attrs = { .size = 8 << 20, .block_size = 512,
				   .max_sectors = 128 };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct simring *sr;
	int fd, ret = -EEXIST;

	(void)state;
	assert_int_equal(simring_create(NULL, &sr), 0);
	fd = simsock_connect(d.sock);
	assert_true(fd >= 0);
	assert_int_equal(simsock_add(fd, sr, &attrs, "lun-gone", "ram/gone"), 0);
	/* The name is taken while the connection lives... */
	assert_int_equal(simsock_add(fd, sr, &attrs, "lun-gone", "ram/gone"), -EEXIST);
	/* ...and freed once the client goes away without removing it. */
	close(fd);
	for (int i = 0; i < 100 && ret == -EEXIST; i++) {
		fd = simsock_connect(d.sock);
		assert_true(fd >= 0);
		ret = simsock_add(fd, sr, &attrs, "lun-gone", "ram/gone");
		if (!ret)
			assert_int_equal(simsock_remove(fd, "lun-gone"), 0);
		close(fd);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ret, 0);
	simring_destroy(sr);
	assert_true(daemon_alive());
}

/* The start of a text file (at least one byte), NUL-terminated. */
static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_sigterm_stops_cleanly(void **state)
{
	char path[160], buf[8192];
	int status;

	(void)state;
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(path, sizeof(path), "%s/log/lunard.log", d.dir);
	read_text(path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "registered handler ram"));
	assert_non_null(strstr(buf, "lunard stopped"));
}

static void test_command_line(void **state)
{
	char *version[] = { LUNARD_PATH, "-V", NULL };
	char *help[] = { LUNARD_PATH, "--help", NULL };
	char *bad[] = { LUNARD_PATH, "--no-such-option", NULL };
	char *nofile[] = { LUNARD_PATH, "-f", "100", NULL };
	char *stray[] = { LUNARD_PATH, "extra", NULL };

	(void)state;
	assert_int_equal(run_quiet(version), 0);
	assert_int_equal(run_quiet(help), 0);
	assert_int_equal(run_quiet(bad), 1);
	assert_int_equal(run_quiet(nofile), 1);
	assert_int_equal(run_quiet(stray), 1);
}

/* Cover dir with an empty tmpfs, if it exists. */
static int hide(const char *dir)
{
	if (access(dir, F_OK))
		return 0;
	if (mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k")) {
		printf("cannot hide %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * In the child: a kernel without TCMU as lunard sees it, whatever this
 * host has — a private mount namespace where /sys/module (so
 * target_core_user is not loaded) and /lib/modules (nothing to load) are
 * empty, and no CAP_SYS_MODULE after exec (no module could be inserted).
 * Needs root, as CI runs the tests.
 */
static int without_tcmu(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("private mount namespace: %s (the sim tier runs as root)\n",
		       strerror(errno));
		return -1;
	}
	if (hide("/sys/module") || hide("/lib/modules") || hide("/usr/lib/modules"))
		return -1;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0)) {
		printf("dropping CAP_SYS_MODULE: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Without --sim-socket lunard serves the real kernel; on a host that has
 * no TCMU (no target_core_user loaded, no modules to load) it must say so
 * and exit 1 rather than run uselessly.
 */
static void test_no_kernel_tcmu(void **state)
{
	char *argv[] = { LUNARD_PATH, "--handler-path", LUNAR_HANDLER_DIR,
			 "--config", "/nonexistent/tcmu.conf", "-l", d.dir, NULL };
	char out[160], buf[8192];
	int rc;

	(void)state;
	snprintf(out, sizeof(out), "%s/no-tcmu.out", d.dir);
	rc = run_in(argv, out, without_tcmu);
	read_text(out, buf, sizeof(buf));
	if (rc != 1)
		fail_msg("lunard on a kernel without TCMU exited %d, not 1:\n%s", rc, buf);
	assert_non_null(strstr(buf, "this kernel has no TCMU"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_through_daemon),
		cmocka_unit_test(test_bad_devices_refused),
		cmocka_unit_test(test_malformed_messages),
		cmocka_unit_test(test_unsealed_memfd_refused),
		cmocka_unit_test(test_disconnect_removes_devices),
		cmocka_unit_test(test_sigterm_stops_cleanly),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_no_kernel_tcmu),
	};

	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
