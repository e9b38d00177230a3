/*
 * Simulated control plane server.  See sim_server.h.
 *
 * Every message is validated before use: wrong size or magic, strings
 * without a terminating NUL, zero sizes, descriptors missing, a mapping
 * whose size disagrees with the memfd, or a memfd its client could still
 * shrink (touching the lost pages would SIGBUS lunard) are answered with
 * an error and change nothing.
 */
#define _GNU_SOURCE
#include "sim_server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runner/device.h"
#include "runner/log.h"
#include "simsock.h"
#include "transport_sim.h"

struct sim_dev {
	char name[SIMSOCK_NAME_MAX];
	struct tcmu_device *dev;
	struct sim_client *owner;
	struct sim_dev *next;
};

struct sim_client {
	int fd;
	guint watch;
};

static GSList *clients;
static int listen_fd = -1;
static guint listen_watch;
static char *listen_path;
static struct sim_dev *devices;
static unsigned int next_minor;

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static struct sim_dev **find(const char *name)
{
	struct sim_dev **p;

	for (p = &devices; *p; p = &(*p)->next)
		if (!strcmp((*p)->name, name))
			break;
	return p;
}

static int map_endpoint(const struct simsock_msg *m, const int fds[3],
			struct sim_endpoint *ep)
{
	struct stat st;
	int seals = fcntl(fds[0], F_GET_SEALS);

	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (fstat(fds[0], &st) || (uint64_t)st.st_size != m->map_len ||
	    !m->map_len)
		return -EINVAL;
	ep->sr = NULL;
	ep->map_len = m->map_len;
	ep->map = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fds[0], 0);
	if (ep->map == MAP_FAILED)
		return -errno;
	ep->user_fd = fds[1];
	ep->kernel_fd = fds[2];
	return 0;
}

static int add_device(struct sim_client *c, const struct simsock_msg *m,
		      int fds[3], int nfds)
{
	struct sim_attrs attrs = {
		.size = m->size, .block_size = m->block_size,
		.max_sectors = m->max_sectors, .write_cache = m->write_cache,
		.serial = m->serial[0] ? m->serial : NULL,
		.alua = m->alua,
	};
	struct lunar_transport *t;
	struct sim_endpoint ep;
	struct sim_dev *sd;
	char uio[16];
	int ret;

	if (nfds != 3 || !terminated(m->name, sizeof(m->name)) || !m->name[0] ||
	    !terminated(m->cfgstring, sizeof(m->cfgstring)) ||
	    !terminated(m->serial, sizeof(m->serial)) ||
	    !terminated(m->alua, sizeof(m->alua)))
		return -EINVAL;
	if (*find(m->name))
		return -EEXIST;
	ret = map_endpoint(m, fds, &ep);
	if (ret)
		return ret;
	fds[1] = fds[2] = -1;	/* now owned by the endpoint */
	snprintf(uio, sizeof(uio), "sim%u", next_minor++);
	ret = transport_sim_create(&ep, &attrs, uio, &t);
	if (ret) {
		munmap(ep.map, ep.map_len);
		close(ep.user_fd);
		close(ep.kernel_fd);
		return ret;
	}
	sd = calloc(1, sizeof(*sd));
	if (!sd) {
		t->ops->destroy(t);
		return -ENOMEM;
	}
	struct device_params p = {
		.uio_name = uio, .hba_name = "user_sim", .dev_name = m->name,
		.cfgstring = m->cfgstring,
	};
	ret = device_add(&p, t, &sd->dev);
	if (ret) {
		free(sd);
		return ret;
	}
	snprintf(sd->name, sizeof(sd->name), "%s", m->name);
	sd->owner = c;
	sd->next = devices;
	devices = sd;
	return 0;
}

static int remove_device(struct sim_client *c, const char *name)
{
	struct sim_dev **p = find(name), *sd = *p;

	if (!sd || sd->owner != c)
		return -ENOENT;
	*p = sd->next;
	device_remove(sd->dev);
	free(sd);
	return 0;
}

static void remove_all_of(struct sim_client *c)
{
	struct sim_dev **p = &devices;

	while (*p) {
		struct sim_dev *sd = *p;

		if (sd->owner != c && c) {
			p = &sd->next;
			continue;
		}
		*p = sd->next;
		device_remove(sd->dev);
		free(sd);
	}
}

static int handle(struct sim_client *c, struct simsock_msg *m, int fds[3],
		  int nfds)
{
	switch (m->op) {
	case SIMSOCK_ADD:
		return add_device(c, m, fds, nfds);
	case SIMSOCK_REMOVE:
		if (!terminated(m->name, sizeof(m->name)))
			return -EINVAL;
		return remove_device(c, m->name);
	}
	return -EOPNOTSUPP;
}

static void drop_client(struct sim_client *c)
{
	clients = g_slist_remove(clients, c);
	remove_all_of(c);
	close(c->fd);
	free(c);
}

static gboolean on_client(gint fd, GIOCondition cond, gpointer data)
{
	struct sim_client *c = data;
	struct simsock_msg *m = g_malloc(sizeof(*m));
	int fds[3] = { -1, -1, -1 }, nfds, ret;

	(void)cond;
	ret = simsock_recv(fd, m, fds, &nfds);
	if (ret == -ECONNRESET || (ret && ret != -EPROTO)) {
		g_free(m);
		drop_client(c);
		return G_SOURCE_REMOVE;
	}
	if (!ret)
		ret = handle(c, m, fds, nfds);
	if (ret)
		lunar_warn(NULL, "simulated control request %u for '%.*s' failed: %s",
			   m->op, 64, m->name, strerror(-ret));
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	memset(m, 0, sizeof(*m));
	m->magic = SIMSOCK_MAGIC;
	m->op = SIMSOCK_REPLY;
	m->status = ret;
	simsock_send(fd, m, NULL, 0);
	g_free(m);
	return G_SOURCE_CONTINUE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct sim_client *c;
	int cfd;

	(void)cond;
	(void)data;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	c->fd = cfd;
	c->watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, c);
	clients = g_slist_prepend(clients, c);
	return G_SOURCE_CONTINUE;
}

int sim_server_start(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(listen_fd, 16)) {
		ret = -errno;
		close(listen_fd);
		listen_fd = -1;
		return ret;
	}
	listen_path = strdup(path);
	listen_watch = g_unix_fd_add(listen_fd, G_IO_IN, on_accept, NULL);
	lunar_info(NULL, "serving simulated devices on %s", path);
	return 0;
}

void sim_server_stop(void)
{
	while (clients) {
		struct sim_client *c = clients->data;

		g_source_remove(c->watch);
		drop_client(c);
	}
	if (listen_watch)
		g_source_remove(listen_watch);
	if (listen_fd >= 0)
		close(listen_fd);
	if (listen_path)
		unlink(listen_path);
	free(listen_path);
	listen_path = NULL;
	listen_fd = -1;
}
