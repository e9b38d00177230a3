/*
 * The Ceph tier's cmocka fixture: a private cluster (cluster.sh, with a
 * manager and heartbeats short enough for second-scale OSD timeouts) per
 * test program, a librados client on its "rbd" pool for checking what
 * lunar did, and small helpers.  Exits 77 (skip) where Ceph is missing.
 */
#ifndef LUNAR_CEPHTEST_H
#define LUNAR_CEPHTEST_H

#include <stddef.h>
#include <stdint.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#define BS 512
#define OBJ_ORDER 16			/* 64 KiB objects */
#define OBJ_BLOCKS ((1u << OBJ_ORDER) / BS)
#define IMG_SIZE (8ull << 20)

extern char ceph_dir[];		/* the cluster's private directory */
extern char ceph_conf[];	/* its ceph.conf */
extern rados_t ceph_cluster;
extern rados_ioctx_t ceph_io;	/* pool "rbd" */

/* Group setup: load handler_dir's handlers (NULL: none), start the cluster. */
int cephtest_start(const char *handler_dir);
int cephtest_start_lunar_handlers(void **state);
/* Group teardown: stop and remove the cluster. */
int cephtest_stop(void **state);

/* system(cmd)'s exit status, -1 if it did not exit. */
int cephtest_run(const char *cmd);
/* Empty the OSD blocklist (after a test fenced clients); its exit status. */
int cephtest_blocklist_clear(void);
/* A format 2 image with layering and exclusive-lock, 64 KiB objects. */
void make_image(rados_ioctx_t ctx, const char *name, uint64_t size);
struct siminit;
/* A LUN of size bytes on "rbd/<spec>;conf=<the cluster's conf><opts>". */
struct siminit *open_rbd_lun(const char *spec, const char *opts, uint64_t size);
/* The same as device devname (NULL: siminit's default). */
struct siminit *open_rbd_lun_as(const char *devname, const char *spec,
				const char *opts, uint64_t size);
void pattern(uint8_t *p, size_t len, unsigned int seed);
void librbd_read(const char *name, uint64_t off, void *buf, size_t len);
void librbd_write(const char *name, uint64_t off, const void *buf, size_t len);

#endif
