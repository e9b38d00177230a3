/*
 * The Ceph service map entry, under tcmu-runner 1.5.4's names because
 * ceph-iscsi, gwcli and the dashboard read them: service "tcmu-runner",
 * daemon "<hostname>:<pool>/<image>", metadata pool_name, image_name,
 * image_id, daemon_type=portal, daemon_prefix=<hostname>; status
 * lock_owner ("true"/"false") and the lock_lost_cnt, conn_lost_cnt,
 * cmd_timed_out_cnt counters.  The counters count what this handler
 * reported.  `ceph -s` lists the entries while a manager runs.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rbd.h"
#include "tcmu-runner.h"

#define KV_MAX 2048

/* Append "key\0value\0" to a librados key/value list. */
static void kv_add(char *buf, size_t *len, const char *key, const char *val)
{
	int n = snprintf(buf + *len, KV_MAX - *len, "%s%c%s", key, '\0', val);

	if (n >= 0 && *len + (size_t)n + 1 < KV_MAX)
		*len += (size_t)n + 1;
	buf[*len] = '\0';
}

int lrbd_service_register(struct lrbd_dev *rd)
{
	char host[HOST_NAME_MAX + 1] = "", daemon[1024], id[128] = "";
	char meta[KV_MAX];
	size_t len = 0;
	int ret;

	gethostname(host, sizeof(host) - 1);
	rbd_get_id(rd->image, id, sizeof(id));
	snprintf(daemon, sizeof(daemon), "%s:%s", host, rd->name);
	kv_add(meta, &len, "pool_name", rd->cfg.pool);
	kv_add(meta, &len, "image_name", rd->cfg.image);
	kv_add(meta, &len, "image_id", id);
	kv_add(meta, &len, "daemon_type", "portal");
	kv_add(meta, &len, "daemon_prefix", host);
	ret = rados_service_register(rd->cluster, "tcmu-runner", daemon, meta);
	if (ret) {
		tcmu_dev_warn(rd->dev, "cannot register %s in the Ceph service map: %s",
			      daemon, strerror(-ret));
		return ret;
	}
	rd->registered = true;
	lrbd_service_update(rd);
	return 0;
}

void lrbd_service_update(struct lrbd_dev *rd)
{
	char status[KV_MAX], n[3][24];
	size_t len = 0;
	int owner = 0;

	if (!rd->registered)
		return;
	rbd_is_exclusive_lock_owner(rd->image, &owner);
	pthread_mutex_lock(&rd->status_lock);
	snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)rd->lock_lost_cnt);
	snprintf(n[1], sizeof(n[1]), "%llu", (unsigned long long)rd->conn_lost_cnt);
	snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)rd->cmd_timed_out_cnt);
	pthread_mutex_unlock(&rd->status_lock);
	kv_add(status, &len, "lock_owner", owner ? "true" : "false");
	kv_add(status, &len, "lock_lost_cnt", n[0]);
	kv_add(status, &len, "conn_lost_cnt", n[1]);
	kv_add(status, &len, "cmd_timed_out_cnt", n[2]);
	if (rados_service_update_status(rd->cluster, status))
		tcmu_dev_warn(rd->dev, "cannot update the service map status of %s",
			      rd->name);
}

void lrbd_count_event(struct lrbd_dev *rd, enum lrbd_event ev)
{
	pthread_mutex_lock(&rd->status_lock);
	if (ev == LRBD_EVT_LOCK_LOST)
		rd->lock_lost_cnt++;
	else if (ev == LRBD_EVT_CONN_LOST)
		rd->conn_lost_cnt++;
	else
		rd->cmd_timed_out_cnt++;
	pthread_mutex_unlock(&rd->status_lock);
}
