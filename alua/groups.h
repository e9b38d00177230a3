/*
 * Reading target port groups from a device's configfs directory (through
 * device_read_attr(), runner/core.h): every group under alua/ except default_tg_pt_gp, with
 * its id, access type and state, preferred bit and member ports; the
 * local group is the one with a member whose target port group is enabled
 * on this node (one local port per gateway, as ceph-iscsi sets it up).
 *
 * Threading: any thread; reads only.
 */
#ifndef LUNAR_ALUA_GROUPS_H
#define LUNAR_ALUA_GROUPS_H

#include "alua_state.h"

struct tcmu_device;

/*
 * Fill cfg.  0 (no groups: cfg->ngroups = 0), or -errno when the
 * directory lists groups whose attributes cannot be read or parsed.
 */
int alua_groups_load(struct tcmu_device *dev, struct alua_config *cfg);

#endif
