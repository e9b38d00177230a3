/*
 * Binary compatibility on a real Ceph: Debian's tcmu-runner 1.5.4
 * handler_rbd.so, loaded unchanged into lunar's core, serves an image:
 * data both ways against librbd, COMPARE AND WRITE (its caw callout) and
 * a refused open.  Exit 77 (skip) without Ceph or without the package.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cephtest.h"
#include "handler.h"
#include "scsi_check.h"

#define DEBIAN_RBD DEBIAN_HANDLER_DIR "/handler_rbd.so"

static int setup(void **state)
{
	(void)state;
	if (access(DEBIAN_RBD, R_OK))
		exit(77);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_both_ways),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_missing_image_refused),
	};

	return cmocka_run_group_tests(tests, setup, cephtest_stop);
}
