/*
 * The HA layer's state of one device, behind the core's opaque
 * device_ha() pointer (runner/core.h): made by cluster/ha.c's attach hook,
 * freed by its detach hook, read by the modules of cluster/ and alua/
 * through the accessors below (only between those two).
 */
#ifndef LUNAR_HA_DEV_H
#define LUNAR_HA_DEV_H

#include "alua/alua_state.h"
#include "cluster/agent.h"
#include "cluster/cluster_lock.h"
#include "cluster/recovery.h"
#include "runner/core.h"

struct ha_dev {
	struct dev_alua alua;
	struct cluster_lock cluster_lock;
	struct dev_recovery recovery;
	struct dev_agent agent;
};

static inline struct dev_alua *ha_alua(struct tcmu_device *dev)
{
	return &device_ha(dev)->alua;
}

static inline struct cluster_lock *ha_cluster_lock(struct tcmu_device *dev)
{
	return &device_ha(dev)->cluster_lock;
}

static inline struct dev_recovery *ha_recovery(struct tcmu_device *dev)
{
	return &device_ha(dev)->recovery;
}

static inline struct dev_agent *ha_agent(struct tcmu_device *dev)
{
	return &device_ha(dev)->agent;
}

#endif
