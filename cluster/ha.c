/*
 * The HA layer as the core sees it: runner/ha.h's hooks, each handed to
 * the module that owns the matter.  See cluster/ha.h.
 */
#include "ha.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alua/alua.h"
#include "budget.h"
#include "ha_dev.h"

/*
 * A LUN that gateways share (its handler has a cluster lock) gets its
 * attrib/cmd_time_out from the failover budget instead of the kernel's
 * 30 s: the bound on a lunard that hangs (one that dies is handled by its
 * guardian).  The kernel takes it only before the LUN is exported, i.e.
 * when the device is created, not when lunard restarts under an exported
 * one.
 */
static void set_kernel_cmd_timeout(struct tcmu_device *dev)
{
	uint64_t cur;
	char val[16];
	int ret;

	if (!device_handler_ops(dev)->lock)
		return;
	/* A restarted lunard finds it set (and the kernel would refuse). */
	if (!device_read_attr_u64(dev, "attrib/cmd_time_out", &cur) &&
	    cur == budget_kernel_cmd_timeout_s())
		return;
	snprintf(val, sizeof(val), "%u", budget_kernel_cmd_timeout_s());
	ret = device_write_attr(dev, "attrib/cmd_time_out", val);
	if (ret)
		lunar_dbg(dev, "kernel command timeout not set (%s); LUN already exported?",
			  strerror(-ret));
	else
		lunar_info(dev, "kernel command timeout %s s (failover budget)", val);
}

static void cluster_release(struct tcmu_device *dev)
{
	cluster_lock_destroy(ha_cluster_lock(dev));
	alua_destroy(dev);
	free(device_ha(dev));
	device_set_ha(dev, NULL);
}

static int cluster_attach(struct tcmu_device *dev)
{
	struct ha_dev *ha = calloc(1, sizeof(*ha));
	int ret;

	if (!ha)
		return -ENOMEM;
	device_set_ha(dev, ha);
	alua_init(dev);
	cluster_lock_init(ha_cluster_lock(dev));
	set_kernel_cmd_timeout(dev);
	alua_refresh(dev);
	cluster_lock_reclaim(dev);
	ret = agent_start(dev);
	if (ret) {
		lunar_err(dev, "cannot start the HA agent thread: %s", strerror(-ret));
		cluster_release(dev);
	}
	return ret;
}

static void cluster_detach(struct tcmu_device *dev)
{
	agent_stop(dev);
	cluster_lock_teardown(dev);
}

static void cluster_cmds_timed_out(struct tcmu_device *dev)
{
	recovery_request(dev, "command timeout");
}

static void cluster_handler_event(struct tcmu_device *dev, enum tcmur_event evt)
{
	if (evt == TCMUR_EVT_CONN_LOST)
		recovery_request(dev, "backend connection lost");
	else if (evt != TCMUR_EVT_LOCK_LOST)
		return;
	else if (cluster_lock_enabled(dev))
		cluster_lock_mark_lost(dev, "the handler reported it");
	else
		recovery_request(dev, "backend client fenced (lock lost)");
}

const struct ha_ops cluster_ha_ops = {
	.attach = cluster_attach,
	.detach = cluster_detach,
	.release = cluster_release,
	.admit = alua_check_access,
	.recovering = recovery_active,
	.tick = recovery_cmdproc_check,
	.cmds_timed_out = cluster_cmds_timed_out,
	.handler_event = cluster_handler_event,
	.refresh = alua_refresh,
	.inquiry_tpgs = alua_inquiry_tpgs,
	.vpd_port_designators = alua_vpd_designators,
	.tpgs_supported = alua_supported,
	.report_tpgs = alua_report_target_port_groups,
	.set_tpgs = alua_set_target_port_groups,
	.op_timeout_hint_s = budget_op_timeout_s,
};

uint64_t ha_recoveries(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_recovery(dev)->count, __ATOMIC_ACQUIRE);
}

uint64_t ha_lock_acquisitions(struct tcmu_device *dev)
{
	return __atomic_load_n(&ha_cluster_lock(dev)->transitions, __ATOMIC_ACQUIRE);
}
