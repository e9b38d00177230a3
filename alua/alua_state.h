/*
 * Per-device ALUA data kept in struct tcmu_device: the target port groups
 * as last read from configfs (the device's alua/ directory) and the access type they
 * declare.  alua/groups.c reads them; alua/alua.c answers from them.
 */
#ifndef LUNAR_ALUA_STATE_H
#define LUNAR_ALUA_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ALUA_MAX_GROUPS 16
#define ALUA_MAX_PORTS 16

/* SPC-4 asymmetric access states. */
enum alua_access_state {
	ALUA_AO = 0x0,
	ALUA_ANO = 0x1,
	ALUA_STANDBY = 0x2,
	ALUA_UNAVAILABLE = 0x3,
	ALUA_OFFLINE = 0xe,
	ALUA_TRANSITIONING = 0xf,
};

/* alua_access_type; TPGS bits are (type & 3) << 4. */
enum alua_type {
	ALUA_TYPE_NONE = 0,
	ALUA_TYPE_IMPLICIT = 1,
	ALUA_TYPE_EXPLICIT = 2,
	ALUA_TYPE_BOTH = 3,
};

struct alua_group {
	char name[64];
	uint16_t id;
	uint8_t state;			/* configfs alua_access_state */
	bool preferred;
	bool local;			/* holds this gateway's enabled port */
	unsigned int nports;
	uint16_t ports[ALUA_MAX_PORTS];	/* relative target port ids */
};

struct alua_config {
	int type;			/* enum alua_type */
	unsigned int ngroups;
	struct alua_group groups[ALUA_MAX_GROUPS];
	int local;			/* index of the local group, or -1 */
};

struct dev_alua {
	pthread_mutex_t mu;		/* guards cfg */
	struct alua_config cfg;
	bool active;			/* a local group exists; atomic */
	int type;			/* cfg.type; atomic */
};

#endif
