/*
 * handler_rbd internals: the parsed cfgstring, the per-device state, and
 * the pieces in the other files of this directory.
 *
 * Threading: open/close/check_config/reconfig run on the runner's control
 * threads; data callouts on the device's command thread; librbd runs
 * completions and the image watch on its own threads, which complete
 * commands (tcmur_cmd_complete is thread-safe) and update the size.
 */
#ifndef LUNAR_RBD_H
#define LUNAR_RBD_H

#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

struct tcmu_device;
struct tcmur_cmd;
struct iovec;

/* "rbd/<pool>[/<namespace>]/<image>[@<snap>][;osd_op_timeout=N][;conf=PATH][;id=USER]" */
struct lrbd_cfg {
	char *pool;
	char *ns;		/* NULL: the pool's default namespace */
	char *image;
	char *snap;		/* NULL: the image head (read-write) */
	char *conf;		/* NULL: librados' default search */
	char *id;		/* NULL: client.admin */
	unsigned int osd_op_timeout;	/* seconds; 0: not given */
};

/* Set *reason (if reason) from fmt; returns err. */
int lrbd_fail(char **reason, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* cfgstring.c.  0, or -EINVAL with *reason malloc()ed (if reason). */
int lrbd_cfg_parse(const char *cfgstring, struct lrbd_cfg *cfg, char **reason);
void lrbd_cfg_free(struct lrbd_cfg *cfg);
/* "pool[/ns]/image[@snap]", for messages and the service map. */
void lrbd_cfg_format(const struct lrbd_cfg *cfg, char *buf, size_t size);

/*
 * connect.c: a connected cluster handle and an I/O context on the pool
 * (and namespace).  dev is only for log messages (NULL from check_config).
 * timeout_s bounds monitor and OSD operations (0: the effective
 * rados_osd_op_timeout rule of tcmu-runner 1.5.4, see connect.c).
 * 0 or -errno with *reason malloc()ed.
 */
int lrbd_connect(struct tcmu_device *dev, const struct lrbd_cfg *cfg,
		unsigned int timeout_s, rados_t *cluster, rados_ioctx_t *io,
		char **reason);
/* Whether librbd acknowledges writes before they are on the OSDs. */
bool lrbd_write_cache(rbd_image_t image);
/* Whether the pool's CRUSH rule takes only ssd or nvme devices. */
bool lrbd_pool_solid_state(rados_t cluster, const char *pool);

struct lrbd_dev {
	struct tcmu_device *dev;
	struct lrbd_cfg cfg;
	char name[512];		/* lrbd_cfg_format() */
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;

	/* watch.c */
	uint64_t watch_handle;
	bool watching;
	bool closing;		/* atomic: set by lrbd_watch_stop() */
	bool fenced;		/* atomic: the OSDs refused us (-ESHUTDOWN) */

	/* service.c: what the service map's status says (own reports). */
	pthread_mutex_t status_lock;
	bool registered;
	uint64_t lock_lost_cnt, conn_lost_cnt, cmd_timed_out_cnt;
};

/*
 * blocklist.c: lock breaks (each blocklists its owner) that start around
 * the same time go to the monitor together, so it commits their entries
 * in one proposal.  lock() calls lrbd_fence_expect() before it reads the
 * owner, then lrbd_fence_gather() right before breaking (returns when its
 * batch leaves) or lrbd_fence_unexpect() when there is nothing to break.
 * Any thread but a librados callback.  Remember a fenced client's address
 * when it is closed; remove remembered entries from the blocklist once a
 * new client is up.
 */
void lrbd_fence_expect(void);
void lrbd_fence_unexpect(void);
void lrbd_fence_gather(void);
void lrbd_blocklist_remember(struct lrbd_dev *rd);
void lrbd_blocklist_cleanup(struct lrbd_dev *rd);

/* A snapshot is served read-only. */
static inline bool lrbd_read_only(const struct lrbd_dev *rd)
{
	return rd->cfg.snap != NULL;
}

/* io.c: the data callouts. */
int lrbd_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	     struct iovec *iov, size_t iov_cnt, size_t len, off_t off);
int lrbd_write(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	      struct iovec *iov, size_t iov_cnt, size_t len, off_t off);
int lrbd_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd);
int lrbd_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	      uint64_t off, uint64_t len);
int lrbd_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		  uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt);
int lrbd_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd,
	    uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt);

/* lock.c: the cluster lock callouts (tcmur_handler lock/unlock/...). */
int lrbd_lock(struct tcmu_device *dev, uint16_t tag);
int lrbd_unlock(struct tcmu_device *dev);
int lrbd_get_lock_tag(struct tcmu_device *dev, uint16_t *tag);
int lrbd_get_lock_state(struct tcmu_device *dev);

/* watch.c: follow the image size (resize on the Ceph side). */
int lrbd_watch_start(struct lrbd_dev *rd);
void lrbd_watch_stop(struct lrbd_dev *rd);

/* service.c: the Ceph service map entry (tcmu-runner's names). */
int lrbd_service_register(struct lrbd_dev *rd);
void lrbd_service_update(struct lrbd_dev *rd);
/* Count a reported event; called where the handler notifies the runner. */
enum lrbd_event { LRBD_EVT_LOCK_LOST, LRBD_EVT_CONN_LOST, LRBD_EVT_TIMED_OUT };
void lrbd_count_event(struct lrbd_dev *rd, enum lrbd_event ev);

#endif
