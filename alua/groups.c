/*
 * Target port groups from configfs.  See groups.h.
 */
#include "groups.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/core.h"

#define LIST_MAX 4096

static int read_u64(struct tcmu_device *dev, const char *group,
		    const char *attr, uint64_t *v)
{
	char name[256];

	snprintf(name, sizeof(name), "alua/%s/%s", group, attr);
	return device_read_attr_u64(dev, name, v);
}

static int parse_type(const char *s)
{
	if (!strncmp(s, "Implicit and Explicit", 21))
		return ALUA_TYPE_BOTH;
	if (!strncmp(s, "Implicit", 8))
		return ALUA_TYPE_IMPLICIT;
	if (!strncmp(s, "Explicit", 8))
		return ALUA_TYPE_EXPLICIT;
	return ALUA_TYPE_NONE;
}

static int read_type(struct tcmu_device *dev, const char *group)
{
	char name[256], buf[64];

	snprintf(name, sizeof(name), "alua/%s/alua_access_type", group);
	if (device_read_attr(dev, name, buf, sizeof(buf)) < 0)
		return -EIO;
	return parse_type(buf);
}

/*
 * One member line, "<fabric>/<wwn>/tpgt_<n>/lun_<m>": its relative port id
 * and whether its target port group is enabled here.  LIO names the
 * fabric by its driver name ("iSCSI"); configfs by the module ("iscsi").
 */
static int read_member(struct tcmu_device *dev, const char *line,
		       struct alua_group *g)
{
	char fabric[32], wwn[224], tpgt[32], lun[32], name[512];
	uint64_t v;
	int ret;

	if (sscanf(line, "%31[^/]/%223[^/]/%31[^/]/%31s", fabric, wwn, tpgt,
		   lun) != 4)
		return -EINVAL;
	for (char *c = fabric; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(name, sizeof(name), "target/%s/%s/%s/lun/%s/statistics/scsi_port/indx",
		 fabric, wwn, tpgt, lun);
	if (device_read_attr_u64(dev, name, &v) || v > 0xffff)
		return -EIO;
	if (g->nports < ALUA_MAX_PORTS)
		g->ports[g->nports++] = (uint16_t)v;
	snprintf(name, sizeof(name), "target/%s/%s/%s/enable", fabric, wwn, tpgt);
	/*
	 * tcm_loop target port groups have no enable switch (unreadable):
	 * always on.  One that reads as something else than a number is off.
	 */
	ret = device_read_attr_u64(dev, name, &v);
	if (ret ? ret != -EINVAL && ret != -ERANGE : v == 1)
		g->local = true;
	return 0;
}

static int read_members(struct tcmu_device *dev, struct alua_group *g)
{
	char name[256], buf[LIST_MAX], *save, *line;
	ssize_t n;
	int ret;

	snprintf(name, sizeof(name), "alua/%s/members", g->name);
	n = device_read_attr(dev, name, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ret = read_member(dev, line, g);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_group(struct tcmu_device *dev, const char *name,
		      struct alua_group *g)
{
	uint64_t id, state, pref;
	int ret;

	memset(g, 0, sizeof(*g));
	if (strlen(name) >= sizeof(g->name))
		return -ENAMETOOLONG;
	strcpy(g->name, name);
	ret = read_u64(dev, name, "tg_pt_gp_id", &id);
	if (!ret)
		ret = read_u64(dev, name, "alua_access_state", &state);
	if (!ret)
		ret = read_u64(dev, name, "preferred", &pref);
	if (ret)
		return ret;
	if (id > 0xffff || state > 0xf)
		return -ERANGE;
	g->id = (uint16_t)id;
	g->state = (uint8_t)state;
	g->preferred = pref != 0;
	return read_members(dev, g);
}

int alua_groups_load(struct tcmu_device *dev, struct alua_config *cfg)
{
	char list[LIST_MAX], *save, *name;
	ssize_t n;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->local = -1;
	n = device_list_attr_dir(dev, "alua", list, sizeof(list));
	if (n < 0)
		return n == -ENOENT ? 0 : (int)n;
	for (name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		struct alua_group *g = &cfg->groups[cfg->ngroups];

		if (!strcmp(name, "default_tg_pt_gp"))
			continue;
		if (cfg->ngroups == ALUA_MAX_GROUPS)
			return -E2BIG;
		ret = read_group(dev, name, g);
		if (ret)
			return ret;
		if (!cfg->ngroups)
			cfg->type = read_type(dev, name);
		if (cfg->type < 0)
			return cfg->type;
		if (g->local && cfg->local < 0)
			cfg->local = (int)cfg->ngroups;
		cfg->ngroups++;
	}
	return 0;
}
