/*
 * A transport over an in-process simring: the user side of a simulated
 * TCMU device, plus the configfs attributes the kernel would show for it.
 */
#ifndef LUNAR_TRANSPORT_SIM_H
#define LUNAR_TRANSPORT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lunar_transport;
struct simring;

struct sim_attrs {
	uint64_t size;			/* bytes */
	uint32_t block_size;
	uint32_t max_sectors;
	bool write_cache;
	const char *serial;		/* unit serial; generated if NULL */
	const char *alua;		/* sim_alua.h spec; NULL: no groups */
};

/*
 * Where the simulated kernel side is.  In process: sr is set, and the
 * mapping and eventfds are sr's (the caller keeps owning sr, which must
 * outlive the transport).  Another process (lunard --sim-socket): sr is
 * NULL and the transport owns map and both fds; block/reset actions are
 * not available.
 */
struct sim_endpoint {
	struct simring *sr;
	void *map;
	size_t map_len;
	int user_fd;		/* readable when the kernel side queued work */
	int kernel_fd;		/* written to announce completions */
};

/* Endpoint of an in-process simring. */
struct sim_endpoint sim_endpoint_local(struct simring *sr);

/*
 * uio_name names the device in logs ("sim0").  0 or -errno (-EINVAL for a
 * malformed ALUA spec).
 */
int transport_sim_create(const struct sim_endpoint *ep,
			 const struct sim_attrs *attrs, const char *uio_name,
			 struct lunar_transport **out);

/* Current kernel-side size (after "control" dev_size= writes). */
uint64_t transport_sim_size(struct lunar_transport *t);

#endif
