/*
 * lunard logging backend.  See log.h.
 */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define LOG_LINE_MAX 1024
#define LOG_FILE_NAME "lunard.log"

static int log_level = TCMU_LOG_INFO;
static bool log_stderr = true;
static int log_fd = -1;
static char log_path[PATH_MAX];

static const char *const level_names[] = {
	"CRIT", "ERROR", "WARN", "INFO", "DEBUG", "DEBUG_SCSI_CMD",
};

void log_set_level(int level)
{
	if (level < TCMU_LOG_CRIT)
		level = TCMU_LOG_CRIT;
	if (level > TCMU_LOG_DEBUG_SCSI_CMD)
		level = TCMU_LOG_DEBUG_SCSI_CMD;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

bool log_enabled(int level)
{
	return level <= log_get_level();
}

void log_set_stderr(bool on)
{
	log_stderr = on;
}

/*
 * Reopening dup3()s the new file onto the old descriptor number, so a
 * thread writing concurrently never sees a closed or recycled descriptor.
 * Only the main thread opens, reopens and closes.
 */
static int open_file(void)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int cur = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);

	if (fd < 0)
		return -errno;
	if (cur < 0) {
		__atomic_store_n(&log_fd, fd, __ATOMIC_RELEASE);
		return 0;
	}
	if (dup3(fd, cur, O_CLOEXEC) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

int log_open(const char *dir)
{
	int n;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	n = snprintf(log_path, sizeof(log_path), "%s/%s", dir, LOG_FILE_NAME);
	if (n < 0 || (size_t)n >= sizeof(log_path))
		return -ENAMETOOLONG;
	return open_file();
}

int log_reopen(void)
{
	return log_path[0] ? open_file() : 0;
}

void log_close(void)
{
	int old = __atomic_exchange_n(&log_fd, -1, __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
}

static size_t format_prefix(char *buf, size_t size, int level,
			    struct tcmu_device *dev, const char *func, int line)
{
	struct timespec ts;
	struct tm tm;
	char thread[16] = "";
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	pthread_getname_np(pthread_self(), thread, sizeof(thread));
	n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(buf + n, size - n, ".%03ld %d:%s [%s] %s:%d ",
		      ts.tv_nsec / 1000000, getpid(), thread,
		      level_names[level], func, line);
	if (dev && n < size)
		n += snprintf(buf + n, size - n, "%s: ", device_label(dev));
	return n < size ? n : size - 1;
}

void log_vmsg(int level, struct tcmu_device *dev, const char *func, int line,
	      const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t n;
	int fd;

	if (!log_enabled(level))
		return;
	n = format_prefix(buf, sizeof(buf) - 1, level, dev, func, line);
	n += vsnprintf(buf + n, sizeof(buf) - 1 - n, fmt, ap);
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n++] = '\n';

	fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	if (fd >= 0 && write(fd, buf, n) < 0) {
		/* Nowhere better to report a failing log file. */
	}
	if (log_stderr && write(STDERR_FILENO, buf, n) < 0) {
		/* Same: stderr gone. */
	}
}

void log_msg(int level, struct tcmu_device *dev, const char *func, int line,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, dev, func, line, fmt, ap);
	va_end(ap);
}
