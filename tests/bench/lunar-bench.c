/*
 * lunar-bench: drive a handler through the whole runner core over simring
 * and measure IOPS, bandwidth and latency.
 *
 * The benchmark plays the kernel: one thread (the benchmark thread: the
 * simulated kernel and initiator) keeps --qd READ(16)/WRITE(16) commands
 * queued on a simring device served in this process by lunar's command
 * thread, SCSI core and the handler.  It polls for completions --spin-us
 * (default 200 us) before sleeping.
 *
 * --baseline also runs the same workload against the bare ring loop: one
 * thread that takes every command off the ring with lunar's ring layer and
 * completes it GOOD, with no SCSI, no handler, no data touched.  It is the
 * upper bound for lunar, so it gets everything lunar's command thread has
 * that makes it fast: the same polling policy (after a batch, spin
 * RING_SPIN_NS for new ring entries, then sleep in poll() on the
 * notification eventfd; one kick per batch: ring.h, runner/cmdproc.c) and
 * the same placement.  A ratio of medians above 1.05 says the bound does
 * not hold, and a warning says so.
 *
 * Thread budget, alike on both sides: the benchmark thread on CPU 0 and the
 * thread serving the ring (lunar's command thread, or the bare loop) on
 * CPU 1, when the machine has two CPUs, so the scheduler cannot put them
 * on one CPU for part of a run.  lunar's side may use more: the handler's
 * own threads (ram: none; file: io_uring's workers for requests that would
 * block; rbd: librbd's), besides lunar's idle event and worker threads.
 * With --connect the device is served by another process's command thread,
 * which is not pinned.
 *
 * Both sides run in one invocation, --repeat times each, the order rotated
 * per repetition (baseline first, then lunar first, ...), so drifting load
 * and warm caches favour neither; medians, min-max and the ratio of medians
 * are reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/device.h"
#include "runner/handler.h"
#include "runner/log.h"
#include "runner/ring/ring.h"
#include "runner/sim/simring.h"
#include "runner/sim/transport_sim.h"
#include "tests/shared/siminit.h"

#define BLOCK_SIZE 512
#define LAT_BUCKETS 4096	/* 1 us buckets, last one open-ended */
#define SPIN_US_DEFAULT 200	/* poll this long before sleeping */
#define REPEAT_MAX 100
#define BENCH_CPU 0		/* the benchmark thread */
#define SERVER_CPU 1		/* the thread serving the ring */
/*
 * No completion for this long while commands are in flight: the kernel
 * would have timed them out (its default cmd_time_out), so the run fails
 * instead of hanging.
 */
#define STALL_S 30
/* lunar beating the bare ring loop by more than this: the bound is broken. */
#define RATIO_SUSPECT 1.05

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE };

struct bench_opts {
	const char *handler_path;
	const char *cfgstring;
	uint64_t size;
	uint32_t bs;
	unsigned int qd;
	enum rw rw;
	double seconds;
	unsigned int repeat;
	const char *connect;
	bool baseline;
	bool verify;
	bool json;
	double spin_s;		/* --spin-us */
};

struct result {
	double iops;
	double mbps;
	double p50_us;
	double p99_us;
};

struct slot {
	struct bench *b;
	struct timespec start;
	uint8_t *buf;
};

struct bench {
	const struct bench_opts *o;
	struct simring *sr;
	struct slot *slots;
	uint64_t completed;
	uint64_t errors;
	uint64_t next_lba;
	uint64_t lat[LAT_BUCKETS];
	uint64_t rand_state;
	bool stopping;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_rand(struct bench *b)
{
	/* xorshift64*: cheap and good enough to spread offsets. */
	b->rand_state ^= b->rand_state >> 12;
	b->rand_state ^= b->rand_state << 25;
	b->rand_state ^= b->rand_state >> 27;
	return b->rand_state * 0x2545f4914f6cdd1dull;
}

static uint64_t pick_lba(struct bench *b)
{
	uint64_t per_io = b->o->bs / BLOCK_SIZE;
	uint64_t slots = b->o->size / b->o->bs;
	uint64_t lba;

	if (b->o->rw == RW_RANDREAD || b->o->rw == RW_RANDWRITE)
		return next_rand(b) % slots * per_io;
	lba = b->next_lba;
	b->next_lba = (b->next_lba + per_io) % (slots * per_io);
	return lba;
}

static bool is_write(enum rw rw)
{
	return rw == RW_WRITE || rw == RW_RANDWRITE;
}

/* Pin thread to CPU cpu, if the machine has one more CPU than that. */
static void pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

/*
 * The same placement for both sides: the benchmark thread (the caller) on
 * BENCH_CPU, the thread serving the ring, if it is in this process, on
 * SERVER_CPU.
 */
static void place(const pthread_t *server)
{
	if (server)
		pin(*server, SERVER_CPU);
	pin(pthread_self(), BENCH_CPU);
}

/* Let threads created from now on run anywhere again. */
static void unpin_self(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void on_done(void *priv, const struct simring_completion *c);

static int submit(struct slot *s)
{
	struct bench *b = s->b;
	uint64_t lba = pick_lba(b);
	uint32_t n = b->o->bs / BLOCK_SIZE;
	uint8_t cdb[16] = { is_write(b->o->rw) ? 0x8a : 0x88 };

	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(n >> (24 - 8 * i));
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	return simring_submit(b->sr, cdb, is_write(b->o->rw) ? SIMRING_DIR_OUT :
			      SIMRING_DIR_IN, s->buf, b->o->bs, on_done, s, NULL);
}

static void on_done(void *priv, const struct simring_completion *c)
{
	struct slot *s = priv;
	struct bench *b = s->b;
	struct timespec end;
	uint64_t us;

	clock_gettime(CLOCK_MONOTONIC, &end);
	us = (uint64_t)((end.tv_sec - s->start.tv_sec) * 1000000 +
			(end.tv_nsec - s->start.tv_nsec) / 1000);
	b->lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
	b->completed++;
	if (c->status)
		b->errors++;
	if (!b->stopping && submit(s))
		b->errors++;
}

static double percentile(const struct bench *b, double p)
{
	uint64_t want = (uint64_t)((double)b->completed * p), seen = 0;

	for (int i = 0; i < LAT_BUCKETS; i++) {
		seen += b->lat[i];
		if (seen > want)
			return i + 0.5;
	}
	return LAT_BUCKETS;
}

/*
 * One round of the simulated kernel: reap what completed (each completion
 * queues its slot's next command) and announce the new work.  Like a busy
 * kernel/initiator it polls for completions for a while before sleeping,
 * so the measurement is the cost of serving commands, not of waking an
 * idle CPU (an IPI, very expensive under virtualisation).  Both runs of an
 * invocation use the same loop.  --spin-us 0 sleeps at once, as an
 * initiator waiting for interrupts does: for slow backends whose servers
 * share the machine (a local Ceph), where a spinning CPU is taken from them.
 */
static int poll_round(struct bench *b)
{
	double start = now_s(), until = start + b->o->spin_s;

	while (!simring_has_completions(b->sr)) {
		if (now_s() < until)
			continue;
		if (now_s() - start > STALL_S) {
			fprintf(stderr, "no completion for %d s\n", STALL_S);
			return -ETIMEDOUT;
		}
		if (simring_wait_kick(b->sr, 100) < 0)
			return -EIO;
		until = now_s() + b->o->spin_s;
	}
	if (simring_reap(b->sr) < 0)
		return -EIO;
	simring_notify_user(b->sr);
	return 0;
}

/* Keep qd commands in flight for the run time, then drain. */
static int drive(struct bench *b, struct result *r)
{
	double start, elapsed;

	for (unsigned int i = 0; i < b->o->qd; i++)
		if (submit(&b->slots[i]))
			return -EIO;
	simring_notify_user(b->sr);
	/* Warm-up: a tenth of the run, not counted. */
	start = now_s();
	while (now_s() - start < b->o->seconds / 10)
		if (poll_round(b))
			return -EIO;
	memset(b->lat, 0, sizeof(b->lat));
	b->completed = 0;
	start = now_s();
	while ((elapsed = now_s() - start) < b->o->seconds)
		if (poll_round(b))
			return -EIO;
	b->stopping = true;
	r->iops = (double)b->completed / elapsed;
	r->mbps = r->iops * b->o->bs / 1e6;
	r->p50_us = percentile(b, 0.50);
	r->p99_us = percentile(b, 0.99);
	while (simring_inflight(b->sr))
		if (poll_round(b))
			return -EIO;
	return b->errors ? -EIO : 0;
}

/* Set up the workload on sr (which the caller owns). */
static int bench_init(struct bench *b, const struct bench_opts *o,
		      struct simring *sr)
{
	memset(b, 0, sizeof(*b));
	b->o = o;
	b->rand_state = 0x9e3779b97f4a7c15ull;
	b->sr = sr;
	b->slots = calloc(o->qd, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < o->qd; i++) {
		b->slots[i].b = b;
		b->slots[i].buf = aligned_alloc(4096, o->bs);
		if (!b->slots[i].buf)
			return -ENOMEM;
		memset(b->slots[i].buf, (int)i, o->bs);
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	for (unsigned int i = 0; b->slots && i < b->o->qd; i++)
		free(b->slots[i].buf);
	free(b->slots);
}

struct completer {
	struct simring *sr;
	struct lunar_ring ring;
	int stop_fd;
	pthread_t thread;
	int err;		/* why the loop ended early, or 0 */
};

/* Complete every entry on the ring GOOD, then kick once if there were any. */
static int complete_batch(struct completer *c)
{
	static const struct ring_result good;
	static struct ring_tmr tmr;	/* large; only the completer uses it */
	struct ring_cmd cmd = { 0 };
	enum ring_entry_kind kind;
	uint64_t one = 1;
	bool any = false;
	int ret;

	while ((ret = ring_next(&c->ring, &kind, &cmd, &tmr)) > 0) {
		if (kind != RING_ENTRY_TMR)
			ret = ring_complete(&c->ring, cmd.cmd_id, &good);
		ring_cmd_release(&cmd);
		if (ret < 0)
			return ret;
		any = true;
	}
	if (ret < 0)
		return ret;
	if (any && write(simring_kernel_fd(c->sr), &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/*
 * Sleep until the simulated kernel announces work (acknowledged, as
 * lunard's command thread does) or the benchmark says stop.  0 to go on,
 * 1 to stop, -errno.
 */
static int sleep_for_work(struct pollfd *pfd)
{
	uint64_t v;

	if (poll(pfd, 2, -1) < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[1].revents)
		return 1;
	if ((pfd[0].revents & POLLIN) && read(pfd[0].fd, &v, sizeof(v)) < 0 &&
	    errno != EAGAIN)
		return -errno;
	return 0;
}

/*
 * The bare ring loop, with the polling policy of lunard's command thread:
 * drain the ring, one kick, spin for more entries, then sleep.
 */
static void *completer_main(void *arg)
{
	struct completer *c = arg;
	struct pollfd pfd[2] = {
		{ .fd = simring_user_fd(c->sr), .events = POLLIN },
		{ .fd = c->stop_fd, .events = POLLIN },
	};
	int ret;

	do {
		ret = complete_batch(c);
		if (!ret && !ring_spin_for_entries(&c->ring))
			ret = sleep_for_work(pfd);
	} while (!ret);
	c->err = ret < 0 ? ret : 0;
	return NULL;
}

static int run_baseline(const struct bench_opts *o, struct result *r)
{
	struct completer c = { .stop_fd = -1 };
	struct simring *sr;
	struct bench b;
	uint64_t one = 1;
	int ret;

	ret = simring_create(NULL, &sr);
	if (ret)
		return ret;
	ret = bench_init(&b, o, sr);
	if (ret)
		goto out;
	c.sr = sr;
	c.stop_fd = eventfd(0, EFD_CLOEXEC);
	ret = ring_attach(&c.ring, simring_base(b.sr), simring_map_len(b.sr));
	if (ret || c.stop_fd < 0 || pthread_create(&c.thread, NULL, completer_main, &c)) {
		ret = ret ? ret : -EIO;
		goto out;
	}
	place(&c.thread);
	ret = drive(&b, r);
	unpin_self();
	if (write(c.stop_fd, &one, sizeof(one)) < 0)
		ret = -errno;
	pthread_join(c.thread, NULL);
	if (c.err) {
		fprintf(stderr, "bare ring loop failed: %s\n", strerror(-c.err));
		ret = ret ? ret : c.err;
	}
	ring_detach(&c.ring);
out:
	if (c.stop_fd >= 0)
		close(c.stop_fd);
	bench_free(&b);
	simring_destroy(sr);
	return ret;
}

/*
 * Write a distinct pattern into every MiB-sized slice of the first 64 MiB
 * (or the device, if smaller) and read it all back.  0 or -EIO.
 */
static int verify_data(struct siminit *si, const struct bench_opts *o)
{
	const uint32_t chunk = 1 << 20, nblocks = chunk / BLOCK_SIZE;
	uint64_t span = o->size < (64ull << 20) ? o->size : 64ull << 20;
	uint8_t *out = malloc(chunk), *in = malloc(chunk);
	struct scsi_result res;
	int ret = -ENOMEM;

	if (!out || !in)
		goto out;
	for (uint64_t off = 0; off + chunk <= span; off += chunk) {
		for (uint32_t i = 0; i < chunk; i++)
			out[i] = (uint8_t)(off / chunk * 131 + i * 7 + (i >> 12));
		ret = -EIO;
		if (siminit_write(si, off / BLOCK_SIZE, nblocks, out, &res) ||
		    res.status ||
		    siminit_read(si, off / BLOCK_SIZE, nblocks, in, &res) ||
		    res.status || memcmp(in, out, chunk))
			goto out;
	}
	ret = 0;
	if (!o->json)
		printf("verified: %llu MiB written and read back intact\n",
		       (unsigned long long)(span >> 20));
out:
	if (ret)
		fprintf(stderr, "data verification failed\n");
	free(out);
	free(in);
	return ret;
}

/* The device under test: in process, or in a lunard reached by socket. */
static int run_lunar(const struct bench_opts *o, struct result *r)
{
	struct siminit_opts so = {
		.cfgstring = o->cfgstring, .name = "bench", .size = o->size,
		.block_size = BLOCK_SIZE, .max_sectors = 65536,
		.sim_socket = o->connect,
	};
	struct siminit *si;
	struct bench b;
	int ret;

	ret = siminit_open(&so, &si);
	if (ret) {
		fprintf(stderr, "cannot create the device: %s\n", strerror(-ret));
		return ret;
	}
	ret = o->verify ? verify_data(si, o) : 0;
	if (!ret)
		ret = bench_init(&b, o, siminit_ring(si));
	place(siminit_device(si) ? &siminit_device(si)->cmdproc : NULL);
	if (!ret)
		ret = drive(&b, r);
	unpin_self();
	bench_free(&b);
	siminit_close(si);
	return ret;
}

static const char *const rw_names[] = { "read", "write", "randread", "randwrite" };

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s --cfgstring CFG [options]\n"
		"  --handler-path DIR   load handler_*.so from DIR\n"
		"  --cfgstring CFG      device cfgstring, e.g. ram/bench or file//dev/shm/x\n"
		"  --size BYTES         device size (default 1 GiB)\n"
		"  --bs BYTES           I/O size, multiple of 512 (default 4096)\n"
		"  --qd N               commands in flight (default 32)\n"
		"  --rw MODE            read|write|randread|randwrite (default randread)\n"
		"  --seconds S          measured run time per run (default 5)\n"
		"  --repeat N           runs of each side, order rotated per repetition;\n"
		"                       medians and min-max reported (default 3)\n"
		"  --baseline           also run the bare ring loop (lunar's upper bound)\n"
		"                       and print the ratio\n"
		"  --connect SOCKET     serve the device from a running lunard --sim-socket\n"
		"  --verify             first write a pattern across the device and read it back\n"
		"  --json               one JSON object on stdout\n"
		"  --spin-us N          poll for completions N us before sleeping (default %d)\n",
		prog, SPIN_US_DEFAULT);
}

static int parse_rw(const char *s, enum rw *rw)
{
	for (unsigned int i = 0; i < 4; i++)
		if (!strcmp(s, rw_names[i])) {
			*rw = (enum rw)i;
			return 0;
		}
	return -1;
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "handler-path", required_argument, NULL, 'H' },
		{ "cfgstring", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "rw", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "baseline", no_argument, NULL, 'B' },
		{ "connect", required_argument, NULL, 'C' },
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct bench_opts){
		.size = 1ull << 30, .bs = 4096, .qd = 32, .rw = RW_RANDREAD,
		.seconds = 5, .repeat = 3, .spin_s = SPIN_US_DEFAULT / 1e6,
	};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H': o->handler_path = optarg; break;
		case 'c': o->cfgstring = optarg; break;
		case 's': o->size = strtoull(optarg, NULL, 0); break;
		case 'b': o->bs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': o->qd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r':
			if (parse_rw(optarg, &o->rw))
				return -1;
			break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 'n': o->repeat = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'B': o->baseline = true; break;
		case 'C': o->connect = optarg; break;
		case 'v': o->verify = true; break;
		case 'j': o->json = true; break;
		case 'S': o->spin_s = strtod(optarg, NULL) / 1e6; break;
		default: return -1;
		}
	}
	if (!o->cfgstring || !o->bs || o->bs % BLOCK_SIZE || !o->qd ||
	    o->qd > 4096 || o->size < o->bs || o->seconds <= 0 ||
	    !o->repeat || o->repeat > REPEAT_MAX || o->spin_s < 0 || o->spin_s > 1)
		return -1;
	return 0;
}

/* One side of a comparison: how to run it, and its runs in order. */
struct side {
	const char *name;
	int (*run)(const struct bench_opts *o, struct result *r);
	struct result runs[REPEAT_MAX];
};

/* A side's runs summed up: the median run (by IOPS) and the spread. */
struct summary {
	struct result med;
	double min_iops;
	double max_iops;
};

static int by_iops(const void *a, const void *b)
{
	double x = ((const struct result *)a)->iops;
	double y = ((const struct result *)b)->iops;

	return x < y ? -1 : x > y;
}

/* The median is the lower one of an even number of runs. */
static void summarize(const struct bench_opts *o, const struct side *s,
		      struct summary *sum)
{
	struct result sorted[REPEAT_MAX];

	memcpy(sorted, s->runs, o->repeat * sizeof(sorted[0]));
	qsort(sorted, o->repeat, sizeof(sorted[0]), by_iops);
	sum->med = sorted[(o->repeat - 1) / 2];
	sum->min_iops = sorted[0].iops;
	sum->max_iops = sorted[o->repeat - 1].iops;
}

/* The spread of lunar / baseline over the repetitions (runs in pairs). */
static void ratio_spread(const struct bench_opts *o, const struct side *lunar,
			 const struct side *base, double *lo, double *hi)
{
	*lo = *hi = lunar->runs[0].iops / base->runs[0].iops;
	for (unsigned int i = 1; i < o->repeat; i++) {
		double r = lunar->runs[i].iops / base->runs[i].iops;

		*lo = r < *lo ? r : *lo;
		*hi = r > *hi ? r : *hi;
	}
}

/*
 * Run every side o->repeat times.  Repetition i starts with side i % n and
 * goes round (A B, B A, ...), so no side always runs first, or always
 * right after the other, while the machine's load drifts.
 */
static int run_all(const struct bench_opts *o, struct side *sides,
		   unsigned int n)
{
	for (unsigned int i = 0; i < o->repeat; i++)
		for (unsigned int k = 0; k < n; k++) {
			struct side *s = &sides[(i + k) % n];

			if (s->run(o, &s->runs[i])) {
				fprintf(stderr, "%s run failed (see the log above)\n",
					s->name);
				return -EIO;
			}
		}
	return 0;
}

/* What each thread is and does, for the report (see the header comment). */
struct budget {
	char placement[96];
	char bench[128];
	char lunar[192];
};

#define BASELINE_TEXT \
	"bare ring loop: 1 thread, the same spin-then-poll and one kick per " \
	"batch as lunar's command thread; lunar's ring layer completes every " \
	"command GOOD, no SCSI, no handler, data untouched"

static void describe_budget(const struct bench_opts *o, struct budget *d)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		snprintf(d->placement, sizeof(d->placement), "unpinned (one CPU)");
	else
		snprintf(d->placement, sizeof(d->placement),
			 "benchmark thread on CPU %d, %s on CPU %d", BENCH_CPU,
			 o->connect ? "the bare ring loop" : "the thread serving the ring",
			 SERVER_CPU);
	snprintf(d->bench, sizeof(d->bench),
		 "1 thread (simulated kernel + initiator), polls for completions %.0f us before sleeping",
		 o->spin_s * 1e6);
	snprintf(d->lunar, sizeof(d->lunar),
		 "%s, spins %d us for ring entries then sleeps in poll(), one kick per batch; plus the handler's own threads, if any",
		 o->connect ? "lunard's command thread in the --connect process (not pinned)" :
		 "lunar's command thread", RING_SPIN_NS / 1000);
}

static const char *order_text(const struct bench_opts *o)
{
	return o->baseline ? "order rotated per repetition" : "lunar only";
}

static void print_text(const struct bench_opts *o, const struct summary *l,
		       const struct summary *b, const double *ratio)
{
	struct budget d;

	describe_budget(o, &d);
	printf("%s %s bs=%u qd=%u: %u run(s) of %.1f s per side, %s\n",
	       o->cfgstring, rw_names[o->rw], o->bs, o->qd, o->repeat,
	       o->seconds, order_text(o));
	printf("  lunar           %9.0f IOPS median (min %.0f, max %.0f), %.1f MB/s, p50 %.1f us, p99 %.1f us\n",
	       l->med.iops, l->min_iops, l->max_iops, l->med.mbps,
	       l->med.p50_us, l->med.p99_us);
	if (b)
		printf("  bare ring loop  %9.0f IOPS median (min %.0f, max %.0f)\n"
		       "  ratio of medians %.3f (per repetition %.3f-%.3f)\n",
		       b->med.iops, b->min_iops, b->max_iops, ratio[0],
		       ratio[1], ratio[2]);
	printf("  threads: benchmark: %s\n           lunar: %s\n",
	       d.bench, d.lunar);
	if (b)
		printf("           baseline: %s\n", BASELINE_TEXT);
	printf("  placement: %s\n", d.placement);
}

/* ,"KEY":[IOPS of each repetition], so the spread can be judged. */
static void print_runs(const struct bench_opts *o, const char *key,
		       const struct side *s)
{
	printf(",\"%s\":[", key);
	for (unsigned int i = 0; i < o->repeat; i++)
		printf("%s%.0f", i ? "," : "", s->runs[i].iops);
	printf("]");
}

static void print_json(const struct bench_opts *o, const struct side *lunar,
		       const struct side *base, const struct summary *l,
		       const struct summary *b, const double *ratio)
{
	struct budget d;

	describe_budget(o, &d);
	printf("{\"cfgstring\":\"%s\",\"rw\":\"%s\",\"bs\":%u,\"qd\":%u,"
	       "\"seconds\":%.1f,\"repeat\":%u,\"order\":\"%s\","
	       "\"iops\":%.0f,\"iops_min\":%.0f,\"iops_max\":%.0f,\"mbps\":%.1f,"
	       "\"lat_us_p50\":%.1f,\"lat_us_p99\":%.1f,"
	       "\"placement\":\"%s\",\"bench_thread\":\"%s\",\"threads\":\"%s\"",
	       o->cfgstring, rw_names[o->rw], o->bs, o->qd, o->seconds,
	       o->repeat, order_text(o), l->med.iops, l->min_iops, l->max_iops, l->med.mbps,
	       l->med.p50_us, l->med.p99_us, d.placement, d.bench, d.lunar);
	print_runs(o, "runs", lunar);
	if (!base) {
		printf("}\n");
		return;
	}
	print_runs(o, "baseline_runs", base);
	printf(",\"baseline\":\"%s\",\"baseline_iops\":%.0f,"
	       "\"baseline_iops_min\":%.0f,\"baseline_iops_max\":%.0f,"
	       "\"ratio\":%.3f,\"ratio_min\":%.3f,\"ratio_max\":%.3f,"
	       "\"baseline_broken\":%s}\n",
	       BASELINE_TEXT, b->med.iops, b->min_iops, b->max_iops,
	       ratio[0], ratio[1], ratio[2],
	       ratio[0] > RATIO_SUSPECT ? "true" : "false");
}

/* Medians, spreads and the ratio; base is NULL without --baseline. */
static void report(const struct bench_opts *o, const struct side *lunar,
		   const struct side *base)
{
	struct summary l, b;
	double ratio[3] = { 0 };	/* of medians, per-repetition min, max */

	summarize(o, lunar, &l);
	if (base) {
		summarize(o, base, &b);
		ratio[0] = l.med.iops / b.med.iops;
		ratio_spread(o, lunar, base, &ratio[1], &ratio[2]);
	}
	if (o->json)
		print_json(o, lunar, base, &l, base ? &b : NULL, ratio);
	else
		print_text(o, &l, base ? &b : NULL, ratio);
	fflush(stdout);
	if (ratio[0] > RATIO_SUSPECT)
		fprintf(stderr, "warning: lunar ran at %.3f of the bare ring loop (medians): the baseline should bound lunar from above, so it is broken here (noise, or the two sides are not set up alike); do not trust this ratio\n",
			ratio[0]);
}

int main(int argc, char **argv)
{
	static struct side sides[] = {
		{ .name = "bare ring loop", .run = run_baseline },
		{ .name = "lunar", .run = run_lunar },
	};
	struct side *lunar = &sides[1];
	struct bench_opts o;
	int ret;

	if (parse(argc, argv, &o)) {
		usage(argv[0]);
		return 2;
	}
	log_set_level(TCMU_LOG_WARN);
	if (o.handler_path && handlers_load_dir(o.handler_path) < 0)
		return 1;
	if (o.baseline)
		ret = run_all(&o, sides, 2);
	else
		ret = run_all(&o, lunar, 1);
	if (!ret)
		report(&o, lunar, o.baseline ? &sides[0] : NULL);
	handlers_unload_all();
	return ret ? 1 : 0;
}
