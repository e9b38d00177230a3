/*
 * TCM-USER generic netlink.  See netlink.h.
 *
 * Two sockets: one joined to the "config" multicast group, read on the
 * main thread, and one for replies, shared by the threads that finish
 * device operations (under reply_lock).  Messages are validated against an
 * attribute policy; anything malformed is logged and, when it carries a
 * device id, answered with -EINVAL so the kernel does not wait forever.
 */
#define _GNU_SOURCE
#include "netlink.h"

#include <errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runner/log.h"
#include "runner/ring/tcmu_uapi.h"

#define LISTEN_RCVBUF (1 << 20)

static struct nl_sock *listen_sock;
static struct nl_sock *reply_sock;
static pthread_mutex_t reply_lock = PTHREAD_MUTEX_INITIALIZER;
static int family;
static netlink_request_fn request_fn;
static void *request_arg;

static struct nla_policy policy[TCMU_ATTR_MAX + 1] = {
	[TCMU_ATTR_DEVICE] = { .type = NLA_STRING },
	[TCMU_ATTR_MINOR] = { .type = NLA_U32 },
	[TCMU_ATTR_DEV_CFG] = { .type = NLA_STRING },
	[TCMU_ATTR_DEV_SIZE] = { .type = NLA_U64 },
	[TCMU_ATTR_WRITECACHE] = { .type = NLA_U8 },
	[TCMU_ATTR_CMD_STATUS] = { .type = NLA_S32 },
	[TCMU_ATTR_DEVICE_ID] = { .type = NLA_U32 },
	[TCMU_ATTR_SUPP_KERN_CMD_REPLY] = { .type = NLA_U8 },
};

static int copy_string(const struct nlattr *a, char *out, size_t size)
{
	const char *s = nla_data(a);
	size_t len = strnlen(s, (size_t)nla_len(a));

	if (len >= size)
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int parse_reconfig(struct nlattr **attrs, struct nl_request *req,
			  const char **why)
{
	if (attrs[TCMU_ATTR_DEV_CFG]) {
		req->has_cfgstring = true;
		if (copy_string(attrs[TCMU_ATTR_DEV_CFG], req->cfgstring,
				sizeof(req->cfgstring))) {
			*why = "configuration string too long";
			return -EINVAL;
		}
	} else if (attrs[TCMU_ATTR_DEV_SIZE]) {
		req->has_size = true;
		req->size = nla_get_u64(attrs[TCMU_ATTR_DEV_SIZE]);
	} else if (attrs[TCMU_ATTR_WRITECACHE]) {
		req->has_write_cache = true;
		req->write_cache = nla_get_u8(attrs[TCMU_ATTR_WRITECACHE]);
	} else {
		*why = "reconfiguration names nothing to change";
		return -EOPNOTSUPP;
	}
	return 0;
}

int netlink_parse(struct nl_msg *msg, struct nl_request *req, const char **why)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *attrs[TCMU_ATTR_MAX + 1];
	struct genlmsghdr *gh;

	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (!genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_parse(nlh, 0, attrs, TCMU_ATTR_MAX, policy)) {
		*why = "malformed message";
		return -EINVAL;
	}
	gh = genlmsg_hdr(nlh);
	req->cmd = gh->cmd;
	if (attrs[TCMU_ATTR_DEVICE_ID])
		req->dev_id = nla_get_u32(attrs[TCMU_ATTR_DEVICE_ID]);
	if (!attrs[TCMU_ATTR_MINOR] || !attrs[TCMU_ATTR_DEVICE] ||
	    !attrs[TCMU_ATTR_DEVICE_ID]) {
		*why = "device, minor or device id missing";
		return -EINVAL;
	}
	req->minor = nla_get_u32(attrs[TCMU_ATTR_MINOR]);
	if (copy_string(attrs[TCMU_ATTR_DEVICE], req->device, sizeof(req->device))) {
		*why = "device name too long";
		return -EINVAL;
	}
	switch (req->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
	case TCMU_CMD_REMOVED_DEVICE:
		return 0;
	case TCMU_CMD_RECONFIG_DEVICE:
		return parse_reconfig(attrs, req, why);
	}
	*why = "unknown command";
	return -EOPNOTSUPP;
}

static int on_message(struct nl_msg *msg, void *arg)
{
	struct nl_request *req = arg;
	const char *why;
	int ret = netlink_parse(msg, req, &why);

	if (!ret) {
		request_fn(req, request_arg);
		return NL_OK;
	}
	lunar_err(NULL, "netlink request %u for minor %u rejected: %s",
		  req->cmd, req->minor, why);
	/* Replies exist only for the three device commands. */
	if (req->dev_id && req->cmd >= TCMU_CMD_ADDED_DEVICE &&
	    req->cmd <= TCMU_CMD_RECONFIG_DEVICE)
		netlink_reply(req, ret);
	return NL_OK;
}

/* Ask the kernel to wait for *_DONE replies (kernels without it: degrade). */
static int set_features(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	int ret;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_ACK,
			 TCMU_CMD_SET_FEATURES, TCMU_GENL_VERSION) ||
	    nla_put_u8(msg, TCMU_ATTR_SUPP_KERN_CMD_REPLY, 1)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = nl_send_sync(reply_sock, msg);	/* frees msg */
	if (ret == -NLE_OPNOTSUPP) {
		lunar_warn(NULL, "kernel does not wait for netlink replies (old target_core_user); device add/remove errors will not reach it");
		return 0;
	}
	return ret ? -EPROTO : 0;
}

static int connect_sockets(void)
{
	int grp;

	listen_sock = nl_socket_alloc();
	reply_sock = nl_socket_alloc();
	if (!listen_sock || !reply_sock)
		return -ENOMEM;
	if (genl_connect(listen_sock) || genl_connect(reply_sock))
		return -ECONNREFUSED;
	family = genl_ctrl_resolve(reply_sock, TCMU_GENL_FAMILY);
	if (family < 0) {
		lunar_err(NULL, "netlink family %s not found: is target_core_user loaded?",
			  TCMU_GENL_FAMILY);
		return -ENOENT;
	}
	grp = genl_ctrl_resolve_grp(reply_sock, TCMU_GENL_FAMILY, TCMU_GENL_MCGRP);
	if (grp < 0 || nl_socket_add_membership(listen_sock, grp)) {
		lunar_err(NULL, "cannot join the %s netlink group", TCMU_GENL_MCGRP);
		return -ENOENT;
	}
	return 0;
}

int netlink_open(netlink_request_fn fn, void *arg)
{
	static struct nl_request scratch;	/* one parse at a time: main thread */
	int ret;

	request_fn = fn;
	request_arg = arg;
	ret = connect_sockets();
	if (!ret)
		ret = set_features();
	if (ret) {
		netlink_close();
		return ret;
	}
	nl_socket_disable_seq_check(listen_sock);
	nl_socket_modify_cb(listen_sock, NL_CB_VALID, NL_CB_CUSTOM, on_message,
			    &scratch);
	nl_socket_set_nonblocking(listen_sock);
	/*
	 * A lost request leaves the kernel waiting for its reply: room for a
	 * burst (targetcli restoring hundreds of LUNs) while workers are busy.
	 */
	if (nl_socket_set_buffer_size(listen_sock, LISTEN_RCVBUF, 0))
		lunar_warn(NULL, "cannot enlarge the netlink receive buffer; a burst of device requests may be lost");
	return 0;
}

int netlink_fd(void)
{
	return listen_sock ? nl_socket_get_fd(listen_sock) : -1;
}

void netlink_dispatch(void)
{
	int ret = nl_recvmsgs_default(listen_sock);

	if (ret < 0 && ret != -NLE_AGAIN)
		lunar_warn(NULL, "netlink receive failed: %s", nl_geterror(ret));
}

void netlink_close(void)
{
	if (listen_sock)
		nl_socket_free(listen_sock);
	if (reply_sock)
		nl_socket_free(reply_sock);
	listen_sock = reply_sock = NULL;
}

int netlink_reply(const struct nl_request *req, int status)
{
	struct nl_msg *msg;
	int ret;

	if (!reply_sock)
		return -ENOTCONN;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 (uint8_t)(req->cmd + TCMU_CMD_ADDED_DEVICE_DONE -
				   TCMU_CMD_ADDED_DEVICE), TCMU_GENL_VERSION) ||
	    nla_put_s32(msg, TCMU_ATTR_CMD_STATUS, status) ||
	    nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, req->dev_id)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	pthread_mutex_lock(&reply_lock);
	ret = nl_send_auto(reply_sock, msg);
	pthread_mutex_unlock(&reply_lock);
	nlmsg_free(msg);
	if (ret < 0) {
		lunar_err(NULL, "cannot send netlink reply for device id %u: %s",
			  req->dev_id, nl_geterror(ret));
		return -EIO;
	}
	return 0;
}
