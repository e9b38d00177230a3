/*
 * target_core_user module loading and netlink blocking.  See kmod.h.
 */
#define _GNU_SOURCE
#include "kmod.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>
#include <unistd.h>

#include "runner/log.h"
#include "runner/sysfs.h"

#define MODULE "target_core_user"
#define MODULE_SYSFS "/sys/module/" MODULE
#define PARAMS MODULE_SYSFS "/parameters/"

static bool loaded(void)
{
	return access(MODULE_SYSFS, F_OK) == 0;
}

static int probe(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_list *list = NULL, *l;
	int ret = -ENOENT;

	if (!ctx)
		return -ENOMEM;
	if (kmod_module_new_from_lookup(ctx, MODULE, &list) < 0)
		goto out;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST,
						      NULL, NULL, NULL, NULL);
		kmod_module_unref(mod);
		if (!ret)
			break;
	}
	kmod_module_unref_list(list);
out:
	kmod_unref(ctx);
	return ret;
}

int kmod_load_tcmu(void)
{
	int ret;

	if (loaded())
		return 0;
	ret = probe();
	if (!ret && loaded())
		return 0;
	lunar_err(NULL, "cannot load kernel module %s (%s): this kernel has no TCMU (CONFIG_TCM_USER2), or modules are not available",
		  MODULE, ret == -ENOENT ? "not found" : strerror(ret < 0 ? -ret : EIO));
	return ret < 0 ? ret : -ENOENT;
}

static int write_param(const char *name, const char *value)
{
	char path[128] = PARAMS;

	strncat(path, name, sizeof(path) - strlen(path) - 1);
	return sysfs_write(path, value, strlen(value));
}

int kmod_block_netlink(bool block)
{
	int ret = write_param("block_netlink", block ? "1" : "0");

	/* Kernels before 4.18 have no switch: nothing to block. */
	return ret == -ENOENT ? 0 : ret;
}

int kmod_reset_netlink(void)
{
	int ret = write_param("reset_netlink", "1");

	return ret == -ENOENT ? 0 : ret;
}
