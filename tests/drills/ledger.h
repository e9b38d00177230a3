/*
 * The drill's record of every write attempt, and the read-back check.
 *
 * Each attempt writes one chunk whose every 512-byte block carries a
 * stamp: magic, chunk, attempt sequence number.  An attempt is acked when
 * its write returned GOOD, and marked abandoned when it was in flight on a
 * path the initiator gave up on (its outcome unknown, it may still land).
 * Reading a chunk back after the round gives the stamp that landed last:
 *  - the latest acked attempt: fine;
 *  - a later attempt (in flight or unacknowledged): fine, writes may land
 *    without an acknowledgement;
 *  - an earlier attempt: a newer acknowledged write is gone.  A stale
 *    write if that earlier attempt was abandoned on a failed path (it
 *    landed after the new owner acknowledged a newer one), else a lost
 *    write.  No stamp at all where a write was acked is a lost write too.
 */
#ifndef LUNAR_DRILL_LEDGER_H
#define LUNAR_DRILL_LEDGER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAMP_MAGIC 0x4c554e4152445249ull	/* "LUNARDRI" */

struct attempt {
	uint32_t chunk;
	bool acked;
	bool abandoned;
};

/* Its functions may be called from several initiator threads at once. */
struct ledger {
	pthread_mutex_t mu;
	uint32_t nchunks;
	uint64_t *acked;	/* per chunk: latest acked seq, 0 = none */
	struct attempt *attempts;	/* by seq (1-based) */
	uint64_t nattempts, cap;
	uint64_t lost, stale, checked;
};

int ledger_init(struct ledger *l, uint32_t nchunks);
void ledger_free(struct ledger *l);

/* A new attempt on chunk: its seq, and buf (chunk_len bytes) stamped. */
uint64_t ledger_attempt(struct ledger *l, uint32_t chunk, void *buf,
			size_t chunk_len);
void ledger_ack(struct ledger *l, uint64_t seq);
/* The chunk attempt seq writes (0 for no such attempt). */
uint32_t ledger_chunk(struct ledger *l, uint64_t seq);
void ledger_abandon(struct ledger *l, uint64_t seq);

/* Classify the read-back contents of chunk (adds to lost/stale). */
void ledger_check(struct ledger *l, uint32_t chunk, const void *buf,
		  size_t chunk_len);

#endif
