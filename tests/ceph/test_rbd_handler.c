/*
 * handler_rbd against a real Ceph (tests/ceph/cluster.sh, started by this
 * test in a private directory): data written through lunar's core is read
 * back with librbd and the reverse, COMPARE AND WRITE, UNMAP and WRITE
 * SAME as librbd sees them, a resize done in Ceph reaching the initiator,
 * snapshots and namespaces, the service map, WCE and solid-state media
 * from Ceph's settings, librbd errors as SCSI status, task management
 * (ABORT TASK, LUN RESET) with writes in flight in Ceph, and cfgstrings
 * that cannot work (in process and in the lunard binary).  Exit 77 (skip)
 * without Ceph.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "cephtest.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "runner/log.h"
#include "tests/shared/lunardproc.h"
#include "runner/ring/tcmu_uapi.h"
#include "tests/shared/scsi_check.h"

#define SENSE_MISCOMPARE 0x0e
#define STATUS_BUSY 0x08

static void test_lunar_writes_librbd_reads(void **state)
{
	uint8_t out[64 * BS], back[64 * BS];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	make_image(ceph_io, "rw", IMG_SIZE);
	si = open_rbd_lun("rbd/rw", NULL, IMG_SIZE);
	pattern(out, sizeof(out), 1);
	/* Across an object boundary. */
	assert_int_equal(siminit_write(si, OBJ_BLOCKS - 32, 64, out, &res), 0);
	assert_good(&res);
	siminit_close(si);
	librbd_read("rw", (OBJ_BLOCKS - 32) * BS, back, sizeof(back));
	assert_memory_equal(back, out, sizeof(out));

	/* And the reverse, on the same image. */
	pattern(out, sizeof(out), 2);
	librbd_write("rw", 100 * BS, out, sizeof(out));
	si = open_rbd_lun("rbd/rw", NULL, IMG_SIZE);
	assert_int_equal(siminit_read(si, 100, 64, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, out, sizeof(out));
	siminit_close(si);
}

/* A 16-byte CDB for opcode at lba over nblocks (WRITE(16), CAW's NLB). */
static void cdb16(uint8_t cdb[16], uint8_t opcode, uint64_t lba,
		  uint32_t nblocks)
{
	memset(cdb, 0, 16);
	cdb[0] = opcode;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	if (opcode == 0x89) {
		cdb[13] = (uint8_t)nblocks;
		return;
	}
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(nblocks >> (24 - 8 * i));
}

static void caw(struct siminit *si, uint64_t lba, uint8_t *cmp_and_write,
		struct scsi_result *res)
{
	uint8_t cdb[16];

	cdb16(cdb, 0x89, lba, 1);
	cmd_out(si, cdb, cmp_and_write, 2 * BS, res);
}

static void test_compare_and_write(void **state)
{
	uint8_t old[BS], buf[2 * BS], back[BS];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	make_image(ceph_io, "caw", IMG_SIZE);
	pattern(old, BS, 3);
	librbd_write("caw", 7 * BS, old, BS);
	si = open_rbd_lun("rbd/caw", NULL, IMG_SIZE);

	/* Compare data differs from byte 100 on: MISCOMPARE, INFORMATION 100. */
	memcpy(buf, old, BS);
	buf[100] ^= 0xff;
	pattern(buf + BS, BS, 4);
	caw(si, 7, buf, &res);
	assert_sense(&res, SENSE_MISCOMPARE, 0x1d00);
	assert_true(res.sense[0] & 0x80);	/* VALID: INFORMATION is set */
	assert_int_equal(be32(res.sense + 3), 100);	/* INFORMATION */
	librbd_read("caw", 7 * BS, back, BS);
	assert_memory_equal(back, old, BS);

	/* Matching compare data: the write lands. */
	memcpy(buf, old, BS);
	caw(si, 7, buf, &res);
	assert_good(&res);
	librbd_read("caw", 7 * BS, back, BS);
	assert_memory_equal(back, buf + BS, BS);
	siminit_close(si);
}

static void test_unmap_and_write_same(void **state)
{
	uint8_t *data = malloc(2 * OBJ_BLOCKS * BS), *zero = calloc(1, OBJ_BLOCKS * BS);
	uint8_t param[24] = { 0, 22, 0, 16 };
	uint8_t unmap[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, sizeof(param), 0 };
	uint8_t ws[16] = { 0x93 }, block[BS];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(data);
	assert_non_null(zero);
	make_image(ceph_io, "unmap", IMG_SIZE);
	si = open_rbd_lun("rbd/unmap", NULL, IMG_SIZE);
	pattern(data, 2 * OBJ_BLOCKS * BS, 5);
	assert_int_equal(siminit_write(si, OBJ_BLOCKS, 2 * OBJ_BLOCKS, data, &res), 0);
	assert_good(&res);

	/* UNMAP the second object: librbd reads zeros there, data around. */
	param[8 + 6] = (uint8_t)(OBJ_BLOCKS >> 8);
	param[8 + 7] = (uint8_t)OBJ_BLOCKS;
	param[8 + 10] = (uint8_t)(OBJ_BLOCKS >> 8);
	param[8 + 11] = (uint8_t)OBJ_BLOCKS;
	cmd_out(si, unmap, param, sizeof(param), &res);
	assert_good(&res);
	librbd_read("unmap", OBJ_BLOCKS * BS, data, OBJ_BLOCKS * BS);
	assert_memory_equal(data, zero, OBJ_BLOCKS * BS);

	/* WRITE SAME(16) of one block over 96 blocks at LBA 8. */
	pattern(block, BS, 6);
	ws[9] = 8;
	ws[13] = 96;
	cmd_out(si, ws, block, BS, &res);
	assert_good(&res);
	librbd_read("unmap", 8 * BS, data, 96 * BS);
	for (int i = 0; i < 96; i++)
		assert_memory_equal(data + i * BS, block, BS);
	siminit_close(si);
	free(data);
	free(zero);
}

/*
 * The core reports LBPRZ (unmapped blocks read as zeros), and Linux's sd
 * zeroes with WRITE SAME + UNMAP on such a LUN: UNMAP and WRITE SAME
 * with UNMAP of a range smaller than an object, not aligned to one, must
 * read back as zeros too (librbd skips such "partial" discards unless
 * told not to).  libiscsi's Unmap.Simple found it.
 */
static void test_partial_unmap_reads_zeros(void **state)
{
	uint8_t data[64 * BS], back[64 * BS], zero[BS] = { 0 };
	uint8_t param[24] = { 0, 22, 0, 16 };
	uint8_t unmap[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, sizeof(param), 0 };
	uint8_t ws[16] = { 0x93, 0x08 };	/* WRITE SAME(16), UNMAP */
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	make_image(ceph_io, "partial", IMG_SIZE);
	si = open_rbd_lun("rbd/partial", NULL, IMG_SIZE);
	pattern(data, sizeof(data), 9);
	assert_int_equal(siminit_write(si, 0, 64, data, &res), 0);
	assert_good(&res);

	/* UNMAP blocks 1..8, WRITE SAME + UNMAP of zeros over 17..40. */
	param[8 + 7] = 1;
	param[8 + 11] = 8;
	cmd_out(si, unmap, param, sizeof(param), &res);
	assert_good(&res);
	ws[9] = 17;
	ws[13] = 24;
	cmd_out(si, ws, zero, BS, &res);
	assert_good(&res);

	assert_int_equal(siminit_read(si, 0, 64, back, &res), 0);
	assert_good(&res);
	for (int i = 0; i < 64; i++) {
		bool unmapped = (i >= 1 && i <= 8) || (i >= 17 && i <= 40);

		if (memcmp(back + i * BS, unmapped ? zero : data + i * BS, BS))
			fail_msg("block %d reads back %s", i,
				 unmapped ? "not zeroed after its unmap" : "changed");
	}
	/* librbd sees the same: zeros, and the blocks around them intact. */
	librbd_read("partial", 0, back, 10 * BS);
	assert_memory_equal(back, data, BS);
	for (int i = 1; i <= 8; i++)
		assert_memory_equal(back + i * BS, zero, BS);
	assert_memory_equal(back + 9 * BS, data + 9 * BS, BS);
	siminit_close(si);
}

static uint64_t read_capacity(struct siminit *si)
{
	uint8_t cdb[16] = { 0x9e, 0x10 }, buf[32];
	struct scsi_result res;

	cdb[13] = sizeof(buf);
	cmd_in(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	return (be64(buf) + 1) * BS;	/* from the last LBA */
}

/* TEST UNIT READY until CAPACITY DATA HAS CHANGED, within seconds. */
static bool capacity_ua_within(struct siminit *si, int seconds)
{
	uint8_t tur[6] = { 0 };
	struct scsi_result res;

	for (int i = 0; i < seconds * 10; i++) {
		cmd_none(si, tur, &res);
		if (res.status == STATUS_CHECK && sense_asc(&res) == 0x2a09)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static void test_resize_in_ceph(void **state)
{
	struct siminit *si;
	rbd_image_t img;

	(void)state;
	make_image(ceph_io, "grow", IMG_SIZE);
	si = open_rbd_lun("rbd/grow", NULL, IMG_SIZE);
	assert_int_equal(read_capacity(si), IMG_SIZE);
	assert_int_equal(rbd_open(ceph_io, "grow", &img, NULL), 0);
	assert_int_equal(rbd_resize(img, 2 * IMG_SIZE), 0);
	rbd_close(img);
	assert_true(capacity_ua_within(si, 10));
	assert_int_equal(read_capacity(si), 2 * IMG_SIZE);
	siminit_close(si);
}

static void test_snapshot_is_read_only(void **state)
{
	uint8_t before[BS], after[BS], back[BS];
	struct scsi_result res;
	struct siminit *si;
	rbd_image_t img;

	(void)state;
	make_image(ceph_io, "snapped", IMG_SIZE);
	pattern(before, BS, 7);
	librbd_write("snapped", 0, before, BS);
	assert_int_equal(rbd_open(ceph_io, "snapped", &img, NULL), 0);
	assert_int_equal(rbd_snap_create(img, "s1"), 0);
	rbd_close(img);
	pattern(after, BS, 8);
	librbd_write("snapped", 0, after, BS);

	si = open_rbd_lun("rbd/snapped@s1", NULL, IMG_SIZE);
	assert_int_equal(siminit_read(si, 0, 1, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, before, BS);
	assert_int_equal(siminit_write(si, 0, 1, after, &res), 0);
	assert_sense(&res, 0x07, 0x2700);	/* DATA PROTECT, WRITE PROTECTED */
	siminit_close(si);
}

static void test_namespace(void **state)
{
	uint8_t out[BS], back[BS];
	struct scsi_result res;
	struct siminit *si;
	rados_ioctx_t ns;

	(void)state;
	assert_int_equal(rbd_namespace_create(ceph_io, "tenant"), 0);
	assert_int_equal(rados_ioctx_create(ceph_cluster, "rbd", &ns), 0);
	rados_ioctx_set_namespace(ns, "tenant");
	make_image(ns, "inner", IMG_SIZE);
	si = open_rbd_lun("rbd/tenant/inner", NULL, IMG_SIZE);
	pattern(out, BS, 9);
	assert_int_equal(siminit_write(si, 3, 1, out, &res), 0);
	assert_good(&res);
	siminit_close(si);
	{
		rbd_image_t img;

		assert_int_equal(rbd_open(ns, "inner", &img, NULL), 0);
		assert_int_equal(rbd_read(img, 3 * BS, BS, (char *)back), BS);
		rbd_close(img);
	}
	assert_memory_equal(back, out, BS);
	rados_ioctx_destroy(ns);
}

/* `ceph service dump` lists the LUN under tcmu-runner's names. */
static void test_service_map(void **state)
{
	char host[256] = "", cmd[1024];
	struct siminit *si;
	bool listed = false;

	(void)state;
	make_image(ceph_io, "listed", IMG_SIZE);
	si = open_rbd_lun("rbd/listed", NULL, IMG_SIZE);
	gethostname(host, sizeof(host) - 1);
	snprintf(cmd, sizeof(cmd),
		 "ceph -c %s service dump 2>/dev/null | grep -q '\"%s:rbd/listed\"' && "
		 "ceph -c %s service dump 2>/dev/null | grep -q '\"daemon_type\": \"portal\"'",
		 ceph_conf, host, ceph_conf);
	for (int i = 0; i < 300 && !listed; i++) {
		listed = cephtest_run(cmd) == 0;
		if (!listed)
			usleep(100 * 1000);
	}
	assert_true(listed);
	siminit_close(si);
}

/* This test's client blocklisted: the write is BUSY and lock lost counted. */
static void test_blocklisted_client(void **state)
{
	uint8_t out[BS] = { 1 };
	rbd_lock_mode_t mode;
	char owner[256];
	char *owners[1] = { owner };
	size_t n = 1;
	struct scsi_result res;
	struct siminit *si;
	struct tcmu_device *dev;
	rbd_image_t img;

	(void)state;
	make_image(ceph_io, "fenced", IMG_SIZE);
	si = open_rbd_lun("rbd/fenced", NULL, IMG_SIZE);
	dev = siminit_device(si);
	assert_int_equal(siminit_write(si, 0, 1, out, &res), 0);
	assert_good(&res);		/* took the exclusive lock */
	assert_int_equal(rbd_open(ceph_io, "fenced", &img, NULL), 0);
	assert_int_equal(rbd_lock_get_owners(img, &mode, owners, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rados_blocklist_add(ceph_cluster, owners[0], 600), 0);
	rbd_lock_get_owners_cleanup(owners, n);
	rbd_close(img);
	assert_int_equal(siminit_write(si, 1, 1, out, &res), 0);
	assert_int_equal(res.status, STATUS_BUSY);
	assert_int_equal(__atomic_load_n(&dev->rdev.lock_lost_cnt, __ATOMIC_RELAXED), 1);
	siminit_close(si);
	assert_int_equal(cephtest_blocklist_clear(), 0);
}

static pid_t osd_pid(void)
{
	char path[512];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/c/run/osd.0.pid", ceph_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	return pid;
}

/* An OSD that stops answering: the command times out as BUSY. */
static void test_osd_op_timeout(void **state)
{
	uint8_t out[BS] = { 2 };
	struct scsi_result res;
	struct siminit *si;
	struct tcmu_device *dev;
	pid_t osd = osd_pid();

	(void)state;
	make_image(ceph_io, "slow", IMG_SIZE);
	si = open_rbd_lun("rbd/slow", ";osd_op_timeout=5", IMG_SIZE);
	dev = siminit_device(si);
	assert_int_equal(siminit_write(si, 0, 1, out, &res), 0);
	assert_good(&res);
	assert_int_equal(kill(osd, SIGSTOP), 0);
	assert_int_equal(siminit_write(si, 1, 1, out, &res), 0);
	assert_int_equal(kill(osd, SIGCONT), 0);
	assert_int_equal(res.status, STATUS_BUSY);
	assert_int_equal(__atomic_load_n(&dev->rdev.cmd_timed_out_cnt, __ATOMIC_RELAXED), 1);
	siminit_close(si);
}

/* A command the TMR test keeps in flight. */
struct inflight {
	uint8_t cdb[16];
	uint8_t *data;
	size_t len;
	struct scsi_result res;
	bool done;
	uint16_t id;
};

static void submit(struct siminit *si, struct inflight *c, uint8_t opcode,
		   uint64_t lba, uint32_t nblocks, uint8_t *data, size_t len)
{
	cdb16(c->cdb, opcode, lba, nblocks);
	c->data = data;
	c->len = len;
	assert_int_equal(siminit_submit(si, c->cdb, SIMRING_DIR_OUT, data, len,
					&c->res, &c->done), 0);
	c->id = siminit_last_cmd_id(si);
}

/* Reap completions until *done or ms pass; whether it came. */
static bool done_within(struct siminit *si, const bool *done, int ms)
{
	for (int waited = 0; !*done && waited < ms; waited += 10)
		assert_int_equal(siminit_poll(si, 10), 0);
	return *done;
}

/* The task management to send, and which command it alone cancels. */
static void tmr_cancels(struct siminit *si, uint8_t type, const uint16_t *ids,
			uint32_t n, struct inflight *cancelled)
{
	struct simring *sr = siminit_ring(si);

	assert_int_equal(simring_tmr(sr, type, ids, n), 0);
	simring_notify_user(sr);
	assert_true(done_within(si, &cancelled->done, 3000));
	assert_int_equal(cancelled->res.ret, 0);
	assert_int_equal(cancelled->res.status, STATUS_BUSY);
}

static bool log_has(const char *path, const char *line)
{
	char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

enum { CAW1, W1, W2, W3, CAW2, NR_TMR_CMDS };

/* The TMR test's LUN while it is open: its teardown closes it. */
static struct siminit *tmr_lun;

/*
 * ABORT TASK and LUN RESET while writes sit in Ceph (the OSD paused, so
 * they stay in flight however fast it is): a command still waiting for
 * an overlapping COMPARE AND WRITE (W3 behind CAW1, CAW2 behind W1) and
 * named by the TMR completes at once, BUSY (the kernel ignores the status
 * of what it aborted), and never reaches the handler; commands already
 * in librbd cannot be recalled through the 1.5.4 ABI and complete
 * normally once the OSD runs again.  Each command completes exactly once
 * (a second completion would break the simulated ring), the LUN keeps
 * serving, the medium holds what the completed commands wrote and
 * nothing of the aborted ones, and the log names what each TMR named and
 * how many it stopped.
 */
static void test_tmr_with_writes_in_flight(void **state)
{
	const size_t big = 2048 * BS;	/* 1 MiB: 16 objects */
	uint8_t *w1 = malloc(big), *w2 = malloc(big), *back = malloc(big);
	uint8_t caw1[2 * BS] = { 0 }, caw2[2 * BS] = { 0 }, w3[8 * BS];
	uint16_t abort_ids[2], reset_ids[4];
	struct inflight c[NR_TMR_CMDS];
	char logdir[300], logfile[320];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_true(w1 && w2 && back);
	make_image(ceph_io, "tmr", IMG_SIZE);
	snprintf(logdir, sizeof(logdir), "%s/tmr-log", ceph_dir);
	snprintf(logfile, sizeof(logfile), "%s/lunard.log", logdir);
	assert_int_equal(log_open(logdir), 0);
	si = tmr_lun = open_rbd_lun("rbd/tmr", NULL, IMG_SIZE);
	pattern(back, BS, 20);
	write_read_back(si, 8000, 1, back, BS);	/* librbd takes its lock */
	pattern(w1, big, 21);
	pattern(w2, big, 22);
	pattern(caw1 + BS, BS, 23);
	pattern(caw2 + BS, BS, 24);
	pattern(w3, sizeof(w3), 25);

	/* Paused briefly: well under the PG read lease (2.4 s here). */
	assert_int_equal(kill(osd_pid(), SIGSTOP), 0);
	/* CAW1 first: an exclusive range waits for every lock-free write. */
	submit(si, &c[CAW1], 0x89, 4096, 1, caw1, sizeof(caw1));
	submit(si, &c[W1], 0x8a, 0, 2048, w1, big);
	submit(si, &c[W2], 0x8a, 2048, 2048, w2, big);
	submit(si, &c[W3], 0x8a, 4096, 8, w3, sizeof(w3));
	submit(si, &c[CAW2], 0x89, 100, 1, caw2, sizeof(caw2));

	abort_ids[0] = c[W2].id;
	abort_ids[1] = c[W3].id;
	tmr_cancels(si, TCMU_TMR_ABORT_TASK, abort_ids, 2, &c[W3]);
	assert_false(c[CAW2].done);	/* waiting too, but not named */
	/* The kernel names every command of the LUN still in the ring. */
	reset_ids[0] = c[W1].id;
	reset_ids[1] = c[W2].id;
	reset_ids[2] = c[CAW1].id;
	reset_ids[3] = c[CAW2].id;
	tmr_cancels(si, TCMU_TMR_LUN_RESET, reset_ids, 4, &c[CAW2]);
	assert_false(c[W1].done || c[W2].done || c[CAW1].done);

	assert_int_equal(kill(osd_pid(), SIGCONT), 0);
	assert_int_equal(siminit_wait_all(si, 30000), 0);
	assert_good(&c[W1].res);
	assert_good(&c[W2].res);
	assert_good(&c[CAW1].res);
	assert_null(simring_error(siminit_ring(si)));
	assert_int_equal(simring_inflight(siminit_ring(si)), 0);

	assert_int_equal(siminit_read(si, 0, 2048, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, w1, big);	/* CAW2 never landed */
	assert_int_equal(siminit_read(si, 2048, 2048, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, w2, big);
	assert_int_equal(siminit_read(si, 4096, 8, back, &res), 0);
	assert_good(&res);
	assert_memory_equal(back, caw1 + BS, BS);	/* W3 never landed */
	memset(w3, 0, sizeof(w3));
	assert_memory_equal(back + BS, w3, 7 * BS);
	pattern(back, 4 * BS, 26);
	write_read_back(si, 6000, 4, back, 4 * BS);

	assert_true(log_has(logfile, "task management ABORT TASK named 2 command(s); 1 aborted before reaching the handler"));
	assert_true(log_has(logfile, "task management LUN RESET named 4 command(s); 1 aborted before reaching the handler"));
	free(w1);
	free(w2);
	free(back);
}

/*
 * Also after a failed assertion: the OSD runs again, the LUN is closed
 * (its command thread stopped) and only then lunar stops logging there.
 */
static int close_tmr_lun(void **state)
{
	int ret = kill(osd_pid(), SIGCONT);

	(void)state;
	siminit_close(tmr_lun);
	tmr_lun = NULL;
	log_close();
	return ret;
}

static uint16_t rotation_rate(struct siminit *si)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0xb1, 0, 64, 0 }, buf[64];
	struct scsi_result res;

	cmd_in(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	return be16(buf + 4);
}

static bool write_cache_enabled(struct siminit *si)
{
	/* MODE SENSE(6), no block descriptors, Caching page. */
	uint8_t cdb[6] = { 0x1a, 0x08, 0x08, 0, 64, 0 }, buf[64];
	struct scsi_result res;

	cmd_in(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(buf[4] & 0x3f, 0x08);
	return buf[4 + 2] & 0x04;
}

/*
 * librbd's cache is off whatever ceph.conf says (as in tcmu-runner 1.5.4);
 * an image override turns it on and WCE follows.  Solid state follows
 * the pool's CRUSH device class.
 */
static void test_write_cache_and_media(void **state)
{
	char cached[300], opts[320], cmd[1024];
	struct siminit *si;
	rados_ioctx_t fast;

	(void)state;
	make_image(ceph_io, "props", IMG_SIZE);
	snprintf(cached, sizeof(cached), "%s/cache.conf", ceph_dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s && printf 'rbd cache = true\n' >>%s",
		 ceph_conf, cached, cached);
	assert_int_equal(cephtest_run(cmd), 0);
	snprintf(opts, sizeof(opts), ";conf=%s", cached);	/* the later conf= wins */
	si = open_rbd_lun("rbd/props", opts, IMG_SIZE);
	assert_false(write_cache_enabled(si));
	assert_int_equal(rotation_rate(si), 0);	/* no device class */
	siminit_close(si);

	snprintf(cmd, sizeof(cmd), "rbd -c %s config image set rbd/props rbd_cache true",
		 ceph_conf);
	assert_int_equal(cephtest_run(cmd), 0);
	si = open_rbd_lun("rbd/props", NULL, IMG_SIZE);
	assert_true(write_cache_enabled(si));
	siminit_close(si);

	snprintf(cmd, sizeof(cmd),
		 "c='-c %s'; ceph $c osd crush rm-device-class osd.0 >/dev/null 2>&1 && "
		 "ceph $c osd crush set-device-class ssd osd.0 >/dev/null 2>&1 && "
		 "ceph $c osd crush rule create-replicated fast default osd ssd && "
		 "ceph $c osd pool create fastpool 8 8 replicated fast >/dev/null 2>&1 && "
		 "rbd $c pool init fastpool", ceph_conf);
	assert_int_equal(cephtest_run(cmd), 0);
	assert_int_equal(rados_ioctx_create(ceph_cluster, "fastpool", &fast), 0);
	make_image(fast, "ssd", IMG_SIZE);
	rados_ioctx_destroy(fast);
	si = open_rbd_lun("fastpool/ssd", NULL, IMG_SIZE);
	assert_int_equal(rotation_rate(si), 1);	/* non-rotating */
	siminit_close(si);
}

/* The lunard binary refuses LUNs that cannot work and serves the next. */
static void test_lunard_keeps_serving(void **state)
{
	static const char *const bad[][2] = {	/* before and after ;conf= */
		{ "rbd/rbd/absent", "" }, { "rbd/rbd/served", ";colour=blue" },
		{ "rbd/rbd/served@nosnap", "" }, { "rbd/served", "" },
	};
	uint8_t out[8 * BS];
	struct siminit_opts o = { .size = IMG_SIZE, .block_size = BS };
	struct lunardproc lunard;
	struct siminit *si = NULL;
	char cfg[512];

	(void)state;
	make_image(ceph_io, "served", IMG_SIZE);
	assert_int_equal(lunardproc_start(&lunard, LUNAR_HANDLER_DIR), 0);
	o.sim_socket = lunard.sock;
	o.cfgstring = cfg;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cfg, sizeof(cfg), "%s;conf=%s%s", bad[i][0], ceph_conf, bad[i][1]);
		assert_int_not_equal(siminit_open(&o, &si), 0);
		assert_true(lunardproc_alive(&lunard));
	}
	snprintf(cfg, sizeof(cfg), "rbd/rbd/served;conf=%s", ceph_conf);
	assert_int_equal(siminit_open(&o, &si), 0);
	pattern(out, sizeof(out), 15);
	write_read_back(si, 40, 8, out, sizeof(out));
	siminit_close(si);
	assert_true(lunardproc_alive(&lunard));
	assert_int_equal(lunardproc_stop(&lunard), 0);
}

static void expect_refused(struct lunar_handler *h, const char *cfg,
			   const char *why)
{
	char *reason = NULL;

	assert_false(h->ops->check_config(cfg, &reason));
	assert_non_null(reason);
	if (!strstr(reason, why))
		fail_msg("'%s': reason '%s' lacks '%s'", cfg, reason, why);
	free(reason);
}

static void test_bad_cfgstrings(void **state)
{
	struct lunar_handler *h = handlers_find("rbd/x");
	char cfg[512], bad_conf[300];
	struct siminit_opts o = { .cfgstring = cfg, .size = IMG_SIZE, .block_size = BS };
	struct siminit *si = NULL;
	FILE *f;

	(void)state;
	assert_non_null(h);
	make_image(ceph_io, "good", IMG_SIZE);
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good;conf=%s", ceph_conf);
	assert_true(h->ops->check_config(cfg, NULL));

	expect_refused(h, "rbd/good", "want rbd/<pool>");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good;conf=%s;osd_op_timout=30", ceph_conf);
	expect_refused(h, cfg, "unknown option 'osd_op_timout'");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good;conf=%s;osd_op_timeout=soon", ceph_conf);
	expect_refused(h, cfg, "osd_op_timeout=soon");
	snprintf(cfg, sizeof(cfg), "rbd/nopool/good;conf=%s", ceph_conf);
	expect_refused(h, cfg, "pool 'nopool' does not exist");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/missing;conf=%s", ceph_conf);
	expect_refused(h, cfg, "image rbd/missing does not exist");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good@nosnap;conf=%s", ceph_conf);
	expect_refused(h, cfg, "snapshot 'nosnap' of image rbd/good does not exist");
	expect_refused(h, "rbd/rbd/good;conf=/nonexistent/ceph.conf",
		       "cannot read Ceph configuration /nonexistent/ceph.conf");
	/* A cluster nobody answers for: refused within the check's bound. */
	snprintf(bad_conf, sizeof(bad_conf), "%s/unreachable.conf", ceph_dir);
	f = fopen(bad_conf, "w");
	assert_non_null(f);
	fprintf(f, "[global]\nmon host = 127.0.0.1:9\n");
	fclose(f);
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good;conf=%s", bad_conf);
	expect_refused(h, cfg, "cannot connect to the Ceph cluster");

	/* A device that cannot open fails alone; the next one serves. */
	snprintf(cfg, sizeof(cfg), "rbd/rbd/missing;conf=%s", ceph_conf);
	assert_int_not_equal(siminit_open(&o, &si), 0);
	/* The image must be the LUN's size. */
	snprintf(cfg, sizeof(cfg), "rbd/rbd/good;conf=%s", ceph_conf);
	o.size = 2 * IMG_SIZE;
	assert_int_not_equal(siminit_open(&o, &si), 0);
	si = open_rbd_lun("rbd/good", NULL, IMG_SIZE);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lunar_writes_librbd_reads),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_unmap_and_write_same),
		cmocka_unit_test(test_partial_unmap_reads_zeros),
		cmocka_unit_test(test_resize_in_ceph),
		cmocka_unit_test(test_snapshot_is_read_only),
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_service_map),
		cmocka_unit_test(test_bad_cfgstrings),
		cmocka_unit_test(test_lunard_keeps_serving),
		cmocka_unit_test(test_write_cache_and_media),
		cmocka_unit_test(test_blocklisted_client),
		cmocka_unit_test_teardown(test_tmr_with_writes_in_flight, close_tmr_lun),
		/*
		 * Last: its OSD pause outlasts the PG read lease, and on a
		 * one-OSD cluster a PG can stay "laggy" after it, blocking
		 * later operations on it.
		 */
		cmocka_unit_test(test_osd_op_timeout),
	};

	return cmocka_run_group_tests(tests, cephtest_start_lunar_handlers,
				      cephtest_stop);
}
