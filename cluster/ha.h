/*
 * lunar's HA layer: ALUA target port groups (alua/), the cluster lock
 * (cluster/cluster_lock.h), per-LUN recovery (cluster/recovery.h) and the
 * per-device agent thread that drives both (cluster/agent.h), plugged
 * into the core as one runner/ha.h table.  lunard registers it at
 * start-up (runner/main.c), as do the tests that run the whole core.
 */
#ifndef LUNAR_CLUSTER_HA_H
#define LUNAR_CLUSTER_HA_H

#include <stdint.h>

#include "runner/ha.h"

extern const struct ha_ops cluster_ha_ops;

/* Counters, for tests and diagnostics; dev must be attached. */
uint64_t ha_recoveries(struct tcmu_device *dev);	/* reopens started */
uint64_t ha_lock_acquisitions(struct tcmu_device *dev);

#endif
