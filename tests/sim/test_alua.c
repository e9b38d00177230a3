/*
 * ALUA and the cluster lock on the ring simulator: two "gateways" (two
 * devices with different local target port groups) serving one image of
 * handler_shared, whose lock fences the previous owner like an RBD
 * blocklist.  Checks REPORT/SET TARGET PORT GROUPS, INQUIRY TPGS and VPD
 * designators, the implicit takeover policy (no owner: take at once;
 * owner alive: only after the hold-down), explicit STPG moves, that a
 * fenced gateway stops serving and comes back as standby, and how STPG
 * fails: without a cluster lock, behind another STPG, when the handler's
 * lock() or unlock() fails, and while the device reopens.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alua/alua_state.h"
#include "cluster/budget.h"
#include "cluster/cluster_lock.h"
#include "cluster/ha.h"
#include "cluster/ha_dev.h"
#include "cluster/recovery.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"
#include "scsi_defs.h"

#define BS 512
#define WAIT_MS 5000
#define STATUS_BUSY 0x08

struct pair {
	struct siminit *gw[2];
};

static int setup(void **state)
{
	(void)state;
	budget_set_s(2);	/* hold-down 400 ms */
	return siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	       handlers_load_file(SHARED_HANDLER_PATH);
}

static struct siminit *open_gw(const char *image, const char *alua)
{
	char cfg[64];
	struct siminit_opts o = { .cfgstring = cfg, .size = 1 << 20,
				  .alua = alua };
	struct siminit *si;

	snprintf(cfg, sizeof(cfg), "shared/%s", image);
	assert_int_equal(siminit_open(&o, &si), 0);
	return si;
}

static void open_pair(struct pair *p, const char *image, const char *type)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "%s;gw1:1:local,gw2:2", type);
	snprintf(b, sizeof(b), "%s;gw1:1,gw2:2:local", type);
	p->gw[0] = open_gw(image, a);
	p->gw[1] = open_gw(image, b);
}

static void close_pair(struct pair *p)
{
	siminit_close(p->gw[0]);
	siminit_close(p->gw[1]);
}

static int write1(struct siminit *si, uint8_t fill, struct scsi_result *res)
{
	uint8_t buf[BS];

	memset(buf, fill, sizeof(buf));
	return siminit_write(si, 0, 1, buf, res);
}

/* Clear pending unit attentions with TEST UNIT READY. */
static void drain_ua(struct siminit *si)
{
	static const uint8_t tur[6] = { TEST_UNIT_READY };
	struct scsi_result res;

	for (int i = 0; i < 8; i++) {
		cmd_none(si, tur, &res);
		if (res.status == STATUS_GOOD)
			return;
	}
}

/* Retry a write like an initiator would until GOOD (or give up). */
static bool write_until_good(struct siminit *si, uint8_t fill, int timeout_ms)
{
	struct scsi_result res;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		assert_int_equal(write1(si, fill, &res), 0);
		if (res.status == STATUS_GOOD)
			return true;
		usleep(20000);
	}
	return false;
}

/* RTPG with the extended header: fills states[id-1] for ids 1 and 2. */
static void rtpg(struct siminit *si, uint8_t states[2], uint8_t *ext_secs)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, 0x20 | MI_REPORT_TARGET_PGS };
	uint8_t buf[255];
	struct scsi_result res;

	cdb[9] = sizeof(buf);
	cmd_in(si, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(buf[4], 0x10);
	*ext_secs = buf[5];
	assert_int_equal(be32(buf), 8 + 4 + 8 + 4 + 4);
	for (int off = 8; off < 8 + 24; off += 12) {
		uint16_t id = be16(buf + off + 2);

		assert_true(id == 1 || id == 2);
		assert_int_equal(buf[off + 7], 1);		/* one port */
		assert_int_equal(be16(buf + off + 10), id);	/* its id */
		states[id - 1] = buf[off] & 0x0f;
	}
}

/* Wait until both gateways report group 1 in state s1 and group 2 in s2. */
static bool rtpg_all_say(struct pair *p, uint8_t s1, uint8_t s2)
{
	for (int waited = 0; waited < WAIT_MS; waited += 50) {
		bool all = true;

		for (int g = 0; g < 2; g++) {
			uint8_t st[2], secs;

			drain_ua(p->gw[g]);
			rtpg(p->gw[g], st, &secs);
			assert_int_equal(secs, 2);
			all &= st[0] == s1 && st[1] == s2;
		}
		if (all)
			return true;
		usleep(50000);
	}
	return false;
}

/* Wait until both gateways report owner's group AO and the other other. */
static bool rtpg_agrees(struct pair *p, int owner, uint8_t other)
{
	return rtpg_all_say(p, owner ? other : ALUA_AO, owner ? ALUA_AO : other);
}

static void test_inquiry_reports_tpgs_and_port_designators(void **state)
{
	static const uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96, 0 };
	static const uint8_t vpd83[6] = { INQUIRY, 1, 0x83, 0, 255, 0 };
	struct pair p;
	uint8_t buf[255];
	struct scsi_result res;
	bool tpg = false, relport = false;

	(void)state;
	open_pair(&p, "inq", "both");
	cmd_in(p.gw[1], inq, buf, 96, &res);
	assert_good(&res);
	assert_int_equal(buf[5] & 0x30, 0x30);
	cmd_in(p.gw[1], vpd83, buf, sizeof(buf), &res);
	assert_good(&res);
	for (size_t off = 4; off + 4 <= 4u + be16(buf + 2); off += 4 + buf[off + 3]) {
		if ((buf[off + 1] & 0x3f) == 0x15)
			tpg = be16(buf + off + 6) == 2;
		if ((buf[off + 1] & 0x3f) == 0x14)
			relport = be16(buf + off + 6) == 2;
	}
	assert_true(tpg && relport);
	/* A LUN with a cluster lock gets the budget's kernel timeout. */
	assert_int_equal(transport_read_attr(siminit_device(p.gw[1])->transport,
					     "attrib/cmd_time_out", (char *)buf,
					     sizeof(buf)), 2);
	assert_string_equal((char *)buf, "3\n");
	close_pair(&p);
}

static void test_no_groups_means_no_alua(void **state)
{
	static const uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96, 0 };
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_TARGET_PGS, 0, 0, 0, 0,
			    0, 0, 0, 64 };
	struct siminit *si = open_gw("plain", NULL);
	uint8_t buf[96];
	struct scsi_result res;

	(void)state;
	cmd_in(si, inq, buf, 96, &res);
	assert_int_equal(buf[5] & 0x30, 0);
	cmd_in(si, cdb, buf, 64, &res);
	assert_sense(&res, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	assert_true(write_until_good(si, 1, 100));	/* no lock needed */
	siminit_close(si);
}

static void test_implicit_first_access_takes_free_lock(void **state)
{
	struct pair p;
	struct scsi_result res;

	(void)state;
	open_pair(&p, "implicit", "implicit");
	assert_int_equal(write1(p.gw[0], 1, &res), 0);
	assert_sense(&res, NOT_READY, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	assert_true(rtpg_agrees(&p, 0, 1));	/* gw1 AO, gw2 ANO everywhere */
	assert_int_equal(ha_lock_acquisitions(siminit_device(p.gw[0])), 1);
	close_pair(&p);
}

static void test_implicit_takeover_waits_for_holddown(void **state)
{
	struct pair p;
	struct scsi_result res;
	struct timespec t0, t1;
	long ms;

	(void)state;
	open_pair(&p, "holddown", "implicit");
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	assert_true(rtpg_agrees(&p, 0, 1));
	/* One stray write on the other gateway does not move the lock... */
	drain_ua(p.gw[1]);
	assert_int_equal(write1(p.gw[1], 2, &res), 0);
	assert_sense(&res, NOT_READY, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	usleep(1000000);
	assert_true(cluster_lock_is_held(siminit_device(p.gw[0])));
	/* ...access that keeps arriving for the hold-down does. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(write_until_good(p.gw[1], 2, WAIT_MS));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 400);
	/* The old owner is fenced: it stops serving and reports gw2 AO. */
	assert_true(rtpg_agrees(&p, 1, 1));
	assert_false(cluster_lock_is_held(siminit_device(p.gw[0])));
	close_pair(&p);
}

/*
 * Reads through the non-owner's path, kept up for twice the hold-down, are
 * served from the backend without the lock (the shared handler has no
 * write cache) and see the owner's write; the lock stays where it is.
 */
static void test_implicit_reads_leave_the_lock(void **state)
{
	struct pair p;
	struct scsi_result res;
	uint8_t buf[BS], want[BS];

	(void)state;
	open_pair(&p, "reads", "implicit");
	assert_true(write_until_good(p.gw[0], 7, WAIT_MS));
	memset(want, 7, sizeof(want));
	drain_ua(p.gw[1]);
	for (int waited = 0; waited < 800; waited += 20) {
		assert_int_equal(siminit_read(p.gw[1], 0, 1, buf, &res), 0);
		assert_good(&res);
		assert_memory_equal(buf, want, sizeof(buf));
		usleep(20000);
	}
	assert_true(cluster_lock_is_held(siminit_device(p.gw[0])));
	assert_int_equal(ha_lock_acquisitions(siminit_device(p.gw[1])), 0);
	assert_true(rtpg_agrees(&p, 0, ALUA_ANO));
	close_pair(&p);
}

/* An STPG CDB and its one-descriptor parameter list: group id to state. */
static void stpg_build(uint8_t cdb[12], uint8_t buf[8], uint16_t id,
		       uint8_t state)
{
	memset(cdb, 0, 12);
	memset(buf, 0, 8);
	cdb[0] = MAINTENANCE_OUT;
	cdb[1] = MO_SET_TARGET_PGS;
	cdb[9] = 8;
	buf[4] = state;
	buf[6] = (uint8_t)(id >> 8);
	buf[7] = (uint8_t)id;
}

static void stpg(struct siminit *si, uint16_t id, uint8_t state,
		 struct scsi_result *res)
{
	uint8_t cdb[12], buf[8];

	stpg_build(cdb, buf, id, state);
	cmd_out(si, cdb, buf, sizeof(buf), res);
}

static void assert_busy(const struct scsi_result *res)
{
	assert_int_equal(res->ret, 0);
	assert_int_equal(res->status, STATUS_BUSY);
}

/* Wait until no STPG's promise is pending on si (lock() returned). */
static bool promise_settled(struct siminit *si, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		if (!cluster_lock_promised(siminit_device(si)))
			return true;
		usleep(5000);
	}
	return false;
}

/*
 * STPG through gateway g: its group Active/Optimized; GOOD expected (a
 * promise), then lock() returned.
 */
static void activate(struct pair *p, int g)
{
	struct scsi_result res;

	stpg(p->gw[g], (uint16_t)(g + 1), 0, &res);
	assert_good(&res);
	assert_true(promise_settled(p->gw[g], WAIT_MS));
}

static void test_explicit_stpg_moves_the_lock(void **state)
{
	struct pair p;
	struct scsi_result res;

	(void)state;
	open_pair(&p, "explicit", "explicit");
	/* Standby paths refuse I/O and never take the lock on their own. */
	assert_int_equal(write1(p.gw[0], 1, &res), 0);
	assert_sense(&res, NOT_READY, ASC_PORT_IN_STANDBY_STATE);
	activate(&p, 0);
	assert_true(cluster_lock_is_held(siminit_device(p.gw[0])));
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	assert_true(rtpg_agrees(&p, 0, 2));	/* gw1 AO, gw2 Standby */
	activate(&p, 1);
	assert_true(write_until_good(p.gw[1], 2, WAIT_MS));
	assert_true(rtpg_agrees(&p, 1, 2));
	/* Standby on the owner's own group gives the lock up. */
	drain_ua(p.gw[1]);
	stpg(p.gw[1], 2, 2, &res);
	assert_good(&res);
	assert_false(cluster_lock_is_held(siminit_device(p.gw[1])));
	close_pair(&p);
}

/*
 * lunard restarted on the owning gateway (adopting its device) takes back
 * the lock its dead predecessor held under the gateway's group while the
 * device is added: the first write is served, the predecessor is fenced.
 * A device of another group added meanwhile takes nothing.
 */
static void test_restart_on_owner_takes_its_lock_back(void **state)
{
	struct pair p;
	struct siminit *again, *other;
	struct scsi_result res;

	(void)state;
	open_pair(&p, "reclaim", "explicit");
	activate(&p, 0);
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	/* gw1's lunard "dies": its device is left as it is; a new one comes. */
	again = open_gw("reclaim", "explicit;gw1:1:local,gw2:2");
	assert_true(cluster_lock_is_held(siminit_device(again)));
	drain_ua(again);
	assert_int_equal(write1(again, 3, &res), 0);
	assert_good(&res);
	assert_int_equal(write1(p.gw[0], 4, &res), 0);
	assert_int_not_equal(res.status, STATUS_GOOD);
	other = open_gw("reclaim", "explicit;gw1:1,gw2:2:local");
	assert_false(cluster_lock_is_held(siminit_device(other)));
	assert_true(cluster_lock_is_held(siminit_device(again)));
	siminit_close(other);
	siminit_close(again);
	close_pair(&p);
}

/*
 * A gateway that lost the lock cannot read the new owner until its
 * reopen: meanwhile its RTPG must not call the new owner's group Standby
 * (scsi_dh_alua would apply that to the initiator's working path to it).
 */
static void test_fenced_gateway_does_not_hide_the_new_owner(void **state)
{
	struct pair p;
	struct scsi_result res;
	uint8_t st[2], secs;

	(void)state;
	open_pair(&p, "slowfence", "explicit");
	activate(&p, 0);
	activate(&p, 1);
	/* gw1 learns it lost the lock; its reopen takes a second. */
	drain_ua(p.gw[0]);
	assert_int_equal(write1(p.gw[0], 1, &res), 0);
	assert_int_not_equal(res.status, STATUS_GOOD);
	drain_ua(p.gw[0]);
	rtpg(p.gw[0], st, &secs);
	assert_int_equal(st[0], ALUA_STANDBY);
	assert_int_equal(st[1], ALUA_ANO);
	/* Once reopened it reads the owner and agrees with everyone. */
	assert_true(rtpg_agrees(&p, 1, 2));
	close_pair(&p);
}

/*
 * An owner whose handler now and then says "not locked" for a moment
 * (librbd renewing its lock cookie) keeps the lock and keeps serving;
 * one that is fenced still gives it up.
 */
static void test_owner_keeps_lock_through_a_passing_doubt(void **state)
{
	struct pair p;
	struct scsi_result res;

	(void)state;
	open_pair(&p, "flaky", "explicit");
	activate(&p, 0);
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	usleep(3000000);	/* six checks, every second one doubtful */
	assert_true(cluster_lock_is_held(siminit_device(p.gw[0])));
	assert_int_equal(write1(p.gw[0], 2, &res), 0);
	assert_good(&res);
	assert_int_equal(ha_lock_acquisitions(siminit_device(p.gw[0])), 1);
	/* Fenced by the other gateway while idle: noticed without I/O. */
	activate(&p, 1);
	assert_true(rtpg_agrees(&p, 1, 2));
	assert_false(cluster_lock_is_held(siminit_device(p.gw[0])));
	close_pair(&p);
}

/*
 * An idle owner whose lock another gateway just took (its handler cannot
 * tell "fenced" from a passing "not locked") claims nothing while it
 * checks again: its own group Transitioning, the others Active/Non-
 * optimized — never itself AO and the new owner Standby.
 */
static void test_doubted_lock_is_not_claimed(void **state)
{
	struct pair p;
	uint8_t st[2], secs;

	(void)state;
	open_pair(&p, "doubt", "explicit");
	activate(&p, 0);
	assert_true(write_until_good(p.gw[0], 1, WAIT_MS));
	activate(&p, 1);
	drain_ua(p.gw[0]);
	rtpg(p.gw[0], st, &secs);
	assert_int_equal(st[0], ALUA_TRANSITIONING);
	assert_int_equal(st[1], ALUA_ANO);
	assert_true(rtpg_agrees(&p, 1, 2));
	close_pair(&p);
}

static void test_bad_stpg_is_rejected(void **state)
{
	struct pair p;
	struct scsi_result res;
	uint8_t cdb[12] = { MAINTENANCE_OUT, MO_SET_TARGET_PGS };
	uint8_t buf[6] = { 0 };

	(void)state;
	open_pair(&p, "badstpg", "explicit");
	stpg(p.gw[0], 7, 0, &res);		/* no such group */
	assert_sense(&res, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	stpg(p.gw[0], 1, 0xe, &res);		/* offline: not supported */
	assert_sense(&res, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	cdb[9] = sizeof(buf);			/* not whole descriptors */
	cmd_out(p.gw[0], cdb, buf, sizeof(buf), &res);
	assert_sense(&res, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_false(cluster_lock_is_held(siminit_device(p.gw[0])));
	close_pair(&p);
	/* Implicit-only devices do not take STPG at all. */
	open_pair(&p, "badstpg2", "implicit");
	stpg(p.gw[0], 1, 0, &res);
	assert_sense(&res, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	close_pair(&p);
}

/*
 * A LUN whose handler has no cluster lock (ram) under explicit ALUA: its
 * states are configfs's (all Active/Optimized here) and no STPG can move
 * them, so one asking to change this gateway's group is refused with
 * ILLEGAL REQUEST, SET TARGET PORT GROUPS COMMAND FAILED: a permanent
 * answer, which no initiator retries (BUSY would have Linux's midlayer
 * resend it for minutes; scsi_dh_alua reads RTPG after any failed STPG
 * and finds the group usable as it is).  Descriptors naming only another
 * gateway's group, or Active/Non-optimized, ask nothing of this one: GOOD.
 */
static void test_stpg_without_cluster_lock(void **state)
{
	struct siminit_opts o = { .cfgstring = "ram/nolock", .size = 1 << 20,
				  .alua = "explicit;gw1:1:local,gw2:2" };
	struct scsi_result res;
	struct siminit *si;
	uint8_t st[2], secs;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), 0);
	assert_false(cluster_lock_enabled(siminit_device(si)));
	stpg(si, 1, ALUA_AO, &res);
	assert_sense(&res, ILLEGAL_REQUEST, ASC_STPG_FAILED);
	stpg(si, 1, ALUA_STANDBY, &res);
	assert_sense(&res, ILLEGAL_REQUEST, ASC_STPG_FAILED);
	stpg(si, 2, ALUA_STANDBY, &res);
	assert_good(&res);
	stpg(si, 1, ALUA_ANO, &res);
	assert_good(&res);
	drain_ua(si);
	rtpg(si, st, &secs);
	assert_int_equal(st[0], ALUA_AO);
	assert_int_equal(st[1], ALUA_AO);
	assert_true(write_until_good(si, 1, 100));	/* no lock needed */
	siminit_close(si);
}

/*
 * An STPG is a promise (cluster/cluster_lock.h): on "lazylock" (lock()
 * takes 300 ms) it is answered GOOD before lock() returns, RTPG names gw1
 * Active/Optimized and gw2 Standby at once, a second STPG for the same is
 * GOOD, and a write sent meanwhile waits and is served once the lock is
 * held.  An initiator that waited for each STPG would take over many
 * LUNs one after another.
 */
static void test_stpg_answered_before_lock(void **state)
{
	struct timespec t0, t1;
	struct scsi_result res;
	struct pair p;
	uint8_t st[2], secs;

	(void)state;
	open_pair(&p, "lazylock", "explicit");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stpg(p.gw[0], 1, ALUA_AO, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_good(&res);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 < 300);
	drain_ua(p.gw[0]);	/* RTPG's answer changed */
	rtpg(p.gw[0], st, &secs);
	assert_int_equal(st[0], ALUA_AO);
	assert_int_equal(st[1], ALUA_STANDBY);
	stpg(p.gw[0], 1, ALUA_AO, &res);
	assert_good(&res);
	drain_ua(p.gw[0]);
	assert_int_equal(write1(p.gw[0], 1, &res), 0);
	assert_good(&res);
	assert_true(cluster_lock_is_held(siminit_device(p.gw[0])));
	assert_int_equal(ha_lock_acquisitions(siminit_device(p.gw[0])), 1);
	assert_true(rtpg_agrees(&p, 0, ALUA_STANDBY));
	close_pair(&p);
}

/* An explicit pair on image whose group owner+1 holds the lock and serves. */
static void open_owned_pair(struct pair *p, const char *image, int owner)
{
	open_pair(p, image, "explicit");
	activate(p, owner);
	assert_true(write_until_good(p->gw[owner], 1, WAIT_MS));
}

/*
 * gw1 asks to take the lock gw2 holds and the handler's lock() fails
 * (the image's first fencing fails: nothing changes).  The STPG was
 * GOOD, a promise now broken: gw1 raises a unit attention (RTPG changed),
 * its lock state stays UNLOCKED, gw2 keeps the lock and its I/O, every
 * RTPG names gw2 again, gw1 answers I/O Standby (Linux's dm-multipath
 * fails that path and uses another); the STPG sent again succeeds and
 * gw1 serves.
 */
static void takeover_fails_once(const char *image)
{
	struct tcmu_device *dev1;
	struct scsi_result res;
	struct pair p;

	open_owned_pair(&p, image, 1);
	dev1 = siminit_device(p.gw[0]);
	drain_ua(p.gw[0]);
	stpg(p.gw[0], 1, ALUA_AO, &res);
	assert_good(&res);
	assert_true(promise_settled(p.gw[0], WAIT_MS));
	assert_int_equal(write1(p.gw[0], 3, &res), 0);
	assert_sense(&res, UNIT_ATTENTION, ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
	assert_int_equal(cluster_lock_state(dev1), CLUSTER_UNLOCKED);
	assert_true(cluster_lock_is_held(siminit_device(p.gw[1])));
	assert_true(rtpg_agrees(&p, 1, ALUA_STANDBY));
	assert_int_equal(write1(p.gw[1], 2, &res), 0);
	assert_good(&res);
	assert_int_equal(write1(p.gw[0], 3, &res), 0);
	assert_sense(&res, NOT_READY, ASC_PORT_IN_STANDBY_STATE);
	activate(&p, 0);
	assert_true(write_until_good(p.gw[0], 4, WAIT_MS));
	assert_true(rtpg_agrees(&p, 0, ALUA_STANDBY));
	close_pair(&p);
}

/*
 * A handler error (TCMU_STS_HW_ERR: the backend refused) and a transient
 * failure (TCMU_STS_BUSY: another gateway won the race) break the promise
 * alike.
 */
static void test_stpg_lock_failure(void **state)
{
	(void)state;
	takeover_fails_once("lockfail");
	takeover_fails_once("lockbusy");
}

/*
 * STPG Standby on the owner (gw1) whose unlock() fails: the STPG is not
 * GOOD (HARDWARE ERROR, SET TARGET PORT GROUPS COMMAND FAILED, as for
 * lock()), whatever became of the lock.  If the handler still says the
 * lock is this client's ("unlockfail"), nothing changed: the lock state
 * goes back to LOCKED and gw1 keeps serving, so every RTPG keeps naming
 * gw1, which is true; sent again, the STPG releases it.  If the lock went
 * all the same ("unlocklost"), gw1 stops serving and RTPG says so; sent
 * again, the STPG finds nothing to do: GOOD.  Either way nobody serves
 * without the lock and no gateway reports an owner that is not one.
 */
static void release_fails_once(const char *image, bool still_held)
{
	struct tcmu_device *dev1;
	struct scsi_result res;
	struct pair p;

	open_owned_pair(&p, image, 0);
	dev1 = siminit_device(p.gw[0]);
	stpg(p.gw[0], 1, ALUA_STANDBY, &res);
	assert_sense(&res, HARDWARE_ERROR, ASC_STPG_FAILED);
	if (still_held) {
		assert_int_equal(cluster_lock_state(dev1), CLUSTER_LOCKED);
		assert_true(rtpg_agrees(&p, 0, ALUA_STANDBY));
		assert_int_equal(write1(p.gw[0], 2, &res), 0);
		assert_good(&res);
	}
	drain_ua(p.gw[0]);
	stpg(p.gw[0], 1, ALUA_STANDBY, &res);
	assert_good(&res);
	assert_int_equal(cluster_lock_state(dev1), CLUSTER_UNLOCKED);
	assert_true(rtpg_all_say(&p, ALUA_STANDBY, ALUA_STANDBY));
	assert_int_equal(write1(p.gw[0], 3, &res), 0);
	assert_sense(&res, NOT_READY, ASC_PORT_IN_STANDBY_STATE);
	close_pair(&p);
}

static void test_stpg_unlock_failure(void **state)
{
	(void)state;
	release_fails_once("unlockfail", true);
	release_fails_once("unlocklost", false);
}

static bool reopening_within(struct tcmu_device *dev, int ms)
{
	for (int waited = 0; waited < ms; waited += 5) {
		if (__atomic_load_n(&ha_recovery(dev)->state, __ATOMIC_ACQUIRE) ==
		    REC_REOPENING)
			return true;
		usleep(5000);
	}
	return false;
}

/*
 * An STPG reaching a gateway that reopens its handler (fenced by the
 * other's takeover; "slow*" images take 1 s to reopen) is answered BUSY
 * at once, like every command that needs the handler while it recovers
 * (cluster/recovery.h): the reopen may take long (backoff up to 5 s,
 * for as long as the backend is away), and an STPG held meanwhile would
 * outlive the initiator's timeout.  It changes nothing: the other gateway
 * keeps the lock; once reopened, the STPG sent again moves it.
 */
static void test_stpg_during_reopen(void **state)
{
	struct tcmu_device *dev1;
	struct scsi_result res;
	struct timespec t0, t1;
	struct pair p;

	(void)state;
	open_pair(&p, "slowstpg", "explicit");
	dev1 = siminit_device(p.gw[0]);
	activate(&p, 0);
	activate(&p, 1);
	drain_ua(p.gw[0]);
	assert_int_equal(write1(p.gw[0], 1, &res), 0);	/* finds itself fenced */
	assert_int_not_equal(res.status, STATUS_GOOD);
	assert_true(reopening_within(dev1, WAIT_MS));
	drain_ua(p.gw[0]);	/* ALUA STATE CHANGED: the lock was lost */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stpg(p.gw[0], 1, ALUA_AO, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_busy(&res);
	assert_true(recovery_active(dev1));	/* answered before the reopen ended */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
	assert_int_equal(siminit_wait_recovered(p.gw[0], WAIT_MS), 0);
	assert_true(rtpg_agrees(&p, 1, ALUA_STANDBY));
	assert_false(cluster_lock_is_held(dev1));
	activate(&p, 0);
	assert_true(write_until_good(p.gw[0], 2, WAIT_MS));
	assert_true(rtpg_agrees(&p, 0, ALUA_STANDBY));
	close_pair(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_groups_means_no_alua),
		cmocka_unit_test(test_inquiry_reports_tpgs_and_port_designators),
		cmocka_unit_test(test_implicit_first_access_takes_free_lock),
		cmocka_unit_test(test_implicit_reads_leave_the_lock),
		cmocka_unit_test(test_implicit_takeover_waits_for_holddown),
		cmocka_unit_test(test_explicit_stpg_moves_the_lock),
		cmocka_unit_test(test_restart_on_owner_takes_its_lock_back),
		cmocka_unit_test(test_fenced_gateway_does_not_hide_the_new_owner),
		cmocka_unit_test(test_owner_keeps_lock_through_a_passing_doubt),
		cmocka_unit_test(test_doubted_lock_is_not_claimed),
		cmocka_unit_test(test_bad_stpg_is_rejected),
		cmocka_unit_test(test_stpg_without_cluster_lock),
		cmocka_unit_test(test_stpg_answered_before_lock),
		cmocka_unit_test(test_stpg_lock_failure),
		cmocka_unit_test(test_stpg_unlock_failure),
		cmocka_unit_test(test_stpg_during_reopen),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
