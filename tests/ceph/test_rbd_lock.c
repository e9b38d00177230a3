/*
 * handler_rbd's cluster lock callouts on a real Ceph, with two LUNs on one
 * image as two gateways would have (each its own Ceph client): lock and
 * tag, takeover with fencing (the old owner's next lock query reports the
 * loss, its next write fails at once, and the runner reopens that LUN on
 * a new, unfenced client), the tag in tcmu-runner 1.5.4's metadata
 * format, a stale tag not reported, unlock; takeovers of several LUNs
 * that start apart fencing in one OSD map epoch.  Exit 77 (skip) without
 * Ceph.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cephtest.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"

#define STATUS_BUSY 0x08

struct gateway {
	struct siminit *si;
	struct tcmu_device *dev;
};

static struct lunar_handler *rbd;

static int setup(void **state)
{
	int ret = cephtest_start_lunar_handlers(state);

	rbd = handlers_find("rbd/x");
	return ret || !rbd ? -1 : 0;
}

static struct gateway open_gateway(const char *devname, const char *image)
{
	struct gateway g;

	g.si = open_rbd_lun_as(devname, image, NULL, IMG_SIZE);
	g.dev = siminit_device(g.si);
	return g;
}

static uint8_t write_one(struct gateway *g, uint64_t lba)
{
	uint8_t block[BS];
	struct scsi_result res;

	pattern(block, BS, (unsigned int)lba);
	assert_int_equal(siminit_write(g->si, lba, 1, block, &res), 0);
	return res.status;
}

/* The metadata value 1.5.4 gateways read. */
static void tag_metadata(const char *image, char *val, size_t len)
{
	rbd_image_t img;

	assert_int_equal(rbd_open(ceph_io, image, &img, NULL), 0);
	assert_int_equal(rbd_metadata_get(img, "tcmu_rbd_locker_tag", val, &len), 0);
	rbd_close(img);
}

static void test_lock_takeover_fences(void **state)
{
	struct gateway a, b;
	uint16_t tag = 0;
	char val[512], cmd[512];

	(void)state;
	make_image(ceph_io, "shared", IMG_SIZE);
	a = open_gateway("gwa", "rbd/shared");
	b = open_gateway("gwb", "rbd/shared");

	assert_int_equal(rbd->ops->lock(a.dev, 1), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_state(a.dev), TCMUR_DEV_LOCK_WRITE_LOCKED);
	assert_int_equal(rbd->ops->get_lock_state(b.dev), TCMUR_DEV_LOCK_UNLOCKED);
	assert_int_equal(rbd->ops->get_lock_tag(b.dev, &tag), TCMU_STS_OK);
	assert_int_equal(tag, 1);
	tag_metadata("shared", val, sizeof(val));
	assert_true(!strncmp(val, "tcmu_tag=1,rbd_client=", 22));
	assert_int_equal(write_one(&a, 0), 0);

	/*
	 * b takes over: a is fenced before b's lock() returns, and a's next
	 * lock state query reports the loss at once (blocklisted is certain).
	 */
	assert_int_equal(rbd->ops->lock(b.dev, 2), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_state(a.dev), TCMUR_DEV_LOCK_UNLOCKED);
	assert_int_equal(a.dev->rdev.lock_lost_cnt, 1);
	assert_int_equal(write_one(&a, 1), STATUS_BUSY);
	/* a reopens on a new client (cluster/recovery.c)... */
	assert_int_equal(siminit_wait_recovered(a.si, 10000), 0);
	assert_int_equal(rbd->ops->get_lock_state(a.dev), TCMUR_DEV_LOCK_UNLOCKED);
	/* ...and the new client removed the old one's blocklist entry. */
	snprintf(cmd, sizeof(cmd),
		 "test $(ceph -c %s osd blocklist ls 2>/dev/null | wc -l) -eq 0",
		 ceph_conf);
	assert_int_equal(cephtest_run(cmd), 0);
	assert_int_equal(rbd->ops->get_lock_state(b.dev), TCMUR_DEV_LOCK_WRITE_LOCKED);
	assert_int_equal(rbd->ops->get_lock_tag(b.dev, &tag), TCMU_STS_OK);
	assert_int_equal(tag, 2);
	assert_int_equal(write_one(&b, 2), 0);

	/* Released: no holder, and b's old tag is not reported as current. */
	assert_int_equal(rbd->ops->unlock(b.dev), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_state(b.dev), TCMUR_DEV_LOCK_UNLOCKED);
	assert_int_equal(rbd->ops->get_lock_tag(b.dev, &tag), TCMU_STS_NO_LOCK_HOLDERS);

	siminit_close(a.si);
	siminit_close(b.si);
	assert_int_equal(cephtest_blocklist_clear(), 0);
}

/*
 * A tag written by an earlier owner is not the current owner's; a lock
 * without a tag is held all the same (by an untagged owner).
 */
static void test_stale_tag(void **state)
{
	struct gateway a, b;
	uint16_t tag = 0;

	(void)state;
	make_image(ceph_io, "stale", IMG_SIZE);
	a = open_gateway("gwa", "rbd/stale");
	b = open_gateway("gwb", "rbd/stale");
	assert_int_equal(rbd->ops->lock(b.dev, TCMU_INVALID_LOCK_TAG), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_tag(a.dev, &tag), TCMU_STS_OK);	/* no metadata */
	assert_int_equal(tag, TCMU_INVALID_LOCK_TAG);
	assert_int_equal(rbd->ops->unlock(b.dev), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_tag(a.dev, &tag), TCMU_STS_NO_LOCK_HOLDERS);
	assert_int_equal(rbd->ops->lock(a.dev, 7), TCMU_STS_OK);
	assert_int_equal(rbd->ops->unlock(a.dev), TCMU_STS_OK);
	/*
	 * b takes the lock without a tag (1.5.4 under implicit ALUA): 7 stays
	 * in metadata, and the lock reads as held, by an untagged owner.
	 */
	assert_int_equal(rbd->ops->lock(b.dev, TCMU_INVALID_LOCK_TAG), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_tag(a.dev, &tag), TCMU_STS_OK);
	assert_int_equal(tag, TCMU_INVALID_LOCK_TAG);
	assert_int_equal(rbd->ops->lock(b.dev, 8), TCMU_STS_OK);
	assert_int_equal(rbd->ops->get_lock_tag(a.dev, &tag), TCMU_STS_OK);
	assert_int_equal(tag, 8);
	siminit_close(a.si);
	siminit_close(b.si);
}

#define TOGETHER 4
#define TOGETHER_APART_MS 30	/* the monitor gathers 50 ms (paxos_min_wait) */

struct takeover {
	struct gateway gw;
	unsigned int delay_ms;
	int status;
	pthread_t thread;
};

static void *take_over(void *arg)
{
	struct takeover *t = arg;

	usleep(t->delay_ms * 1000);
	t->status = rbd->ops->lock(t->gw.dev, 2);
	return NULL;
}

static int osdmap_epoch(void)
{
	const char *cmd[] = { "{\"prefix\": \"osd stat\", \"format\": \"json\"}" };
	char *out = NULL, *at;
	size_t out_len = 0;
	int epoch = -1;

	assert_int_equal(rados_mon_command(ceph_cluster, cmd, 1, "", 0, &out, &out_len,
					   NULL, NULL), 0);
	at = out ? memmem(out, out_len, "\"epoch\":", 8) : NULL;
	if (at)
		epoch = atoi(at + 8);
	rados_buffer_free(out);
	return epoch;
}

/*
 * Another client (a gateway that died) owns TOGETHER images; this
 * gateway's LUNs take them over 30 ms apart, as a dead gateway's
 * initiators activate the standbys: the fences reach the monitor together
 * and are committed in one OSD map epoch (sent as each began, the later
 * ones missed the first proposal).
 */
static void test_takeovers_fence_together(void **state)
{
	struct takeover t[TOGETHER];
	rbd_image_t owned[TOGETHER];
	rados_t dead;
	rados_ioctx_t dead_io;
	char image[32], spec[40], devname[16];
	int epoch;

	(void)state;
	assert_int_equal(rados_create(&dead, NULL), 0);
	assert_int_equal(rados_conf_read_file(dead, ceph_conf), 0);
	assert_int_equal(rados_connect(dead), 0);
	assert_int_equal(rados_ioctx_create(dead, "rbd", &dead_io), 0);
	for (unsigned int k = 0; k < TOGETHER; k++) {
		snprintf(image, sizeof(image), "together%u", k);
		snprintf(spec, sizeof(spec), "rbd/%s", image);
		snprintf(devname, sizeof(devname), "gwb%u", k);
		make_image(ceph_io, image, IMG_SIZE);
		assert_int_equal(rbd_open(dead_io, image, &owned[k], NULL), 0);
		assert_int_equal(rbd_lock_acquire(owned[k], RBD_LOCK_MODE_EXCLUSIVE), 0);
		t[k] = (struct takeover){ .gw = open_gateway(devname, spec),
					  .delay_ms = k * TOGETHER_APART_MS };
	}
	sleep(1);	/* past paxos_propose_interval since the last commit */
	epoch = osdmap_epoch();
	for (unsigned int k = 0; k < TOGETHER; k++)
		assert_int_equal(pthread_create(&t[k].thread, NULL, take_over, &t[k]), 0);
	for (unsigned int k = 0; k < TOGETHER; k++) {
		pthread_join(t[k].thread, NULL);
		assert_int_equal(t[k].status, TCMU_STS_OK);
	}
	assert_int_equal(osdmap_epoch() - epoch, 1);

	for (unsigned int k = 0; k < TOGETHER; k++) {
		rbd_close(owned[k]);
		siminit_close(t[k].gw.si);
	}
	rados_ioctx_destroy(dead_io);
	rados_shutdown(dead);
	assert_int_equal(cephtest_blocklist_clear(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_takeover_fences),
		cmocka_unit_test(test_stale_tag),
		cmocka_unit_test(test_takeovers_fence_together),
	};

	return cmocka_run_group_tests(tests, setup, cephtest_stop);
}
