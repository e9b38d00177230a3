/*
 * The kernel transport: a TCMU device's UIO node (/dev/uioN: mmap of the
 * mailbox, command ring and data area; read() consumes an interrupt,
 * write() tells the kernel completions are ready) and its configfs
 * directory (/sys/kernel/config/target/core/user_<hba>/<dev>) for
 * attributes and actions.
 */
#ifndef LUNAR_UIO_H
#define LUNAR_UIO_H

#include <stddef.h>

struct lunar_transport;

/*
 * A TCMU UIO device's name, "tcm-user/<hba>/<dev>/<cfgstring>", split.
 * Returns 0 or -EINVAL (not a TCMU device, or a part too long).
 */
struct uio_identity {
	char hba[16];		/* "user_<hba>" */
	char dev[128];
	char cfgstring[4096];
};
int uio_parse_name(const char *name, struct uio_identity *id);

/*
 * Map /dev/<uio_name> and bind it to the device's configfs directory.
 * 0 or -errno (the caller logs).
 */
int uio_transport_open(const char *uio_name, const struct uio_identity *id,
		       struct lunar_transport **out);

/*
 * Write <value> to configfs <hba>/<dev>/<name> without a transport (for
 * "action/block_dev" once the device is closed).  0 or -errno.
 */
int uio_cfgfs_write(const char *hba, const char *dev, const char *name,
		    const char *value);

/*
 * Fail back every command in <hba>/<dev>'s ring with CHECK CONDITION
 * (action/reset_ring 2), e.g. once the daemon serving it died.  0 or
 * -errno.
 */
int uio_fail_inflight(const char *hba, const char *dev);

/* Read /sys/class/uio/<uio_name>/name into buf.  0 or -errno. */
int uio_read_name(const char *uio_name, char *buf, size_t size);

/* Root of configfs target core, overridable for tests. */
#define CONFIGFS_TARGET "/sys/kernel/config/target"
#define CONFIGFS_CORE CONFIGFS_TARGET "/core"

#endif
