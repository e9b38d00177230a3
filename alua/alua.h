/*
 * ALUA seam of the SCSI core.
 *
 * The SCSI core asks this module three things: whether a command may access
 * the medium through this gateway now (alua_check_access), what TPGS bits
 * the standard INQUIRY reports, and how to answer REPORT / SET TARGET PORT
 * GROUPS.  Target port groups come from the device's configfs alua/
 * directory (through its transport).  A device without a configured group
 * reports no ALUA support: every path is active, TPGS = 0, and RTPG/STPG
 * are unsupported commands.
 *
 * Threading: any thread.
 */
#ifndef LUNAR_ALUA_H
#define LUNAR_ALUA_H

#include <stdbool.h>
#include <stdint.h>

struct tcmu_device;
struct lunar_cmd;

/* TCMU_STS_OK if cmd may touch the medium now, else the status to return. */
int alua_check_access(struct tcmu_device *dev, struct lunar_cmd *cmd);

/* TPGS field (bits 5:4 of standard INQUIRY byte 5), already shifted. */
uint8_t alua_inquiry_tpgs(struct tcmu_device *dev);

/* Whether REPORT/SET TARGET PORT GROUPS are supported on dev. */
bool alua_supported(struct tcmu_device *dev);

int alua_report_target_port_groups(struct lunar_cmd *cmd);
int alua_set_target_port_groups(struct lunar_cmd *cmd);

#endif
