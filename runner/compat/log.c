/*
 * libtcmu logging entry points for handlers.
 */
#include <stdarg.h>

#include "runner/export.h"
#include "runner/log.h"

#define MESSAGE_FN(fn, level)						\
	LUNAR_EXPORT void fn(struct tcmu_device *dev, const char *funcname, \
			     int linenr, const char *fmt, ...)		\
	{								\
		va_list ap;						\
									\
		va_start(ap, fmt);					\
		log_vmsg(level, dev, funcname, linenr, fmt, ap);	\
		va_end(ap);						\
	}

MESSAGE_FN(tcmu_crit_message, TCMU_LOG_CRIT)
MESSAGE_FN(tcmu_err_message, TCMU_LOG_ERROR)
MESSAGE_FN(tcmu_warn_message, TCMU_LOG_WARN)
MESSAGE_FN(tcmu_info_message, TCMU_LOG_INFO)
MESSAGE_FN(tcmu_dbg_message, TCMU_LOG_DEBUG)
MESSAGE_FN(tcmu_dbg_scsi_cmd_message, TCMU_LOG_DEBUG_SCSI_CMD)

LUNAR_EXPORT void tcmu_set_log_level(int level)
{
	log_set_level(level);
}

LUNAR_EXPORT unsigned int tcmu_get_log_level(void)
{
	return (unsigned int)log_get_level();
}
