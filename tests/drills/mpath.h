/*
 * A multipath initiator modelled on Linux dm-multipath with scsi_dh_alua,
 * writing stamped chunks (ledger.h) over one path per gateway:
 *  - the path used is one whose target port group REPORT TARGET PORT
 *    GROUPS says Active/Optimized; with none, the preferred path (after
 *    SET TARGET PORT GROUPS to Active/Optimized when the groups support
 *    explicit ALUA, as scsi_dh_alua activates a path group);
 *  - BUSY, TASK SET FULL and unit attentions are retried on the same path;
 *    NOT READY / ASYMMETRIC ACCESS STATE TRANSITION too, re-reading the
 *    groups every RECHECK_MS; NOT READY Standby or Unavailable and
 *    ASYMMETRIC ACCESS STATE CHANGED make it choose again;
 *  - a command not completed within the I/O timeout fails its path: the
 *    path is dropped (its commands abandoned) and the writes go on through
 *    another; a dropped path is logged in again by mpath_reconnect();
 *  - like scsi_dh_alua, every RTPG answer, through whichever path, sets
 *    the state of every group it lists, and I/O to a group last reported
 *    Standby, Unavailable or Offline fails its path; a path checker sends
 *    TEST UNIT READY on the other paths every CHECK_MS and re-reads the
 *    groups on ASYMMETRIC ACCESS STATE CHANGED.
 * Paths (one LUN per gateway) belong to the caller and may be shared by
 * several initiators, as sessions of several hosts reach one LUN.
 * QD chunks are written at once, each slot to its own chunks, so no two
 * writes the initiator still waits for overlap.
 *
 * Threading: one thread drives an mpath.
 */
#ifndef LUNAR_DRILL_MPATH_H
#define LUNAR_DRILL_MPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "runner/inflight.h"
#include "ledger.h"
#include "tests/shared/siminit.h"

#define MPATH_MAX_PATHS 4
#define MPATH_MAX_QD 16
#define CHUNK_BLOCKS 8
#define CHUNK_BYTES (CHUNK_BLOCKS * 512)

struct mpath_slot {
	uint64_t seq;		/* attempt in flight, 0 = idle */
	int path;
	int64_t submitted_ms;
	int64_t timeout_ms;	/* the STPG's while its path settles */
	int64_t not_before_ms;	/* retry backoff */
	bool done;
	struct scsi_result res;
	uint8_t buf[CHUNK_BYTES];
	uint32_t next_chunk;
};

struct mpath_path {
	struct siminit *si;	/* NULL: down */
	bool tur_busy, tur_done;	/* the path checker's command */
	int64_t tur_sent_ms;
	struct scsi_result tur_res;
	const char *sock;
	char alua[128];
	const char *name;	/* device name prefix on the gateway */
	unsigned int gen;
};

struct mpath_stats {
	int64_t last_ack_ms;
	int64_t first_cmd_ms[MPATH_MAX_PATHS];	/* since mpath_mark() */
	int64_t max_gap_ms;	/* longest ack gap since mpath_mark() */
	int64_t first_ack_ms[MPATH_MAX_PATHS];	/* per path, since mpath_mark() */
	uint64_t acks, retries, path_failures, io_errors;
};

struct mpath {
	struct mpath_path *paths;	/* npaths of them, caller's */
	int npaths;
	int cur;		/* path in use, -1: choose */
	int preferred;
	bool explicit_alua;
	unsigned int io_timeout_ms;
	const char *cfgstring;
	uint64_t size;
	const char *name;	/* for messages */
	unsigned int qd;
	/* Its chunks: chunk_base on in the ledger, lun_first_chunk on (in
	 * chunks) on the LUN. */
	uint32_t chunk_base, chunks_per_slot, lun_first_chunk;
	/* Which standby it falls back to first when the preferred path is
	 * down: the spread-th after it (mod npaths - 1), so initiators of
	 * many LUNs spread over the gateways left. */
	unsigned int spread;
	bool writing;
	int64_t recheck_ms;
	int64_t check_ms;	/* next path check */
	uint8_t group_state[MPATH_MAX_PATHS];	/* group id i+1, 0xff: unknown */
	/*
	 * The path whose group a SET TARGET PORT GROUPS is activating, -1:
	 * none.  As scsi_dh_alua's activation, it runs beside the other
	 * initiators' I/O, this initiator's I/O waits for it, and it has
	 * its own timeout, longer than a command's.
	 */
	int activating;
	/*
	 * The path just activated until a write through it is GOOD, -1:
	 * none.  lunard answers the STPG before the takeover is done
	 * (its promise) and holds the writes that follow until it is: as
	 * long as a takeover may take, writes sent meanwhile get the STPG's
	 * timeout, and keep it after the first GOOD ends the settling: the
	 * parked writes are answered one after another.  Linux
	 * notices a dead gateway by its nop-out pings, which lunard's kernel
	 * answers meanwhile, and gives a command 30 s: the drill's short
	 * write timeout stands in for the pings and must not fail a path
	 * that is only taking the lock.
	 */
	int settling;
	bool stpg_busy, stpg_done;
	int64_t stpg_deadline_ms, stpg_retry_ms;
	uint8_t stpg_param[8];
	struct scsi_result stpg_res;
	struct mpath_slot slots[MPATH_MAX_QD];
	struct ledger *ledger;
	struct mpath_stats st;
};

/* Log every path in that is down; start writing.  0 or -errno. */
int mpath_open(struct mpath *m);
/* Drop every path (when no initiator uses them any more). */
void mpath_drop_paths(struct mpath *m);

/* Log path i in again if it is down.  0 or -errno. */
int mpath_reconnect(struct mpath *m, int i);
bool mpath_path_up(const struct mpath *m, int i);

/* One turn of the I/O loop: submit, reap, retry, fail over. */
void mpath_step(struct mpath *m);

/* Start measuring (ack gaps, first commands per path) from now. */
void mpath_mark(struct mpath *m);

/*
 * Stop submitting, let what is in flight finish, read every chunk back
 * through the current path and classify it in the ledger.  0 or -errno.
 */
int mpath_verify(struct mpath *m);

/*
 * Start making path i's group Active/Optimized (SET TARGET PORT GROUPS);
 * mpath_step() uses the path once it succeeded.
 */
void mpath_activate(struct mpath *m, int i);

#endif
