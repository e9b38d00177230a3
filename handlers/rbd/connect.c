/*
 * Connecting to the cluster, and the cluster properties a LUN reports.
 *
 * Each device has its own librados client, as in tcmu-runner 1.5.4: a
 * blocklisted client fences one LUN, and reopening gets a new address.
 *
 * OSD operation timeout, when check_config does not impose one: 1.5.4's
 * rule, so a gateway configured for it behaves the same.  An OSD that
 * stops answering is only marked down after osd_heartbeat_grace plus
 * osd_heartbeat_interval; a shorter timeout would fail I/O that is merely
 * waiting for that.  So osd_op_timeout=N is used if it is longer than that,
 * else the op timeout lunard derives from its failover budget
 * (lunar_dev_op_timeout_hint) if longer, else the cluster's
 * rados_osd_op_timeout if longer, else that sum + 5 s (31 s with Ceph's
 * defaults).  A budget too short for the cluster's heartbeat settings is
 * reported at open: takeovers will then exceed it.  Monitor operations and the initial
 * connection get the same bound: an unreachable cluster fails the open
 * instead of hanging it for client_mount_timeout (300 s).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lunar-handler-ext.h"
#include "rbd.h"
#include "tcmu-runner.h"

#define TIMEOUT_MARGIN_S 5

static long conf_long(rados_t c, const char *option)
{
	char buf[64];

	if (rados_conf_get(c, option, buf, sizeof(buf)))
		return 0;
	return strtol(buf, NULL, 10);
}

static unsigned int effective_timeout(struct tcmu_device *dev, rados_t c,
				      const struct lrbd_cfg *cfg)
{
	long floor = conf_long(c, "osd_heartbeat_grace") +
		     conf_long(c, "osd_heartbeat_interval");
	long cluster = conf_long(c, "rados_osd_op_timeout");
	long budget = lunar_dev_op_timeout_hint(dev);

	if (cfg->osd_op_timeout > floor)
		return cfg->osd_op_timeout;
	if (budget > floor)
		return (unsigned int)budget;
	tcmu_dev_warn(dev, "unsafe for the failover budget: its op timeout (%ld s) is not above osd_heartbeat_grace + osd_heartbeat_interval (%ld s), so a takeover can take longer; lower those or raise failover_budget in tcmu.conf\n",
		      budget, floor);
	if (cluster > floor)
		return (unsigned int)cluster;
	return (unsigned int)(floor + TIMEOUT_MARGIN_S);
}

/*
 * The op timeouts; librbd's lock break fencing the owner it breaks
 * (lock.c relies on it; an explicit blocklist expiry makes the break fail
 * on Ceph 16.2); and discards that zero what they cannot deallocate: the
 * LUN reports LBPRZ (unmapped blocks read as zeros, which Linux relies on
 * to zero with WRITE SAME + UNMAP), while librbd by default skips the
 * part of a discard that does not cover whole objects.  librbd's cache
 * off, as tcmu-runner 1.5.4's handler has it: a write a gateway
 * acknowledged from its cache is lost when another gateway takes the LUN
 * over (ESXi never flushes), and a gateway without the lock may serve
 * reads (alua.c) only because the backend has every acknowledged write.
 * A pool or image override (rbd config image set ... rbd_cache true)
 * still turns it on; the LUN's WCE then says so (lrbd_write_cache()).
 */
static int set_client_options(rados_t c, unsigned int timeout_s)
{
	char val[16];
	const char *const options[][2] = {
		{ "rados_osd_op_timeout", val },
		{ "rados_mon_op_timeout", val },
		{ "client_mount_timeout", val },
		{ "rbd_blocklist_on_break_lock", "true" },
		{ "rbd_blocklist_expire_seconds", "0" },
		{ "rbd_skip_partial_discard", "false" },
		{ "rbd_cache", "false" },
	};
	int ret = 0;

	snprintf(val, sizeof(val), "%u", timeout_s);
	for (size_t i = 0; !ret && i < sizeof(options) / sizeof(options[0]); i++)
		ret = rados_conf_set(c, options[i][0], options[i][1]);
	return ret;
}

/* Create the client and read its configuration; 0 or -errno. */
static int configure(struct tcmu_device *dev, const struct lrbd_cfg *cfg,
		     unsigned int timeout_s,
		     rados_t *out, unsigned int *used_timeout, char **reason)
{
	rados_t c;
	int ret = rados_create(&c, cfg->id);

	if (ret)
		return lrbd_fail(reason, ret, "cannot create a Ceph client for client.%s: %s",
			    cfg->id ? cfg->id : "admin", strerror(-ret));
	/* Without conf=, librados' search ($CEPH_CONF, /etc/ceph/ceph.conf). */
	ret = rados_conf_read_file(c, cfg->conf);
	if (ret && cfg->conf) {
		rados_shutdown(c);
		return lrbd_fail(reason, ret, "cannot read Ceph configuration %s: %s",
			    cfg->conf, strerror(-ret));
	}
	*used_timeout = timeout_s ? timeout_s : effective_timeout(dev, c, cfg);
	ret = set_client_options(c, *used_timeout);
	if (ret) {
		rados_shutdown(c);
		return lrbd_fail(reason, ret, "cannot set the Ceph client's timeouts, lock, discard and cache options: %s",
			    strerror(-ret));
	}
	*out = c;
	return 0;
}

int lrbd_connect(struct tcmu_device *dev, const struct lrbd_cfg *cfg,
		unsigned int timeout_s, rados_t *cluster, rados_ioctx_t *io,
		char **reason)
{
	unsigned int used = 0;
	rados_t c = NULL;
	int ret = configure(dev, cfg, timeout_s, &c, &used, reason);

	if (ret)
		return ret;
	ret = rados_connect(c);
	if (ret) {
		ret = lrbd_fail(reason, ret, "cannot connect to the Ceph cluster (%s, client.%s) within %u s: %s",
			   cfg->conf ? cfg->conf : "default configuration",
			   cfg->id ? cfg->id : "admin", used, strerror(-ret));
		goto shutdown;
	}
	ret = rados_ioctx_create(c, cfg->pool, io);
	if (ret) {
		ret = lrbd_fail(reason, ret, ret == -ENOENT ? "pool '%s' does not exist" :
			   "cannot open pool '%s': %s", cfg->pool, strerror(-ret));
		goto shutdown;
	}
	if (cfg->ns)
		rados_ioctx_set_namespace(*io, cfg->ns);
	if (dev)
		tcmu_dev_dbg(dev, "connected to Ceph, OSD operation timeout %u s", used);
	*cluster = c;
	return 0;
shutdown:
	rados_shutdown(c);
	return ret;
}

/*
 * librbd acknowledges a write before it reaches the OSDs when its cache is
 * on, in writeback or writearound mode, with room for dirty data.  The
 * settings as the image sees them (pool and image overrides included),
 * from one listing.
 */
bool lrbd_write_cache(rbd_image_t image)
{
	rbd_config_option_t opts[512];
	int n = 512, seen = 0;
	bool cache = false, writethrough = false, dirty = false;

	if (rbd_config_image_list(image, opts, &n) < 0)
		return false;
	for (int i = 0; i < n; i++) {
		const char *name = opts[i].name, *val = opts[i].value;

		if (!strcmp(name, "rbd_cache"))
			cache = !strcmp(val, "true");
		else if (!strcmp(name, "rbd_cache_policy"))
			writethrough = !strcmp(val, "writethrough");
		else if (!strcmp(name, "rbd_cache_max_dirty"))
			dirty = strtoull(val, NULL, 10) > 0;
		else
			continue;
		seen++;
	}
	rbd_config_image_list_cleanup(opts, n);
	return seen == 3 && cache && !writethrough && dirty;
}

/* A mon command's output, NUL-terminated; NULL on failure. */
static char *mon_command(rados_t c, const char *cmd)
{
	const char *cmds[] = { cmd };
	char *out = NULL, *status = NULL, *copy = NULL;
	size_t out_len = 0, status_len = 0;

	if (!rados_mon_command(c, cmds, 1, "", 0, &out, &out_len, &status,
			       &status_len))
		copy = strndup(out ? out : "", out_len);
	rados_buffer_free(out);
	rados_buffer_free(status);
	return copy;
}

/* Whether rule (a quoted name) is among the rules of a device class. */
static bool rule_uses_class(rados_t c, const char *quoted_rule, const char *cls)
{
	char cmd[128], *rules;
	bool found;

	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd crush rule ls-by-class\", \"class\": \"%s\", \"format\": \"json\"}",
		 cls);
	rules = mon_command(c, cmd);
	found = rules && strstr(rules, quoted_rule);
	free(rules);
	return found;
}

bool lrbd_pool_solid_state(rados_t c, const char *pool)
{
	static const char key[] = "\"crush_rule\":\"";
	char cmd[512], quoted[256], *out, *name, *end;
	bool ssd = false;

	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd pool get\", \"pool\": \"%s\", \"var\": \"crush_rule\", \"format\": \"json\"}",
		 pool);
	out = mon_command(c, cmd);
	name = out ? strstr(out, key) : NULL;
	end = name ? strchr(name + sizeof(key) - 1, '"') : NULL;
	if (end) {
		name += sizeof(key) - 1;
		snprintf(quoted, sizeof(quoted), "\"%.*s\"", (int)(end - name), name);
		ssd = rule_uses_class(c, quoted, "ssd") ||
		      rule_uses_class(c, quoted, "nvme");
	}
	free(out);
	return ssd;
}
