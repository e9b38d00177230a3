/*
 * handler_ram: a memory-backed LUN for tests and benchmarks.
 *
 * cfgstring "ram/<anything>": the size is the device's.  Memory is an
 * anonymous mapping, so untouched blocks cost nothing and read as zeros.
 * I/O completes inline (nr_threads 0, completion before the callout
 * returns), which makes this handler a measure of the runner's own cost.
 * UNMAP releases whole pages and zeroes partial ones.
 *
 * The mapping reserves address space for growth (4x the size, at least
 * 1 GiB more) and never moves, so I/O needs no lock against a resize: only
 * the size changes (atomically).  Growing past the reservation fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcmu-runner.h"

#define MIN_HEADROOM (1ull << 30)

struct ram_dev {
	uint8_t *mem;
	uint64_t size;		/* atomic */
	uint64_t reserved;
};

static uint64_t cur_size(struct ram_dev *rd)
{
	return __atomic_load_n(&rd->size, __ATOMIC_ACQUIRE);
}

static int ram_open(struct tcmu_device *dev, bool reopen)
{
	struct ram_dev *rd = calloc(1, sizeof(*rd));

	(void)reopen;
	if (!rd)
		return -ENOMEM;
	rd->size = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	rd->reserved = rd->size * 4 > rd->size + MIN_HEADROOM ?
		       rd->size * 4 : rd->size + MIN_HEADROOM;
	rd->mem = mmap(NULL, rd->reserved, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rd->mem == MAP_FAILED) {
		tcmu_dev_err(dev, "cannot reserve %llu bytes of address space",
			     (unsigned long long)rd->reserved);
		free(rd);
		return -ENOMEM;
	}
	/*
	 * Memory is the medium and flush is a no-op: report a write cache so
	 * the runner does not add a flush to every write (write-through).
	 */
	tcmu_dev_set_write_cache_enabled(dev, true);
	tcmur_dev_set_private(dev, rd);
	return 0;
}

static void ram_close(struct tcmu_device *dev)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);

	munmap(rd->mem, rd->reserved);
	free(rd);
}

static bool in_range(struct ram_dev *rd, uint64_t off, uint64_t len)
{
	uint64_t size = cur_size(rd);

	return off <= size && len <= size - off;
}

static int ram_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		    struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_RD_ERR;

	if (in_range(rd, (uint64_t)off, len) &&
	    tcmu_memcpy_into_iovec(iov, iov_cnt, rd->mem + off, len) == len)
		sts = TCMU_STS_OK;
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int ram_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct ram_dev *rd = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_WR_ERR;

	if (in_range(rd, (uint64_t)off, len) &&
	    tcmu_memcpy_from_iovec(rd->mem + off, len, iov, iov_cnt) == len)
		sts = TCMU_STS_OK;
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
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int resize(struct tcmu_device *dev, struct ram_dev *rd, uint64_t size)
{
	uint64_t old = cur_size(rd);

	if (size > rd->reserved) {
		tcmu_dev_err(dev, "cannot grow to %llu bytes: %llu reserved at open",
			     (unsigned long long)size,
			     (unsigned long long)rd->reserved);
		return -ENOSPC;
	}
	__atomic_store_n(&rd->size, size, __ATOMIC_RELEASE);
	/* Shrunk: drop the tail, so growing back reads zeros. */
	if (size < old)
		madvise(rd->mem + size, old - size, MADV_DONTNEED);
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
