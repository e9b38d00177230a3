/*
 * handler_file: a LUN backed by a regular file or block device.
 *
 * cfgstring "file/<path>[;engine=io_uring|threads]", tcmu-runner's format
 * (targetcli passes "file//abs/path").  The file is created if missing and
 * grown (sparse) to the device size.  Asynchronous (nr_threads 0); two I/O
 * engines:
 *  - io_uring (default): readv/writev/fdatasync/fallocate are queued on a
 *    per-device ring; completions that are ready at submission (page cache
 *    hits) are reaped by the submitting thread, the rest by a reaper thread
 *    woken through an eventfd.
 *  - threads: a small pool doing preadv/pwritev/fdatasync/fallocate.
 * SYNCHRONIZE CACHE = fdatasync; UNMAP = punch a hole (reads back zeros);
 * the write cache is reported enabled (writes land in the page cache).
 * Built only against include/, like any third-party handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "tcmu-runner.h"

#define ENGINE_OPT ";engine="

/* The first is the default. */
static const struct file_engine_ops *const engines[] = {
	&uring_engine_ops,
	&thread_engine_ops,
};

static const struct file_engine_ops *engine_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (!strcmp(name, engines[i]->name))
			return engines[i];
	return NULL;
}

/*
 * Split "file/<path>[;engine=X]" into path and engine.  Only a trailing
 * ";engine=" option is recognised, so any other ';' stays in the path.
 */
static int parse_cfgstring(const char *cfg, char *path, size_t size,
			   const struct file_engine_ops **engine, char **reason)
{
	const char *p = strchr(cfg, '/'), *opt;
	size_t len;

	*engine = engines[0];
	if (!p || !p[1]) {
		if (reason && asprintf(reason, "no path: expected file/<path>") < 0)
			*reason = NULL;
		return -EINVAL;
	}
	p++;
	len = strlen(p);
	opt = strstr(p, ENGINE_OPT);
	if (opt) {
		const char *val = opt + strlen(ENGINE_OPT);

		*engine = engine_by_name(val);
		if (!*engine) {
			if (reason && asprintf(reason, "unknown engine '%s': use io_uring or threads",
					       val) < 0)
				*reason = NULL;
			return -EINVAL;
		}
		len = (size_t)(opt - p);
	}
	if (!len || len >= size) {
		if (reason && asprintf(reason, "path empty or longer than %zu bytes",
				       size - 1) < 0)
			*reason = NULL;
		return -EINVAL;
	}
	memcpy(path, p, len);
	path[len] = '\0';
	return 0;
}

static bool file_check_config(const char *cfgstring, char **reason)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const struct file_engine_ops *engine;
	struct stat st;
	char *slash;

	if (parse_cfgstring(cfgstring, path, sizeof(path), &engine, reason))
		return false;
	if (!stat(path, &st)) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			if (asprintf(reason, "%s is neither a regular file nor a block device",
				     path) < 0)
				*reason = NULL;
			return false;
		}
		if (access(path, R_OK | W_OK)) {
			if (asprintf(reason, "%s is not readable and writable: %s",
				     path, strerror(errno)) < 0)
				*reason = NULL;
			return false;
		}
		return true;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (access(slash ? (dir[0] ? dir : "/") : ".", W_OK)) {
		if (asprintf(reason, "%s does not exist and its directory is not writable: %s",
			     path, strerror(errno)) < 0)
			*reason = NULL;
		return false;
	}
	return true;
}

/* Grow a regular file to the device size; never shrink it. */
static int size_file(struct tcmu_device *dev, int fd, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size >= size)
		return 0;
	if (ftruncate(fd, (off_t)size)) {
		int err = -errno;

		tcmu_dev_err(dev, "cannot grow the backing file to %llu bytes: %s",
			     (unsigned long long)size, strerror(-err));
		return err;
	}
	return 0;
}

static void set_limits(struct tcmu_device *dev)
{
	uint32_t bs = tcmu_dev_get_block_size(dev);

	/* Holes are punched in file system blocks; one call per descriptor. */
	tcmu_dev_set_opt_unmap_gran(dev, bs < 4096 ? 4096 / bs : 1, false);
	tcmu_dev_set_unmap_gran_align(dev, 0);
	tcmu_dev_set_max_unmap_len(dev, 0x40000000u / (bs / 512));
	tcmu_dev_set_write_cache_enabled(dev, true);
}

static int file_open(struct tcmu_device *dev, bool reopen)
{
	uint64_t size = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	char path[PATH_MAX];
	struct file_dev *fd;
	int ret;

	(void)reopen;
	fd = calloc(1, sizeof(*fd));
	if (!fd)
		return -ENOMEM;
	ret = parse_cfgstring(tcmu_dev_get_cfgstring(dev), path, sizeof(path),
			      &fd->engine, NULL);
	if (ret)
		goto fail;
	/* No access-time updates on every read; needs ownership or CAP_FOWNER. */
	fd->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOATIME, 0600);
	if (fd->fd < 0 && errno == EPERM)
		fd->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd->fd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "cannot open %s: %s", path, strerror(-ret));
		goto fail;
	}
	ret = size_file(dev, fd->fd, size);
	if (!ret)
		ret = fd->engine->start(dev, fd);
	if (ret) {
		close(fd->fd);
		goto fail;
	}
	set_limits(dev);
	tcmur_dev_set_private(dev, fd);
	tcmu_dev_info(dev, "opened %s (%s engine)", path, fd->engine->name);
	return 0;
fail:
	free(fd);
	return ret;
}

static void file_close(struct tcmu_device *dev)
{
	struct file_dev *fd = tcmur_dev_get_private(dev);

	fd->engine->stop(fd);
	close(fd->fd);
	free(fd);
}

static int queue(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		 enum file_op op, struct iovec *iov, size_t iov_cnt,
		 uint64_t len, uint64_t off)
{
	struct file_dev *fd = tcmur_dev_get_private(dev);
	struct file_req req = {
		.dev = dev, .cmd = cmd, .op = op, .iov = iov,
		.iov_cnt = iov_cnt, .len = len, .off = off,
	};

	return fd->engine->submit(fd, &req);
}

static int file_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	return queue(dev, cmd, FILE_READ, iov, iov_cnt, len, (uint64_t)off);
}

static int file_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		      struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	return queue(dev, cmd, FILE_WRITE, iov, iov_cnt, len, (uint64_t)off);
}

static int file_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	return queue(dev, cmd, FILE_FLUSH, NULL, 0, 0, 0);
}

static int file_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		      uint64_t off, uint64_t len)
{
	return queue(dev, cmd, FILE_UNMAP, NULL, 0, len, off);
}

static int file_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct file_dev *fd = tcmur_dev_get_private(dev);

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		return size_file(dev, fd->fd, cfg->data.dev_size);
	case TCMULIB_CFG_WRITE_CACHE:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* Final status of a finished request; completes the command. */
void file_req_complete(const struct file_req *req, int err)
{
	static const int errors[] = {
		[FILE_READ] = TCMU_STS_RD_ERR, [FILE_WRITE] = TCMU_STS_WR_ERR,
		[FILE_FLUSH] = TCMU_STS_WR_ERR, [FILE_UNMAP] = TCMU_STS_WR_ERR,
	};
	int sts = err ? errors[req->op] : TCMU_STS_OK;

	if (err)
		tcmu_dev_err(req->dev, "%s of %llu bytes at %llu failed: %s",
			     file_op_name(req->op), (unsigned long long)req->len,
			     (unsigned long long)req->off, strerror(-err));
	tcmur_cmd_complete(req->dev, req->cmd, sts);
}

static struct tcmur_handler file_handler = {
	.name = "File-backed LUN (lunar)",
	.subtype = "file",
	.cfg_desc = "file/<path>[;engine=io_uring|threads]: a regular file "
		    "(created and grown to the device size) or block device",
	.check_config = file_check_config,
	.open = file_open,
	.close = file_close,
	.reconfig = file_reconfig,
	.nr_threads = 0,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.unmap = file_unmap,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&file_handler);
}
