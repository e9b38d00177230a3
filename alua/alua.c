/*
 * ALUA: target port groups, REPORT/SET TARGET PORT GROUPS and access
 * gating.  See alua.h.
 *
 * Reported states are derived from the cluster lock, not from the
 * alua_access_state files, so every path of every gateway reports the
 * same thing: the group whose id is the lock owner's tag is Active/
 * Optimized, the others Active/Non-optimized (implicit only: initiators
 * keep sending there when the owner's paths fail, which is what starts an
 * implicit takeover) or Standby (explicit: initiators send SET TARGET PORT
 * GROUPS first).  A gateway never reports its own group Active/Optimized
 * while another may hold the lock: after losing its backend it reports it
 * Transitioning.  Only while the lock is known to be free does implicit
 * ALUA report the configfs states (intended_state()).  Devices whose
 * handler has no lock callouts report the configfs states as they are
 * (tcmu-runner 1.5.4's behaviour).
 */
#include "alua.h"

#include <stdio.h>
#include <string.h>

#include "cluster/budget.h"
#include "cluster/cluster_lock.h"
#include "cluster/ha_dev.h"
#include "cluster/recovery.h"
#include "groups.h"
#include "runner/scsi/scsi.h"
#include "runner/scsi/sense.h"
#include "scsi_defs.h"
#include "tcmu-runner.h"

/* RTPG SUPPORTED STATES: T_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP. */
#define SUPPORTED_STATES 0x8f
#define RTPG_MAX (8 + ALUA_MAX_GROUPS * (8 + 4 * ALUA_MAX_PORTS))

void alua_init(struct tcmu_device *dev)
{
	pthread_mutex_init(&ha_alua(dev)->mu, NULL);
	ha_alua(dev)->cfg.local = -1;
}

void alua_destroy(struct tcmu_device *dev)
{
	pthread_mutex_destroy(&ha_alua(dev)->mu);
}

static bool handler_can_lock(struct tcmu_device *dev)
{
	struct tcmur_handler *ops = device_handler_ops(dev);

	return ops->lock && ops->unlock && ops->get_lock_tag &&
	       ops->get_lock_state;
}

static bool same_config(const struct alua_config *a, const struct alua_config *b)
{
	return !memcmp(a, b, sizeof(*a));
}

void alua_refresh(struct tcmu_device *dev)
{
	struct dev_alua *a = ha_alua(dev);
	struct alua_config cfg;
	bool changed, active;
	int ret = alua_groups_load(dev, &cfg);

	if (ret) {
		lunar_dbg(dev, "cannot read ALUA groups: %s; keeping the last ones",
			  strerror(-ret));
		return;
	}
	active = cfg.local >= 0 && cfg.type != ALUA_TYPE_NONE;
	pthread_mutex_lock(&a->mu);
	changed = !same_config(&a->cfg, &cfg);
	a->cfg = cfg;
	pthread_mutex_unlock(&a->mu);
	__atomic_store_n(&a->type, cfg.type, __ATOMIC_RELEASE);
	__atomic_store_n(&a->active, active, __ATOMIC_RELEASE);
	if (!changed || !active)
		return;
	lunar_info(dev, "ALUA: %u group(s), local group %s (id %u), access type %d",
		   cfg.ngroups, cfg.groups[cfg.local].name,
		   cfg.groups[cfg.local].id, cfg.type);
	if (!handler_can_lock(dev) || cluster_lock_enabled(dev))
		return;
	cluster_lock_enable(dev, cfg.groups[cfg.local].id, budget_holddown_ms());
	/* A command stuck longer than the budget starts a reopen. */
	device_default_cmd_timeout(dev, budget_cmd_timeout_s());
}

bool alua_supported(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_alua(dev)->active, __ATOMIC_ACQUIRE);
}

static int alua_type(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_alua(dev)->type, __ATOMIC_ACQUIRE);
}

uint8_t alua_inquiry_tpgs(struct tcmu_device *dev)
{
	return alua_supported(dev) ? (uint8_t)((alua_type(dev) & 3) << 4) : 0;
}

static bool is_media_read(struct lunar_cmd *cmd)
{
	switch (cmd_cdb(cmd)[0]) {
	case READ_6:
	case READ_10:
	case READ_12:
	case READ_16:
		return true;
	default:
		return false;
	}
}

/*
 * A read through an Active/Non-optimized path needs no lock while every
 * acknowledged write is already in the backend (no write cache here, and
 * gateways are configured alike): it sees what the owner would return.
 * Linux reads every new path on its own (partition scan, udev's blkid)
 * and retries a refused read for minutes; counted as contention, those
 * reads outlast the hold-down and move the lock to a gateway no
 * initiator chose (tcmu-runner 1.5.4 serves them without the lock too).
 * Only writes start an implicit takeover.
 */
static bool served_without_lock(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	return alua_type(dev) == ALUA_TYPE_IMPLICIT && is_media_read(cmd) &&
	       !device_write_cache(dev) && !recovery_active(dev);
}

/*
 * A gateway without the lock answers without touching the backend, also
 * while it reopens after losing the lock: a transition while it means to
 * hold the lock or under implicit-only ALUA (initiators retry; the
 * takeover policy counts such access), else Standby (initiators move to
 * the owner's paths at once).  Reads under implicit ALUA are the
 * exception (served_without_lock()).
 */
static int not_owner(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	int type = alua_type(dev);

	if (cluster_lock_wanted(dev))
		return sense_fail(cmd, NOT_READY, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	if (served_without_lock(dev, cmd))
		return TCMU_STS_OK;
	if (type != ALUA_TYPE_EXPLICIT && !recovery_active(dev))
		cluster_lock_contend(dev);
	if (type == ALUA_TYPE_IMPLICIT)
		return sense_fail(cmd, NOT_READY, ASC_LOGICAL_UNIT_NOT_ACCESSIBLE_TRANSITION);
	return sense_fail(cmd, NOT_READY, ASC_PORT_IN_STANDBY_STATE);
}

/*
 * A command parked for an STPG's promise comes back here (on the agent's
 * thread) once the promise is kept, LOCKED, or broken.  LOCKED is set
 * before the promise ends, so a command that finds no promise to wait
 * for sees the lock as it is after it.
 */
int alua_check_access(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	if (cluster_lock_enabled(dev) && !cluster_lock_is_held(dev)) {
		if (cluster_lock_park(dev, cmd))
			return TCMU_STS_ASYNC_HANDLED;
		if (!cluster_lock_is_held(dev))
			return not_owner(dev, cmd);
	}
	if (recovery_active(dev))
		return TCMU_STS_BUSY;
	return TCMU_STS_OK;
}

static uint8_t nonowner_state(struct tcmu_device *dev)
{
	return alua_type(dev) == ALUA_TYPE_IMPLICIT ? ALUA_ANO : ALUA_STANDBY;
}

/*
 * Nobody holds the lock, under implicit-only ALUA: the state the
 * configuring tool gave the group (ceph-iscsi makes the disk's owner
 * Active/Optimized and the others Active/Non-optimized), so initiators
 * turn to the gateway the administrator chose and their first write
 * takes the free lock there — not to whichever gateway answered first.
 * Under explicit ALUA the preferred bit does that, and every group stays
 * Standby until an STPG.  Also while a gateway that writes no tag holds
 * it (tcmu-runner 1.5.4): those states are what 1.5.4 reports, so the
 * gateways of a mixed cluster agree.
 */
static bool intended_state(struct tcmu_device *dev, const struct alua_group *g,
			   uint8_t *state)
{
	int owner = cluster_lock_owner(dev);

	if (alua_type(dev) != ALUA_TYPE_IMPLICIT ||
	    (owner != CLUSTER_OWNER_NONE && owner != CLUSTER_OWNER_UNTAGGED))
		return false;
	if (g->state != ALUA_AO && g->state != ALUA_ANO)
		return false;
	*state = g->state;
	return true;
}

static uint8_t reported_state(struct tcmu_device *dev, const struct alua_group *g)
{
	uint8_t intended;
	int owner;

	if (!cluster_lock_enabled(dev))
		return g->state;
	if (g->local) {
		if (cluster_lock_confirmed(dev) || cluster_lock_promised(dev))
			return ALUA_AO;
		if (cluster_lock_wanted(dev))
			return ALUA_TRANSITIONING;
		if (intended_state(dev, g, &intended))
			return intended;
		return nonowner_state(dev);
	}
	if (cluster_lock_promised(dev))
		return nonowner_state(dev);	/* the STPG's answer holds */
	if (intended_state(dev, g, &intended))
		return intended;
	/*
	 * Owner unknown (this gateway lost the lock and its fenced client
	 * cannot read the tag until reopened, or Ceph is out of reach), or
	 * this gateway's hold on it in doubt (it may have been taken, and a
	 * fenced client cannot read by whom): Active/Non-optimized for the
	 * others.  Linux's scsi_dh_alua applies every RTPG answer to the
	 * port group objects all paths share, so calling the real owner's
	 * group Standby from here would fail the initiator's working path to
	 * it, and dm-multipath would activate this gateway's group and take
	 * the lock back.
	 */
	owner = cluster_lock_owner(dev);
	if (owner == CLUSTER_OWNER_UNKNOWN || (cluster_lock_is_held(dev) && !cluster_lock_confirmed(dev)))
		return ALUA_ANO;
	return owner == g->id ? ALUA_AO : nonowner_state(dev);
}

static size_t put_group(struct tcmu_device *dev, const struct alua_group *g,
			uint8_t *p)
{
	p[0] = (uint8_t)((g->preferred ? 0x80 : 0) | reported_state(dev, g));
	p[1] = SUPPORTED_STATES;
	put_be16(p + 2, g->id);
	p[4] = 0;
	p[5] = 0;	/* status: the same on every gateway */
	p[6] = 0;
	p[7] = (uint8_t)g->nports;
	for (unsigned int i = 0; i < g->nports; i++) {
		memset(p + 8 + 4 * i, 0, 2);
		put_be16(p + 10 + 4 * i, g->ports[i]);
	}
	return 8 + 4 * g->nports;
}

static int rtpg_reply(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd_device(cmd);
	uint32_t alloc = get_be32(cmd_cdb(cmd) + 6);
	bool extended = (cmd_cdb(cmd)[1] & 0xe0) == 0x20;
	uint8_t buf[RTPG_MAX];
	size_t len = extended ? 8 : 4;

	if (alloc < 4)
		return sense_bad_cdb_field(cmd, 6, -1);
	memset(buf, 0, len);
	pthread_mutex_lock(&ha_alua(dev)->mu);
	for (unsigned int i = 0; i < ha_alua(dev)->cfg.ngroups; i++)
		len += put_group(dev, &ha_alua(dev)->cfg.groups[i], buf + len);
	pthread_mutex_unlock(&ha_alua(dev)->mu);
	put_be32(buf, (uint32_t)(len - 4));
	if (extended) {
		buf[4] = 0x10;
		buf[5] = (uint8_t)(budget_transition_s() > 255 ? 255 :
				   budget_transition_s());
	}
	return scsi_reply(cmd, buf, len, alloc);
}

static void rtpg_complete(struct lunar_cmd *cmd)
{
	cmd_finish(cmd, rtpg_reply(cmd));
}

static const char *state_name(uint8_t state)
{
	switch (state) {
	case ALUA_AO: return "active/optimized";
	case ALUA_ANO: return "active/non-optimized";
	case ALUA_STANDBY: return "standby";
	case ALUA_UNAVAILABLE: return "unavailable";
	case ALUA_OFFLINE: return "offline";
	case ALUA_TRANSITIONING: return "transitioning";
	default: return "unknown";
	}
}

/* Whether the kernel lets media access through a group in state. */
static bool kernel_admits(uint8_t state)
{
	return state == ALUA_AO || state == ALUA_ANO;
}

/*
 * The kernel checks every command against the configfs state of the group
 * of the port it came through before lunard sees it (TCMU passes ALUA
 * through only when attrib/alua_support says so), and ceph-iscsi creates
 * every group Standby under explicit ALUA: the kernel would refuse the
 * I/O this gateway serves.  lunard's own gate (alua_check_access)
 * decides, so the local group's configfs state is made Active/Optimized
 * before this gateway serves through it: when an STPG asks for it, before
 * the lock is taken, and when RTPG finds this gateway holding the lock
 * (a restarted lunard took its lock back).  Only a state that blocks
 * media access (Standby, Unavailable, Offline, Transitioning) is changed,
 * and never to a more restrictive one: lunard answers for the ports it
 * does not serve.  Command thread only (a configfs write, as alua.h says
 * of reads).
 */
static void kernel_admit_local(struct tcmu_device *dev)
{
	struct dev_alua *a = ha_alua(dev);
	char name[96], group[sizeof(a->cfg.groups[0].name)];
	uint8_t was;
	int ret;

	pthread_mutex_lock(&a->mu);
	if (a->cfg.local < 0 || kernel_admits(a->cfg.groups[a->cfg.local].state)) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	was = a->cfg.groups[a->cfg.local].state;
	snprintf(group, sizeof(group), "%s", a->cfg.groups[a->cfg.local].name);
	pthread_mutex_unlock(&a->mu);
	snprintf(name, sizeof(name), "alua/%s/alua_access_state", group);
	ret = device_write_attr(dev, name, "0");
	if (ret) {
		lunar_warn(dev, "ALUA group %s: cannot set the kernel's state to active/optimized (%s): the kernel refuses I/O through this gateway; give the group alua_access_type 3 (implicit and explicit)",
			   group, strerror(-ret));
		return;
	}
	pthread_mutex_lock(&a->mu);
	if (a->cfg.local >= 0 && !strcmp(a->cfg.groups[a->cfg.local].name, group))
		a->cfg.groups[a->cfg.local].state = ALUA_AO;
	pthread_mutex_unlock(&a->mu);
	lunar_info(dev, "ALUA group %s: kernel state set active/optimized (was %s) so that it admits what this gateway serves",
		   group, state_name(was));
}

/*
 * With a cluster lock, answered after a fresh look at the owner, except
 * while an STPG's promise is pending: the agent is busy taking the lock,
 * and Linux reads RTPG right after the STPG, on the same worker.
 */
int alua_report_target_port_groups(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd_device(cmd);

	alua_refresh(dev);
	if (!cluster_lock_enabled(dev) || cluster_lock_promised(dev))
		return rtpg_reply(cmd);
	if (cluster_lock_is_held(dev))
		kernel_admit_local(dev);
	return cluster_lock_after_refresh(dev, cmd, rtpg_complete);
}

/* The group with id, under alua.mu: its index, or -1. */
static int find_group(struct tcmu_device *dev, uint16_t id, bool *local)
{
	for (unsigned int i = 0; i < ha_alua(dev)->cfg.ngroups; i++)
		if (ha_alua(dev)->cfg.groups[i].id == id) {
			*local = ha_alua(dev)->cfg.groups[i].local;
			return (int)i;
		}
	return -1;
}

/*
 * One descriptor: only the local group's state can change here; AO takes
 * the lock, Standby gives it up.  Other groups are changed through their
 * own gateway (an initiator sends STPG down a path of the group it wants
 * active), so descriptors naming them are accepted and left alone.
 */
static int check_descriptor(struct tcmu_device *dev, struct lunar_cmd *cmd,
			    const uint8_t *d, unsigned int off, int *want)
{
	uint8_t state = d[0] & 0x0f;
	bool local = false;
	int idx;

	pthread_mutex_lock(&ha_alua(dev)->mu);
	idx = find_group(dev, get_be16(d + 2), &local);
	pthread_mutex_unlock(&ha_alua(dev)->mu);
	if (idx < 0)
		return sense_bad_param_field(cmd, off + 2, -1);
	if (state != ALUA_AO && state != ALUA_STANDBY && state != ALUA_ANO)
		return sense_bad_param_field(cmd, off, 3);
	if (local && state != ALUA_ANO)
		*want = state == ALUA_AO;
	return TCMU_STS_OK;
}

int alua_set_target_port_groups(struct lunar_cmd *cmd)
{
	struct tcmu_device *dev = cmd_device(cmd);
	uint32_t len = get_be32(cmd_cdb(cmd) + 6);
	uint8_t buf[4 + 4 * ALUA_MAX_GROUPS];
	int want = -1, sts;

	alua_refresh(dev);
	if (!(alua_type(dev) & ALUA_TYPE_EXPLICIT))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	if (len % 4 || len > sizeof(buf) || scsi_data_out(cmd, buf, len) < len)
		return sense_fail(cmd, ILLEGAL_REQUEST,
				  ASC_PARAMETER_LIST_LENGTH_ERROR);
	for (uint32_t off = 4; off < len; off += 4) {
		sts = check_descriptor(dev, cmd, buf + off, off, &want);
		if (sts)
			return sts;
	}
	if (want < 0)
		return TCMU_STS_OK;
	if (!cluster_lock_enabled(dev))
		return sense_fail(cmd, ILLEGAL_REQUEST, ASC_STPG_FAILED);
	lunar_info(dev, "SET TARGET PORT GROUPS: local group %s", want ? "active/optimized" : "standby");
	if (want)
		kernel_admit_local(dev);
	return cluster_lock_request_stpg(dev, cmd, want);
}

size_t alua_vpd_designators(struct tcmu_device *dev, uint8_t *p)
{
	const struct alua_group *g;
	size_t off = 0;

	if (!alua_supported(dev))
		return 0;
	pthread_mutex_lock(&ha_alua(dev)->mu);
	if (ha_alua(dev)->cfg.local >= 0) {
		g = &ha_alua(dev)->cfg.groups[ha_alua(dev)->cfg.local];
		/* Relative target port (type 4) and target port group (type 5). */
		p[0] = 0x01;
		p[1] = 0x14;
		p[2] = 0;
		p[3] = 4;
		memset(p + 4, 0, 2);
		put_be16(p + 6, g->nports ? g->ports[0] : 0);
		p[8] = 0x01;
		p[9] = 0x15;
		p[10] = 0;
		p[11] = 4;
		memset(p + 12, 0, 2);
		put_be16(p + 14, g->id);
		off = 16;
	}
	pthread_mutex_unlock(&ha_alua(dev)->mu);
	return off;
}
