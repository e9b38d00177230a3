/*
 * Binary compatibility on a real Ceph: Debian's tcmu-runner 1.5.4
 * handler_rbd.so, loaded unchanged into lunar's core, serves an image:
 * data both ways against librbd, COMPARE AND WRITE (its caw callout), a
 * refused open, and its lock callouts driven by lunar's cluster lock and
 * ALUA (two gateways, STPG moves, the fenced one recovers).  Exit 77
 * (skip) without Ceph or without the package.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/ha.h"
#include "cephtest.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"
#include "scsi_defs.h"

#define DEBIAN_RBD DEBIAN_HANDLER_DIR "/handler_rbd.so"

static int setup(void **state)
{
	(void)state;
	if (access(DEBIAN_RBD, R_OK)) {
		printf("SKIP: no %s (apt-get install tcmu-runner)\n", DEBIAN_RBD);
		exit(77);
	}
	if (cephtest_start(NULL))
		return -1;
	return handlers_load_file(DEBIAN_RBD) ? -1 : 0;
}

static void test_data_both_ways(void **state)
{
	uint8_t out[128 * BS], back[128 * BS];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	make_image(ceph_io, "deb", IMG_SIZE);
	si = open_rbd_lun("rbd/deb", NULL, IMG_SIZE);
	pattern(out, sizeof(out), 11);
	assert_int_equal(siminit_write(si, OBJ_BLOCKS - 64, 128, out, &res), 0);
	assert_good(&res);
	librbd_read("deb", (OBJ_BLOCKS - 64) * BS, back, sizeof(back));
	assert_memory_equal(back, out, sizeof(out));

	pattern(out, sizeof(out), 12);
	librbd_write("deb", 4096 * BS, out, sizeof(out));
	assert_int_equal(siminit_read(si, 4096, 128, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, out, sizeof(out));
	siminit_close(si);
}

static void test_compare_and_write(void **state)
{
	uint8_t old[BS], buf[2 * BS], back[BS], cdb[16] = { 0x89 };
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	make_image(ceph_io, "debcaw", IMG_SIZE);
	pattern(old, BS, 13);
	librbd_write("debcaw", 9 * BS, old, BS);
	si = open_rbd_lun("rbd/debcaw", NULL, IMG_SIZE);
	cdb[9] = 9;
	cdb[13] = 1;
	memcpy(buf, old, BS);
	buf[7] ^= 1;
	pattern(buf + BS, BS, 14);
	cmd_out(si, cdb, buf, sizeof(buf), &res);
	assert_sense(&res, 0x0e, 0x1d00);		/* MISCOMPARE */
	memcpy(buf, old, BS);
	cmd_out(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	librbd_read("debcaw", 9 * BS, back, BS);
	assert_memory_equal(back, buf + BS, BS);
	siminit_close(si);
}

static void test_missing_image_refused(void **state)
{
	char cfg[512];
	struct siminit_opts o = { .cfgstring = cfg, .size = IMG_SIZE, .block_size = BS };
	struct siminit *si = NULL;

	(void)state;
	snprintf(cfg, sizeof(cfg), "rbd/rbd/absent;conf=%s", ceph_conf);
	assert_int_not_equal(siminit_open(&o, &si), 0);
}

static struct siminit *open_gateway(const char *name, const char *alua)
{
	static char cfg[512];
	struct siminit_opts o = { .cfgstring = cfg, .name = name,
				  .size = IMG_SIZE, .alua = alua };
	struct siminit *si;

	snprintf(cfg, sizeof(cfg), "rbd/rbd/deblock;conf=%s", ceph_conf);
	assert_int_equal(siminit_open(&o, &si), 0);
	return si;
}

/* STPG: make group id active/optimized through si. */
static void activate(struct siminit *si, uint8_t id)
{
	uint8_t cdb[12] = { MAINTENANCE_OUT, MO_SET_TARGET_PGS }, buf[8] = { 0 };
	struct scsi_result res;

	cdb[9] = sizeof(buf);
	buf[7] = id;
	cmd_out(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
}

/* The id of the active/optimized group si reports, 0 if none. */
static int owner_group(struct siminit *si)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_TARGET_PGS }, buf[64];
	struct scsi_result res;

	cdb[9] = sizeof(buf);
	for (int tries = 0; tries < 5; tries++) {
		cmd_in(si, cdb, buf, sizeof(buf), &res);
		if (res.status == STATUS_GOOD)
			break;		/* else a unit attention: ask again */
	}
	assert_good(&res);
	for (unsigned int off = 4; off + 8 <= 4 + be32(buf); off += 8 + 4u * buf[off + 7])
		if ((buf[off] & 0x0f) == 0)
			return be16(buf + off + 2);
	return 0;
}

/* One write, past the unit attentions an ALUA change leaves. */
static bool write_ok(struct siminit *si, uint64_t lba)
{
	uint8_t block[BS];
	struct scsi_result res;

	pattern(block, BS, (unsigned int)lba);
	for (int tries = 0; tries < 5; tries++) {
		assert_int_equal(siminit_write(si, lba, 1, block, &res), 0);
		if (res.status != STATUS_CHECK || sense_key(&res) != UNIT_ATTENTION)
			break;
	}
	return res.status == STATUS_GOOD;
}

static bool reports_owner(struct siminit *si, int id)
{
	for (int i = 0; i < 100; i++) {
		if (owner_group(si) == id)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * lunar's lock module and ALUA drive 1.5.4's lock, unlock, get_lock_tag
 * and get_lock_state: STPG takes the lock (the old owner fenced by
 * librbd's break), every gateway reports the owner from 1.5.4's tag, and
 * the fenced gateway is reopened and reports the new owner.
 */
static void test_lock_moves_with_stpg(void **state)
{
	struct siminit *a, *b;

	(void)state;
	make_image(ceph_io, "deblock", IMG_SIZE);
	a = open_gateway("gwa", "explicit;gw1:1:local,gw2:2");
	b = open_gateway("gwb", "explicit;gw1:1,gw2:2:local");
	activate(a, 1);
	assert_true(write_ok(a, 0));
	assert_true(reports_owner(b, 1));
	activate(b, 2);
	assert_true(write_ok(b, 1));
	assert_false(write_ok(a, 2));		/* fenced */
	assert_true(reports_owner(a, 2));
	assert_true(reports_owner(b, 2));
	assert_true(ha_recoveries(siminit_device(a)) >= 1);
	siminit_close(a);
	siminit_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_both_ways),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_missing_image_refused),
		cmocka_unit_test(test_lock_moves_with_stpg),
	};

	return cmocka_run_group_tests(tests, setup, cephtest_stop);
}
