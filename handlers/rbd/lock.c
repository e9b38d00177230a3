/*
 * The cluster lock callouts on the image's exclusive lock.
 *
 * lock(tag) takes the lock explicitly, so librbd never hands it back on
 * its own: a current owner is fenced first, so no write the old owner
 * still has queued can land after one acknowledged here.  librbd's break
 * does the fencing: it blocklists the owner and waits for the OSD map
 * that carries the entry before it removes the lock.  connect.c makes sure
 * it does (rbd_blocklist_on_break_lock on, rbd_blocklist_expire_seconds 0:
 * the monitor's default expiry, one hour; on Ceph 16.2 an explicit expiry
 * makes the break fail).  Blocklisting here as well would cost a second
 * monitor proposal, which Ceph delays by up to paxos_propose_interval
 * (1 s by default) after the first: measured, a takeover of 1.1-1.7 s
 * instead of ~0.1 s.  For the same reason breaks that start together
 * are started together (blocklist.c).
 *
 * The tag (the ALUA target port group id) goes into image metadata in
 * tcmu-runner 1.5.4's format, "tcmu_tag=<tag>,rbd_client=<owner>" under
 * tcmu_rbd_locker_tag, so 1.5.4 gateways and this one read each other's
 * during a rolling upgrade; the owner string tells a stale tag from the
 * current one.  TCMU_INVALID_LOCK_TAG writes no tag, as in 1.5.4.
 *
 * Threading: called by the runner's lock module, one call per device at
 * a time, never on the command thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rbd.h"
#include "tcmu-runner.h"

#define TAG_KEY "tcmu_rbd_locker_tag"
#define OWNER_MAX 256

static int lock_status(int ret)
{
	switch (ret) {
	case 0:
		return TCMU_STS_OK;
	case -ESHUTDOWN:
		return TCMU_STS_FENCED;
	case -ENOENT:
		return TCMU_STS_NO_LOCK_HOLDERS;
	case -ETIMEDOUT:
		return TCMU_STS_TIMEOUT;
	case -ENOMEM:
		return TCMU_STS_NO_RESOURCE;
	case -EBUSY:
	case -EROFS:
		return TCMU_STS_BUSY;	/* another gateway won the race */
	default:
		return TCMU_STS_HW_ERR;
	}
}

/* The exclusive lock's owner (client address) into owner; -ENOENT: none. */
static int current_owner(struct lrbd_dev *rd, char *owner, size_t size)
{
	char *owners[1] = { NULL };
	rbd_lock_mode_t mode;
	size_t n = 1;
	int ret = rbd_lock_get_owners(rd->image, &mode, owners, &n);

	if (ret)
		return ret;
	if (!n) {
		rbd_lock_get_owners_cleanup(owners, n);
		return -ENOENT;
	}
	snprintf(owner, size, "%s", owners[0]);
	rbd_lock_get_owners_cleanup(owners, n);
	return 0;
}

/* Fence the current owner, if any: blocklisted and in effect, then broken. */
static int fence_owner(struct lrbd_dev *rd)
{
	char owner[OWNER_MAX];
	int ret;

	lrbd_fence_expect();
	ret = current_owner(rd, owner, sizeof(owner));
	if (ret) {
		lrbd_fence_unexpect();
		return ret == -ENOENT ? 0 : ret;
	}
	tcmu_dev_warn(rd->dev, "%s: fencing lock owner %s (blocklisted) before taking the lock",
		      rd->name, owner);
	lrbd_fence_gather();
	ret = rbd_lock_break(rd->image, RBD_LOCK_MODE_EXCLUSIVE, owner);
	return ret == -ENOENT ? 0 : ret;	/* released meanwhile */
}

static int write_tag(struct lrbd_dev *rd, uint16_t tag)
{
	char owner[OWNER_MAX], val[OWNER_MAX + 32];
	int ret;

	if (tag == TCMU_INVALID_LOCK_TAG)
		return 0;
	ret = current_owner(rd, owner, sizeof(owner));
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "tcmu_tag=%hu,rbd_client=%s", tag, owner);
	return rbd_metadata_set(rd->image, TAG_KEY, val);
}

int lrbd_lock(struct tcmu_device *dev, uint16_t tag)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	int owner = 0;
	int ret = rbd_is_exclusive_lock_owner(rd->image, &owner);

	if (!ret && !owner) {
		ret = fence_owner(rd);
		if (!ret)
			ret = rbd_lock_acquire(rd->image, RBD_LOCK_MODE_EXCLUSIVE);
	}
	if (!ret)
		ret = write_tag(rd, tag);
	if (ret == -ESHUTDOWN)
		__atomic_store_n(&rd->fenced, true, __ATOMIC_RELEASE);
	if (ret)
		tcmu_dev_err(dev, "%s: cannot take the lock (tag %hu): %s",
			     rd->name, tag, strerror(-ret));
	else if (tag == TCMU_INVALID_LOCK_TAG)
		tcmu_dev_info(dev, "%s: lock taken (no tag)", rd->name);
	else
		tcmu_dev_info(dev, "%s: lock taken (tag %hu)", rd->name, tag);
	lrbd_service_update(rd);
	return lock_status(ret);
}

int lrbd_unlock(struct tcmu_device *dev)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	int owner = 0;
	int ret = rbd_is_exclusive_lock_owner(rd->image, &owner);

	if (!ret && owner)
		ret = rbd_lock_release(rd->image);
	if (ret)
		tcmu_dev_err(dev, "%s: cannot release the lock: %s", rd->name,
			     strerror(-ret));
	lrbd_service_update(rd);
	return lock_status(ret);
}

/*
 * The current owner's tag; TCMU_STS_NO_LOCK_HOLDERS if nobody holds the
 * lock, TCMU_INVALID_LOCK_TAG if its owner wrote no tag (yet): 1.5.4 under
 * implicit ALUA never does.
 */
int lrbd_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	char val[OWNER_MAX + 32], owner[OWNER_MAX], client[OWNER_MAX];
	size_t len = sizeof(val);
	uint16_t t;
	int ret = current_owner(rd, owner, sizeof(owner));

	if (ret)
		return lock_status(ret);
	ret = rbd_metadata_get(rd->image, TAG_KEY, val, &len);
	if (ret && ret != -ENOENT)
		return lock_status(ret);
	/* A tag written by an earlier owner says nothing about this one. */
	if (ret || sscanf(val, "tcmu_tag=%hu,rbd_client=%255s", &t, client) != 2 ||
	    strcmp(client, owner))
		t = TCMU_INVALID_LOCK_TAG;
	*tag = t;
	return TCMU_STS_OK;
}

int lrbd_get_lock_state(struct tcmu_device *dev)
{
	struct lrbd_dev *rd = tcmur_dev_get_private(dev);
	int owner = 0;
	int ret = rbd_is_exclusive_lock_owner(rd->image, &owner);

	/*
	 * Blocklisted: the lock is certainly gone, unlike a mere "not the
	 * owner", which librbd also answers for a moment while it renews its
	 * lock cookie; say so now, so this gateway stops claiming the image.
	 */
	if (ret == -ESHUTDOWN) {
		__atomic_store_n(&rd->fenced, true, __ATOMIC_RELEASE);
		tcmu_notify_lock_lost(dev);
		return TCMUR_DEV_LOCK_UNLOCKED;
	}
	if (!ret && !owner)
		return TCMUR_DEV_LOCK_UNLOCKED;
	if (ret) {
		tcmu_dev_warn(dev, "%s: cannot ask librbd whether this client owns the lock: %s",
			      rd->name, strerror(-ret));
		return TCMUR_DEV_LOCK_UNKNOWN;
	}
	return TCMUR_DEV_LOCK_WRITE_LOCKED;
}
