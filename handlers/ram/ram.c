/*
 * handler_ram: a memory-backed LUN for tests and benchmarks.
 *
 * cfgstring "ram/<anything>": the size is the device's.  Memory is an
 * anonymous mapping, so untouched blocks cost nothing and read as zeros.
 * I/O completes inline (nr_threads 0, completion before the callout
 * returns), which makes this handler a measure of the runner's own cost.
 * UNMAP releases whole pages and zeroes partial ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcmu-runner.h"

struct ram_dev {
	pthread_rwlock_t lock;		/* held shared by I/O, exclusive by resize */
	uint8_t *mem;
	size_t size;
};

static int ram_open(struct tcmu_device *dev, bool reopen)
{
	struct ram_dev *rd = calloc(1, sizeof(*rd));

	(void)reopen;
	if (!rd)
		return -ENOMEM;
	rd->size = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	rd->mem = mmap(NULL, rd->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rd->mem == MAP_FAILED) {
		tcmu_dev_err(dev, "cannot map %zu bytes of memory", rd->size);
		free(rd);
		return -ENOMEM;
	}
	pthread_rwlock_init(&rd->lock, NULL);
	tcmu_dev_set_write_cache_enabled(dev, false);
	tcmur_dev_set_private(dev, rd);
	return 0;
}

static void ram_close(struct tcmu_device *dev)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);

	munmap(rd->mem, rd->size);
	pthread_rwlock_destroy(&rd->lock);
	free(rd);
}

static bool in_range(struct ram_dev *rd, uint64_t off, uint64_t len)
{
	return off <= rd->size && len <= rd->size - off;
}

static int ram_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		    struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_RD_ERR;

	pthread_rwlock_rdlock(&rd->lock);
	if (in_range(rd, (uint64_t)off, len) &&
	    tcmu_memcpy_into_iovec(iov, iov_cnt, rd->mem + off, len) == len)
		sts = TCMU_STS_OK;
	pthread_rwlock_unlock(&rd->lock);
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int ram_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_WR_ERR;

	pthread_rwlock_rdlock(&rd->lock);
	if (in_range(rd, (uint64_t)off, len) &&
	    tcmu_memcpy_from_iovec(rd->mem + off, len, iov, iov_cnt) == len)
		sts = TCMU_STS_OK;
	pthread_rwlock_unlock(&rd->lock);
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int ram_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

static int ram_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     uint64_t off, uint64_t len)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t first = (off + page - 1) / page * page;
	uint64_t end = off + len, last = end / page * page;
	int sts = TCMU_STS_OK;

	pthread_rwlock_rdlock(&rd->lock);
	if (!in_range(rd, off, len)) {
		sts = TCMU_STS_RANGE;
	} else if (first >= last) {
		memset(rd->mem + off, 0, len);
	} else {
		memset(rd->mem + off, 0, first - off);
		memset(rd->mem + last, 0, end - last);
		if (madvise(rd->mem + first, last - first, MADV_DONTNEED))
			memset(rd->mem + first, 0, last - first);
	}
	pthread_rwlock_unlock(&rd->lock);
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int resize(struct tcmu_device *dev, struct ram_dev *rd, uint64_t size)
{
	void *mem;

	pthread_rwlock_wrlock(&rd->lock);
	mem = mremap(rd->mem, rd->size, size, MREMAP_MAYMOVE);
	if (mem != MAP_FAILED) {
		rd->mem = mem;
		rd->size = size;
	}
	pthread_rwlock_unlock(&rd->lock);
	if (mem == MAP_FAILED) {
		tcmu_dev_err(dev, "cannot resize to %llu bytes",
			     (unsigned long long)size);
		return -ENOMEM;
	}
	return 0;
}

static int ram_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		return resize(dev, rd, cfg->data.dev_size);
	case TCMULIB_CFG_WRITE_CACHE:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static struct tcmur_handler ram_handler = {
	.name = "Memory-backed LUN (lunar)",
	.subtype = "ram",
	.cfg_desc = "ram/<any name>: memory-backed, sized by the device",
	.open = ram_open,
	.close = ram_close,
	.reconfig = ram_reconfig,
	.nr_threads = 0,
	.read = ram_read,
	.write = ram_write,
	.flush = ram_flush,
	.unmap = ram_unmap,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&ram_handler);
}
