/*
 * The core's calls into the registered HA layer (runner/ha.h), each a
 * no-op or the no-HA answer when none is registered or the hook is NULL.
 * Core only; the contract of each is its hook's in ha.h.
 */
#ifndef LUNAR_HA_HOOKS_H
#define LUNAR_HA_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha.h"
#include "tcmu-runner.h"

int ha_attach(struct tcmu_device *dev);
void ha_detach(struct tcmu_device *dev);
void ha_release(struct tcmu_device *dev);
int ha_admit(struct tcmu_device *dev, struct lunar_cmd *cmd);
bool ha_recovering(struct tcmu_device *dev);
void ha_tick(struct tcmu_device *dev);
void ha_cmds_timed_out(struct tcmu_device *dev);
void ha_handler_event(struct tcmu_device *dev, enum tcmur_event evt);
void ha_refresh(struct tcmu_device *dev);
uint8_t ha_inquiry_tpgs(struct tcmu_device *dev);
size_t ha_vpd_port_designators(struct tcmu_device *dev, uint8_t *p);
bool ha_tpgs_supported(struct tcmu_device *dev);
/* Only when ha_tpgs_supported(dev). */
int ha_report_tpgs(struct lunar_cmd *cmd);
int ha_set_tpgs(struct lunar_cmd *cmd);
unsigned int ha_op_timeout_hint_s(void);

#endif
