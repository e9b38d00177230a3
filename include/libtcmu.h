/*
 * lunar — the libtcmu types a tcmu-runner 1.5.4 handler sees through
 * tcmur_handler.reconfig.  Layout frozen (1.5.4 ABI).
 */
#ifndef LUNAR_LIBTCMU_H
#define LUNAR_LIBTCMU_H

#include <stdbool.h>
#include <stdint.h>

#include "libtcmu_common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tcmulib_cfg_type {
	TCMULIB_CFG_DEV_CFGSTR,
	TCMULIB_CFG_DEV_SIZE,
	TCMULIB_CFG_WRITE_CACHE,
};

struct tcmulib_cfg_info {
	enum tcmulib_cfg_type type;

	union {
		uint64_t dev_size;
		char *dev_cfgstring;
		bool write_cache;
	} data;
};

/*
 * What tcmu_dev_get_handler() returns: the libtcmu-level description of the
 * handler serving a device.  Read-only for handlers.
 */
struct tcmulib_handler {
	const char *name;
	const char *subtype;
	const char *cfg_desc;

	struct tcmulib_context *ctx;

	bool (*check_config)(const char *cfgstring, char **reason);
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
	bool (*update_logdir)(void);
	int (*added)(struct tcmu_device *dev);
	void (*removed)(struct tcmu_device *dev);

	void *hm_private;
	void *connection;
};

#ifdef __cplusplus
}
#endif

#endif
