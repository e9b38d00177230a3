/*
 * A fake device (tests/unit/fake_core.h) with the HA layer's per-device
 * state but without cluster_ha_ops' attach, for tests that drive the
 * cluster lock, recovery or the agent one step at a time on their own
 * thread: no configfs is read and no agent thread runs until the test
 * starts one (agent_kick() does nothing before that).
 */
#ifndef LUNAR_TEST_HA_BARE_H
#define LUNAR_TEST_HA_BARE_H

struct tcmu_device;

struct tcmu_device *ha_bare_new(const char *name);
/* Stops the agent if the test started it. */
void ha_bare_free(struct tcmu_device *dev);

#endif
