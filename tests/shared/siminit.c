/*
 * Scripted initiator over simring.  See siminit.h.
 */
#define _GNU_SOURCE
#include "siminit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/ha.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "runner/sim/simsock.h"
#include "runner/sim/transport_sim.h"

#define WAIT_SLICE_MS 1000
#define DEFAULT_TIMEOUT_MS 60000

struct siminit {
	struct simring *sr;
	struct tcmu_device *dev;
	int sock;
	char name[64];
	uint32_t block_size;
	unsigned int pending;
	struct pending_cmd *queued;	/* list of the pending ones */
	uint16_t last_id;
};

struct pending_cmd {
	struct siminit *si;
	struct scsi_result *res;	/* the caller's, or own_res once forgotten */
	bool *done;
	struct pending_cmd *next, **pprev;
	struct scsi_result own_res;
	bool own_done;
};

int siminit_load_handlers(const char *dir)
{
	static bool loaded;
	int n;

	if (loaded)
		return 0;
	n = handlers_load_dir(dir);
	if (n < 0)
		return n;
	loaded = true;
	return 0;
}

static int attach(struct siminit *si, const struct siminit_opts *o,
		  const struct sim_attrs *attrs)
{
	struct sim_endpoint ep = sim_endpoint_local(si->sr);
	struct lunar_transport *t;
	struct device_params p = {
		.uio_name = "sim0", .hba_name = "user_0", .dev_name = si->name,
		.cfgstring = o->cfgstring,
	};
	int ret;

	/*
	 * The whole core, as lunard runs it: with the HA layer, registered
	 * once, before the first device (other devices' threads read it).
	 */
	static bool ha_registered;

	if (!ha_registered) {
		ha_register(&cluster_ha_ops);
		ha_registered = true;
	}
	if (o->sim_socket) {
		si->sock = simsock_connect(o->sim_socket);
		if (si->sock < 0)
			return si->sock;
		return simsock_add(si->sock, si->sr, attrs, si->name, o->cfgstring);
	}
	ret = transport_sim_create(&ep, attrs, "sim0", &t);
	if (ret)
		return ret;
	return device_add(&p, t, &si->dev);
}

int siminit_open(const struct siminit_opts *o, struct siminit **out)
{
	struct siminit *si = calloc(1, sizeof(*si));
	struct sim_attrs attrs = {
		.size = o->size ? o->size : 64ull << 20,
		.block_size = o->block_size ? o->block_size : 512,
		.max_sectors = o->max_sectors ? o->max_sectors : 2048,
		.write_cache = o->write_cache,
		.serial = o->serial,
		.alua = o->alua,
	};
	int ret;

	if (!si)
		return -ENOMEM;
	si->sock = -1;
	si->block_size = attrs.block_size;
	snprintf(si->name, sizeof(si->name), "%s", o->name ? o->name : "lun0");
	ret = simring_create(&o->ring, &si->sr);
	if (!ret)
		ret = attach(si, o, &attrs);
	if (ret) {
		siminit_close(si);
		return ret;
	}
	*out = si;
	return 0;
}

void siminit_close(struct siminit *si)
{
	if (!si)
		return;
	if (si->pending)
		siminit_wait_all(si, DEFAULT_TIMEOUT_MS);
	device_remove(si->dev);
	if (si->sock >= 0) {
		simsock_remove(si->sock, si->name);
		close(si->sock);
	}
	simring_destroy(si->sr);
	free(si);
}

struct simring *siminit_ring(struct siminit *si)
{
	return si->sr;
}

struct tcmu_device *siminit_device(struct siminit *si)
{
	return si->dev;
}

static void on_done(void *priv, const struct simring_completion *c)
{
	struct pending_cmd *p = priv;

	p->res->ret = c->expired ? -ETIMEDOUT : 0;
	p->res->status = c->status;
	memcpy(p->res->sense, c->sense ? c->sense : (const uint8_t[96]){ 0 },
	       sizeof(p->res->sense));
	p->res->data_len = c->data_len;
	*p->done = true;
	p->si->pending--;
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	free(p);
}

/*
 * Reap what the user side completed; wait up to ms for a kick first.  A
 * signal cutting the wait short is no error: reap and let the caller wait
 * again.
 */
static int reap(struct siminit *si, int ms)
{
	int ret = simring_wait_kick(si->sr, ms);

	if (ret < 0 && ret != -EINTR)
		return ret;
	ret = simring_reap(si->sr);
	return ret < 0 ? ret : 0;
}

int siminit_poll(struct siminit *si, int ms)
{
	return reap(si, ms);
}

void siminit_abandon(struct siminit *si)
{
	if (si->sock >= 0)
		close(si->sock);
	simring_destroy(si->sr);
	while (si->queued) {
		struct pending_cmd *p = si->queued;

		si->queued = p->next;
		free(p);
	}
	free(si);
}

int siminit_submit(struct siminit *si, const uint8_t *cdb, enum simring_dir dir,
		   void *buf, size_t len, struct scsi_result *res, bool *done)
{
	struct pending_cmd *p = malloc(sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	*p = (struct pending_cmd){ .si = si, .res = res, .done = done };
	*done = false;
	memset(res, 0, sizeof(*res));
	for (int tries = 0;; tries++) {
		ret = simring_submit(si->sr, cdb, dir, buf, len, on_done, p,
				     &si->last_id);
		if (ret != -EAGAIN || tries > DEFAULT_TIMEOUT_MS / WAIT_SLICE_MS)
			break;
		/* Ring or data area full: let the user side drain some. */
		simring_notify_user(si->sr);
		ret = reap(si, WAIT_SLICE_MS);
		if (ret)
			break;
	}
	if (ret) {
		free(p);
		return ret;
	}
	si->pending++;
	p->next = si->queued;
	p->pprev = &si->queued;
	if (p->next)
		p->next->pprev = &p->next;
	si->queued = p;
	simring_notify_user(si->sr);
	return 0;
}

static int wait_for(struct siminit *si, const bool *done, int timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (done ? !*done : si->pending > 0) {
		int ret = reap(si, WAIT_SLICE_MS);

		if (ret)
			return ret;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > timeout_ms)
			return -ETIMEDOUT;
	}
	return 0;
}

uint16_t siminit_last_cmd_id(struct siminit *si)
{
	return si->last_id;
}

int siminit_wait_recovered(struct siminit *si, int timeout_ms)
{
	struct timespec slice = { 0, 10 * 1000 * 1000 };

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (ha_recoveries(si->dev) && !cluster_ha_ops.recovering(si->dev))
			return 0;
		nanosleep(&slice, NULL);
	}
	return -ETIMEDOUT;
}

int siminit_wait_all(struct siminit *si, int timeout_ms)
{
	return wait_for(si, NULL, timeout_ms);
}

/*
 * The command waited for with done is given up: its completion, if it
 * ever comes, lands in the pending entry itself, not in a caller's frame
 * that is gone by then.
 */
static void forget(struct siminit *si, const bool *done)
{
	for (struct pending_cmd *p = si->queued; p; p = p->next) {
		if (p->done == done) {
			p->done = &p->own_done;
			p->res = &p->own_res;
			return;
		}
	}
}

int siminit_cmd(struct siminit *si, const uint8_t *cdb, enum simring_dir dir,
		void *buf, size_t len, struct scsi_result *res)
{
	bool done;
	int ret = siminit_submit(si, cdb, dir, buf, len, res, &done);

	if (!ret)
		ret = wait_for(si, &done, DEFAULT_TIMEOUT_MS);
	if (ret && !done)
		forget(si, &done);
	if (ret)
		res->ret = ret;
	return res->ret;
}

static void rw16(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
}

int siminit_read(struct siminit *si, uint64_t lba, uint32_t nblocks, void *buf,
		 struct scsi_result *res)
{
	uint8_t cdb[16];

	rw16(cdb, 0x88, lba, nblocks);
	return siminit_cmd(si, cdb, SIMRING_DIR_IN, buf,
			   (size_t)nblocks * si->block_size, res);
}

int siminit_write(struct siminit *si, uint64_t lba, uint32_t nblocks,
		  void *buf, struct scsi_result *res)
{
	uint8_t cdb[16];

	rw16(cdb, 0x8a, lba, nblocks);
	return siminit_cmd(si, cdb, SIMRING_DIR_OUT, buf,
			   (size_t)nblocks * si->block_size, res);
}
