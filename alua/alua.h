/*
 * ALUA: the HA layer's answers to the core's access gate (admit), INQUIRY
 * and REPORT / SET TARGET PORT GROUPS hooks (runner/ha.h, wired in
 * cluster/ha.c): whether a command may reach the backend through this
 * gateway now (alua_check_access), what TPGS bits the standard INQUIRY
 * and which port designators VPD page 0x83 report, and how to answer
 * REPORT / SET TARGET PORT GROUPS.  Target port groups come
 * from the device's configfs alua/ directory (alua/groups.h), read when
 * the device is added and again by INQUIRY, RTPG and STPG — never by a
 * background thread: a configfs read racing the removal of the device
 * waits for lunard's answer to that removal, and removal joins lunard's
 * threads.  Commands cannot race it (the LUN is unexported first).  A
 * device without a group holding a local enabled port reports no ALUA
 * support: every path is active, TPGS = 0, and RTPG/STPG are unsupported
 * commands.  With one, and a handler with lock callouts, states follow the
 * cluster lock (cluster/cluster_lock.h; see alua.c).
 *
 * Threading: as noted on alua_refresh(); the rest on any thread (the
 * command thread calls them), without blocking.
 */
#ifndef LUNAR_ALUA_H
#define LUNAR_ALUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcmu_device;
struct lunar_cmd;

void alua_init(struct tcmu_device *dev);
void alua_destroy(struct tcmu_device *dev);

/*
 * Re-read the groups; turns lock driving on once a local group appears.
 * device_add() and the command thread (INQUIRY, RTPG, STPG) only.
 */
void alua_refresh(struct tcmu_device *dev);

/*
 * TCMU_STS_OK if cmd may reach the backend now, TCMU_STS_ASYNC_HANDLED
 * if it waits for an STPG's promise (cluster_lock_park), else the status
 * to return (BUSY while the device recovers, NOT READY while it is not
 * the owner).
 */
int alua_check_access(struct tcmu_device *dev, struct lunar_cmd *cmd);

/* TPGS field (bits 5:4 of standard INQUIRY byte 5), already shifted. */
uint8_t alua_inquiry_tpgs(struct tcmu_device *dev);

/* Whether REPORT/SET TARGET PORT GROUPS are supported on dev. */
bool alua_supported(struct tcmu_device *dev);

/* VPD 0x83 relative port and port group designators into p; bytes. */
size_t alua_vpd_designators(struct tcmu_device *dev, uint8_t *p);

int alua_report_target_port_groups(struct lunar_cmd *cmd);
int alua_set_target_port_groups(struct lunar_cmd *cmd);

#endif
