/*
 * Simulated ALUA configuration of a simring device: the target port groups
 * LIO would show under <dev>/alua/ and the target ports they name, built
 * from a one-line spec so tests and lunar-drill can describe a gateway's
 * view without a kernel:
 *
 *   "<type>;<group>,<group>..."   type: none | implicit | explicit | both
 *   group: "<name>:<id>[:p][:local]"  p = preferred, local = this
 *          gateway's enabled port is a member
 *
 * e.g. "implicit;gw1:1:local,gw2:2".  Each group has one member port,
 * "sim/<name>/tpgt_<id>/lun_0", whose relative port id is the group id.
 *
 * Threading: callers serialise (transport_sim holds its lock).
 */
#ifndef LUNAR_SIM_ALUA_H
#define LUNAR_SIM_ALUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SIM_ALUA_SPEC_MAX 256
#define SIM_ALUA_MAX_GROUPS 8

struct sim_alua_group {
	char name[32];
	uint16_t id;
	bool preferred;
	bool local;
	int state;		/* alua_access_state, written by STPG */
	int status;		/* alua_access_status */
};

struct sim_alua {
	const char *type;	/* configfs spelling of alua_access_type */
	unsigned int ngroups;
	struct sim_alua_group groups[SIM_ALUA_MAX_GROUPS];
};

/* Parse spec ("" or NULL: no groups).  0 or -EINVAL. */
int sim_alua_parse(const char *spec, struct sim_alua *a);

/* "alua" directory listing, one name per line.  Length or -errno. */
ssize_t sim_alua_list(const struct sim_alua *a, char *buf, size_t size);

/*
 * Read "alua/<group>/<attr>" or "target/sim/<group>/tpgt_<id>/..."
 * attributes.  Length, or -ENOENT if name is not one of them.
 */
ssize_t sim_alua_read(const struct sim_alua *a, const char *name, char *buf,
		      size_t size);

/* Write "alua/<group>/alua_access_state|alua_access_status".  0/-errno. */
int sim_alua_write(struct sim_alua *a, const char *name, const char *value);

#endif
