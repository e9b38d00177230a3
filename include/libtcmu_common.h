/*
 * lunar — handler-facing libtcmu API, compatible with tcmu-runner 1.5.4.
 *
 * This header is part of the frozen handler ABI: struct layouts, the
 * TCMU_STS_* numeric values and the function signatures below are what
 * handler binaries built against tcmu-runner 1.5.4 expect.  Do not reorder,
 * renumber or change a type here; lunar's own extensions live elsewhere.
 *
 * Threading: unless stated otherwise every function may be called from any
 * thread, including handler completion threads.
 */
#ifndef LUNAR_LIBTCMU_COMMON_H
#define LUNAR_LIBTCMU_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;
struct tcmulib_handler;
struct tcmulib_cmd;

/*
 * Command status codes shared by handlers and the runner.  The negative
 * values share an int with -errno at the ABI boundary (1.5.4 contract).
 */
enum {
	TCMU_STS_ASYNC_HANDLED = -2,
	TCMU_STS_NOT_HANDLED = -1,
	TCMU_STS_OK = 0,
	TCMU_STS_NO_RESOURCE,		/* 1: TASK SET FULL */
	TCMU_STS_PASSTHROUGH_ERR,	/* 2: handler built the sense itself */
	TCMU_STS_BUSY,			/* 3 */
	TCMU_STS_WR_ERR,		/* 4 */
	TCMU_STS_RD_ERR,		/* 5 */
	TCMU_STS_MISCOMPARE,		/* 6 */
	TCMU_STS_INVALID_CMD,		/* 7 */
	TCMU_STS_INVALID_CDB,		/* 8 */
	TCMU_STS_INVALID_PARAM_LIST,	/* 9 */
	TCMU_STS_INVALID_PARAM_LIST_LEN, /* 10 */
	TCMU_STS_TIMEOUT,		/* 11 */
	TCMU_STS_FENCED,		/* 12 */
	TCMU_STS_HW_ERR,		/* 13 */
	TCMU_STS_RANGE,			/* 14 */
	TCMU_STS_FRMT_IN_PROGRESS,	/* 15 */
	TCMU_STS_CAPACITY_CHANGED,	/* 16 */
	TCMU_STS_NOTSUPP_SAVE_PARAMS,	/* 17 */
	TCMU_STS_WR_ERR_INCOMPAT_FRMT,	/* 18 */
	TCMU_STS_TRANSITION,		/* 19 */
	TCMU_STS_IMPL_TRANSITION_ERR,	/* 20 */
	TCMU_STS_EXPL_TRANSITION_ERR,	/* 21 */
	TCMU_STS_NO_LOCK_HOLDERS,	/* 22 */
	TCMU_STS_NOTSUPP_SEG_DESC_TYPE,	/* 23 */
	TCMU_STS_NOTSUPP_TGT_DESC_TYPE,	/* 24 */
	TCMU_STS_CP_TGT_DEV_NOTCONN,	/* 25 */
	TCMU_STS_INVALID_CP_TGT_DEV_TYPE, /* 26 */
	TCMU_STS_TOO_MANY_SEG_DESC,	/* 27 */
	TCMU_STS_TOO_MANY_TGT_DESC,	/* 28 */
};

#define TCMU_THREAD_NAME_LEN 16
#define SENSE_BUFFERSIZE 96

#define CFGFS_ROOT "/sys/kernel/config/target"
#define CFGFS_CORE CFGFS_ROOT "/core"
#define CFGFS_TARGET_MOD "/sys/module/target_core_user"
#define CFGFS_MOD_PARAM CFGFS_TARGET_MOD "/parameters"

#define round_up(a, b) ({			\
	__typeof__(a) _a = (a);			\
	__typeof__(b) _b = (b);			\
	((_a + (_b - 1)) / _b) * _b; })

#define round_down(a, b) ({			\
	__typeof__(a) _a = (a);			\
	__typeof__(b) _b = (b);			\
	(_a - (_a % _b)); })

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

/*
 * One SCSI command as handed to a handler.  Allocated and owned by the
 * runner; valid until the command is completed.  iovec points straight into
 * the shared data area; handlers may advance it while copying.
 */
struct tcmulib_cmd {
	uint16_t cmd_id;
	uint8_t *cdb;
	struct iovec *iovec;
	size_t iov_cnt;
	uint8_t sense_buf[SENSE_BUFFERSIZE];
	void *hm_private;
};

/* Per-device accessors. */
void *tcmu_dev_get_private(struct tcmu_device *dev);
void tcmu_dev_set_private(struct tcmu_device *dev, void *priv);
const char *tcmu_dev_get_uio_name(struct tcmu_device *dev);
void tcmu_set_thread_name(const char *prefix, struct tcmu_device *dev);
int tcmu_dev_get_fd(struct tcmu_device *dev);
char *tcmu_dev_get_memory_info(struct tcmu_device *dev, void **base,
			       size_t *len, off_t *offset);
char *tcmu_dev_get_cfgstring(struct tcmu_device *dev);
void tcmu_dev_set_num_lbas(struct tcmu_device *dev, uint64_t num_lbas);
uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev);
void tcmu_dev_set_block_size(struct tcmu_device *dev, uint32_t block_size);
uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev);
uint64_t tcmu_lba_to_byte(struct tcmu_device *dev, uint64_t lba);
uint64_t tcmu_byte_to_lba(struct tcmu_device *dev, uint64_t byte);
void tcmu_dev_set_max_xfer_len(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev);
void tcmu_dev_set_opt_xcopy_rw_len(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_opt_xcopy_rw_len(struct tcmu_device *dev);
void tcmu_dev_set_max_unmap_len(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_max_unmap_len(struct tcmu_device *dev);
void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev, uint32_t len,
				 bool split);
uint32_t tcmu_dev_get_opt_unmap_gran(struct tcmu_device *dev);
void tcmu_dev_set_unmap_gran_align(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_unmap_gran_align(struct tcmu_device *dev);
void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool enabled);
bool tcmu_dev_get_write_cache_enabled(struct tcmu_device *dev);
void tcmu_dev_set_solid_state_media(struct tcmu_device *dev, bool solid_state);
bool tcmu_dev_get_solid_state_media(struct tcmu_device *dev);
void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev, bool enabled);
bool tcmu_dev_get_unmap_enabled(struct tcmu_device *dev);
struct tcmulib_handler *tcmu_dev_get_handler(struct tcmu_device *dev);
void tcmu_dev_flush_ring(struct tcmu_device *dev);
bool tcmu_dev_oooc_supported(struct tcmu_device *dev);

/*
 * configfs access.  The tcmu_cfgfs_dev_* calls address the device's own
 * configfs directory (served by the device's transport, so they also work
 * on simulated devices).  Strings returned are malloc()ed.
 */
char *tcmu_cfgfs_get_str(const char *path);
int tcmu_cfgfs_set_str(const char *path, const char *val, int val_len);
int tcmu_cfgfs_get_int(const char *path);
int tcmu_cfgfs_set_u32(const char *path, uint32_t val);
int tcmu_cfgfs_dev_get_attr_int(struct tcmu_device *dev, const char *name);
int tcmu_cfgfs_dev_exec_action(struct tcmu_device *dev, const char *name,
			       uint32_t val);
int tcmu_cfgfs_dev_set_ctrl_u64(struct tcmu_device *dev, const char *key,
				uint64_t val);
uint64_t tcmu_cfgfs_dev_get_info_u64(struct tcmu_device *dev, const char *name,
				     int *fn_ret);
char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev);
int tcmu_cfgfs_mod_param_set_u32(const char *name, uint32_t val);

/* CDB helpers (group-code based, exactly as 1.5.4 decodes them). */
int tcmu_cdb_get_length(uint8_t *cdb);
uint64_t tcmu_cdb_get_lba(uint8_t *cdb);
uint32_t tcmu_cdb_get_xfer_length(uint8_t *cdb);
void tcmu_cdb_print_info(struct tcmu_device *dev, const struct tcmulib_cmd *cmd,
			 const char *info);
uint64_t tcmu_cdb_to_byte(struct tcmu_device *dev, uint8_t *cdb);

/*
 * iovec helpers.  The memcpy helpers consume the iovec: bases advance and
 * lengths shrink by what was copied.
 */
off_t tcmu_iovec_compare(void *mem, struct iovec *iovec, size_t size);
size_t tcmu_iovec_seek(struct iovec *iovec, size_t count);
void tcmu_iovec_zero(struct iovec *iovec, size_t iov_cnt);
bool tcmu_iovec_zeroed(struct iovec *iovec, size_t iov_cnt);
size_t tcmu_iovec_length(struct iovec *iovec, size_t iov_cnt);
size_t tcmu_memcpy_into_iovec(struct iovec *iovec, size_t iov_cnt, void *src,
			      size_t len);
size_t tcmu_memcpy_from_iovec(void *dest, size_t len, struct iovec *iovec,
			      size_t iov_cnt);
void tcmu_cmd_seek(struct tcmulib_cmd *cmd, size_t count);

/* Fixed-format sense helpers. */
int tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq);
void tcmu_sense_set_info(uint8_t *sense_buf, uint32_t info);
void tcmu_sense_set_key_specific_info(uint8_t *sense_buf, uint16_t info);
void __tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq);

void tcmu_thread_cancel(pthread_t thread);

#ifdef __cplusplus
}
#endif

#endif
