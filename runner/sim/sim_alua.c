/*
 * Simulated ALUA configuration.  See sim_alua.h.
 */
#define _GNU_SOURCE
#include "sim_alua.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/attr.h"

static const struct {
	const char *spec;
	const char *configfs;
} types[] = {
	{ "none", "None" },
	{ "implicit", "Implicit" },
	{ "explicit", "Explicit" },
	{ "both", "Implicit and Explicit" },
};

static int parse_type(const char *s, size_t len, struct sim_alua *a)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].spec) == len && !strncmp(s, types[i].spec, len)) {
			a->type = types[i].configfs;
			return 0;
		}
	return -EINVAL;
}

/* "<name>:<id>[:p][:local]" */
static int parse_group(char *s, struct sim_alua_group *g)
{
	char *save, *name = strtok_r(s, ":", &save);
	char *id = strtok_r(NULL, ":", &save);
	char *flag;
	uint64_t v;

	if (!name || !id || strlen(name) >= sizeof(g->name) ||
	    parse_u64(id, &v) || !v || v > 0xffff)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	strcpy(g->name, name);
	g->id = (uint16_t)v;
	while ((flag = strtok_r(NULL, ":", &save))) {
		if (!strcmp(flag, "p"))
			g->preferred = true;
		else if (!strcmp(flag, "local"))
			g->local = true;
		else
			return -EINVAL;
	}
	return 0;
}

int sim_alua_parse(const char *spec, struct sim_alua *a)
{
	char copy[SIM_ALUA_SPEC_MAX], *save, *tok;
	const char *semi;
	int ret;

	memset(a, 0, sizeof(*a));
	if (!spec || !*spec)
		return 0;
	semi = strchr(spec, ';');
	if (!semi || strlen(semi + 1) >= sizeof(copy))
		return -EINVAL;
	ret = parse_type(spec, (size_t)(semi - spec), a);
	if (ret)
		return ret;
	strcpy(copy, semi + 1);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->ngroups == SIM_ALUA_MAX_GROUPS)
			return -EINVAL;
		ret = parse_group(tok, &a->groups[a->ngroups++]);
		if (ret)
			return ret;
	}
	return a->ngroups ? 0 : -EINVAL;
}

ssize_t sim_alua_list(const struct sim_alua *a, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "default_tg_pt_gp\n");

	for (unsigned int i = 0; i < a->ngroups && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s\n",
					a->groups[i].name);
	return len < size ? (ssize_t)len : -E2BIG;
}

/* Index of the group named by len bytes of name, or -1. */
static int find_group(const struct sim_alua *a, const char *name, size_t len)
{
	for (unsigned int i = 0; i < a->ngroups; i++)
		if (strlen(a->groups[i].name) == len &&
		    !strncmp(a->groups[i].name, name, len))
			return (int)i;
	return -1;
}

/* "alua/<group>/<attr>": the group's index, and *attr pointing at <attr>. */
static int group_attr(const struct sim_alua *a, const char *name,
		      const char **attr)
{
	const char *slash;

	if (strncmp(name, "alua/", 5))
		return -1;
	name += 5;
	slash = strchr(name, '/');
	if (!slash)
		return -1;
	*attr = slash + 1;
	return find_group(a, name, (size_t)(slash - name));
}

static ssize_t read_group_attr(const struct sim_alua *a,
			       const struct sim_alua_group *g, const char *attr,
			       char *buf, size_t size)
{
	if (!strcmp(attr, "tg_pt_gp_id"))
		return snprintf(buf, size, "%u\n", g->id);
	if (!strcmp(attr, "alua_access_type"))
		return snprintf(buf, size, "%s\n", a->type);
	if (!strcmp(attr, "alua_access_state"))
		return snprintf(buf, size, "%d\n", g->state);
	if (!strcmp(attr, "alua_access_status"))
		return snprintf(buf, size, "%d\n", g->status);
	if (!strcmp(attr, "preferred"))
		return snprintf(buf, size, "%d\n", g->preferred);
	if (!strcmp(attr, "implicit_trans_secs"))
		return snprintf(buf, size, "%d\n", 10);
	if (!strcmp(attr, "members"))
		return snprintf(buf, size, "sim/%s/tpgt_%u/lun_0\n", g->name,
				g->id);
	if (!strncmp(attr, "alua_support_", 13))
		return snprintf(buf, size, "1\n");
	return -ENOENT;
}

/* "target/sim/<group>/tpgt_<id>/<rest>" */
static ssize_t read_port_attr(const struct sim_alua *a, const char *name,
			      char *buf, size_t size)
{
	const char *p = name + strlen("target/sim/"), *slash = strchr(p, '/');
	const struct sim_alua_group *g;
	int i;

	if (!slash || (i = find_group(a, p, (size_t)(slash - p))) < 0)
		return -ENOENT;
	g = &a->groups[i];
	p = strchr(slash + 1, '/');
	if (!p)
		return -ENOENT;
	if (!strcmp(p, "/enable"))
		return snprintf(buf, size, "%d\n", g->local);
	if (!strcmp(p, "/lun/lun_0/statistics/scsi_port/indx"))
		return snprintf(buf, size, "%u\n", g->id);
	return -ENOENT;
}

ssize_t sim_alua_read(const struct sim_alua *a, const char *name, char *buf,
		      size_t size)
{
	const char *attr;
	int i;

	if (!strncmp(name, "target/sim/", 11))
		return read_port_attr(a, name, buf, size);
	i = group_attr(a, name, &attr);
	return i < 0 ? -ENOENT : read_group_attr(a, &a->groups[i], attr, buf, size);
}

int sim_alua_write(struct sim_alua *a, const char *name, const char *value)
{
	struct sim_alua_group *g;
	const char *attr;
	uint64_t v;
	int i = group_attr(a, name, &attr);

	if (i < 0 || parse_u64(value, &v) || v > 0xf)
		return -EINVAL;
	g = &a->groups[i];
	if (!strcmp(attr, "alua_access_state"))
		g->state = (int)v;
	else if (!strcmp(attr, "alua_access_status"))
		g->status = (int)v;
	else
		return -EINVAL;
	return 0;
}
