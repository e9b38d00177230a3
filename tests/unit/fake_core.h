/*
 * A fake of the core for unit tests of the HA layer (lunar_ha) through
 * the seam: every function of runner/core.h, the SCSI helpers the HA
 * layer calls (runner/scsi/scsi.h, sense.h), the logging it uses and
 * tcmu_notify_conn_lost().  A test binary links lunar_ha with this and
 * not with lunar_core, so what the HA layer may use of the core is
 * exactly what it is tested against.
 *
 * struct tcmu_device and struct lunar_cmd are opaque to lunar_ha; here
 * they are the test's to script and inspect:
 *  - a device carries a handler (struct tcmur_handler) whose lock, unlock,
 *    get_lock_tag, get_lock_state, open and close callouts answer from a
 *    small backend model (who holds the lock, what get_lock_state says,
 *    which status lock()/unlock() return, how many opens fail next), an
 *    in-memory configfs below the device's directory, counts of the
 *    calls the HA layer made (enum fake_call) and what it set (unit
 *    attentions, recovering, lock state, command timeout);
 *  - a command carries a CDB, a data-out buffer, the data-in and sense
 *    the HA layer answered with and the status it completed it with.
 *
 * Fields the HA agent thread may touch while the test reads or sets them
 * are atomic, so plain reads and assignments in a test are safe.
 */
#ifndef LUNAR_TEST_FAKE_CORE_H
#define LUNAR_TEST_FAKE_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/core.h"

#define FAKE_ATTRS_MAX 64
#define FAKE_WAIT_MS 5000

/* Calls the tests count: indexes of struct tcmu_device's calls[]. */
enum fake_call {
	FAKE_LOCK,
	FAKE_UNLOCK,
	FAKE_GET_LOCK_TAG,
	FAKE_OPEN,
	FAKE_CLOSE,
	FAKE_REOPEN,		/* device_reopen() */
	FAKE_DROP_POLLER,
	FAKE_WAKE,
	FAKE_WAIT_INFLIGHT,
	FAKE_CONN_LOST,		/* tcmu_notify_conn_lost() */
	FAKE_NCALLS,
};

/*
 * The backend behind the handler's lock callouts: one image, its lock and
 * the tag stored with it, as every gateway would see them.  lock() and
 * unlock() that succeed move the lock; closing the handler drops a lock
 * its client held (the client is gone).
 */
struct fake_backend {
	_Atomic int owner;		/* tag on the image, or -1: no holder */
	_Atomic int state;		/* get_lock_state()'s TCMUR_DEV_LOCK_* */
	_Atomic int lock_sts;		/* what lock() returns */
	_Atomic int unlock_sts;
	_Atomic int tag_sts;		/* get_lock_tag() failure, or OK */
	_Atomic int open_failures;	/* open() fails this many times more */
	_Atomic bool lock_hold;		/* lock() waits while set */
};

struct fake_attr {
	char name[192];
	char value[512];
};

struct tcmu_device {
	char label[64];
	struct tcmur_handler handler;
	struct fake_backend backend;
	struct ha_dev *ha;

	struct fake_attr attrs[FAKE_ATTRS_MAX];
	unsigned int nattrs;

	_Atomic bool opened;			/* the handler */
	_Atomic bool write_cache;		/* device_write_cache() */
	_Atomic unsigned int calls[FAKE_NCALLS];
	_Atomic uint16_t last_lock_tag;		/* lock()'s argument */
	_Atomic bool last_open_reopen;		/* open()'s argument */
	_Atomic uint8_t lock_state_at_open;	/* lock_state when opened */
	_Atomic unsigned int wait_inflight_max;	/* device_wait_inflight() */

	_Atomic uint32_t ua;			/* raised UA_* bits */
	_Atomic bool recovering;
	_Atomic uint8_t lock_state;		/* device_set_lock_state() */
	_Atomic unsigned int cmd_timeout_s;	/* device_default_cmd_timeout() */
	_Atomic unsigned int inflight;		/* the test sets it */
};

struct lunar_cmd {
	struct tcmu_device *dev;
	uint8_t cdb[16];
	uint8_t data_out[64];
	size_t data_out_len;
	uint8_t data_in[512];
	size_t data_in_len;		/* scsi_reply() */
	uint8_t sense_key;		/* sense_*(), 0: none */
	uint16_t asc_ascq;
	int sense_field;		/* byte a field pointer names, or -1 */
	_Atomic int status;		/* cmd_finish() */
	_Atomic unsigned int finishes;
	_Atomic unsigned int readmits;	/* cmd_readmit() */
};

/*
 * A device named name with the lock-capable fake handler open, no lock
 * holder and no configfs attributes.  Free with fake_device_free().
 */
struct tcmu_device *fake_device_new(const char *name);
void fake_device_free(struct tcmu_device *dev);

/* Set configfs attribute name (below the device's directory). */
void fake_attr_set(struct tcmu_device *dev, const char *name,
		   const char *value);
/* Its value, or NULL. */
const char *fake_attr_get(struct tcmu_device *dev, const char *name);

/* A command for dev with cdb (len bytes, maybe none) and no data-out. */
void fake_cmd_init(struct lunar_cmd *cmd, struct tcmu_device *dev,
		   const uint8_t *cdb, size_t len);

/* Sleep ms milliseconds (CLOCK_MONOTONIC, the HA layer's clock). */
void fake_sleep_ms(unsigned int ms);

/*
 * Poll expr until it holds, at most FAKE_WAIT_MS, then check it (cmocka
 * must be included first): for what the HA agent thread does.
 */
#define WAIT_UNTIL(expr)						\
	do {								\
		int64_t until_ = monotonic_ms() + FAKE_WAIT_MS;		\
		while (!(expr) && monotonic_ms() < until_)		\
			fake_sleep_ms(1);				\
		assert_true(expr);					\
	} while (0)

#endif
