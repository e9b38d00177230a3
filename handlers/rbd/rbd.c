/*
 * handler_rbd: a LUN backed by a Ceph RBD image, a drop-in for
 * tcmu-runner 1.5.4's rbd handler (same subtype, cfgstrings, service map
 * names), fully asynchronous (nr_threads 0, see io.c).
 *
 * cfgstring: see cfgstring.c.  A snapshot is served read-only.
 * The image must be the LUN's size when it opens (as in 1.5.4: the admin
 * tool sizes the LUN from the image); later resizes on the Ceph side are
 * followed (watch.c).  Limits from the image: UNMAP granularity and
 * alignment one object, at most 4 objects per discard and per EXTENDED
 * COPY chunk.  WCE mirrors librbd's cache (connect.c); solid-state media
 * is reported when the pool's CRUSH rule uses only ssd or nvme devices.
 * The cluster lock callouts (lock.c) fence the previous owner before
 * taking the image's exclusive lock.
 *
 * Built only against include/, like any third-party handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"
#include "tcmu-runner.h"

/* D-Bus CheckConfig answers a person: fail fast on an unreachable cluster. */
#define CHECK_TIMEOUT_S 10
#define UNMAP_OBJECTS 4

static int open_image(const struct lrbd_cfg *cfg, rados_ioctx_t io,
		      rbd_image_t *image, bool read_only, char **reason)
{
	char name[512];
	int ret = read_only ? rbd_open_read_only(io, cfg->image, image, cfg->snap) :
			      rbd_open(io, cfg->image, image, cfg->snap);

	if (!ret)
		return 0;
	lrbd_cfg_format(cfg, name, sizeof(name));
	if (ret == -ENOENT && cfg->snap) {
		/* Which is missing, the image or its snapshot? */
		rbd_image_t head;

		if (!rbd_open_read_only(io, cfg->image, &head, NULL)) {
			rbd_close(head);
			return lrbd_fail(reason, ret, "snapshot '%s' of image %s/%s does not exist",
					   cfg->snap, cfg->pool, cfg->image);
		}
	}
	if (ret == -ENOENT)
		return lrbd_fail(reason, ret, "image %s does not exist", name);
	return lrbd_fail(reason, ret, "cannot open image %s: %s", name, strerror(-ret));
}

static bool lrbd_check_config(const char *cfgstring, char **reason)
{
	struct lrbd_cfg cfg;
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
	int ret = lrbd_cfg_parse(cfgstring, &cfg, reason);

	if (ret)
		return false;
	ret = lrbd_connect(NULL, &cfg, CHECK_TIMEOUT_S, &cluster, &io, reason);
	if (!ret) {
		ret = open_image(&cfg, io, &image, true, reason);
		if (!ret)
			rbd_close(image);
		rados_ioctx_destroy(io);
		rados_shutdown(cluster);
	}
	lrbd_cfg_free(&cfg);
	return ret == 0;
}

static void log_reason(struct tcmu_device *dev, char *reason, int ret)
{
	tcmu_dev_err(dev, "%s", reason ? reason : strerror(-ret));
	free(reason);
}

/* The image against the LUN: size, features, limits.  0 or -errno. */
static int fit_image(struct lrbd_dev *rd, char **reason)
{
	struct tcmu_device *dev = rd->dev;
	uint32_t bs = tcmu_dev_get_block_size(dev);
	uint64_t lun = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	uint64_t features = 0;
	rbd_image_info_t info;
	int ret = rbd_stat(rd->image, &info, sizeof(info));

	if (ret)
		return lrbd_fail(reason, ret, "cannot stat %s: %s", rd->name, strerror(-ret));
	if (info.size != lun)
		return lrbd_fail(reason, -EINVAL, "%s is %llu bytes but the LUN is %llu: give the LUN the image's size",
				 rd->name, (unsigned long long)info.size,
				 (unsigned long long)lun);
	rbd_get_features(rd->image, &features);
	if (!lrbd_read_only(rd) && !(features & RBD_FEATURE_EXCLUSIVE_LOCK))
		tcmu_dev_warn(dev, "%s has no exclusive-lock feature: several gateways would write it unfenced (rbd feature enable %s exclusive-lock)",
			      rd->name, rd->name);
	tcmu_dev_set_opt_unmap_gran(dev, (uint32_t)(info.obj_size / bs), false);
	tcmu_dev_set_unmap_gran_align(dev, (uint32_t)(info.obj_size / bs));
	tcmu_dev_set_max_unmap_len(dev, (uint32_t)(UNMAP_OBJECTS * info.obj_size / bs));
	tcmu_dev_set_opt_xcopy_rw_len(dev, (uint32_t)(UNMAP_OBJECTS * info.obj_size / bs));
	tcmu_dev_set_write_cache_enabled(dev, lrbd_write_cache(rd->image));
	tcmu_dev_set_solid_state_media(dev, lrbd_pool_solid_state(rd->cluster, rd->cfg.pool));
	return 0;
}

static void lrbd_dev_free(struct lrbd_dev *rd)
{
	lrbd_cfg_free(&rd->cfg);
	pthread_mutex_destroy(&rd->status_lock);
	free(rd);
}

static int lrbd_dev_open(struct tcmu_device *dev, bool reopen)
{
	struct lrbd_dev *rd = calloc(1, sizeof(*rd));
	char *reason = NULL;
	int ret;

	(void)reopen;
	if (!rd)
		return -ENOMEM;
	rd->dev = dev;
	pthread_mutex_init(&rd->status_lock, NULL);
	ret = lrbd_cfg_parse(tcmu_dev_get_cfgstring(dev), &rd->cfg, &reason);
	if (ret)
		goto fail;
	lrbd_cfg_format(&rd->cfg, rd->name, sizeof(rd->name));
	ret = lrbd_connect(dev, &rd->cfg, 0, &rd->cluster, &rd->io, &reason);
	if (ret)
		goto fail;
	ret = open_image(&rd->cfg, rd->io, &rd->image, lrbd_read_only(rd), &reason);
	if (ret)
		goto disconnect;
	ret = fit_image(rd, &reason);
	if (ret)
		goto close_image;
	tcmur_dev_set_private(dev, rd);
	lrbd_watch_start(rd);
	lrbd_service_register(rd);
	lrbd_blocklist_cleanup(rd);
	tcmu_dev_info(dev, "opened %s%s, write cache %s", rd->name,
		      lrbd_read_only(rd) ? " (snapshot: read-only)" : "",
		      tcmu_dev_get_write_cache_enabled(dev) ? "on (librbd acknowledges before the OSDs)" : "off");
	return 0;
close_image:
	rbd_close(rd->image);
disconnect:
	rados_ioctx_destroy(rd->io);
	rados_shutdown(rd->cluster);
fail:
	log_reason(dev, reason, ret);
	lrbd_dev_free(rd);
	return ret;
}

/* No command is in flight: the runner drained the device first. */
static void lrbd_dev_close(struct tcmu_device *dev)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);

	lrbd_watch_stop(rd);
	rbd_close(rd->image);
	lrbd_blocklist_remember(rd);
	rados_ioctx_destroy(rd->io);
	rados_shutdown(rd->cluster);
	tcmu_dev_info(dev, "closed %s", rd->name);
	lrbd_dev_free(rd);
	tcmur_dev_set_private(dev, NULL);
}

/*
 * A new LUN size is only taken when the image has it: the image is sized
 * in Ceph (rbd resize), and the LUN follows (watch.c).
 */
static int lrbd_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	uint64_t size = 0;

	if (cfg->type != TCMULIB_CFG_DEV_SIZE)
		return -EOPNOTSUPP;
	if (rbd_get_size(rd->image, &size) || size != cfg->data.dev_size) {
		tcmu_dev_err(dev, "LUN size %llu refused: %s is %llu bytes; resize the image (rbd resize) and the LUN follows",
			     (unsigned long long)cfg->data.dev_size, rd->name,
			     (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

static int lrbd_report_event(struct tcmu_device *dev)
{
	lrbd_service_update(tcmur_dev_get_private(dev));
	return 0;
}

static struct tcmur_handler lrbd_handler = {
	.name = "Ceph RBD handler (lunar)",
	.subtype = "rbd",
	.cfg_desc = "rbd/<pool>[/<namespace>]/<image>[@<snap>][;osd_op_timeout=N][;conf=PATH][;id=USER]",
	.check_config = lrbd_check_config,
	.open = lrbd_dev_open,
	.close = lrbd_dev_close,
	.reconfig = lrbd_reconfig,
	.report_event = lrbd_report_event,
	.nr_threads = 0,
	.read = lrbd_read,
	.write = lrbd_write,
	.flush = lrbd_flush,
	.unmap = lrbd_unmap,
	.writesame = lrbd_writesame,
	.caw = lrbd_caw,
	.lock = lrbd_lock,
	.unlock = lrbd_unlock,
	.get_lock_tag = lrbd_get_lock_tag,
	.get_lock_state = lrbd_get_lock_state,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&lrbd_handler);
}
