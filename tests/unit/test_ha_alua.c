/*
 * alua/ through the seam, over the fake core and its in-memory configfs:
 * alua/groups.c reading target port groups (the local one is the group
 * whose member port's target port group is enabled here, or has no enable
 * switch, as with tcm_loop; LIO's default group does not count), then the
 * HA layer as the core drives it, through cluster_ha_ops: attach turns
 * the cluster lock on, INQUIRY's TPGS bits and VPD 0x83 designators, the
 * access gate (admit) for owner and non-owner under each ALUA type and
 * while recovering, REPORT TARGET PORT GROUPS states derived from the
 * lock owner, SET TARGET PORT GROUPS taking the lock, and detach/release
 * giving everything back (the ASan build finds leaks).  The HA agent
 * thread that attach starts runs for real here.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "alua/groups.h"
#include "cluster/budget.h"
#include "cluster/ha.h"
#include "cluster/ha_dev.h"
#include "runner/scsi/scsi.h"
#include "scsi_defs.h"
#include "fake_core.h"

#define LOCAL 1		/* gw1, this gateway's group */
#define OTHER 2		/* gw2 */
#define PORT(id) (10 + (id))	/* relative port id of the group's member */
#define WWN "iqn.2003-01.org.linux-iscsi.lunar:gw"
#define IMPLICIT "Implicit"
#define EXPLICIT "Explicit"
#define BOTH "Implicit and Explicit"
#define DESC_LEN 12	/* an RTPG descriptor with one port */

static struct tcmu_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = fake_device_new("alua");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (device_ha(dev)) {
		cluster_ha_ops.detach(dev);
		cluster_ha_ops.release(dev);
	}
	fake_device_free(dev);
	return 0;
}

static void set_attrf(const char *value, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set the attribute named by fmt and what follows it. */
static void set_attrf(const char *value, const char *fmt, ...)
{
	char name[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	fake_attr_set(dev, name, value);
}

/*
 * Group name with id and one member port (relative id PORT(id)), LUN 0 of
 * target port group tpgt_<id> of fabric (spelt as LIO's members file does)
 * whose enable switch reads enable (NULL: it has none).  gw1 is preferred
 * and Active/Optimized in configfs, the others Standby.
 */
static void put_group(const char *name, unsigned int id, const char *type,
		      const char *fabric, const char *enable)
{
	char val[160], dir[32];
	unsigned int i;

	for (i = 0; fabric[i] && i < sizeof(dir) - 1; i++)
		dir[i] = (char)tolower((unsigned char)fabric[i]);
	dir[i] = '\0';
	snprintf(val, sizeof(val), "%u\n", id);
	set_attrf(val, "alua/%s/tg_pt_gp_id", name);
	set_attrf(id == LOCAL ? "0\n" : "2\n", "alua/%s/alua_access_state", name);
	set_attrf(id == LOCAL ? "1\n" : "0\n", "alua/%s/preferred", name);
	set_attrf(type, "alua/%s/alua_access_type", name);
	snprintf(val, sizeof(val), "%s/%s/tpgt_%u/lun_0\n", fabric, WWN, id);
	set_attrf(val, "alua/%s/members", name);
	snprintf(val, sizeof(val), "%u\n", PORT(id));
	set_attrf(val, "target/%s/%s/tpgt_%u/lun/lun_0/statistics/scsi_port/indx",
		  dir, WWN, id);
	if (enable)
		set_attrf(enable, "target/%s/%s/tpgt_%u/enable", dir, WWN, id);
}

/*
 * Two gateways' groups over iSCSI, gw1 holding the port enabled on this
 * node, and LIO's default group listed first: were it read, it would
 * count as a third group and set the access type.
 */
static void put_two_groups(const char *type)
{
	set_attrf("0\n", "alua/default_tg_pt_gp/tg_pt_gp_id");
	set_attrf("None\n", "alua/default_tg_pt_gp/alua_access_type");
	put_group("gw1", LOCAL, type, "iSCSI", "1\n");
	put_group("gw2", OTHER, type, "iSCSI", "0\n");
}

static void load(struct alua_config *cfg, int expect)
{
	assert_int_equal(alua_groups_load(dev, cfg), expect);
}

static void test_groups_two_gateways(void **state)
{
	struct alua_config cfg;

	(void)state;
	put_two_groups(BOTH);
	load(&cfg, 0);
	assert_int_equal(cfg.ngroups, 2);
	assert_int_equal(cfg.type, ALUA_TYPE_BOTH);
	assert_int_equal(cfg.local, 0);
	assert_string_equal(cfg.groups[0].name, "gw1");
	assert_int_equal(cfg.groups[0].id, LOCAL);
	assert_int_equal(cfg.groups[0].state, ALUA_AO);
	assert_true(cfg.groups[0].preferred);
	assert_true(cfg.groups[0].local);
	assert_int_equal(cfg.groups[0].nports, 1);
	assert_int_equal(cfg.groups[0].ports[0], PORT(LOCAL));
	assert_string_equal(cfg.groups[1].name, "gw2");
	assert_int_equal(cfg.groups[1].id, OTHER);
	assert_int_equal(cfg.groups[1].state, ALUA_STANDBY);
	assert_false(cfg.groups[1].preferred);
	assert_false(cfg.groups[1].local);
	assert_int_equal(cfg.groups[1].ports[0], PORT(OTHER));
}

/* tcm_loop's target port groups have no enable switch: always on. */
static void test_groups_missing_enable_is_local(void **state)
{
	struct alua_config cfg;

	(void)state;
	put_group("loop", LOCAL, IMPLICIT, "loopback", NULL);
	load(&cfg, 0);
	assert_int_equal(cfg.ngroups, 1);
	assert_int_equal(cfg.type, ALUA_TYPE_IMPLICIT);
	assert_int_equal(cfg.local, 0);
}

static void test_groups_junk_enable_not_local(void **state)
{
	struct alua_config cfg;

	(void)state;
	put_group("gw1", LOCAL, IMPLICIT, "iSCSI", "junk\n");
	load(&cfg, 0);
	assert_int_equal(cfg.ngroups, 1);
	assert_false(cfg.groups[0].local);
	assert_int_equal(cfg.local, -1);
}

static void test_groups_bad_attributes(void **state)
{
	struct alua_config cfg;

	(void)state;
	/* No alua/ directory: no groups, not an error. */
	load(&cfg, 0);
	assert_int_equal(cfg.ngroups, 0);
	assert_int_equal(cfg.local, -1);

	put_two_groups(IMPLICIT);
	fake_attr_set(dev, "alua/gw2/tg_pt_gp_id", "65536\n");
	load(&cfg, -ERANGE);
	fake_attr_set(dev, "alua/gw2/tg_pt_gp_id", "two\n");
	load(&cfg, -EINVAL);
	fake_attr_set(dev, "alua/gw2/tg_pt_gp_id", "2\n");
	fake_attr_set(dev, "alua/gw2/alua_access_state", "16\n");
	load(&cfg, -ERANGE);
	fake_attr_set(dev, "alua/gw2/alua_access_state", "2\n");
	fake_attr_set(dev, "alua/gw2/members", "iSCSI/" WWN "/tpgt_9/lun_0\n");
	load(&cfg, -EIO);
}

/* The groups for type in configfs, the lock's owner, then attach. */
static void attach(const char *type, int owner)
{
	put_two_groups(type);
	dev->backend.owner = owner;
	assert_int_equal(cluster_ha_ops.attach(dev), 0);
}

static void detach(void)
{
	cluster_ha_ops.detach(dev);
	cluster_ha_ops.release(dev);
	assert_null(device_ha(dev));
}

/* admit() for a 10-byte CDB of opcode: the status, any sense in cmd. */
static int admit_op(struct lunar_cmd *cmd, uint8_t opcode)
{
	const uint8_t cdb[10] = { opcode };

	fake_cmd_init(cmd, dev, cdb, sizeof(cdb));
	return cluster_ha_ops.admit(dev, cmd);
}

/* A WRITE(10): access that needs the lock whatever the ALUA type. */
static int admit(struct lunar_cmd *cmd)
{
	return admit_op(cmd, WRITE_10);
}

/* REPORT TARGET PORT GROUPS (extended header if ext), answered GOOD. */
static void rtpg(struct lunar_cmd *cmd, bool ext)
{
	const uint8_t cdb[12] = { 0xa3, ext ? 0x2a : 0x0a, 0, 0, 0, 0,
				  0, 0, 1, 0 };
	int sts;

	fake_cmd_init(cmd, dev, cdb, sizeof(cdb));
	sts = cluster_ha_ops.report_tpgs(cmd);
	if (sts == TCMU_STS_ASYNC_HANDLED)
		WAIT_UNTIL(cmd->finishes == 1);
	else
		cmd_finish(cmd, sts);
	assert_int_equal(cmd->status, TCMU_STS_OK);
	assert_int_equal(cmd->data_in_len, (ext ? 8 : 4) + 2 * DESC_LEN);
	assert_int_equal(get_be32(cmd->data_in), cmd->data_in_len - 4);
}

/* SET TARGET PORT GROUPS with one descriptor: group id to state. */
static int stpg(struct lunar_cmd *cmd, uint16_t id, uint8_t state)
{
	static const uint8_t cdb[12] = { 0xa4, 0x0a, 0, 0, 0, 0, 0, 0, 0, 8 };

	fake_cmd_init(cmd, dev, cdb, sizeof(cdb));
	cmd->data_out[4] = state;
	put_be16(cmd->data_out + 6, id);
	cmd->data_out_len = 8;
	return cluster_ha_ops.set_tpgs(cmd);
}

static void assert_sense(const struct lunar_cmd *cmd, uint8_t key,
			 uint16_t asc_ascq)
{
	assert_int_equal(cmd->sense_key, key);
	assert_int_equal(cmd->asc_ascq, asc_ascq);
}

/* admit() refuses a command of opcode with NOT READY, asc_ascq. */
static void assert_op_refused(uint8_t opcode, uint16_t asc_ascq)
{
	struct lunar_cmd cmd;

	assert_int_equal(admit_op(&cmd, opcode), TCMU_STS_PASSTHROUGH_ERR);
	assert_sense(&cmd, NOT_READY, asc_ascq);
}

static void assert_refused(uint16_t asc_ascq)
{
	assert_op_refused(WRITE_10, asc_ascq);
}

static void test_attach_enables_lock(void **state)
{
	static const uint8_t vpd[16] = {
		0x01, 0x14, 0, 4, 0, 0, 0, PORT(LOCAL),	/* relative port */
		0x01, 0x15, 0, 4, 0, 0, 0, LOCAL,	/* port group */
	};
	uint8_t p[16];
	char timeout[16];

	(void)state;
	attach(BOTH, OTHER);
	assert_true(cluster_lock_enabled(dev));
	assert_true(cluster_ha_ops.tpgs_supported(dev));
	assert_int_equal(cluster_ha_ops.inquiry_tpgs(dev), 0x30);
	assert_int_equal(cluster_ha_ops.vpd_port_designators(dev, p), 16);
	assert_memory_equal(p, vpd, sizeof(vpd));
	/* The owner was read before the agent started; nothing taken. */
	assert_int_equal(cluster_lock_owner(dev), OTHER);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
	/* Timers from the failover budget. */
	assert_int_equal(dev->cmd_timeout_s, budget_cmd_timeout_s());
	snprintf(timeout, sizeof(timeout), "%u", budget_kernel_cmd_timeout_s());
	assert_string_equal(fake_attr_get(dev, "attrib/cmd_time_out"), timeout);
}

/* TPGS is the access type's two bits, at bits 5:4. */
static void test_inquiry_tpgs_per_type(void **state)
{
	(void)state;
	attach(IMPLICIT, OTHER);
	assert_int_equal(cluster_ha_ops.inquiry_tpgs(dev), 0x10);
	detach();
	attach(EXPLICIT, OTHER);
	assert_int_equal(cluster_ha_ops.inquiry_tpgs(dev), 0x20);
	detach();
}

/*
 * Implicit only, the lock held elsewhere: a write gets a transition (the
 * initiator retries) and the hold-down starts, so nothing is taken yet.
 */
static void test_admit_implicit_non_owner(void **state)
{
	(void)state;
	attach(IMPLICIT, OTHER);
	assert_refused(ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	assert_false(cluster_lock_wanted(dev));
}

/*
 * Implicit only, not the owner, no write cache: reads reach the backend
 * without the lock and never start a takeover, not even of a free lock
 * (Linux reads every new path by itself).  Each READ opcode, then a
 * WRITE(10) takes the free lock at once.
 */
static void test_admit_implicit_reads_without_lock(void **state)
{
	static const uint8_t reads[] = { READ_6, READ_10, READ_12, READ_16 };
	struct lunar_cmd cmd;

	(void)state;
	attach(IMPLICIT, -1);
	for (size_t i = 0; i < sizeof(reads); i++)
		assert_int_equal(admit_op(&cmd, reads[i]), TCMU_STS_OK);
	fake_sleep_ms(100);
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
	assert_refused(ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	WAIT_UNTIL(cluster_lock_is_held(dev));
}

/*
 * A mixed cluster: tcmu-runner 1.5.4 holds the lock and wrote no tag.  A
 * write here waits for the hold-down as against any other gateway (no
 * takeover at the first one); RTPG reports the configfs states, as 1.5.4
 * does on its own gateway, so both gateways agree.
 */
static void test_untagged_owner_is_another_gateway(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 4;

	(void)state;
	attach(IMPLICIT, CLUSTER_OWNER_UNTAGGED);
	fake_attr_set(dev, "alua/gw1/alua_access_state", "1\n");
	fake_attr_set(dev, "alua/gw2/alua_access_state", "0\n");
	assert_refused(ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	fake_sleep_ms(100);
	assert_false(cluster_lock_wanted(dev));
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
	rtpg(&cmd, false);
	assert_int_equal(cluster_lock_owner(dev), CLUSTER_OWNER_UNTAGGED);
	assert_int_equal(d[0], 0x80 | ALUA_ANO);
	assert_int_equal(d[DESC_LEN], ALUA_AO);
}

/*
 * With the write cache on, the owner may have acknowledged writes the
 * backend has not got: a read here must wait for the lock like a write.
 */
static void test_admit_implicit_read_with_write_cache(void **state)
{
	(void)state;
	dev->write_cache = true;
	attach(IMPLICIT, OTHER);
	assert_op_refused(READ_10, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
}

/* Explicit only: Standby, and access never takes the lock, free or not. */
static void test_admit_explicit_non_owner(void **state)
{
	(void)state;
	attach(EXPLICIT, -1);
	assert_refused(ASC_PORT_IN_STANDBY_STATE);
	assert_op_refused(READ_10, ASC_PORT_IN_STANDBY_STATE);
	assert_false(cluster_lock_wanted(dev));
}

/* Implicit, nobody holds it: the first access has the agent take it. */
static void test_admit_implicit_takes_free_lock(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach(IMPLICIT, -1);
	assert_refused(ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	WAIT_UNTIL(cluster_lock_is_held(dev));
	assert_int_equal(admit(&cmd), TCMU_STS_OK);
	assert_int_equal(dev->last_lock_tag, LOCAL);
}

/*
 * This group's tag on the image at attach: reclaimed then and there.  A
 * lost connection makes commands BUSY until the tick sees the drain done
 * and the agent has reopened the handler and taken the lock again.
 */
static void test_admit_busy_while_recovering(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach(IMPLICIT, LOCAL);
	assert_true(cluster_lock_is_held(dev));
	assert_int_equal(admit(&cmd), TCMU_STS_OK);

	cluster_ha_ops.handler_event(dev, TCMUR_EVT_CONN_LOST);
	assert_true(cluster_ha_ops.recovering(dev));
	assert_int_equal(admit(&cmd), TCMU_STS_BUSY);

	cluster_ha_ops.tick(dev);
	WAIT_UNTIL(!cluster_ha_ops.recovering(dev) && cluster_lock_is_held(dev));
	assert_int_equal(admit(&cmd), TCMU_STS_OK);
	assert_int_equal(dev->calls[FAKE_REOPEN], 1);
	assert_int_equal(dev->calls[FAKE_LOCK], 2);
}

static void test_rtpg_owner_here(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 4;

	(void)state;
	attach(IMPLICIT, LOCAL);
	rtpg(&cmd, false);
	assert_int_equal(d[0], 0x80 | ALUA_AO);		/* preferred */
	assert_int_equal(d[1], 0x8f);
	assert_int_equal(get_be16(d + 2), LOCAL);
	assert_int_equal(d[7], 1);
	assert_int_equal(get_be16(d + 10), PORT(LOCAL));
	d += DESC_LEN;
	assert_int_equal(d[0], ALUA_ANO);
	assert_int_equal(get_be16(d + 2), OTHER);
	assert_int_equal(get_be16(d + 10), PORT(OTHER));
}

/*
 * Taken elsewhere after attach: the answer waits for the agent's fresh
 * look at the owner.  Explicit ALUA: the non-owner group is Standby.
 */
static void test_rtpg_owner_elsewhere(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 8;

	(void)state;
	attach(BOTH, -1);
	dev->backend.owner = OTHER;
	rtpg(&cmd, true);
	assert_int_equal(cmd.data_in[4], 0x10);
	assert_int_equal(cmd.data_in[5], budget_transition_s());
	assert_int_equal(d[0], 0x80 | ALUA_STANDBY);
	assert_int_equal(d[DESC_LEN], ALUA_AO);
}

/*
 * Nobody holds the lock under implicit ALUA: the configfs states, which
 * ceph-iscsi sets to name the disk's owner (here gw2); under explicit
 * ALUA every group stays Standby (the preferred bit guides initiators).
 */
static void test_rtpg_free_lock_intended_states(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 4;

	(void)state;
	attach(IMPLICIT, -1);
	fake_attr_set(dev, "alua/gw1/alua_access_state", "1\n");
	fake_attr_set(dev, "alua/gw2/alua_access_state", "0\n");
	rtpg(&cmd, false);
	assert_int_equal(d[0], 0x80 | ALUA_ANO);
	assert_int_equal(d[DESC_LEN], ALUA_AO);

	/* The first command takes the free lock; then the lock decides. */
	assert_refused(ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	WAIT_UNTIL(cluster_lock_is_held(dev));
	rtpg(&cmd, false);
	assert_int_equal(d[0], 0x80 | ALUA_AO);
	assert_int_equal(d[DESC_LEN], ALUA_ANO);
}

static void test_rtpg_free_lock_explicit_standby(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 4;

	(void)state;
	attach(BOTH, -1);
	fake_attr_set(dev, "alua/gw2/alua_access_state", "0\n");
	rtpg(&cmd, false);
	assert_int_equal(d[0], 0x80 | ALUA_STANDBY);
	assert_int_equal(d[DESC_LEN], ALUA_STANDBY);
}

/* A handler without lock callouts: configfs states, every path active. */
static void test_no_lock_callouts(void **state)
{
	struct lunar_cmd cmd;
	const uint8_t *d = cmd.data_in + 4;

	(void)state;
	dev->handler.lock = NULL;
	dev->handler.unlock = NULL;
	dev->handler.get_lock_tag = NULL;
	dev->handler.get_lock_state = NULL;
	attach(IMPLICIT, -1);
	assert_false(cluster_lock_enabled(dev));
	assert_true(cluster_ha_ops.tpgs_supported(dev));
	assert_int_equal(admit(&cmd), TCMU_STS_OK);
	assert_null(fake_attr_get(dev, "attrib/cmd_time_out"));
	rtpg(&cmd, false);
	assert_int_equal(d[0], 0x80 | ALUA_AO);
	assert_int_equal(d[DESC_LEN], ALUA_STANDBY);
}

static void test_stpg_takes_lock(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach(EXPLICIT, OTHER);
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_OK);
	WAIT_UNTIL(cluster_lock_is_held(dev));
	assert_int_equal(dev->last_lock_tag, LOCAL);
	assert_false(cluster_lock_promised(dev));

	/* A group that does not exist: the field pointer names its id. */
	assert_int_equal(stpg(&cmd, 9, ALUA_AO), TCMU_STS_PASSTHROUGH_ERR);
	assert_sense(&cmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_int_equal(cmd.sense_field, 6);
}

/*
 * ceph-iscsi creates every group Standby in configfs under explicit ALUA,
 * and the kernel refuses I/O through a Standby port before lunard sees
 * it: the local group is made Active/Optimized before an STPG takes the
 * lock, and when RTPG finds the lock held here — never the other way.
 */
static void attach_standby_in_configfs(int owner)
{
	put_two_groups(BOTH);
	fake_attr_set(dev, "alua/gw1/alua_access_state", "2\n");
	dev->backend.owner = owner;
	assert_int_equal(cluster_ha_ops.attach(dev), 0);
}

static void test_stpg_sets_kernel_state(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach_standby_in_configfs(OTHER);
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_OK);
	assert_string_equal(fake_attr_get(dev, "alua/gw1/alua_access_state"), "0");
	WAIT_UNTIL(cluster_lock_is_held(dev));
}

/*
 * The STPG's promise: GOOD before lock() returns; meanwhile RTPG names
 * this group Active/Optimized and the owner's Standby, without waiting
 * for the agent (busy in lock()), and a write waits.  lock() returns OK:
 * the write goes on (admitted again), the promise is over.
 */
static void test_stpg_promise_parks_io(void **state)
{
	struct lunar_cmd cmd, write, report;

	(void)state;
	attach(EXPLICIT, OTHER);
	dev->backend.lock_hold = true;
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_OK);
	assert_true(cluster_lock_promised(dev));
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
	dev->ua = 0;
	rtpg(&report, false);
	assert_int_equal(report.data_in[4], 0x80 | ALUA_AO);
	assert_int_equal(report.data_in[4 + DESC_LEN], ALUA_STANDBY);
	assert_int_equal(admit(&write), TCMU_STS_ASYNC_HANDLED);
	/* Another STPG for the same state: nothing new to wait for. */
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_OK);
	fake_sleep_ms(20);
	assert_int_equal(write.finishes, 0);
	dev->backend.lock_hold = false;
	WAIT_UNTIL(write.finishes == 1);
	assert_int_equal(write.status, TCMU_STS_OK);
	assert_int_equal(write.readmits, 1);
	assert_true(cluster_lock_is_held(dev));
	assert_false(cluster_lock_promised(dev));
	assert_int_equal(admit(&write), TCMU_STS_OK);
	/* RTPG says what it said: no unit attention for the first write. */
	assert_false(dev->ua & UA_ALUA_STATE_CHANGED);
}

/*
 * A broken promise (lock() failed): the parked write is answered as a
 * non-owner's (Standby under explicit ALUA), a unit attention tells the
 * initiator RTPG changed, and RTPG names the owner again.
 */
static void test_stpg_promise_broken(void **state)
{
	struct lunar_cmd cmd, write, report;

	(void)state;
	attach(EXPLICIT, OTHER);
	dev->backend.lock_hold = true;
	dev->backend.lock_sts = TCMU_STS_HW_ERR;
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_OK);
	assert_int_equal(admit(&write), TCMU_STS_ASYNC_HANDLED);
	dev->ua = 0;
	dev->backend.lock_hold = false;
	WAIT_UNTIL(write.finishes == 1);
	assert_int_equal(write.status, TCMU_STS_PASSTHROUGH_ERR);
	assert_sense(&write, NOT_READY, ASC_PORT_IN_STANDBY_STATE);
	assert_true(dev->ua & UA_ALUA_STATE_CHANGED);
	assert_false(cluster_lock_is_held(dev));
	rtpg(&report, false);
	assert_int_equal(report.data_in[4], 0x80 | ALUA_STANDBY);
	assert_int_equal(report.data_in[4 + DESC_LEN], ALUA_AO);
}

static void test_rtpg_owner_sets_kernel_state(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach_standby_in_configfs(LOCAL);
	assert_true(cluster_lock_is_held(dev));
	rtpg(&cmd, false);
	assert_int_equal(cmd.data_in[4], 0x80 | ALUA_AO);
	assert_string_equal(fake_attr_get(dev, "alua/gw1/alua_access_state"), "0");
}

static void test_rtpg_non_owner_leaves_kernel_state(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach_standby_in_configfs(OTHER);
	rtpg(&cmd, false);
	assert_int_equal(cmd.data_in[4], 0x80 | ALUA_STANDBY);
	assert_string_equal(fake_attr_get(dev, "alua/gw1/alua_access_state"), "2\n");
}

static void test_stpg_unsupported_implicit_only(void **state)
{
	struct lunar_cmd cmd;

	(void)state;
	attach(IMPLICIT, OTHER);
	assert_int_equal(stpg(&cmd, LOCAL, ALUA_AO), TCMU_STS_PASSTHROUGH_ERR);
	assert_sense(&cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	assert_int_equal(dev->calls[FAKE_LOCK], 0);
}

static void test_detach_unlocks_held_lock(void **state)
{
	(void)state;
	attach(IMPLICIT, LOCAL);
	assert_true(cluster_lock_is_held(dev));
	detach();
	assert_int_equal(dev->calls[FAKE_UNLOCK], 1);
	assert_int_equal(dev->backend.owner, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_groups_two_gateways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_missing_enable_is_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_junk_enable_not_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_bad_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_enables_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inquiry_tpgs_per_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_implicit_non_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_implicit_reads_without_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_implicit_read_with_write_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untagged_owner_is_another_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_explicit_non_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_implicit_takes_free_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_busy_while_recovering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_owner_here, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_owner_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_free_lock_intended_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_free_lock_explicit_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_lock_callouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_takes_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_promise_parks_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_promise_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_sets_kernel_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_owner_sets_kernel_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtpg_non_owner_leaves_kernel_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stpg_unsupported_implicit_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach_unlocks_held_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
