/*
 * simsock message transport and client helpers.  See simsock.h.
 */
#define _GNU_SOURCE
#include "simsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "simring.h"
#include "transport_sim.h"

int simsock_send(int fd, struct simsock_msg *msg, const int *fds,
		 int nfds)
{
	char ctrl[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;

		mh.msg_control = ctrl;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*msg))
		return errno ? -errno : -EIO;
	return 0;
}

int simsock_recv(int fd, struct simsock_msg *msg, int fds[3], int *nfds)
{
	char ctrl[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	*nfds = 0;
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		*nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (*nfds > 3) {
			int extra[16];

			memcpy(extra, CMSG_DATA(c), (size_t)*nfds * sizeof(int));
			for (int i = 0; i < *nfds; i++)
				close(extra[i]);
			*nfds = 0;
			return -EPROTO;
		}
		memcpy(fds, CMSG_DATA(c), (size_t)*nfds * sizeof(int));
	}
	if (n != (ssize_t)sizeof(*msg) || (mh.msg_flags & MSG_TRUNC) ||
	    msg->magic != SIMSOCK_MAGIC)
		return -EPROTO;
	return 0;
}

int simsock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int request(int fd, struct simsock_msg *msg, const int *fds,
		   int nfds)
{
	struct simsock_msg reply;
	int rfds[3], n, ret;

	ret = simsock_send(fd, msg, fds, nfds);
	if (ret)
		return ret;
	ret = simsock_recv(fd, &reply, rfds, &n);
	while (n > 0)
		close(rfds[--n]);
	if (ret)
		return ret;
	return reply.op == SIMSOCK_REPLY ? reply.status : -EPROTO;
}

int simsock_add(int fd, struct simring *sr, const struct sim_attrs *attrs,
		const char *name, const char *cfgstring)
{
	struct simsock_msg msg;
	int fds[3] = { simring_memfd(sr), simring_user_fd(sr),
		       simring_kernel_fd(sr) };

	memset(&msg, 0, sizeof(msg));
	msg.magic = SIMSOCK_MAGIC;
	msg.op = SIMSOCK_ADD;
	msg.size = attrs->size;
	msg.block_size = attrs->block_size;
	msg.max_sectors = attrs->max_sectors;
	msg.write_cache = attrs->write_cache;
	msg.map_len = simring_map_len(sr);
	if (snprintf(msg.name, sizeof(msg.name), "%s", name) >= (int)sizeof(msg.name) ||
	    snprintf(msg.cfgstring, sizeof(msg.cfgstring), "%s", cfgstring) >=
		    (int)sizeof(msg.cfgstring) ||
	    snprintf(msg.serial, sizeof(msg.serial), "%s",
		     attrs->serial ? attrs->serial : "") >= (int)sizeof(msg.serial) ||
	    snprintf(msg.alua, sizeof(msg.alua), "%s",
		     attrs->alua ? attrs->alua : "") >= (int)sizeof(msg.alua))
		return -ENAMETOOLONG;
	return request(fd, &msg, fds, 3);
}

int simsock_remove(int fd, const char *name)
{
	struct simsock_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.magic = SIMSOCK_MAGIC;
	msg.op = SIMSOCK_REMOVE;
	if (snprintf(msg.name, sizeof(msg.name), "%s", name) >= (int)sizeof(msg.name))
		return -ENAMETOOLONG;
	return request(fd, &msg, NULL, 0);
}
