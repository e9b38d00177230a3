/*
 * lunar-bench: drive a handler through the whole runner core over simring
 * and measure IOPS, bandwidth and latency.
 *
 * The benchmark plays the kernel: one thread keeps --qd READ(16)/WRITE(16)
 * commands queued on a simring device served in this process by lunar's
 * command thread, SCSI core and the handler.  With --baseline it first runs
 * the same workload against a trivial completer (lunar's ring layer
 * completing every command GOOD, no SCSI, no handler) — the bare cost of
 * the ring and of the simulated kernel — and reports the ratio.  Both runs
 * happen in one invocation, so machine noise affects them alike.  On a
 * machine with two or more CPUs the benchmark thread runs on the first and
 * the thread serving the ring (lunar's command thread, or the bare
 * completer) on the second, in both runs, so that the scheduler cannot put
 * them on one CPU for part of a run.
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

#include "device.h"
#include "handler.h"
#include "log.h"
#include "ring/ring.h"
#include "ring/simring.h"
#include "ring/transport_sim.h"
#include "siminit.h"

#define BLOCK_SIZE 512
#define LAT_BUCKETS 4096	/* 1 us buckets, last one open-ended */
#define SPIN_US_DEFAULT 200	/* poll this long before sleeping */

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
	double until = now_s() + b->o->spin_s;

	while (!simring_has_completions(b->sr)) {
		if (now_s() >= until) {
			if (simring_wait_kick(b->sr, 100) < 0)
				return -EIO;
			until = now_s() + b->o->spin_s;
		}
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
};

/* The bare ring loop: take every command and complete it GOOD. */
static void *completer_main(void *arg)
{
	struct completer *c = arg;
	struct pollfd pfd[2] = {
		{ .fd = simring_user_fd(c->sr), .events = POLLIN },
		{ .fd = c->stop_fd, .events = POLLIN },
	};
	struct ring_result good = { 0 };
	static struct ring_tmr tmr;
	struct ring_cmd cmd;
	uint64_t v;

	for (;;) {
		enum ring_entry_kind kind;
		bool any = false;

		if (poll(pfd, 2, -1) < 0 || pfd[1].revents)
			break;
		if (read(pfd[0].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
		memset(&cmd, 0, sizeof(cmd));
		while (ring_next(&c->ring, &kind, &cmd, &tmr) > 0) {
			if (kind != RING_ENTRY_TMR)
				ring_complete(&c->ring, cmd.cmd_id, &good);
			ring_cmd_release(&cmd);
			any = true;
		}
		v = 1;
		if (any && write(simring_kernel_fd(c->sr), &v, sizeof(v)) < 0)
			break;
	}
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
	pin(c.thread, 1);
	pin(pthread_self(), 0);
	ret = drive(&b, r);
	unpin_self();
	if (write(c.stop_fd, &one, sizeof(one)) < 0)
		ret = -errno;
	pthread_join(c.thread, NULL);
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
	if (siminit_device(si))
		pin(siminit_device(si)->cmdproc, 1);
	pin(pthread_self(), 0);
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
		"  --repeat N           runs of each kind, alternated; medians reported (default 3)\n"
		"  --baseline           also run the bare ring loop and print the ratio\n"
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
	    !o->repeat || o->repeat > 100 || o->spin_s < 0 || o->spin_s > 1)
		return -1;
	return 0;
}

static void print_result(const struct bench_opts *o, const struct result *r,
			 const struct result *base)
{
	if (!o->json) {
		printf("%s %s bs=%u qd=%u: %.0f IOPS, %.1f MB/s, p50 %.1f us, p99 %.1f us\n",
		       o->cfgstring, rw_names[o->rw], o->bs, o->qd, r->iops,
		       r->mbps, r->p50_us, r->p99_us);
		if (base)
			printf("bare ring loop: %.0f IOPS; ratio %.3f\n",
			       base->iops, r->iops / base->iops);
		return;
	}
	printf("{\"cfgstring\":\"%s\",\"rw\":\"%s\",\"bs\":%u,\"qd\":%u,"
	       "\"seconds\":%.1f,\"iops\":%.0f,\"mbps\":%.1f,"
	       "\"lat_us_p50\":%.1f,\"lat_us_p99\":%.1f",
	       o->cfgstring, rw_names[o->rw], o->bs, o->qd, o->seconds,
	       r->iops, r->mbps, r->p50_us, r->p99_us);
	if (base)
		printf(",\"baseline_iops\":%.0f,\"ratio\":%.3f", base->iops,
		       r->iops / base->iops);
	printf("}\n");
}

static int by_iops(const void *a, const void *b)
{
	double x = ((const struct result *)a)->iops;
	double y = ((const struct result *)b)->iops;

	return x < y ? -1 : x > y;
}

/* Alternate lunar and baseline runs so drifting load hits both alike. */
static int run_all(const struct bench_opts *o, struct result *r,
		   struct result *base)
{
	struct result runs[100], bases[100];

	for (unsigned int i = 0; i < o->repeat; i++) {
		if (o->baseline && run_baseline(o, &bases[i])) {
			fprintf(stderr, "baseline run failed\n");
			return -1;
		}
		if (run_lunar(o, &runs[i])) {
			fprintf(stderr, "lunar run failed (see the log above)\n");
			return -1;
		}
	}
	qsort(runs, o->repeat, sizeof(runs[0]), by_iops);
	qsort(bases, o->repeat, sizeof(bases[0]), by_iops);
	*r = runs[o->repeat / 2];
	*base = bases[o->repeat / 2];
	return 0;
}

int main(int argc, char **argv)
{
	struct result r = { 0 }, base = { 0 };
	struct bench_opts o;
	int ret;

	if (parse(argc, argv, &o)) {
		usage(argv[0]);
		return 2;
	}
	log_set_level(TCMU_LOG_WARN);
	if (o.handler_path && handlers_load_dir(o.handler_path) < 0)
		return 1;
	ret = run_all(&o, &r, &base);
	if (!ret)
		print_result(&o, &r, o.baseline ? &base : NULL);
	handlers_unload_all();
	return ret ? 1 : 0;
}
