/*
 * A device with bare HA state.  See ha_bare.h.
 */
#include "ha_bare.h"

#include <stdlib.h>

#include "cluster/ha_dev.h"
#include "fake_core.h"

struct tcmu_device *ha_bare_new(const char *name)
{
	struct tcmu_device *dev = fake_device_new(name);
	struct ha_dev *ha = calloc(1, sizeof(*ha));

	if (!ha)
		abort();
	device_set_ha(dev, ha);
	cluster_lock_init(ha_cluster_lock(dev));
	return dev;
}

void ha_bare_free(struct tcmu_device *dev)
{
	agent_stop(dev);
	cluster_lock_destroy(ha_cluster_lock(dev));
	free(device_ha(dev));
	fake_device_free(dev);
}
