/*
 * handler_slow (tests only): a memory-backed LUN whose I/O completes on
 * its own threads after a short random delay, so commands lunar runs
 * concurrently genuinely interleave in the backend.  Reads and writes move
 * their data in pieces with a pause between pieces: an access that
 * overlaps a write in flight sees a torn block, so anything the core fails
 * to keep apart shows up in the data.
 *
 * Subtypes: "slow" (read, write, flush, unmap) and "slowx" (also the
 * writesame and caw callouts).  Tests reach struct slow_ctl through
 * tcmur_dev_get_private(): call counters, the unmaps seen, and failures to
 * inject.  Out of process (the VM tier) the cfgstring option ";hold_ms=N"
 * sets ctl.hold_ms from the start, and a reconfiguration to a cfgstring
 * of the same subtype (netlink RECONFIG, attrib/dev_config) sets it anew.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler_slow.h"
#include "libtcmu.h"
#include "tcmu-runner.h"

#define NR_WORKERS 4
#define PIECES 8		/* a read or write moves its data in 8 pieces */
#define PIECE_PAUSE_US 20	/* with a pause after each */
#define MAX_DELAY_US 200
#define HOLD_OPT ";hold_ms="
#define MAX_HOLD_MS 60000

struct slow_dev;
struct job;

typedef int (*job_fn)(struct slow_dev *sd, struct job *j);

struct job {
	struct job *next;
	struct tcmur_cmd *cmd;
	job_fn fn;
	struct iovec *iov;
	size_t iov_cnt;
	uint64_t off;
	uint64_t len;
};

struct slow_dev {
	struct slow_ctl ctl;		/* first: what tests see */
	struct tcmu_device *dev;
	uint8_t *mem;
	uint64_t size;
	pthread_mutex_t caw_lock;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	bool stop;
	pthread_t workers[NR_WORKERS];
};

static bool in_range(struct slow_dev *sd, uint64_t off, uint64_t len)
{
	return off <= sd->size && len <= sd->size - off;
}

/* Bytes of the piece starting done bytes into a transfer of len. */
static uint64_t piece(uint64_t len, uint64_t done)
{
	uint64_t n = (len + PIECES - 1) / PIECES;

	return n < len - done ? n : len - done;
}

static int do_read(struct slow_dev *sd, struct job *j)
{
	int fail = __atomic_load_n(&sd->ctl.fail_read, __ATOMIC_RELAXED);

	if (fail)
		return fail;
	if (!in_range(sd, j->off, j->len))
		return TCMU_STS_RANGE;
	for (uint64_t done = 0, n; done < j->len; done += n) {
		n = piece(j->len, done);
		tcmu_memcpy_into_iovec(j->iov, j->iov_cnt, sd->mem + j->off + done, n);
		usleep(PIECE_PAUSE_US);
	}
	return TCMU_STS_OK;
}

static int do_write(struct slow_dev *sd, struct job *j)
{
	int fail = __atomic_load_n(&sd->ctl.fail_write, __ATOMIC_RELAXED);

	if (fail)
		return fail;
	if (!in_range(sd, j->off, j->len))
		return TCMU_STS_RANGE;
	for (uint64_t done = 0, n; done < j->len; done += n) {
		n = piece(j->len, done);
		tcmu_memcpy_from_iovec(sd->mem + j->off + done, n, j->iov, j->iov_cnt);
		usleep(PIECE_PAUSE_US);
	}
	return TCMU_STS_OK;
}

static int do_flush(struct slow_dev *sd, struct job *j)
{
	(void)j;
	__atomic_add_fetch(&sd->ctl.flush_calls, 1, __ATOMIC_RELAXED);
	return TCMU_STS_OK;
}

static int do_unmap(struct slow_dev *sd, struct job *j)
{
	unsigned int i = __atomic_fetch_add(&sd->ctl.unmap_calls, 1,
					    __ATOMIC_RELAXED);
	int fail = __atomic_load_n(&sd->ctl.fail_unmap, __ATOMIC_RELAXED);

	if (i < SLOW_MAX_UNMAPS)
		sd->ctl.unmaps[i] = (struct slow_extent){ j->off, j->len };
	if (fail)
		return fail;
	if (!in_range(sd, j->off, j->len))
		return TCMU_STS_RANGE;
	memset(sd->mem + j->off, 0, j->len);
	return TCMU_STS_OK;
}

static int do_writesame(struct slow_dev *sd, struct job *j)
{
	size_t bs = tcmu_dev_get_block_size(sd->dev);
	uint8_t *block = malloc(bs);

	__atomic_fetch_add(&sd->ctl.writesame_calls, 1, __ATOMIC_RELAXED);
	if (!block)
		return TCMU_STS_NO_RESOURCE;
	if (!in_range(sd, j->off, j->len) ||
	    tcmu_memcpy_from_iovec(block, bs, j->iov, j->iov_cnt) != bs) {
		free(block);
		return TCMU_STS_WR_ERR;
	}
	for (uint64_t done = 0; done < j->len; done += bs)
		memcpy(sd->mem + j->off + done, block, bs);
	free(block);
	return TCMU_STS_OK;
}

/* Compare then write under one lock, as a backend with native CAW would. */
static int do_caw(struct slow_dev *sd, struct job *j)
{
	uint8_t *buf = malloc(2 * j->len);
	int sts = TCMU_STS_OK;
	off_t diff;

	__atomic_fetch_add(&sd->ctl.caw_calls, 1, __ATOMIC_RELAXED);
	if (!buf)
		return TCMU_STS_NO_RESOURCE;
	if (!in_range(sd, j->off, j->len) ||
	    tcmu_memcpy_from_iovec(buf, 2 * j->len, j->iov, j->iov_cnt) != 2 * j->len) {
		free(buf);
		return TCMU_STS_WR_ERR;
	}
	pthread_mutex_lock(&sd->caw_lock);
	for (diff = 0; (uint64_t)diff < j->len; diff++)
		if (buf[diff] != sd->mem[j->off + (uint64_t)diff])
			break;
	if ((uint64_t)diff < j->len) {
		tcmu_sense_set_info(j->cmd->lib_cmd->sense_buf, (uint32_t)diff);
		sts = TCMU_STS_MISCOMPARE;
	} else {
		memcpy(sd->mem + j->off, buf + j->len, j->len);
	}
	pthread_mutex_unlock(&sd->caw_lock);
	free(buf);
	return sts;
}

static void *worker_main(void *arg)
{
	struct slow_dev *sd = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();

	pthread_mutex_lock(&sd->lock);
	for (;;) {
		struct job *j;

		while (!sd->head && !sd->stop)
			pthread_cond_wait(&sd->cond, &sd->lock);
		if (!sd->head)
			break;
		j = sd->head;
		sd->head = j->next;
		if (!sd->head)
			sd->tail = NULL;
		pthread_mutex_unlock(&sd->lock);
		usleep((useconds_t)(rand_r(&seed) % MAX_DELAY_US) +
		       __atomic_load_n(&sd->ctl.hold_ms, __ATOMIC_RELAXED) * 1000u);
		tcmur_cmd_complete(sd->dev, j->cmd, j->fn(sd, j));
		free(j);
		pthread_mutex_lock(&sd->lock);
	}
	pthread_mutex_unlock(&sd->lock);
	return NULL;
}

static int queue(struct tcmu_device *dev, struct tcmur_cmd *cmd, job_fn fn,
		 struct iovec *iov, size_t iov_cnt, uint64_t off, uint64_t len)
{
	struct slow_dev *sd = tcmur_dev_get_private(dev);
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return TCMU_STS_NO_RESOURCE;
	*j = (struct job){ NULL, cmd, fn, iov, iov_cnt, off, len };
	pthread_mutex_lock(&sd->lock);
	if (sd->tail)
		sd->tail->next = j;
	else
		sd->head = j;
	sd->tail = j;
	pthread_cond_signal(&sd->cond);
	pthread_mutex_unlock(&sd->lock);
	return TCMU_STS_OK;
}

static int slow_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		     struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	return queue(dev, cmd, do_read, iov, iov_cnt, (uint64_t)off, len);
}

static int slow_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		      struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	return queue(dev, cmd, do_write, iov, iov_cnt, (uint64_t)off, len);
}

static int slow_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	return queue(dev, cmd, do_flush, NULL, 0, 0, 0);
}

static int slow_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		      uint64_t off, uint64_t len)
{
	return queue(dev, cmd, do_unmap, NULL, 0, off, len);
}

static int slow_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			  uint64_t off, uint64_t len, struct iovec *iov,
			  size_t iov_cnt)
{
	return queue(dev, cmd, do_writesame, iov, iov_cnt, off, len);
}

static int slow_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		    uint64_t off, uint64_t len, struct iovec *iov,
		    size_t iov_cnt)
{
	return queue(dev, cmd, do_caw, iov, iov_cnt, off, len);
}

static void stop_workers(struct slow_dev *sd, int started)
{
	pthread_mutex_lock(&sd->lock);
	sd->stop = true;
	pthread_cond_broadcast(&sd->cond);
	pthread_mutex_unlock(&sd->lock);
	for (int i = 0; i < started; i++)
		pthread_join(sd->workers[i], NULL);
}

static void free_dev(struct slow_dev *sd)
{
	pthread_mutex_destroy(&sd->caw_lock);
	pthread_mutex_destroy(&sd->lock);
	pthread_cond_destroy(&sd->cond);
	free(sd->mem);
	free(sd);
}

/* cfg's ";hold_ms=N" (0 if absent) into *ms.  0 or -EINVAL. */
static int parse_hold_ms(const char *cfg, unsigned int *ms)
{
	const char *opt = strstr(cfg, HOLD_OPT);
	unsigned long v;
	char *end;

	if (!opt) {
		*ms = 0;
		return 0;
	}
	opt += strlen(HOLD_OPT);
	if (*opt < '0' || *opt > '9')
		return -EINVAL;
	v = strtoul(opt, &end, 10);
	if ((*end && *end != ';') || v > MAX_HOLD_MS)
		return -EINVAL;
	*ms = (unsigned int)v;
	return 0;
}

static int slow_open(struct tcmu_device *dev, bool reopen)
{
	struct slow_dev *sd;
	unsigned int hold_ms;
	int i;

	(void)reopen;
	if (parse_hold_ms(tcmu_dev_get_cfgstring(dev), &hold_ms))
		return -EINVAL;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->dev = dev;
	sd->size = tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev));
	sd->mem = calloc(1, sd->size);
	pthread_mutex_init(&sd->caw_lock, NULL);
	pthread_mutex_init(&sd->lock, NULL);
	pthread_cond_init(&sd->cond, NULL);
	for (i = 0; sd->mem && i < NR_WORKERS; i++)
		if (pthread_create(&sd->workers[i], NULL, worker_main, sd))
			break;
	if (i < NR_WORKERS) {
		stop_workers(sd, i);
		free_dev(sd);
		return -ENOMEM;
	}
	sd->ctl.hold_ms = hold_ms;
	tcmu_dev_set_write_cache_enabled(dev, false);
	tcmur_dev_set_private(dev, sd);
	return 0;
}

static void slow_close(struct tcmu_device *dev)
{
	struct slow_dev *sd = tcmur_dev_get_private(dev);

	stop_workers(sd, NR_WORKERS);
	free_dev(sd);
}

/* Whether cfgstrings a and b name the same subtype ("slow/..."). */
static bool same_subtype(const char *a, const char *b)
{
	size_t n = strcspn(a, "/");

	return a[n] == '/' && !strncmp(a, b, n + 1);
}

/*
 * A new cfgstring of the device's own subtype is followed at once: its
 * hold_ms applies to I/O queued from then on.  Anything else is refused,
 * changing nothing: another subtype or a bad hold_ms (-EINVAL); size and
 * write cache changes (-EOPNOTSUPP: the memory is fixed, the runner
 * keeps write cache).  A reopen reads the cfgstring the device was added
 * with again (lunar keeps it, as tcmu-runner 1.5.4 does).
 */
static int slow_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct slow_dev *sd = tcmur_dev_get_private(dev);
	unsigned int hold_ms;

	if (cfg->type != TCMULIB_CFG_DEV_CFGSTR)
		return -EOPNOTSUPP;
	if (!same_subtype(tcmu_dev_get_cfgstring(dev), cfg->data.dev_cfgstring) ||
	    parse_hold_ms(cfg->data.dev_cfgstring, &hold_ms))
		return -EINVAL;
	__atomic_store_n(&sd->ctl.hold_ms, hold_ms, __ATOMIC_RELAXED);
	return 0;
}

static struct tcmur_handler slow_handler = {
	.name = "Slow asynchronous memory LUN (tests)",
	.subtype = "slow",
	.cfg_desc = "slow/<any name>",
	.open = slow_open,
	.close = slow_close,
	.read = slow_read,
	.write = slow_write,
	.flush = slow_flush,
	.unmap = slow_unmap,
	.reconfig = slow_reconfig,
};

static struct tcmur_handler slowx_handler = {
	.name = "Slow asynchronous memory LUN with writesame and caw (tests)",
	.subtype = "slowx",
	.cfg_desc = "slowx/<any name>",
	.open = slow_open,
	.close = slow_close,
	.read = slow_read,
	.write = slow_write,
	.flush = slow_flush,
	.unmap = slow_unmap,
	.writesame = slow_writesame,
	.caw = slow_caw,
	.reconfig = slow_reconfig,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	int ret = tcmur_register_handler(&slow_handler);

	return ret ? ret : tcmur_register_handler(&slowx_handler);
}
