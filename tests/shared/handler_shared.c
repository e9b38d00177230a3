/*
 * handler_shared: a test-only handler whose devices named alike share one
 * in-memory image and one cluster lock, the way gateways share an RBD
 * image, so lunar's lock module and ALUA can be driven in one process
 * ("shared/<image>").  Every open is a new client; lock() takes the lock
 * from a previous owner by fencing it (like a blocklist); a fenced client,
 * or one writing while another holds the lock, gets BUSY and reports the
 * lock lost — what handler_rbd does on -ESHUTDOWN / -EROFS — and cannot
 * read the lock tag either.  Image name prefixes select behaviours:
 *  - "slow*": a reopen takes 1 s;
 *  - "flaky*": every second get_lock_state() of the owner says unlocked,
 *    as librbd's does for a moment while it renews its lock cookie after
 *    re-registering its watch;
 *  - "lazylock*": lock() takes 300 ms;
 *  - "lockfail*", "lockbusy*": the image's first lock() that has to fence
 *    another owner fails, changing nothing, with TCMU_STS_HW_ERR (say a
 *    blocklist request the cluster refused) or TCMU_STS_BUSY (another
 *    gateway won the race); later ones succeed;
 *  - "unlockfail*", "unlocklost*": the image's first unlock() fails with
 *    TCMU_STS_HW_ERR, the lock staying held, or released all the same.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtcmu.h"
#include "tcmu-runner.h"

#define MAX_IMAGES 32
#define MAX_CLIENTS 256

struct image {
	char name[64];
	uint8_t *mem;
	size_t size;
	int owner;		/* client id, 0: none */
	uint16_t tag;
	bool fenced[MAX_CLIENTS];
	unsigned int fences, unlocks;	/* lock() takeovers, unlock() calls */
};

struct client {
	struct image *img;
	int id;
	unsigned int state_asked;	/* get_lock_state() calls */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct image images[MAX_IMAGES];
static int next_client = 1;

static bool named(const struct image *img, const char *prefix)
{
	return !strncmp(img->name, prefix, strlen(prefix));
}

static struct image *find_image(const char *name, size_t size)
{
	for (int i = 0; i < MAX_IMAGES; i++) {
		struct image *img = &images[i];

		if (img->mem && !strcmp(img->name, name))
			return img->size == size ? img : NULL;
		if (!img->mem) {
			img->mem = calloc(1, size);
			if (!img->mem)
				return NULL;
			strncpy(img->name, name, sizeof(img->name) - 1);
			img->size = size;
			return img;
		}
	}
	return NULL;
}

static int shared_open(struct tcmu_device *dev, bool reopen)
{
	const char *cfg = strchr(tcmu_dev_get_cfgstring(dev), '/');
	struct client *c = calloc(1, sizeof(*c));

	if (!c || !cfg)
		goto fail;
	if (reopen && !strncmp(cfg + 1, "slow", 4))
		usleep(1000000);
	pthread_mutex_lock(&mu);
	c->img = find_image(cfg + 1, tcmu_lba_to_byte(dev, tcmu_dev_get_num_lbas(dev)));
	c->id = next_client < MAX_CLIENTS ? next_client++ : 0;
	pthread_mutex_unlock(&mu);
	if (!c->img || !c->id)
		goto fail;
	tcmu_dev_set_write_cache_enabled(dev, false);
	tcmur_dev_set_private(dev, c);
	return 0;
fail:
	free(c);
	return -EINVAL;
}

static void shared_close(struct tcmu_device *dev)
{
	struct client *c = tcmur_dev_get_private(dev);

	pthread_mutex_lock(&mu);
	if (c->img->owner == c->id)
		c->img->owner = 0;
	pthread_mutex_unlock(&mu);
	free(c);
}

/* Under mu: whether c may touch the image now. */
static bool may_access(struct client *c, bool write)
{
	if (c->img->fenced[c->id])
		return false;
	return !write || !c->img->owner || c->img->owner == c->id;
}

static int do_io(struct tcmu_device *dev, struct iovec *iov, size_t cnt,
		 size_t len, off_t off, bool write)
{
	struct client *c = tcmur_dev_get_private(dev);
	bool ok;

	pthread_mutex_lock(&mu);
	ok = may_access(c, write);
	if (ok && write)
		tcmu_memcpy_from_iovec(c->img->mem + off, len, iov, cnt);
	else if (ok)
		tcmu_memcpy_into_iovec(iov, cnt, c->img->mem + off, len);
	pthread_mutex_unlock(&mu);
	if (ok)
		return TCMU_STS_OK;
	tcmu_notify_lock_lost(dev);
	return TCMU_STS_BUSY;
}

static int shared_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		       struct iovec *iov, size_t cnt, size_t len, off_t off)
{
	(void)cmd;
	return do_io(dev, iov, cnt, len, off, false);
}

static int shared_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			struct iovec *iov, size_t cnt, size_t len, off_t off)
{
	(void)cmd;
	return do_io(dev, iov, cnt, len, off, true);
}

static int shared_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	(void)dev;
	(void)cmd;
	return TCMU_STS_OK;
}

/* Under mu: fence img's owner, unless this is a fencing meant to fail. */
static int fence_owner(struct image *img)
{
	bool first = !img->fences++;

	if (first && named(img, "lockfail"))
		return TCMU_STS_HW_ERR;
	if (first && named(img, "lockbusy"))
		return TCMU_STS_BUSY;
	img->fenced[img->owner] = true;
	return TCMU_STS_OK;
}

static int shared_lock(struct tcmu_device *dev, uint16_t tag)
{
	struct client *c = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_OK;

	if (named(c->img, "lazylock"))
		usleep(300000);
	pthread_mutex_lock(&mu);
	if (c->img->fenced[c->id])
		sts = TCMU_STS_FENCED;
	else if (c->img->owner && c->img->owner != c->id)
		sts = fence_owner(c->img);
	if (sts == TCMU_STS_OK) {
		c->img->owner = c->id;
		c->img->tag = tag;
	}
	pthread_mutex_unlock(&mu);
	return sts;
}

static int shared_unlock(struct tcmu_device *dev)
{
	struct client *c = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_OK;

	pthread_mutex_lock(&mu);
	if (!c->img->unlocks++ &&
	    (named(c->img, "unlockfail") || named(c->img, "unlocklost")))
		sts = TCMU_STS_HW_ERR;
	if ((sts == TCMU_STS_OK || named(c->img, "unlocklost")) &&
	    c->img->owner == c->id)
		c->img->owner = 0;
	pthread_mutex_unlock(&mu);
	return sts;
}

static int shared_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	struct client *c = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_NO_LOCK_HOLDERS;

	pthread_mutex_lock(&mu);
	if (c->img->fenced[c->id]) {
		sts = TCMU_STS_FENCED;
	} else if (c->img->owner) {
		*tag = c->img->tag;
		sts = TCMU_STS_OK;
	}
	pthread_mutex_unlock(&mu);
	return sts;
}

static int shared_get_lock_state(struct tcmu_device *dev)
{
	struct client *c = tcmur_dev_get_private(dev);
	int state;

	pthread_mutex_lock(&mu);
	state = c->img->owner == c->id && !c->img->fenced[c->id] ?
		TCMUR_DEV_LOCK_WRITE_LOCKED : TCMUR_DEV_LOCK_UNLOCKED;
	if (named(c->img, "flaky") && c->state_asked++ % 2)
		state = TCMUR_DEV_LOCK_UNLOCKED;
	pthread_mutex_unlock(&mu);
	return state;
}

static struct tcmur_handler shared_handler = {
	.name = "Shared in-memory image with a cluster lock (tests)",
	.subtype = "shared",
	.cfg_desc = "shared/<image>",
	.open = shared_open,
	.close = shared_close,
	.nr_threads = 1,
	.read = shared_read,
	.write = shared_write,
	.flush = shared_flush,
	.lock = shared_lock,
	.unlock = shared_unlock,
	.get_lock_tag = shared_get_lock_tag,
	.get_lock_state = shared_get_lock_state,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&shared_handler);
}
