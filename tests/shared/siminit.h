/*
 * A scripted SCSI initiator on top of simring, for the sim test tier and
 * lunar-bench: it plays the kernel's side of one TCMU device that lunar's
 * core serves in the same process (device_add over a simring transport),
 * or in a separate lunard reached through --sim-socket.
 *
 * Not thread-safe: one thread drives one siminit.
 */
#ifndef LUNAR_SIMINIT_H
#define LUNAR_SIMINIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/sim/simring.h"

struct siminit;
struct tcmu_device;

struct siminit_opts {
	const char *cfgstring;		/* "ram/x", "file//path", ... */
	const char *name;		/* device name; default "lun0" */
	uint64_t size;			/* bytes; default 64 MiB */
	uint32_t block_size;		/* default 512 */
	uint32_t max_sectors;		/* default 2048 */
	bool write_cache;
	const char *serial;		/* default generated */
	struct simring_config ring;	/* zeros: kernel defaults */
	const char *sim_socket;		/* serve through a lunard at this path */
	const char *alua;		/* ALUA groups (sim_alua.h spec) */
};

struct scsi_result {
	int ret;			/* 0, or -errno from the ring itself */
	uint8_t status;
	uint8_t sense[96];
	size_t data_len;		/* data-in bytes delivered */
};

/* Load handler_*.so from dir into this process (once). */
int siminit_load_handlers(const char *dir);

int siminit_open(const struct siminit_opts *o, struct siminit **out);
/* Remove the device (draining it) and free everything. */
void siminit_close(struct siminit *si);

struct simring *siminit_ring(struct siminit *si);
/* The in-process device, or NULL when served through a socket. */
struct tcmu_device *siminit_device(struct siminit *si);

/*
 * Run one command to completion.  buf is data-out (SIMRING_DIR_OUT) or
 * receives data-in (SIMRING_DIR_IN).  Returns res->ret.
 */
int siminit_cmd(struct siminit *si, const uint8_t *cdb, enum simring_dir dir,
		void *buf, size_t len, struct scsi_result *res);

/* Queue a command without waiting (res filled at completion). */
int siminit_submit(struct siminit *si, const uint8_t *cdb, enum simring_dir dir,
		   void *buf, size_t len, struct scsi_result *res, bool *done);
/* Ring command id of the last command siminit_submit()/siminit_cmd() queued. */
uint16_t siminit_last_cmd_id(struct siminit *si);

/*
 * Deliver completions the user side posted, waiting up to ms for the
 * first.  0 or -errno.
 */
int siminit_poll(struct siminit *si, int ms);

/*
 * Drop a device served through a socket without waiting for it: commands
 * still queued are forgotten (their results never delivered), the
 * connection is closed (lunard then removes the device whenever it gets
 * to it).  For initiators giving up on a dead or frozen gateway.
 */
void siminit_abandon(struct siminit *si);

/*
 * In-process devices: wait until the device has been through a reopen
 * (cluster/recovery.h) and serves again.  0 or -ETIMEDOUT.
 */
int siminit_wait_recovered(struct siminit *si, int timeout_ms);

/* Wait until every queued command completed (or timeout_ms). 0 or -errno. */
int siminit_wait_all(struct siminit *si, int timeout_ms);

/* READ(16)/WRITE(16) shorthands. */
int siminit_read(struct siminit *si, uint64_t lba, uint32_t nblocks, void *buf,
		 struct scsi_result *res);
int siminit_write(struct siminit *si, uint64_t lba, uint32_t nblocks,
		  void *buf, struct scsi_result *res);

static inline uint8_t sense_key(const struct scsi_result *r)
{
	return r->sense[2] & 0x0f;
}

static inline uint16_t sense_asc(const struct scsi_result *r)
{
	return (uint16_t)(r->sense[12] << 8 | r->sense[13]);
}

#endif
