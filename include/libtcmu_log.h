/*
 * lunar — handler-facing logging, compatible with tcmu-runner 1.5.4.
 *
 * Handlers log through the tcmu_*_message functions (normally via the
 * tcmu_dev_* macros).  dev may be NULL.  Any thread may log; a message is
 * written as one line, prefixed with the device's subtype and name.
 */
#ifndef LUNAR_LIBTCMU_LOG_H
#define LUNAR_LIBTCMU_LOG_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;

#define TCMU_LOG_CRIT		0
#define TCMU_LOG_ERROR		1
#define TCMU_LOG_WARN		2
#define TCMU_LOG_INFO		3
#define TCMU_LOG_DEBUG		4
#define TCMU_LOG_DEBUG_SCSI_CMD	5

void tcmu_set_log_level(int level);
unsigned int tcmu_get_log_level(void);

void tcmu_crit_message(struct tcmu_device *dev, const char *funcname,
		       int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tcmu_err_message(struct tcmu_device *dev, const char *funcname,
		      int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tcmu_warn_message(struct tcmu_device *dev, const char *funcname,
		       int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tcmu_info_message(struct tcmu_device *dev, const char *funcname,
		       int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tcmu_dbg_message(struct tcmu_device *dev, const char *funcname,
		      int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tcmu_dbg_scsi_cmd_message(struct tcmu_device *dev, const char *funcname,
			       int linenr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define tcmu_dev_crit(dev, ...)  tcmu_crit_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_err(dev, ...)   tcmu_err_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_warn(dev, ...)  tcmu_warn_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_info(dev, ...)  tcmu_info_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_dbg(dev, ...)   tcmu_dbg_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_dbg_scsi_cmd(dev, ...) \
	tcmu_dbg_scsi_cmd_message(dev, __func__, __LINE__, __VA_ARGS__)

#define tcmu_crit(...) tcmu_crit_message(NULL, __func__, __LINE__, __VA_ARGS__)
#define tcmu_err(...)  tcmu_err_message(NULL, __func__, __LINE__, __VA_ARGS__)
#define tcmu_warn(...) tcmu_warn_message(NULL, __func__, __LINE__, __VA_ARGS__)
#define tcmu_info(...) tcmu_info_message(NULL, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dbg(...)  tcmu_dbg_message(NULL, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dbg_scsi_cmd(...) \
	tcmu_dbg_scsi_cmd_message(NULL, __func__, __LINE__, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
