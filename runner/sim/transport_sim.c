/*
 * User side of a simring device.  See transport_sim.h.
 */
#define _GNU_SOURCE
#include "transport_sim.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner/attr.h"
#include "sim_alua.h"
#include "simring.h"
#include "runner/ring/transport.h"

struct sim_transport {
	struct lunar_transport t;	/* first: the ops get this pointer */
	struct sim_endpoint ep;
	pthread_mutex_t lock;
	struct sim_attrs attrs;
	struct sim_alua alua;
	unsigned int cmd_time_out;	/* attrib/cmd_time_out; 0: kernel default */
	char serial[64];
};

static struct sim_transport *to_sim(struct lunar_transport *t)
{
	return (struct sim_transport *)t;
}

static int sim_ack(struct lunar_transport *t)
{
	uint64_t v;

	return read(t->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN ? -errno : 0;
}

static int sim_kick(struct lunar_transport *t)
{
	uint64_t one = 1;

	return write(to_sim(t)->ep.kernel_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

static ssize_t format_attr(struct sim_transport *st, const char *name,
			   char *buf, size_t size)
{
	const struct sim_attrs *a = &st->attrs;

	if (!strcmp(name, "attrib/hw_block_size"))
		return snprintf(buf, size, "%u\n", a->block_size);
	if (!strcmp(name, "attrib/hw_max_sectors"))
		return snprintf(buf, size, "%u\n", a->max_sectors);
	if (!strcmp(name, "attrib/emulate_write_cache"))
		return snprintf(buf, size, "%d\n", a->write_cache);
	if (!strcmp(name, "attrib/cmd_time_out"))
		return snprintf(buf, size, "%u\n", st->cmd_time_out ? st->cmd_time_out : 30);
	if (!strcmp(name, "wwn/vpd_unit_serial"))
		return snprintf(buf, size, "T10 VPD Unit Serial Number: %s\n",
				st->serial);
	if (!strcmp(name, "info"))
		return snprintf(buf, size,
				"Status: ACTIVATED  Max Queue Depth: 0  SectorSize: %u  HwMaxSectors: %u\n"
				"        Config: simring Size: %llu MaxDataAreaMB: 1024 DataPagesPerBlk: 1 MaxCmdRingSizeMB: 8\n",
				a->block_size, a->max_sectors,
				(unsigned long long)a->size);
	return sim_alua_read(&st->alua, name, buf, size);
}

static ssize_t sim_read_attr(struct lunar_transport *t, const char *name,
			     char *buf, size_t size)
{
	struct sim_transport *st = to_sim(t);
	ssize_t n;

	pthread_mutex_lock(&st->lock);
	n = format_attr(st, name, buf, size);
	pthread_mutex_unlock(&st->lock);
	if (n >= 0 && (size_t)n >= size)
		return -E2BIG;
	return n;
}

static ssize_t sim_list_dir(struct lunar_transport *t, const char *name,
			    char *buf, size_t size)
{
	struct sim_transport *st = to_sim(t);
	ssize_t n = -ENOENT;

	pthread_mutex_lock(&st->lock);
	if (!strcmp(name, "alua"))
		n = sim_alua_list(&st->alua, buf, size);
	pthread_mutex_unlock(&st->lock);
	return n;
}

static int write_control(struct sim_transport *st, const char *value)
{
	uint64_t size;

	if (strncmp(value, "dev_size=", 9) || parse_u64(value + 9, &size) ||
	    !size)
		return -EINVAL;
	st->attrs.size = size;
	return 0;
}

static int sim_write_attr(struct lunar_transport *t, const char *name,
			  const char *value)
{
	struct sim_transport *st = to_sim(t);
	uint64_t v;
	int ret = 0;

	pthread_mutex_lock(&st->lock);
	if (!strcmp(name, "control"))
		ret = write_control(st, value);
	else if (!strncmp(name, "action/", 7) && !st->ep.sr)
		ret = -EOPNOTSUPP;
	else if (!strcmp(name, "action/block_dev") && !parse_u64(value, &v) && v <= 1)
		simring_set_blocked(st->ep.sr, v);
	else if (!strcmp(name, "action/reset_ring") && !parse_u64(value, &v) && v == 1)
		simring_reset_ring(st->ep.sr);
	else if (!strncmp(name, "alua/", 5))
		ret = sim_alua_write(&st->alua, name, value);
	else if (!strcmp(name, "attrib/cmd_time_out") && !parse_u64(value, &v) &&
		 v && v <= 600)
		st->cmd_time_out = (unsigned int)v;
	else
		ret = -EINVAL;
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void sim_destroy(struct lunar_transport *t)
{
	struct sim_transport *st = to_sim(t);

	if (!st->ep.sr) {
		munmap(st->ep.map, st->ep.map_len);
		close(st->ep.user_fd);
		close(st->ep.kernel_fd);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static const struct lunar_transport_ops sim_ops = {
	.ack = sim_ack,
	.kick = sim_kick,
	.read_attr = sim_read_attr,
	.list_dir = sim_list_dir,
	.write_attr = sim_write_attr,
	.destroy = sim_destroy,
};

struct sim_endpoint sim_endpoint_local(struct simring *sr)
{
	return (struct sim_endpoint){
		.sr = sr,
		.map = simring_base(sr),
		.map_len = simring_map_len(sr),
		.user_fd = simring_user_fd(sr),
		.kernel_fd = simring_kernel_fd(sr),
	};
}

int transport_sim_create(const struct sim_endpoint *ep,
			 const struct sim_attrs *attrs, const char *uio_name,
			 struct lunar_transport **out)
{
	static unsigned int generated;
	struct sim_transport *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	if (sim_alua_parse(attrs->alua, &st->alua)) {
		free(st);
		return -EINVAL;
	}
	st->t.ops = &sim_ops;
	st->t.map = ep->map;
	st->t.map_len = ep->map_len;
	st->t.event_fd = ep->user_fd;
	snprintf(st->t.uio_name, sizeof(st->t.uio_name), "%s", uio_name);
	st->ep = *ep;
	st->attrs = *attrs;
	st->attrs.alua = NULL;	/* parsed above; the caller's copy may go */
	if (attrs->serial)
		snprintf(st->serial, sizeof(st->serial), "%s", attrs->serial);
	else
		snprintf(st->serial, sizeof(st->serial),
			 "5e4a2b1c-%04x-4000-8000-%012x", getpid() & 0xffff,
			 __atomic_add_fetch(&generated, 1, __ATOMIC_RELAXED));
	pthread_mutex_init(&st->lock, NULL);
	*out = &st->t;
	return 0;
}

uint64_t transport_sim_size(struct lunar_transport *t)
{
	struct sim_transport *st = to_sim(t);
	uint64_t size;

	pthread_mutex_lock(&st->lock);
	size = st->attrs.size;
	pthread_mutex_unlock(&st->lock);
	return size;
}
