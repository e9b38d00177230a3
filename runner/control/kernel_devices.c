/*
 * The kernel's TCMU devices.  See kernel_devices.h.
 *
 * The registry (minor -> struct kdev) is touched only on the main thread.
 * Work for a device runs as a job on a thread pool; while one runs, later
 * jobs for the same minor wait on kd->pending, so a device sees its
 * requests in order while other devices go on.  A finished job comes back
 * to the main thread (g_main_context_invoke) to update the registry and
 * start the next one.  Netlink replies are sent by the worker as soon as
 * the work is done.
 */
#define _GNU_SOURCE
#include "kernel_devices.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/attr.h"
#include "runner/device.h"
#include "guardian.h"
#include "host_lock.h"
#include "kmod.h"
#include "runner/log.h"
#include "netlink.h"
#include "runner/ring/tcmu_uapi.h"
#include "uio.h"

#define MAX_JOB_THREADS 64

struct kdev {
	uint32_t minor;
	struct tcmu_device *dev;	/* NULL until opened */
	char hba[16];			/* for actions once dev is gone */
	char name[128];
	bool busy;			/* a job for it runs */
	GQueue pending;			/* struct job *, run in order */
};

enum job_kind { JOB_REQUEST, JOB_ADOPT };

struct job {
	enum job_kind kind;
	struct kdev *kd;
	struct nl_request req;		/* JOB_REQUEST; JOB_ADOPT: device only */
	struct tcmu_device *opened;	/* set by an add or adopt */
	bool removed;
};

static GHashTable *registry;		/* minor -> struct kdev * */
static GThreadPool *pool;
static int host_lock_fd = -1;
static bool accepting;

static void start_job(struct job *job);

static const char *cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		return "add";
	case TCMU_CMD_REMOVED_DEVICE:
		return "remove";
	case TCMU_CMD_RECONFIG_DEVICE:
		return "reconfigure";
	}
	return "unknown";
}

/* ---- worker side -------------------------------------------------- */

static int open_device(struct job *job, const struct uio_identity *id)
{
	struct lunar_transport *t;
	char uio[16];
	int ret;

	snprintf(uio, sizeof(uio), "uio%u", job->kd->minor);
	ret = uio_transport_open(uio, id, &t);
	if (ret) {
		lunar_err(NULL, "%s/%s: cannot map /dev/%s: %s", id->hba, id->dev,
			  uio, strerror(-ret));
		return ret;
	}
	/* Kernels before 5.9 lack it; aborts are then simply not seen. */
	transport_write_attr(t, "attrib/tmr_notification", "1");
	struct device_params p = {
		.uio_name = uio, .hba_name = id->hba, .dev_name = id->dev,
		.cfgstring = id->cfgstring,
	};
	return device_add(&p, t, &job->opened);
}

/* Split the kernel's device name; remember where its configfs lives. */
static int identify(struct job *job, struct uio_identity *id)
{
	if (uio_parse_name(job->req.device, id)) {
		lunar_err(NULL, "uio%u: '%.200s' is not a TCMU device name",
			  job->kd->minor, job->req.device);
		return -EINVAL;
	}
	snprintf(job->kd->hba, sizeof(job->kd->hba), "%s", id->hba);
	snprintf(job->kd->name, sizeof(job->kd->name), "%s", id->dev);
	return 0;
}

static int add_device(struct job *job)
{
	struct uio_identity id;
	int ret;

	if (job->kd->dev)
		return -EEXIST;
	ret = identify(job, &id);
	if (!ret)
		ret = open_device(job, &id);
	/* tcmu-runner answers -ENOENT for any failure but memory. */
	return ret == -ENOMEM ? ret : ret ? -ENOENT : 0;
}

/*
 * A device a previous daemon served: stop the kernel queueing, fail back
 * what it had in flight (retryable BUSY, so initiators retry rather than
 * see errors), reopen, resume.
 */
static void adopt_device(struct job *job)
{
	struct kdev *kd = job->kd;
	struct uio_identity id;

	if (identify(job, &id))
		return;
	uio_cfgfs_write(kd->hba, kd->name, "action/block_dev", "1");
	uio_cfgfs_write(kd->hba, kd->name, "action/reset_ring", "1");
	if (open_device(job, &id))
		lunar_err(NULL, "%s/%s: not adopted; remove and re-create it",
			  kd->hba, kd->name);
	else
		lunar_info(job->opened, "adopted from a previous daemon");
	uio_cfgfs_write(kd->hba, kd->name, "action/block_dev", "0");
}

static int reconfig_device(struct job *job)
{
	struct tcmulib_cfg_info cfg = { 0 };

	if (!job->kd->dev)
		return -ENODEV;
	if (job->req.has_cfgstring) {
		cfg.type = TCMULIB_CFG_DEV_CFGSTR;
		cfg.data.dev_cfgstring = job->req.cfgstring;
	} else if (job->req.has_size) {
		cfg.type = TCMULIB_CFG_DEV_SIZE;
		cfg.data.dev_size = job->req.size;
	} else {
		cfg.type = TCMULIB_CFG_WRITE_CACHE;
		cfg.data.write_cache = job->req.write_cache;
	}
	return device_reconfig(job->kd->dev, &cfg);
}

/* Kernel REMOVED: it already stopped queueing; drain and close. */
static int remove_device(struct job *job)
{
	if (job->kd->dev) {
		device_remove(job->kd->dev);
		job->removed = true;
	}
	return 0;
}

static int run_request(struct job *job)
{
	switch (job->req.cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		return add_device(job);
	case TCMU_CMD_REMOVED_DEVICE:
		return remove_device(job);
	case TCMU_CMD_RECONFIG_DEVICE:
		return reconfig_device(job);
	}
	return -EOPNOTSUPP;
}

/* "reconfigure (size 1048576)" and the like, for failure messages. */
static void describe(const struct nl_request *req, char *buf, size_t size)
{
	if (req->cmd != TCMU_CMD_RECONFIG_DEVICE)
		snprintf(buf, size, "%s", cmd_name(req->cmd));
	else if (req->has_cfgstring)
		snprintf(buf, size, "reconfigure (cfgstring '%.200s')", req->cfgstring);
	else if (req->has_size)
		snprintf(buf, size, "reconfigure (size %llu)",
			 (unsigned long long)req->size);
	else
		snprintf(buf, size, "reconfigure (write cache %s)",
			 req->write_cache ? "on" : "off");
}

static gboolean job_done(gpointer data);

static void answer_request(struct job *job)
{
	int ret = run_request(job);

	if (ret) {
		char what[256];

		describe(&job->req, what, sizeof(what));
		lunar_warn(NULL, "uio%u (%.200s): kernel's %s request failed: %s",
			   job->kd->minor, job->req.device, what, strerror(-ret));
	}
	netlink_reply(&job->req, ret);
}

static void run_job(gpointer data, gpointer unused)
{
	struct job *job = data;

	(void)unused;
	if (job->kind == JOB_ADOPT)
		adopt_device(job);
	else
		answer_request(job);
	g_main_context_invoke(NULL, job_done, job);
}

/* ---- main thread side --------------------------------------------- */

static struct kdev *kdev_get(uint32_t minor)
{
	struct kdev *kd = g_hash_table_lookup(registry, GUINT_TO_POINTER(minor));

	if (kd)
		return kd;
	kd = g_new0(struct kdev, 1);
	kd->minor = minor;
	g_queue_init(&kd->pending);
	g_hash_table_insert(registry, GUINT_TO_POINTER(minor), kd);
	return kd;
}

/* Forget an entry that has no device and nothing to do. */
static void kdev_put(struct kdev *kd)
{
	if (kd->dev || kd->busy || !g_queue_is_empty(&kd->pending))
		return;
	g_hash_table_remove(registry, GUINT_TO_POINTER(kd->minor));
	g_free(kd);
}

static gboolean job_done(gpointer data)
{
	struct job *job = data;
	struct kdev *kd = job->kd;

	if (job->opened) {
		kd->dev = job->opened;
		if (device_is_shared(kd->dev))
			guardian_watch(kd->hba, kd->name);
	}
	if (job->removed) {
		kd->dev = NULL;
		guardian_unwatch(kd->hba, kd->name);
	}
	g_free(job);
	kd->busy = false;
	if (!g_queue_is_empty(&kd->pending))
		start_job(g_queue_pop_head(&kd->pending));
	else
		kdev_put(kd);
	return G_SOURCE_REMOVE;
}

static void start_job(struct job *job)
{
	struct kdev *kd = job->kd;
	GError *err = NULL;

	if (kd->busy) {
		g_queue_push_tail(&kd->pending, job);
		return;
	}
	kd->busy = true;
	if (!g_thread_pool_push(pool, job, &err)) {
		/* No thread: run it here rather than leave the kernel waiting. */
		lunar_warn(NULL, "uio%u: no worker thread (%s); running inline",
			   kd->minor, err->message);
		g_error_free(err);
		run_job(job, NULL);
	}
}

static void on_request(const struct nl_request *req, void *unused)
{
	struct job *job;

	(void)unused;
	if (!accepting) {
		netlink_reply(req, -EAGAIN);
		return;
	}
	job = g_new0(struct job, 1);
	job->kind = JOB_REQUEST;
	job->req = *req;
	job->kd = kdev_get(req->minor);
	lunar_dbg(NULL, "uio%u: kernel asks to %s %.200s", req->minor,
		  cmd_name(req->cmd), req->device);
	start_job(job);
}

static void adopt(const char *uio_name, uint32_t minor)
{
	struct uio_identity id;
	struct job *job;
	char name[sizeof(job->req.device)];

	if (uio_read_name(uio_name, name, sizeof(name)) ||
	    uio_parse_name(name, &id))
		return;		/* not ours: another UIO driver */
	job = g_new0(struct job, 1);
	job->kind = JOB_ADOPT;
	snprintf(job->req.device, sizeof(job->req.device), "%s", name);
	job->kd = kdev_get(minor);
	start_job(job);
}

static void adopt_existing(void)
{
	DIR *d = opendir("/sys/class/uio");
	struct dirent *e;
	unsigned int minor;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "uio%u", &minor) == 1)
			adopt(e->d_name, minor);
	closedir(d);
}

/* Waits out a dead lunard's guardian (guardian.h), not another daemon. */
static int take_host_lock(void)
{
	int fd = host_lock_take(TCMU_HOST_LOCK, 0);

	if (fd == -EAGAIN) {
		lunar_info(NULL, "%s is held (by the guardian of a lunard that died, failing its commands, or by another daemon); waiting up to %d ms",
			   TCMU_HOST_LOCK, 2 * GUARD_HOLD_MS);
		fd = host_lock_take(TCMU_HOST_LOCK, 2 * GUARD_HOLD_MS);
	}
	if (fd == -EAGAIN) {
		lunar_err(NULL, "another TCMU daemon (lunard or tcmu-runner) holds %s; only one may serve this host's devices",
			  TCMU_HOST_LOCK);
		return -EBUSY;
	}
	if (fd < 0) {
		lunar_err(NULL, "cannot take %s: %s", TCMU_HOST_LOCK, strerror(-fd));
		return fd;
	}
	host_lock_fd = fd;
	return 0;
}

int kernel_devices_start(void)
{
	int ret = take_host_lock();

	if (!ret)
		ret = kmod_load_tcmu();
	if (ret)
		goto fail;
	/* Nothing may arrive half-way; stale requests of a dead daemon fail. */
	if (kmod_block_netlink(true) || kmod_reset_netlink())
		lunar_warn(NULL, "cannot block target_core_user netlink requests during start-up");
	ret = netlink_open(on_request, NULL);
	if (ret)
		goto fail;
	registry = g_hash_table_new(g_direct_hash, g_direct_equal);
	pool = g_thread_pool_new(run_job, NULL, MAX_JOB_THREADS, FALSE, NULL);
	accepting = true;
	adopt_existing();
	return 0;
fail:
	kmod_block_netlink(false);
	if (host_lock_fd >= 0)
		close(host_lock_fd);
	host_lock_fd = -1;
	return ret;
}

void kernel_devices_ready(void)
{
	if (kmod_block_netlink(false))
		lunar_err(NULL, "cannot unblock target_core_user netlink: new devices will fail until block_netlink is 0");
}

int kernel_devices_fd(void)
{
	return netlink_fd();
}

void kernel_devices_dispatch(void)
{
	netlink_dispatch();
}

static bool any_busy(void)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, registry);
	while (g_hash_table_iter_next(&it, &key, &value))
		if (((struct kdev *)value)->busy)
			return true;
	return false;
}

/* Block the kernel queue, drain and close, then let the queue go on. */
static void stop_device(struct kdev *kd)
{
	uio_cfgfs_write(kd->hba, kd->name, "action/block_dev", "1");
	device_remove(kd->dev);
	kd->dev = NULL;
	uio_cfgfs_write(kd->hba, kd->name, "action/block_dev", "0");
}

void kernel_devices_stop(void)
{
	GHashTableIter it;
	gpointer key, value;

	if (!registry)
		return;
	accepting = false;
	kmod_block_netlink(true);
	while (any_busy())	/* finishing jobs come back through the context */
		g_main_context_iteration(NULL, TRUE);
	netlink_close();
	g_thread_pool_free(pool, FALSE, TRUE);
	g_hash_table_iter_init(&it, registry);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct kdev *kd = value;

		if (kd->dev)
			stop_device(kd);
		g_free(kd);
	}
	g_hash_table_destroy(registry);
	registry = NULL;
	kmod_block_netlink(false);
	close(host_lock_fd);
	host_lock_fd = -1;
}
