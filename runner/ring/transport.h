/*
 * The transport seam: how a device's ring mapping, notifications and
 * configfs-style attributes are reached.  Two implementations: the kernel's
 * UIO device plus configfs (control/, real target_core_user) and simring
 * (transport_sim.c), so ring, SCSI core, dispatch and handlers run the same
 * code over both.
 *
 * Attribute names are paths relative to the device's configfs directory:
 * "attrib/hw_block_size", "info", "wwn/vpd_unit_serial", "action/block_dev",
 * "action/reset_ring", "control", "alua/<group>/...", and target ports
 * outside the device as "target/<fabric>/<wwn>/tpgt_<n>/..." (ALUA group
 * members).
 *
 * Threading: ack() is called only by the device's command thread; kick()
 * from any thread; attribute calls from any thread (they may block).
 */
#ifndef LUNAR_TRANSPORT_H
#define LUNAR_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

struct lunar_transport;

struct lunar_transport_ops {
	/* Consume the kernel's notification after event_fd polled readable. */
	int (*ack)(struct lunar_transport *t);
	/* Tell the kernel new completions are in the ring. */
	int (*kick)(struct lunar_transport *t);
	/* Read an attribute into buf (NUL-terminated).  Length or -errno. */
	ssize_t (*read_attr)(struct lunar_transport *t, const char *name,
			     char *buf, size_t size);
	/*
	 * List a directory of attributes ("alua"): names, one per line,
	 * NUL-terminated.  Length or -errno.
	 */
	ssize_t (*list_dir)(struct lunar_transport *t, const char *name,
			    char *buf, size_t size);
	/* Write an attribute.  0 or -errno. */
	int (*write_attr)(struct lunar_transport *t, const char *name,
			  const char *value);
	/* Unmap and release everything; t is freed. */
	void (*destroy)(struct lunar_transport *t);
};

struct lunar_transport {
	const struct lunar_transport_ops *ops;
	void *map;
	size_t map_len;
	int event_fd;		/* POLLIN when the kernel queued work */
	char uio_name[16];	/* "uio3", or "sim3" for simring devices */
};

/* Convenience wrappers: tiny, so callers read naturally. */
static inline ssize_t transport_read_attr(struct lunar_transport *t,
					  const char *name, char *buf,
					  size_t size)
{
	return t->ops->read_attr(t, name, buf, size);
}

static inline ssize_t transport_list_dir(struct lunar_transport *t,
					 const char *name, char *buf,
					 size_t size)
{
	return t->ops->list_dir(t, name, buf, size);
}

static inline int transport_write_attr(struct lunar_transport *t,
				       const char *name, const char *value)
{
	return t->ops->write_attr(t, name, value);
}

#endif
