/*
 * lunard logging.  One line per event: timestamp, level, origin and, when
 * the event concerns a device, "<subtype>/<device>".  Lines go to stderr
 * and, once log_open() succeeded, to <log_dir>/lunard.log.
 *
 * Any thread may log.  Each line is formatted into a private buffer and
 * written with a single write(2), so lines from different threads never
 * interleave and no lock is held while writing.
 */
#ifndef LUNAR_LOG_H
#define LUNAR_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "libtcmu_log.h"

struct tcmu_device;

/* Open <dir>/lunard.log (creating dir).  0 or -errno; stderr keeps working. */
int log_open(const char *dir);
/* Reopen the file (SIGHUP / logrotate). */
int log_reopen(void);
void log_close(void);

void log_set_level(int level);
int log_get_level(void);
bool log_enabled(int level);
/* Also copy lines to stderr (default true). */
void log_set_stderr(bool on);

void log_vmsg(int level, struct tcmu_device *dev, const char *func, int line,
	      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void log_msg(int level, struct tcmu_device *dev, const char *func, int line,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define lunar_crit(dev, ...) log_msg(TCMU_LOG_CRIT, dev, __func__, __LINE__, __VA_ARGS__)
#define lunar_err(dev, ...)  log_msg(TCMU_LOG_ERROR, dev, __func__, __LINE__, __VA_ARGS__)
#define lunar_warn(dev, ...) log_msg(TCMU_LOG_WARN, dev, __func__, __LINE__, __VA_ARGS__)
#define lunar_info(dev, ...) log_msg(TCMU_LOG_INFO, dev, __func__, __LINE__, __VA_ARGS__)
#define lunar_dbg(dev, ...)  log_msg(TCMU_LOG_DEBUG, dev, __func__, __LINE__, __VA_ARGS__)
#define lunar_dbg_cmd(dev, ...) \
	do { \
		if (log_enabled(TCMU_LOG_DEBUG_SCSI_CMD)) \
			log_msg(TCMU_LOG_DEBUG_SCSI_CMD, dev, __func__, __LINE__, __VA_ARGS__); \
	} while (0)

#endif
