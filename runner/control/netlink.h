/*
 * The TCM-USER generic netlink family: device add/remove/reconfigure
 * requests from target_core_user and the *_DONE replies it waits for.
 *
 * Threading: netlink_open/dispatch/close on the main thread (dispatch from
 * the main loop when netlink_fd() is readable); netlink_reply from any
 * thread (it has its own socket and lock).
 */
#ifndef LUNAR_NETLINK_H
#define LUNAR_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "uio.h"

struct nl_msg;

/* One request from the kernel, validated. */
struct nl_request {
	uint8_t cmd;			/* TCMU_CMD_ADDED/REMOVED/RECONFIG_DEVICE */
	uint32_t minor;			/* /dev/uio<minor> */
	uint32_t dev_id;		/* echoed in the reply */
	char device[sizeof(((struct uio_identity *)0)->cfgstring) + 160];
	/* RECONFIG_DEVICE: exactly one of these, checked in this order. */
	bool has_cfgstring;
	char cfgstring[4096];
	bool has_size;
	uint64_t size;
	bool has_write_cache;
	bool write_cache;
};

typedef void (*netlink_request_fn)(const struct nl_request *req, void *arg);

/*
 * Connect, resolve the family and its "config" group, and ask the kernel
 * to wait for our replies (SET_FEATURES).  0 or -errno; logs what failed.
 */
int netlink_open(netlink_request_fn fn, void *arg);
int netlink_fd(void);
/* Receive what is pending and hand each valid request to fn. */
void netlink_dispatch(void);
void netlink_close(void);

/* Send the *_DONE reply to a request (status 0 or -errno).  0 or -errno. */
int netlink_reply(const struct nl_request *req, int status);

/*
 * Decode and validate one message.  0, or -EINVAL / -EOPNOTSUPP with
 * *why set to a static explanation.  Exposed for tests.
 */
int netlink_parse(struct nl_msg *msg, struct nl_request *req, const char **why);

#endif
