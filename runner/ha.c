/*
 * Calls into the registered HA layer.  See ha.h and ha_hooks.h.
 */
#include "ha_hooks.h"

#include "cmd.h"
#include "device.h"

static const struct ha_ops *ha;

/* Between a successful attach and release (handlers may report events
 * from their own threads, also while the device is opened or closed). */
static bool attached(struct tcmu_device *dev)
{
	return ha && __atomic_load_n(&dev->ha_attached, __ATOMIC_ACQUIRE);
}

void ha_register(const struct ha_ops *ops)
{
	ha = ops;
}

int ha_attach(struct tcmu_device *dev)
{
	int ret = ha && ha->attach ? ha->attach(dev) : 0;

	if (!ret)
		__atomic_store_n(&dev->ha_attached, true, __ATOMIC_RELEASE);
	return ret;
}

void ha_detach(struct tcmu_device *dev)
{
	if (attached(dev) && ha->detach)
		ha->detach(dev);
}

void ha_release(struct tcmu_device *dev)
{
	if (!attached(dev))
		return;
	__atomic_store_n(&dev->ha_attached, false, __ATOMIC_RELEASE);
	if (ha->release)
		ha->release(dev);
}

int ha_admit(struct tcmu_device *dev, struct lunar_cmd *cmd)
{
	return attached(dev) && ha->admit ? ha->admit(dev, cmd) : TCMU_STS_OK;
}

bool ha_recovering(struct tcmu_device *dev)
{
	return attached(dev) && ha->recovering && ha->recovering(dev);
}

void ha_tick(struct tcmu_device *dev)
{
	if (attached(dev) && ha->tick)
		ha->tick(dev);
}

void ha_cmds_timed_out(struct tcmu_device *dev)
{
	if (attached(dev) && ha->cmds_timed_out)
		ha->cmds_timed_out(dev);
}

void ha_handler_event(struct tcmu_device *dev, enum tcmur_event evt)
{
	if (attached(dev) && ha->handler_event)
		ha->handler_event(dev, evt);
}

void ha_refresh(struct tcmu_device *dev)
{
	if (attached(dev) && ha->refresh)
		ha->refresh(dev);
}

uint8_t ha_inquiry_tpgs(struct tcmu_device *dev)
{
	return attached(dev) && ha->inquiry_tpgs ? ha->inquiry_tpgs(dev) : 0;
}

size_t ha_vpd_port_designators(struct tcmu_device *dev, uint8_t *p)
{
	return attached(dev) && ha->vpd_port_designators ? ha->vpd_port_designators(dev, p) : 0;
}

bool ha_tpgs_supported(struct tcmu_device *dev)
{
	return attached(dev) && ha->tpgs_supported && ha->report_tpgs && ha->set_tpgs &&
	       ha->tpgs_supported(dev);
}

int ha_report_tpgs(struct lunar_cmd *cmd)
{
	return ha->report_tpgs(cmd);
}

int ha_set_tpgs(struct lunar_cmd *cmd)
{
	return ha->set_tpgs(cmd);
}

unsigned int ha_op_timeout_hint_s(void)
{
	return ha && ha->op_timeout_hint_s ? ha->op_timeout_hint_s() : 0;
}
