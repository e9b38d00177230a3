/* The Ceph tier's fixture (cephtest.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cephtest.h"
#include "tests/shared/scsi_check.h"

char ceph_dir[] = "/tmp/lunar-ceph-tier.XXXXXX";
char ceph_conf[256];
rados_t ceph_cluster;
rados_ioctx_t ceph_io;

int cephtest_run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cephtest_blocklist_clear(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "ceph -c %s osd blocklist clear >/dev/null 2>&1", ceph_conf);
	return cephtest_run(cmd);
}

int cephtest_start(const char *handler_dir)
{
	char cmd[512];
	int rc;

	if (!mkdtemp(ceph_dir) ||
	    (handler_dir && siminit_load_handlers(handler_dir)))
		return -1;
	/* Heartbeats short enough that a 5 s osd_op_timeout is honoured. */
	snprintf(cmd, sizeof(cmd),
		 "WITH_MGR=1 EXTRA_CONF='osd heartbeat grace = 3\nosd heartbeat interval = 1' "
		 "%s start %s/c >%s/start.log 2>&1", LUNAR_CEPH_CLUSTER, ceph_dir, ceph_dir);
	rc = cephtest_run(cmd);
	if (rc == 77) {
		printf("SKIP: Ceph is not installed (apt-get install ceph-mon ceph-osd ceph-common)\n");
		exit(77);
	}
	snprintf(ceph_conf, sizeof(ceph_conf), "%s/c/ceph.conf", ceph_dir);
	if (rc || rados_create(&ceph_cluster, NULL) ||
	    rados_conf_read_file(ceph_cluster, ceph_conf) ||
	    rados_connect(ceph_cluster) ||
	    rados_ioctx_create(ceph_cluster, "rbd", &ceph_io))
		return -1;
	return 0;
}

int cephtest_start_lunar_handlers(void **state)
{
	(void)state;
	return cephtest_start(LUNAR_HANDLER_DIR);
}

int cephtest_stop(void **state)
{
	char cmd[512];

	(void)state;
	rados_ioctx_destroy(ceph_io);
	rados_shutdown(ceph_cluster);
	snprintf(cmd, sizeof(cmd), "%s purge %s/c; rm -rf %s", LUNAR_CEPH_CLUSTER,
		 ceph_dir, ceph_dir);
	return cephtest_run(cmd) ? -1 : 0;
}

void make_image(rados_ioctx_t ctx, const char *name, uint64_t size)
{
	int order = OBJ_ORDER;

	assert_int_equal(rbd_create2(ctx, name, size, RBD_FEATURE_LAYERING |
				     RBD_FEATURE_EXCLUSIVE_LOCK, &order), 0);
}

void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

void librbd_read(const char *name, uint64_t off, void *buf, size_t len)
{
	rbd_image_t img;

	assert_int_equal(rbd_open(ceph_io, name, &img, NULL), 0);
	assert_int_equal(rbd_read(img, off, len, buf), (ssize_t)len);
	rbd_close(img);
}

void librbd_write(const char *name, uint64_t off, const void *buf, size_t len)
{
	rbd_image_t img;

	assert_int_equal(rbd_open(ceph_io, name, &img, NULL), 0);
	assert_int_equal(rbd_write(img, off, len, buf), (ssize_t)len);
	rbd_close(img);
}

struct siminit *open_rbd_lun_as(const char *devname, const char *spec,
				const char *opts, uint64_t size)
{
	static char cfg[512];

	snprintf(cfg, sizeof(cfg), "rbd/%s;conf=%s%s", spec, ceph_conf, opts ? opts : "");
	return open_lun(cfg, devname, size, BS);
}

struct siminit *open_rbd_lun(const char *spec, const char *opts, uint64_t size)
{
	return open_rbd_lun_as(NULL, spec, opts, size);
}
