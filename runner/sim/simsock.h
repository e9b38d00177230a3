/*
 * The simulated control plane: a SOCK_SEQPACKET protocol on which a
 * process playing the kernel (a test, lunar-bench) offers simring devices
 * to a running lunard (--sim-socket), the way target_core_user offers
 * devices over netlink and UIO.
 *
 * ADD carries the device's configuration and three descriptors (the
 * simring memfd, the kernel->user eventfd, the user->kernel eventfd);
 * lunard answers with REPLY and a status (0 or -errno).  REMOVE names a
 * device.  Closing the connection removes every device it added.
 */
#ifndef LUNAR_SIMSOCK_H
#define LUNAR_SIMSOCK_H

#include <stdint.h>

struct simring;
struct sim_attrs;

#define SIMSOCK_MAGIC 0x4c554e53u	/* "LUNS" */
#define SIMSOCK_NAME_MAX 128
#define SIMSOCK_SERIAL_MAX 64
#define SIMSOCK_CFG_MAX 4096
#define SIMSOCK_ALUA_MAX 256

enum simsock_op {
	SIMSOCK_ADD = 1,
	SIMSOCK_REMOVE = 2,
	SIMSOCK_REPLY = 3,
};

struct simsock_msg {
	uint32_t magic;
	uint32_t op;
	int32_t status;
	uint32_t block_size;
	uint32_t max_sectors;
	uint32_t write_cache;
	uint64_t size;
	uint64_t map_len;
	char name[SIMSOCK_NAME_MAX];
	char serial[SIMSOCK_SERIAL_MAX];
	char cfgstring[SIMSOCK_CFG_MAX];
	char alua[SIMSOCK_ALUA_MAX];	/* sim_alua.h spec, "" for none */
};

/* Client side.  All return 0 / a descriptor, or -errno. */
int simsock_connect(const char *path);
int simsock_add(int fd, struct simring *sr, const struct sim_attrs *attrs,
		const char *name, const char *cfgstring);
int simsock_remove(int fd, const char *name);

/* Receive one message and up to 3 descriptors (*nfds set).  0 or -errno. */
int simsock_recv(int fd, struct simsock_msg *msg, int fds[3], int *nfds);
int simsock_send(int fd, struct simsock_msg *msg, const int *fds,
		 int nfds);

#endif
