/*
 * The fake core.  See fake_core.h.
 */
#include "fake_core.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/ha.h"
#include "runner/scsi/scsi.h"
#include "runner/scsi/sense.h"

static void count(struct tcmu_device *dev, enum fake_call call)
{
	dev->calls[call]++;
}

/* The handler's lock callouts, answering from dev->backend. */

static int fake_lock(struct tcmu_device *dev, uint16_t tag)
{
	int sts;

	count(dev, FAKE_LOCK);
	while (dev->backend.lock_hold)
		fake_sleep_ms(1);
	sts = dev->backend.lock_sts;
	dev->last_lock_tag = tag;
	if (sts == TCMU_STS_OK) {
		dev->backend.owner = tag;
		dev->backend.state = TCMUR_DEV_LOCK_WRITE_LOCKED;
	}
	return sts;
}

static int fake_unlock(struct tcmu_device *dev)
{
	int sts = dev->backend.unlock_sts;

	count(dev, FAKE_UNLOCK);
	if (sts == TCMU_STS_OK) {
		dev->backend.owner = -1;
		dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	}
	return sts;
}

static int fake_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	int sts = dev->backend.tag_sts, owner = dev->backend.owner;

	count(dev, FAKE_GET_LOCK_TAG);
	if (sts != TCMU_STS_OK)
		return sts;
	if (owner < 0)
		return TCMU_STS_NO_LOCK_HOLDERS;
	*tag = (uint16_t)owner;
	return TCMU_STS_OK;
}

static int fake_get_lock_state(struct tcmu_device *dev)
{
	return dev->backend.state;
}

static int fake_open(struct tcmu_device *dev, bool reopen)
{
	count(dev, FAKE_OPEN);
	dev->last_open_reopen = reopen;
	dev->lock_state_at_open = dev->lock_state;
	if (dev->backend.open_failures > 0) {
		dev->backend.open_failures--;
		return -EIO;
	}
	return 0;
}

/* A lock held by the closing client goes with it. */
static void fake_close(struct tcmu_device *dev)
{
	count(dev, FAKE_CLOSE);
	if (dev->backend.state == TCMUR_DEV_LOCK_WRITE_LOCKED) {
		dev->backend.owner = -1;
		dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	}
}

static const struct tcmur_handler fake_handler = {
	.name = "fake handler",
	.subtype = "fake",
	.open = fake_open,
	.close = fake_close,
	.lock = fake_lock,
	.unlock = fake_unlock,
	.get_lock_tag = fake_get_lock_tag,
	.get_lock_state = fake_get_lock_state,
};

struct tcmu_device *fake_device_new(const char *name)
{
	struct tcmu_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		abort();
	snprintf(dev->label, sizeof(dev->label), "fake/%s", name);
	dev->handler = fake_handler;
	dev->backend.owner = -1;
	dev->backend.state = TCMUR_DEV_LOCK_UNLOCKED;
	dev->opened = true;
	return dev;
}

void fake_device_free(struct tcmu_device *dev)
{
	free(dev);
}

static struct fake_attr *find_attr(struct tcmu_device *dev, const char *name)
{
	for (unsigned int i = 0; i < dev->nattrs; i++)
		if (!strcmp(dev->attrs[i].name, name))
			return &dev->attrs[i];
	return NULL;
}

void fake_attr_set(struct tcmu_device *dev, const char *name,
		   const char *value)
{
	struct fake_attr *a = find_attr(dev, name);

	if (!a) {
		if (dev->nattrs == FAKE_ATTRS_MAX ||
		    strlen(name) >= sizeof(a->name))
			abort();
		a = &dev->attrs[dev->nattrs++];
		strcpy(a->name, name);
	}
	if (strlen(value) >= sizeof(a->value))
		abort();
	strcpy(a->value, value);
}

const char *fake_attr_get(struct tcmu_device *dev, const char *name)
{
	struct fake_attr *a = find_attr(dev, name);

	return a ? a->value : NULL;
}

void fake_cmd_init(struct lunar_cmd *cmd, struct tcmu_device *dev,
		   const uint8_t *cdb, size_t len)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->dev = dev;
	if (len > sizeof(cmd->cdb))
		abort();
	if (len)
		memcpy(cmd->cdb, cdb, len);
	cmd->sense_field = -1;
}

void fake_sleep_ms(unsigned int ms)
{
	struct timespec left = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
		;
}

/* runner/core.h */

const char *device_label(struct tcmu_device *dev)
{
	return dev->label;
}

const char *device_uio_name(struct tcmu_device *dev)
{
	(void)dev;
	return "uio-fake";
}

struct tcmur_handler *device_handler_ops(struct tcmu_device *dev)
{
	return &dev->handler;
}

bool device_write_cache(struct tcmu_device *dev)
{
	return dev->write_cache;
}

struct ha_dev *device_ha(struct tcmu_device *dev)
{
	return dev->ha;
}

void device_set_ha(struct tcmu_device *dev, struct ha_dev *ha)
{
	dev->ha = ha;
}

void device_raise_ua(struct tcmu_device *dev, uint32_t ua)
{
	dev->ua |= ua;
}

unsigned int device_inflight(struct tcmu_device *dev)
{
	return dev->inflight;
}

/* Recorded, not waited for: the test sets what is in flight. */
void device_wait_inflight(struct tcmu_device *dev, unsigned int max)
{
	count(dev, FAKE_WAIT_INFLIGHT);
	dev->wait_inflight_max = max;
}

void device_wake(struct tcmu_device *dev)
{
	count(dev, FAKE_WAKE);
}

/* Like the core: only a device that has no timeout yet takes it. */
void device_default_cmd_timeout(struct tcmu_device *dev, unsigned int seconds)
{
	unsigned int none = 0;

	atomic_compare_exchange_strong(&dev->cmd_timeout_s, &none, seconds);
}

void device_drop_poller(struct tcmu_device *dev)
{
	count(dev, FAKE_DROP_POLLER);
}

int device_reopen(struct tcmu_device *dev)
{
	count(dev, FAKE_REOPEN);
	if (dev->opened)
		dev->handler.close(dev);
	dev->opened = !dev->handler.open(dev, true);
	return dev->opened ? 0 : -EIO;
}

void device_set_recovering(struct tcmu_device *dev, bool recovering)
{
	dev->recovering = recovering;
}

void device_set_lock_state(struct tcmu_device *dev, uint8_t tcmur_lock_state)
{
	dev->lock_state = tcmur_lock_state;
}

ssize_t device_read_attr(struct tcmu_device *dev, const char *name,
			 char *buf, size_t size)
{
	struct fake_attr *a = find_attr(dev, name);
	size_t len;

	if (!a)
		return -ENOENT;
	if (!size)
		return -EINVAL;
	len = strlen(a->value);
	if (len >= size)
		len = size - 1;		/* cut, like a short read */
	memcpy(buf, a->value, len);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Parsed as the core does: one decimal number, blanks around it. */
int device_read_attr_u64(struct tcmu_device *dev, const char *name,
			 uint64_t *out)
{
	char buf[64], *end;
	const char *p = buf;
	ssize_t n = device_read_attr(dev, name, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -EINVAL : 0;
}

int device_write_attr(struct tcmu_device *dev, const char *name,
		      const char *value)
{
	fake_attr_set(dev, name, value);
	return 0;
}

/* The length of the entry right below dir/ on path's way, or 0. */
static size_t entry_len(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) || path[n] != '/')
		return 0;
	return strcspn(path + n + 1, "/");
}

/* The entries below name/, from the attributes' paths: one per line. */
ssize_t device_list_attr_dir(struct tcmu_device *dev, const char *name,
			     char *buf, size_t size)
{
	size_t plen = strlen(name), len = 0;

	for (unsigned int i = 0; i < dev->nattrs; i++) {
		const char *entry = dev->attrs[i].name + plen + 1;
		size_t elen = entry_len(dev->attrs[i].name, name);
		bool seen = false;

		for (unsigned int j = 0; elen && j < i && !seen; j++)
			seen = entry_len(dev->attrs[j].name, name) == elen &&
			       !strncmp(dev->attrs[j].name + plen + 1, entry, elen);
		if (!elen || seen)
			continue;
		if (len + elen + 2 > size)
			return -ENOSPC;
		memcpy(buf + len, entry, elen);
		len += elen;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	return len ? (ssize_t)len : -ENOENT;
}

struct tcmu_device *cmd_device(struct lunar_cmd *cmd)
{
	return cmd->dev;
}

const uint8_t *cmd_cdb(struct lunar_cmd *cmd)
{
	return cmd->cdb;
}

void cmd_finish(struct lunar_cmd *cmd, int sts)
{
	cmd->status = sts;
	cmd->finishes++;
}

/*
 * A parked command goes through cluster/'s admission again, as the core's
 * does; TCMU_STS_OK (it would run) completes it GOOD.
 */
void cmd_readmit(struct lunar_cmd *cmd)
{
	int sts = cluster_ha_ops.admit(cmd->dev, cmd);

	cmd->readmits++;
	if (sts != TCMU_STS_ASYNC_HANDLED)
		cmd_finish(cmd, sts);
}

/* include/tcmu-runner.h: what the HA layer reports as a handler would. */

void tcmu_notify_conn_lost(struct tcmu_device *dev)
{
	count(dev, FAKE_CONN_LOST);
}

/* runner/scsi/: the sense the HA layer chose, and its data. */

int sense_fail(struct lunar_cmd *cmd, uint8_t key, uint16_t asc_ascq)
{
	cmd->sense_key = key;
	cmd->asc_ascq = asc_ascq;
	return TCMU_STS_PASSTHROUGH_ERR;
}

int sense_bad_cdb_field(struct lunar_cmd *cmd, unsigned int byte, int bit)
{
	(void)bit;
	cmd->sense_field = (int)byte;
	return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
}

int sense_bad_param_field(struct lunar_cmd *cmd, unsigned int byte, int bit)
{
	(void)bit;
	cmd->sense_field = (int)byte;
	return sense_fail(cmd, ILLEGAL_REQUEST,
			  ASC_INVALID_FIELD_IN_PARAMETER_LIST);
}

int scsi_reply(struct lunar_cmd *cmd, const void *buf, size_t len,
	       size_t alloc_len)
{
	size_t n = len < alloc_len ? len : alloc_len;

	if (n > sizeof(cmd->data_in))
		n = sizeof(cmd->data_in);
	memcpy(cmd->data_in, buf, n);
	cmd->data_in_len = n;
	return TCMU_STS_OK;
}

size_t scsi_data_out(struct lunar_cmd *cmd, void *buf, size_t len)
{
	size_t n = len < cmd->data_out_len ? len : cmd->data_out_len;

	memcpy(buf, cmd->data_out, n);
	return n;
}

/* runner/log.h: to stderr, down to INFO, for reading a failed test. */

bool log_enabled(int level)
{
	return level <= TCMU_LOG_INFO;
}

void log_msg(int level, struct tcmu_device *dev, const char *func, int line,
	     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%d] %s %s:%d: %s\n", level,
		dev ? device_label(dev) : "-", func, line, msg);
}
