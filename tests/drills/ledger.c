/*
 * Write attempts and read-back classification.  See ledger.h.
 */
#include "ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512

struct stamp {
	uint64_t magic;
	uint64_t chunk;
	uint64_t seq;
};

int ledger_init(struct ledger *l, uint32_t nchunks)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	l->nchunks = nchunks;
	l->acked = calloc(nchunks, sizeof(*l->acked));
	return l->acked ? 0 : -ENOMEM;
}

void ledger_free(struct ledger *l)
{
	free(l->acked);
	free(l->attempts);
	pthread_mutex_destroy(&l->mu);
}

static struct attempt *get(struct ledger *l, uint64_t seq)
{
	return seq && seq <= l->nattempts ? &l->attempts[seq - 1] : NULL;
}

/* The next attempt's seq, 0 when out of memory; under l->mu. */
static uint64_t add_attempt(struct ledger *l, uint32_t chunk)
{
	if (l->nattempts == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : 4096;
		struct attempt *a = realloc(l->attempts, cap * sizeof(*a));

		if (!a)
			return 0;
		l->attempts = a;
		l->cap = cap;
	}
	l->attempts[l->nattempts++] = (struct attempt){ .chunk = chunk };
	return l->nattempts;
}

uint64_t ledger_attempt(struct ledger *l, uint32_t chunk, void *buf,
			size_t chunk_len)
{
	struct stamp s = { STAMP_MAGIC, chunk, 0 };

	pthread_mutex_lock(&l->mu);
	s.seq = add_attempt(l, chunk);
	pthread_mutex_unlock(&l->mu);
	if (!s.seq)
		return 0;
	for (size_t off = 0; off + BLOCK <= chunk_len; off += BLOCK) {
		memcpy((char *)buf + off, &s, sizeof(s));
		memset((char *)buf + off + sizeof(s), (int)(s.seq & 0xff),
		       BLOCK - sizeof(s));
	}
	return s.seq;
}

void ledger_ack(struct ledger *l, uint64_t seq)
{
	struct attempt *a;

	pthread_mutex_lock(&l->mu);
	a = get(l, seq);
	if (a) {
		a->acked = true;
		if (seq > l->acked[a->chunk])
			l->acked[a->chunk] = seq;
	}
	pthread_mutex_unlock(&l->mu);
}

uint32_t ledger_chunk(struct ledger *l, uint64_t seq)
{
	struct attempt *a;
	uint32_t chunk;

	pthread_mutex_lock(&l->mu);
	a = get(l, seq);
	chunk = a ? a->chunk : 0;
	pthread_mutex_unlock(&l->mu);
	return chunk;
}

void ledger_abandon(struct ledger *l, uint64_t seq)
{
	struct attempt *a;

	pthread_mutex_lock(&l->mu);
	a = get(l, seq);
	if (a)
		a->abandoned = true;
	pthread_mutex_unlock(&l->mu);
}

/* The stamp every block of buf carries, or 0 if torn or unstamped. */
static uint64_t landed_seq(uint32_t chunk, const void *buf, size_t chunk_len)
{
	struct stamp first, s;

	memcpy(&first, buf, sizeof(first));
	if (first.magic != STAMP_MAGIC || first.chunk != chunk)
		return 0;
	for (size_t off = BLOCK; off + BLOCK <= chunk_len; off += BLOCK) {
		memcpy(&s, (const char *)buf + off, sizeof(s));
		if (memcmp(&s, &first, sizeof(s)))
			return 0;
	}
	return first.seq;
}

/* Under l->mu. */
static void classify(struct ledger *l, uint32_t chunk, uint64_t got)
{
	uint64_t want = l->acked[chunk];
	struct attempt *a = get(l, got);

	l->checked++;
	if (got > l->nattempts) {
		l->lost++;		/* not a stamp we wrote */
		return;
	}
	if (!want || got >= want)
		return;
	if (a && a->abandoned)
		l->stale++;
	else
		l->lost++;
}

void ledger_check(struct ledger *l, uint32_t chunk, const void *buf,
		  size_t chunk_len)
{
	uint64_t got = landed_seq(chunk, buf, chunk_len);

	pthread_mutex_lock(&l->mu);
	classify(l, chunk, got);
	pthread_mutex_unlock(&l->mu);
}
