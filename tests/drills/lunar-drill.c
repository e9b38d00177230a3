/*
 * lunar-drill: failover drills on a real Ceph.  N gateway lunard processes
 * export one RBD image (simulated devices over --sim-socket, each gateway
 * with its own local ALUA target port group); a multipath initiator
 * (mpath.h) writes stamped chunks through them while a scenario hurts the
 * lock owner, and every acknowledged write is checked (ledger.h).
 *
 *   lunar-drill --scenario NAME|all --rounds N [--json] [options]
 *
 * Scenarios: kill (kill -9 of the owner), freeze (SIGSTOP with writes in
 * flight, takeover, SIGCONT), ceph-loss (the owner's Ceph traffic
 * dropped), planned (SET TARGET PORT GROUPS to another gateway), disagree
 * (two initiators preferring different gateways), restart (the owner's
 * lunard restarted).  Ceph's own faults, on a Ceph of three OSDs with two
 * replicas and Ceph's default heartbeat timers ("ceph-faults" runs them
 * all; they need the drill's own Ceph and an initiator timeout longer
 * than Ceph's detection, e.g. Linux's 30 s): osd-stop (an OSD stopped
 * for less than the backend op timeout, then continued), mon-restart (the
 * monitor stopped and started again), osd-hang (an OSD stopped until the
 * monitor marks it down, as when its host vanishes without a word, then
 * continued; one round), osd-kill (an OSD killed; one round:
 * a killed memstore OSD has lost its store, and a second kill could take
 * the surviving replica).  Per scenario: pause_ms (longest acknowledgement gap
 * the initiator saw), takeover_ms (first command on the new gateway to its
 * first acknowledgement), detect_ms (event to first command on the new
 * gateway: the initiator's time to give up the old path), lost and stale
 * writes, lock transitions.  Exit status 0 only when every round passed
 * with no lost or stale write and the goals of report.h held (every
 * scenario's pause bounded, kill/freeze takeover < 5 s, disagree <= 2
 * transitions per minute, one lock move per round of kill, freeze,
 * ceph-loss and planned, none and no failed path or I/O error on a Ceph
 * fault); 77 ("SKIP:") without Ceph.  "all" is every gateway scenario the
 * ALUA type has: planned moves need explicit ALUA.
 *
 * kill-many (--luns N; one round): N LUNs (images drill, drill1, ...), each
 * written by its own initiator preferring gateway 1 and falling back to
 * the others in turn, so a kill of gateway 1 moves every LUN at once,
 * spread over the gateways left.  Each LUN is a round (pause, takeover);
 * also reported: the time from the first LUN served again to the last,
 * what fencing the dead owner cost the monitor (OSD blocklist entries
 * added, OSD map epochs committed, growth of the full OSD map), and any
 * lock a gateway took without an initiator activating it (with
 * --gateways 3 or more: a move between standbys).  Its initiators after the first write at queue depth 2.
 *
 * soak (--soak-s S --soak-period-s P [--luns N]): N LUNs (4; images
 * drill, drill1, ...) on the Ceph-fault cluster, their initiators
 * preferring alternate gateways, and every P seconds for S seconds one
 * fault in turn: kill, freeze, planned (LUN 0 moved) of the gateway
 * serving LUN 0, and a clean restart of the next OSD; every chunk of
 * every LUN read back after each, the gateways' descriptors, sockets,
 * threads and memory sampled (soak.h has the goals).  Its initiator
 * timeout is 10 s unless --io-timeout-ms says otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/budget.h"
#include "gateway.h"
#include "ledger.h"
#include "mpath.h"
#include "procstat.h"
#include "report.h"
#include "soak.h"

#define MAX_GW MPATH_MAX_PATHS
#define MAX_LUNS 512	/* at least 2: disagree's initiators */
#define SOAK_LUNS 4
#define SOAK_MAX_LUNS 8
/*
 * The soak's initiator gives a command 10 s before it fails the path:
 * longer than an OSD restart's pause (~4 s), so only the gateway faults
 * move LUNs, and shorter than Linux's 30 s.
 */
#define SOAK_IO_TIMEOUT_MS 10000
#define IMAGE_SIZE (64ull << 20)
#define QD 8
#define MANY_QD 2	/* kill-many's initiators but the first */
#define CHUNKS_PER_SLOT 8
/* A LUN's chunks in the ledger: room for disagree's two initiators. */
#define CHUNKS_PER_LUN (2 * QD * CHUNKS_PER_SLOT)
#define RECOVER_TIMEOUT_MS 30000
#define STEADY_MS 1000
#define SETTLE_MS 1500
#define DISAGREE_MS 10000

struct drill {
	const char *scenario;
	unsigned int rounds;
	bool json;
	int ngw;
	const char *alua_type;	/* implicit | explicit | both */
	unsigned int io_timeout_ms;
	unsigned int osd_hang_grace_s;	/* 0: Ceph's default timers */
	int64_t osd_hang_down_ms;	/* osd-hang's stop to its OSD down */
	/* The OSD the Ceph faults hurt: the acting primary of the object
	 * every chunk the initiator writes lies in (the first 4 MiB). */
	char victim[32];
	const char *ceph_conf;	/* NULL: start our own */
	const char *cluster_sh;
	char workdir[256];
	char own_conf[320];
	/* LUN k: image drill (k = 0) or drill<k>, written by initiator
	 * mp[k] over paths[k] (devices named lun, lun1, ...); only the
	 * soak writes more than one.  disagree's second initiator mp[1]
	 * shares LUN 0's paths. */
	unsigned int nluns;
	char cfgstring[MAX_LUNS][512];
	char lun_name[MAX_LUNS][16];
	struct mpath_path paths[MAX_LUNS][MAX_GW];
	struct mpath mp[MAX_LUNS];
	int nmp;		/* initiators writing */
	unsigned int soak_s, soak_period_s;
	bool threaded;	/* kill-many's initiators on IO_THREADS */
	unsigned int osd_restarts;	/* the soak's, so far */
	struct gateway_env env;
	struct gateway gw[MAX_GW];
	struct ledger ledger;
};

/* The Ceph faults last, osd-kill at the very end (it cannot be undone). */
static const char *const scenarios[] = {
	"kill", "freeze", "ceph-loss", "planned", "disagree", "restart",
	"osd-stop", "mon-restart", "osd-hang", "osd-kill",
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* Watched after a Ceph fault ends: I/O must flow again and stay up. */
#define CEPH_FAULT_WATCH_MS 5000
/* The pause bound of osd-kill and mon-restart: Ceph's detection of a
 * killed OSD on one host (connection refused: immediate) and peering. */
#define CEPH_FAULT_PAUSE_MS 10000
/*
 * osd-hang stops the OSD until the monitor marks it down — a host that
 * vanished without a word: its peers notice after the heartbeat grace
 * and up to one heartbeat interval more — and OSD_HANG_AFTER_DOWN_MS
 * longer, then continues it (it rejoins).  The drill measures that
 * detection (detect_ms: the stop to the OSD map saying down, polled)
 * and bounds the pause by it plus OSD_HANG_SLACK_MS: the monitor's
 * proposal, peering and lunard's reopen after its command timeout.  A
 * fixed bound of grace + interval + 5 s failed a CI run whose monitor
 * was late (pause 23.5 s against 20 s): the detection alone measured
 * 13.4-19.4 s here (the latter with a busy CPU), the pause 0.7-1.2 s
 * more.  With Ceph's defaults (grace 20 s, interval 6 s;
 * --osd-hang-grace 0) the pause measured 27.9-29.3 s: too close to
 * Linux's 30 s SCSI command timeout for CI, so by default the drill
 * shortens the grace (12 s, interval 3 s: still past lunard's 10 s
 * command timeout and the kernel's 12 s), set at run time for this
 * scenario only.  The monitor must mark the OSD down within twice
 * (grace + interval), or the round fails.
 */
#define OSD_HANG_GRACE_S 12
#define OSD_HANG_INTERVAL_S 3
#define CEPH_GRACE_S 20
#define CEPH_INTERVAL_S 6
#define OSD_HANG_SLACK_MS 5000
#define OSD_HANG_AFTER_DOWN_MS 2000

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --scenario NAME|all [--rounds N] [--json]\n"
		"  [--gateways N] [--alua implicit|explicit|both] [--budget S]\n"
		"  [--io-timeout-ms MS] [--osd-hang-grace S (0: Ceph's default)]\n"
		"  [--ceph-conf PATH] [--lunard PATH]\n"
		"  [--handler-path DIR] [--cluster-script PATH] [--workdir DIR]\n"
		"  [--luns N] (kill-many, soak) [--soak-s S] [--soak-period-s S] (soak)\n"
		"scenarios: kill freeze ceph-loss planned disagree restart\n"
		"  (all: every one of these), osd-stop mon-restart osd-hang\n"
		"  osd-kill (ceph-faults: these four), kill-many, soak\n",
		argv0);
}

/*
 * The initiator sends STPG on failover (explicit ALUA) instead of relying
 * on the gateways' implicit hold-down.
 */
static bool has_stpg(const struct drill *d)
{
	return strcmp(d->alua_type, "implicit") != 0;
}

static bool soaks(const struct drill *d)
{
	return !strcmp(d->scenario, "soak");
}

static bool kills_many(const struct drill *d)
{
	return !strcmp(d->scenario, "kill-many");
}

/* --luns: 1 but for the soak and kill-many; the soak's bounded. */
static bool luns_valid(const struct drill *d)
{
	if (soaks(d))
		return d->nluns <= SOAK_MAX_LUNS;
	if (kills_many(d))
		return d->nluns <= MAX_LUNS;
	return d->nluns == 1;
}

/* Ceph's faults are selected (they need their own Ceph). */
static bool hurts_ceph(const struct drill *d)
{
	return !strcmp(d->scenario, "ceph-faults") || soaks(d) ||
	       report_is_ceph_fault(d->scenario);
}

static int parse_args(struct drill *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "gateways", required_argument, NULL, 'g' },
		{ "alua", required_argument, NULL, 'a' },
		{ "budget", required_argument, NULL, 'b' },
		{ "io-timeout-ms", required_argument, NULL, 't' },
		{ "osd-hang-grace", required_argument, NULL, 'G' },
		{ "ceph-conf", required_argument, NULL, 'c' },
		{ "lunard", required_argument, NULL, 'l' },
		{ "handler-path", required_argument, NULL, 'H' },
		{ "cluster-script", required_argument, NULL, 'C' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "luns", required_argument, NULL, 'L' },
		{ "soak-s", required_argument, NULL, 'S' },
		{ "soak-period-s", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': d->scenario = optarg; break;
		case 'r': d->rounds = (unsigned int)atoi(optarg); break;
		case 'j': d->json = true; break;
		case 'g': d->ngw = atoi(optarg); break;
		case 'a': d->alua_type = optarg; break;
		case 'b': d->env.budget_s = (unsigned int)atoi(optarg); break;
		case 't': d->io_timeout_ms = (unsigned int)atoi(optarg); break;
		case 'G': d->osd_hang_grace_s = (unsigned int)atoi(optarg); break;
		case 'c': d->ceph_conf = optarg; break;
		case 'l': d->env.lunard = optarg; break;
		case 'H': d->env.handler_dir = optarg; break;
		case 'C': d->cluster_sh = optarg; break;
		case 'w': snprintf(d->workdir, sizeof(d->workdir), "%s", optarg); break;
		case 'L': d->nluns = (unsigned int)atoi(optarg); break;
		case 'S': d->soak_s = (unsigned int)atoi(optarg); break;
		case 'P': d->soak_period_s = (unsigned int)atoi(optarg); break;
		default: return -EINVAL;
		}
	}
	if (!d->scenario || (!d->rounds && !soaks(d) && !kills_many(d)) ||
	    d->ngw < 2 || d->ngw > MAX_GW ||
	    (strcmp(d->alua_type, "implicit") && strcmp(d->alua_type, "explicit") &&
	     strcmp(d->alua_type, "both")) || budget_set_s(d->env.budget_s))
		return -EINVAL;
	if (!strcmp(d->scenario, "planned") && !has_stpg(d)) {
		fprintf(stderr, "lunar-drill: planned moves need explicit ALUA (--alua explicit|both)\n");
		return -EINVAL;
	}
	if (!d->nluns)
		d->nluns = soaks(d) ? SOAK_LUNS : 1;
	if (!d->io_timeout_ms)
		d->io_timeout_ms = soaks(d) ? SOAK_IO_TIMEOUT_MS : 1000;
	if (!luns_valid(d) ||
	    (soaks(d) && (d->json || !d->soak_s || !d->soak_period_s))) {
		fprintf(stderr, "lunar-drill: --luns is kill-many's (1-%d) and the soak's (1-%d); the soak needs --soak-s and --soak-period-s and prints text\n",
			MAX_LUNS, SOAK_MAX_LUNS);
		return -EINVAL;
	}
	if (hurts_ceph(d) && d->ceph_conf) {
		fprintf(stderr, "lunar-drill: Ceph faults need the drill's own Ceph (no --ceph-conf)\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * Whether scen is run: named; "all" and a gateway scenario possible with
 * this ALUA type; or "ceph-faults" and a Ceph fault.
 */
static bool selected(const struct drill *d, const char *scen)
{
	if (!strcmp(d->scenario, scen))
		return true;
	if (report_is_ceph_fault(scen))
		return !strcmp(d->scenario, "ceph-faults");
	return !strcmp(d->scenario, "all") && (strcmp(scen, "planned") || has_stpg(d));
}

/* osd-hang's heartbeat grace and interval (Ceph's when not shortened). */
static unsigned int hang_grace_s(const struct drill *d)
{
	return d->osd_hang_grace_s ? d->osd_hang_grace_s : CEPH_GRACE_S;
}

static unsigned int hang_interval_s(const struct drill *d)
{
	return d->osd_hang_grace_s ? OSD_HANG_INTERVAL_S : CEPH_INTERVAL_S;
}

/* How long osd-hang's OSD goes unnoticed at most: grace plus one interval
 * (the wait for the monitor gives it twice that). */
static unsigned int osd_hang_detect_ms(const struct drill *d)
{
	return (hang_grace_s(d) + hang_interval_s(d)) * 1000;
}

/* osd-stop's stop: 2 s less than the backend op timeout, at least 1 s. */
static unsigned int osd_stop_ms(void)
{
	unsigned int op_ms = budget_op_timeout_s() * 1000;

	return op_ms > 3000 ? op_ms - 2000 : 1000;
}

/*
 * The takeover slack of report.h's bounds.  The soak's grows by 1 s a
 * LUN: its LUNs fail over one by one as their initiators notice, and each
 * fence may wait for its own monitor proposal (1 s apart at Ceph's
 * defaults).  kill-many's LUNs fail over together: the slack grows by the
 * spread allowed between the first and the last.
 */
static unsigned int takeover_slack_ms(const struct drill *d)
{
	if (kills_many(d))
		return REPORT_TAKEOVER_SLACK_MS + REPORT_SPREAD_MAX_MS;
	return REPORT_TAKEOVER_SLACK_MS * (d->nluns == 1 ? 1 : d->nluns + 1);
}

/* report.h's bounds for this set-up. */
static struct drill_goals goals_of(const struct drill *d)
{
	return (struct drill_goals){
		.io_timeout_ms = d->io_timeout_ms,
		.holddown_ms = has_stpg(d) ? 0 : budget_holddown_ms(),
		.takeover_slack_ms = takeover_slack_ms(d),
		.planned_pause_ms = REPORT_PLANNED_PAUSE_MS,
		.osd_stop_ms = osd_stop_ms(),
		.ceph_fault_pause_ms = CEPH_FAULT_PAUSE_MS,
		.osd_hang_pause_ms = d->osd_hang_down_ms + OSD_HANG_SLACK_MS,
		.osd_hang_min_ms = hang_grace_s(d) * 1000 / 2,
	};
}

/*
 * Our own Ceph: cluster.sh in the work directory, image "drill", with
 * Ceph's default paxos_propose_interval (cluster.sh shortens it to start
 * faster) so takeovers pay for monitor proposals what they pay in
 * production.  For gateway faults one OSD with short heartbeat timers;
 * for Ceph's own faults three OSDs, two replicas and Ceph's default
 * timers, so the pause is what production would see.  -ENOENT when Ceph
 * is not installed.
 */
static int start_ceph(struct drill *d)
{
	const char *layout = hurts_ceph(d) ? "OSDS=3 POOL_SIZE=2" : "OSDS=1";
	char images[MAX_LUNS * sizeof(" drill999")] = "drill";
	static char cmd[sizeof(images) + 1200];
	/* All OSDs share one host here: let each report a failed peer as
	 * OSDs on different hosts would (the monitor wants two reporters
	 * from different subtrees, host by default). */
	const char *timers = hurts_ceph(d) ?
		"mon osd reporter subtree level = osd\n" :
		"osd heartbeat grace = 3\nosd heartbeat interval = 1\n";
	int st;

	_Static_assert(MAX_LUNS <= 1000, "image names are drill<3 digits>");
	for (unsigned int k = 1; k < d->nluns; k++)
		snprintf(images + strlen(images), sizeof(images) - strlen(images),
			 " drill%u", k);
	snprintf(d->own_conf, sizeof(d->own_conf), "%s/ceph/ceph.conf", d->workdir);
	snprintf(cmd, sizeof(cmd),
		 "%s WITH_MGR=0 POOL=rbd IMG='%s' IMG_SIZE=64M "
		 "EXTRA_CONF='%srbd cache = false\npaxos propose interval = 1' %s start %s/ceph > %s/ceph.log 2>&1",
		 layout, images, timers, d->cluster_sh, d->workdir, d->workdir);
	st = system(cmd);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		return -ENOENT;
	if (st)
		return -EIO;
	d->ceph_conf = d->own_conf;
	return 0;
}

static void stop_ceph(struct drill *d)
{
	char cmd[600];

	if (d->ceph_conf != d->own_conf)
		return;
	snprintf(cmd, sizeof(cmd), "%s purge %s/ceph > /dev/null 2>&1",
		 d->cluster_sh, d->workdir);
	if (system(cmd))
		fprintf(stderr, "lunar-drill: could not remove the drill's Ceph in %s/ceph\n",
			d->workdir);
}

static const char *alua_spec(struct drill *d, int local, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%s;", d->alua_type);

	for (int i = 0; i < d->ngw; i++)
		len += (size_t)snprintf(buf + len, size - len, "%sgw%d:%d%s",
					i ? "," : "", i + 1, i + 1,
					i == local ? ":local" : "");
	return buf;
}

/*
 * An initiator writing LUN lun from its chunk lun_first_chunk on,
 * preferring gateway preferred, then the spread-th of the others.
 */
static int open_initiator(struct drill *d, struct mpath *m, unsigned int lun,
			  int preferred, unsigned int spread,
			  uint32_t lun_first_chunk, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->npaths = d->ngw;
	m->preferred = preferred;
	m->spread = spread;
	m->explicit_alua = has_stpg(d);
	m->io_timeout_ms = d->io_timeout_ms;
	m->cfgstring = d->cfgstring[lun];
	m->size = IMAGE_SIZE;
	m->name = name;
	m->qd = kills_many(d) && lun ? MANY_QD : QD;
	m->chunk_base = lun * CHUNKS_PER_LUN + lun_first_chunk;
	m->lun_first_chunk = lun_first_chunk;
	m->chunks_per_slot = CHUNKS_PER_SLOT;
	m->ledger = &d->ledger;
	m->paths = d->paths[lun];
	return mpath_open(m);
}

#define IO_THREADS 16

struct initiator_run {
	struct drill *d;
	int first;	/* its initiators: first, first + IO_THREADS, ... */
	int64_t until;
};

static void *run_initiators(void *arg)
{
	struct initiator_run *r = arg;

	while (monotonic_ms() < r->until) {
		for (int i = r->first; i < r->d->nmp; i += IO_THREADS)
			mpath_step(&r->d->mp[i]);
		usleep(1000);	/* an initiator activating polls without waiting */
	}
	return NULL;
}

/*
 * kill-many's initiators on IO_THREADS threads, as the kernel handles
 * many multipath devices at once: one loop would serialise their path
 * checks (128 LUNs: seconds), measuring itself; a thread each would take
 * the CPU the gateways need.
 */
static void run_io_threads(struct drill *d, unsigned int ms)
{
	struct initiator_run runs[IO_THREADS];
	pthread_t threads[IO_THREADS];
	int64_t until = monotonic_ms() + ms;
	int n = 0;

	for (; n < IO_THREADS && n < d->nmp; n++) {
		runs[n] = (struct initiator_run){ d, n, until };
		if (pthread_create(&threads[n], NULL, run_initiators, &runs[n]))
			break;
	}
	for (int i = n; i < IO_THREADS && i < d->nmp; i++) {	/* out of threads */
		runs[i] = (struct initiator_run){ d, i, until };
		run_initiators(&runs[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static void run_io(struct drill *d, unsigned int ms)
{
	int64_t until = monotonic_ms() + ms;

	if (d->threaded) {
		run_io_threads(d, ms);
		return;
	}
	while (monotonic_ms() < until)
		for (int i = 0; i < d->nmp; i++)
			mpath_step(&d->mp[i]);
}

/* Lock acquisitions of every gateway but except (-1: of all). */
static unsigned int acquisitions(struct drill *d, int except)
{
	unsigned int n = 0;

	for (int i = 0; i < d->ngw; i++)
		if (i != except)
			n += gateway_lock_acquisitions(&d->gw[i], NULL);
	return n;
}

/* Every gateway running and every path of every initiator logged in. */
static int heal(struct drill *d)
{
	for (int i = 0; i < d->ngw; i++) {
		if (d->gw[i].cut && gateway_restore(&d->gw[i]))
			return -EIO;
		gateway_thaw(&d->gw[i]);
		if (!d->gw[i].pid && gateway_start(&d->gw[i], &d->env))
			return -EIO;
	}
	for (int m = 0; m < d->nmp; m++)
		for (int i = 0; i < d->ngw; i++)
			if (mpath_reconnect(&d->mp[m], i))
				return -EIO;
	return 0;
}

/* Run I/O until an acknowledgement through a path other than old. */
static int64_t await_other_path(struct drill *d, int old)
{
	int64_t until = monotonic_ms() + RECOVER_TIMEOUT_MS;
	struct mpath *m = &d->mp[0];

	while (monotonic_ms() < until) {
		for (int i = 0; i < d->ngw; i++)
			if (i != old && m->st.first_ack_ms[i])
				return m->st.first_ack_ms[i];
		run_io(d, 5);
	}
	return 0;
}

static void hurt(struct drill *d, const char *scen, int owner)
{
	struct gateway *g = &d->gw[owner];

	if (!strcmp(scen, "kill")) {
		gateway_kill(g);
	} else if (!strcmp(scen, "freeze")) {
		gateway_freeze(g);
	} else if (!strcmp(scen, "ceph-loss")) {
		gateway_cut(g);
	} else if (!strcmp(scen, "restart")) {
		gateway_stop(g);
		gateway_start(g, &d->env);
	} else if (!strcmp(scen, "planned")) {
		int to = (owner + 1) % d->ngw;

		mpath_activate(&d->mp[0], to);
	}
}

/*
 * Write a while, then start measuring: the path in use before the event,
 * or -1 (logged) when there is none.
 */
static int begin_round(struct drill *d, const char *scen)
{
	struct mpath *m = &d->mp[0];

	run_io(d, 300);
	if (m->cur < 0) {
		fprintf(stderr, "lunar-drill: %s: no path in use before the event\n", scen);
		return -1;
	}
	mpath_mark(m);
	return m->cur;
}

/* Lock acquisitions of each gateway so far (all LUNs). */
static void gateway_acquisitions(const struct drill *d, unsigned int acq[MAX_GW])
{
	for (int i = 0; i < d->ngw; i++)
		acq[i] = gateway_lock_acquisitions(&d->gw[i], NULL);
}

/* Acquisitions since acq0 by gateways other than owner and activated. */
static unsigned int standby_acquisitions(const struct drill *d,
					 const unsigned int acq0[MAX_GW],
					 int owner, int activated)
{
	unsigned int acq[MAX_GW], n = 0;

	gateway_acquisitions(d, acq);
	for (int i = 0; i < d->ngw; i++)
		if (i != owner && i != activated)
			n += acq[i] - acq0[i];
	return n;
}

/*
 * One round of a failover scenario; false if I/O never came back.  Adds
 * to *standby the locks taken by a gateway the initiator did not turn to.
 */
static bool failover_round(struct drill *d, const char *scen, struct round *r,
			   unsigned int *standby)
{
	struct mpath *m = &d->mp[0];
	int owner = begin_round(d, scen);
	unsigned int acq0[MAX_GW];
	int64_t t0, acked;

	if (owner < 0)
		return false;
	gateway_acquisitions(d, acq0);
	t0 = monotonic_ms();
	hurt(d, scen, owner);
	acked = await_other_path(d, owner);
	if (!acked) {
		fprintf(stderr, "lunar-drill: %s: no write acknowledged through another gateway within %d ms\n",
			scen, RECOVER_TIMEOUT_MS);
		return false;
	}
	run_io(d, STEADY_MS);
	r->pause_ms = m->st.max_gap_ms;
	for (int i = 0; i < d->ngw; i++)
		if (i != owner && m->st.first_ack_ms[i] == acked) {
			r->detect_ms = m->st.first_cmd_ms[i] - t0;
			r->takeover_ms = acked - m->st.first_cmd_ms[i];
			*standby += standby_acquisitions(d, acq0, owner, i);
			break;
		}
	heal(d);
	run_io(d, SETTLE_MS);
	return true;
}

/*
 * "cluster.sh VERB DIR ARGS" on the drill's Ceph while the initiator
 * writes on.  0, or -EIO when the script failed.
 */
static int ceph_ctl(struct drill *d, const char *verb, const char *args)
{
	char cmd[900];
	pid_t pid;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s %s/ceph %s >> %s/ceph.log 2>&1",
		 d->cluster_sh, verb, d->workdir, args, d->workdir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0)
		run_io(d, 5);
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

static int signal_victim(struct drill *d, const char *sig)
{
	char args[64];

	snprintf(args, sizeof(args), "%s %s", d->victim, sig);
	return ceph_ctl(d, "signal", args);
}

/* Stop the victim OSD for ms of I/O, then continue it. */
static int stop_victim(struct drill *d, unsigned int ms)
{
	int ret = signal_victim(d, "STOP");

	if (ret)
		return ret;
	run_io(d, ms);
	return signal_victim(d, "CONT");
}

/* d->victim from cluster.sh primary; 0 or -EIO. */
static int find_victim(struct drill *d)
{
	char cmd[700];
	FILE *out;
	int ok;

	snprintf(cmd, sizeof(cmd), "%s primary %s/ceph rbd/drill 2>> %s/ceph.log",
		 d->cluster_sh, d->workdir, d->workdir);
	out = popen(cmd, "r");
	if (!out)
		return -EIO;
	ok = fgets(d->victim, sizeof(d->victim), out) != NULL;
	if (pclose(out) || !ok || strncmp(d->victim, "osd.", 4))
		return -EIO;
	d->victim[strcspn(d->victim, "\n")] = '\0';
	return 0;
}

/* Ceph's heartbeat timers for osd-hang; 0 0: back to the defaults. */
static int set_heartbeat(struct drill *d, unsigned int grace_s,
			 unsigned int interval_s)
{
	char grace[64], interval[64];
	int ret;

	if (!grace_s)
		return ceph_ctl(d, "config", "rm global osd_heartbeat_grace") ?:
		       ceph_ctl(d, "config", "rm global osd_heartbeat_interval");
	snprintf(grace, sizeof(grace), "set global osd_heartbeat_grace %u", grace_s);
	snprintf(interval, sizeof(interval), "set global osd_heartbeat_interval %u",
		 interval_s);
	ret = ceph_ctl(d, "config", grace) ?: ceph_ctl(d, "config", interval);
	run_io(d, 2 * interval_s * 1000);	/* every OSD has them */
	return ret;
}

/*
 * Stop the victim until the monitor marks it down (d->osd_hang_down_ms),
 * then OSD_HANG_AFTER_DOWN_MS more; continue it in any case.
 */
static int hang_victim(struct drill *d)
{
	int64_t t0 = monotonic_ms();
	char args[64];
	int ret = signal_victim(d, "STOP");

	if (ret)
		return ret;
	snprintf(args, sizeof(args), "%s %u", d->victim,
		 2 * osd_hang_detect_ms(d) / 1000);
	ret = ceph_ctl(d, "wait-down", args);
	if (!ret) {
		d->osd_hang_down_ms = monotonic_ms() - t0;
		run_io(d, OSD_HANG_AFTER_DOWN_MS);
	}
	return signal_victim(d, "CONT") ?: ret;
}

/* osd-hang (see OSD_HANG_GRACE_S). */
static int hang_osd(struct drill *d)
{
	int ret = 0;

	if (d->osd_hang_grace_s)
		ret = set_heartbeat(d, d->osd_hang_grace_s, OSD_HANG_INTERVAL_S);
	if (!ret)
		ret = hang_victim(d);
	if (!ret && d->osd_hang_grace_s)
		ret = set_heartbeat(d, 0, 0);
	return ret;
}

/* Hurt Ceph as scen says, with I/O going on throughout. */
static int hurt_ceph(struct drill *d, const char *scen)
{
	if (!strcmp(scen, "osd-stop"))
		return stop_victim(d, osd_stop_ms());
	if (!strcmp(scen, "osd-hang"))
		return hang_osd(d);
	if (!strcmp(scen, "mon-restart"))
		return ceph_ctl(d, "restart", "mon.a");
	return signal_victim(d, "KILL");
}

/* One round of a Ceph fault: the owner serves on, nothing moves. */
static bool ceph_fault_round(struct drill *d, const char *scen, struct round *r)
{
	struct mpath *m = &d->mp[0];

	if (begin_round(d, scen) < 0)
		return false;
	if (hurt_ceph(d, scen)) {
		fprintf(stderr, "lunar-drill: %s: cluster.sh failed (see %s/ceph.log)\n",
			scen, d->workdir);
		return false;
	}
	run_io(d, CEPH_FAULT_WATCH_MS);
	r->pause_ms = m->st.max_gap_ms;
	if (!strcmp(scen, "osd-hang"))
		r->detect_ms = d->osd_hang_down_ms;
	return true;
}

/* Two initiators preferring different gateways write side by side. */
static bool disagree_round(struct drill *d, struct round *r)
{
	mpath_mark(&d->mp[0]);
	mpath_mark(&d->mp[1]);
	run_io(d, DISAGREE_MS);
	r->pause_ms = d->mp[0].st.max_gap_ms > d->mp[1].st.max_gap_ms ?
		      d->mp[0].st.max_gap_ms : d->mp[1].st.max_gap_ms;
	return true;
}

/* What the initiators and the read-backs counted so far. */
struct tally {
	uint64_t lost, stale, checked, acks, io_errors, path_failures;
	int64_t ms;
};

static struct tally take_tally(const struct drill *d)
{
	struct tally t = {
		.lost = d->ledger.lost, .stale = d->ledger.stale,
		.checked = d->ledger.checked, .ms = monotonic_ms(),
	};

	for (int m = 0; m < d->nmp; m++) {
		t.acks += d->mp[m].st.acks;
		t.io_errors += d->mp[m].st.io_errors;
		t.path_failures += d->mp[m].st.path_failures;
	}
	return t;
}

/* Add what was counted since before to rep. */
static void add_tally(struct scenario_report *rep, const struct drill *d,
		      const struct tally *before)
{
	struct tally now = take_tally(d);

	rep->verified += now.checked - before->checked;
	rep->acked += now.acks - before->acks;
	rep->lost += now.lost - before->lost;
	rep->stale += now.stale - before->stale;
	rep->io_errors += now.io_errors - before->io_errors;
	rep->path_failures += now.path_failures - before->path_failures;
	rep->duration_ms += now.ms - before->ms;
}

/* Read every chunk of every initiator back; false if one did not finish. */
static bool verify_all(struct drill *d, const char *scen)
{
	for (int m = 0; m < d->nmp; m++)
		if (mpath_verify(&d->mp[m])) {
			fprintf(stderr, "lunar-drill: %s: read-back of %s did not complete\n",
				scen, d->mp[m].name);
			return false;
		}
	return true;
}

static int run_scenario(struct drill *d, const char *scen, struct scenario_report *rep)
{
	bool disagree = !strcmp(scen, "disagree");
	unsigned int acq0;
	int stayer = -1;
	struct tally before;
	/* A killed memstore OSD does not come back, and a hang takes 30 s:
	 * one round. */
	unsigned int rounds = !strcmp(scen, "osd-kill") ||
			      !strcmp(scen, "osd-hang") ? 1 : d->rounds;

	report_init(rep, scen);
	d->nmp = disagree ? 2 : 1;
	if (disagree && open_initiator(d, &d->mp[1], 0, 1, 0, QD * CHUNKS_PER_SLOT,
				       "initiator B"))
		return -EIO;
	before = take_tally(d);
	/*
	 * On a Ceph fault the lock must stay with the gateway serving before
	 * it (which may re-take its own lock when it reopens the image after
	 * a command timeout): moves are other gateways' acquisitions.
	 */
	if (report_is_ceph_fault(scen)) {
		run_io(d, 300);
		stayer = d->mp[0].cur;
	}
	acq0 = acquisitions(d, stayer);
	for (unsigned int i = 0; i < rounds; i++) {
		struct round r = { 0 };
		bool ok = disagree ? disagree_round(d, &r) :
			  report_is_ceph_fault(scen) ? ceph_fault_round(d, scen, &r) :
			  failover_round(d, scen, &r, &rep->standby_moves);

		report_round(rep, &r, ok && verify_all(d, scen));
		/* A no-op after a full round; repairs one that ended early. */
		if (heal(d))
			return -EIO;
	}
	add_tally(rep, d, &before);
	rep->transitions = acquisitions(d, stayer) - acq0;
	d->nmp = 1;
	return 0;
}

/* LUN k's image, cfgstring, device names and paths. */
static void name_lun(struct drill *d, unsigned int k)
{
	char image[24];

	snprintf(d->lun_name[k], sizeof(d->lun_name[k]), k ? "lun%u" : "lun", k);
	snprintf(image, sizeof(image), k ? "drill%u" : "drill", k);
	snprintf(d->cfgstring[k], sizeof(d->cfgstring[k]), "rbd/rbd/%s;conf=%s",
		 image, d->ceph_conf);
	for (int i = 0; i < d->ngw; i++) {
		d->paths[k][i].sock = d->gw[i].sock;
		d->paths[k][i].name = d->lun_name[k];
		alua_spec(d, i, d->paths[k][i].alua, sizeof(d->paths[k][i].alua));
	}
}

/*
 * One initiator per LUN.  In the soak their preferred gateways alternate,
 * so each gateway owns some; in kill-many all prefer gateway 1 and fall
 * back to the others in turn.
 */
static int open_initiators(struct drill *d)
{
	int ret = 0;

	for (unsigned int k = 0; !ret && k < d->nluns; k++)
		ret = open_initiator(d, &d->mp[k], k,
				     kills_many(d) ? 0 : (int)k % d->ngw, k, 0,
				     d->nluns > 1 ? d->lun_name[k] : "initiator A");
	d->nmp = (int)d->nluns;
	return ret;
}

static int setup(struct drill *d)
{
	int ret;

	if (!d->workdir[0]) {
		snprintf(d->workdir, sizeof(d->workdir), "/tmp/lunar-drill.XXXXXX");
		if (!mkdtemp(d->workdir))
			return -errno;
	}
	if (!d->ceph_conf) {
		ret = start_ceph(d);
		if (!ret && hurts_ceph(d))
			ret = find_victim(d);
		if (ret)
			return ret;
	}
	d->env.workdir = d->workdir;
	for (unsigned int k = 0; k < d->nluns; k++)
		name_lun(d, k);
	for (int i = 0; i < d->ngw; i++) {
		ret = gateway_init(&d->gw[i], &d->env, i);
		if (!ret)
			ret = gateway_start(&d->gw[i], &d->env);
		if (ret)
			return ret;
	}
	ret = ledger_init(&d->ledger, d->nluns * CHUNKS_PER_LUN);
	if (!ret)
		ret = open_initiators(d);
	return ret;
}

static void teardown(struct drill *d)
{
	for (unsigned int k = 0; k < d->nluns; k++)
		if (d->mp[k].paths)
			mpath_drop_paths(&d->mp[k]);
	for (int i = 0; i < d->ngw; i++) {
		gateway_restore(&d->gw[i]);
		gateway_stop(&d->gw[i]);
	}
	stop_ceph(d);
	ledger_free(&d->ledger);
}

/* Lock acquisitions of every LUN on every gateway so far. */
static void lun_acquisitions(const struct drill *d, unsigned int acq[MAX_LUNS][MAX_GW])
{
	for (unsigned int k = 0; k < d->nluns; k++)
		for (int i = 0; i < d->ngw; i++)
			acq[k][i] = gateway_lock_acquisitions(&d->gw[i], d->lun_name[k]);
}

/* ---- kill-many -------------------------------------------------------- */

#define MANY_WARMUP_MS 30000

/* What fencing has put in the OSD map so far. */
struct fence_count {
	int entries;	/* blocklist entries; -1 unknown */
	int epoch;	/* OSD map epoch; -1 unknown */
	long map_bytes;	/* the full OSD map, encoded; -1 unknown */
};

/* The first number after key in the output of "ceph -c CONF args", or -1. */
static int ceph_number(const struct drill *d, const char *args, const char *key)
{
	char cmd[700], line[512];
	const char *at;
	int n = -1;
	FILE *out;

	snprintf(cmd, sizeof(cmd), "ceph -c %s %s 2>&1", d->ceph_conf, args);
	out = popen(cmd, "r");
	if (!out)
		return -1;
	while (fgets(line, sizeof(line), out))
		if ((at = strstr(line, key)) && sscanf(at + strlen(key), "%d", &n) == 1)
			break;
	pclose(out);
	return n;
}

/* The size of the current full OSD map (what a new client fetches). */
static long osdmap_bytes(const struct drill *d)
{
	char path[sizeof(d->workdir) + 16], cmd[sizeof(path) + 700];
	struct stat st;

	snprintf(path, sizeof(path), "%s/osdmap", d->workdir);
	snprintf(cmd, sizeof(cmd), "ceph -c %s osd getmap -o %s >/dev/null 2>&1",
		 d->ceph_conf, path);
	if (system(cmd) || stat(path, &st))
		return -1;
	return (long)st.st_size;
}

static struct fence_count count_fences(const struct drill *d)
{
	return (struct fence_count){
		.entries = ceph_number(d, "osd blocklist ls", "listed "),
		.epoch = ceph_number(d, "osd stat -f json", "\"epoch\":"),
		.map_bytes = osdmap_bytes(d),
	};
}

static long fence_delta(long before, long after)
{
	return before < 0 || after < 0 ? -1 : after - before;
}

/*
 * I/O until every initiator writes through gateway 1 (it owns them all).
 * One loop: the LUNs activated one after the other, not all at once.
 */
static bool all_on_first_gateway(struct drill *d)
{
	int64_t until = monotonic_ms() + MANY_WARMUP_MS;

	while (monotonic_ms() < until) {
		int on = 0;

		run_io(d, 100);
		for (int k = 0; k < d->nmp; k++)
			on += d->mp[k].cur == 0 && d->mp[k].st.first_ack_ms[0];
		if (on == d->nmp)
			return true;
	}
	return false;
}

/* The gateway LUN k's initiator was first acknowledged on after the kill
 * of gateway 1 (-1: none yet), and when. */
static int served_again(const struct drill *d, unsigned int k, int64_t *at)
{
	const struct mpath_stats *st = &d->mp[k].st;
	int to = -1;

	for (int i = 1; i < d->ngw; i++)
		if (st->first_ack_ms[i] && (to < 0 || st->first_ack_ms[i] < *at)) {
			to = i;
			*at = st->first_ack_ms[i];
		}
	return to;
}

static bool all_served_again(const struct drill *d)
{
	int64_t at = 0;

	for (unsigned int k = 0; k < d->nluns; k++)
		if (served_again(d, k, &at) < 0)
			return false;
	return true;
}

/*
 * Each LUN's round and lock moves after the kill (acquisitions acq0
 * before it, at t0): moved once to the gateway its initiator turned to,
 * never to another.
 */
static void report_luns(struct drill *d, struct scenario_report *rep,
			unsigned int acq0[MAX_LUNS][MAX_GW], int64_t t0)
{
	unsigned int acq[MAX_LUNS][MAX_GW];
	int64_t first = 0, last = 0;

	lun_acquisitions(d, acq);
	for (unsigned int k = 0; k < d->nluns; k++) {
		const struct mpath_stats *st = &d->mp[k].st;
		int64_t at = 0;
		int to = served_again(d, k, &at);
		struct round r = { 0 };

		if (to < 0) {
			fprintf(stderr, "lunar-drill: kill-many: %s was not served again\n",
				d->lun_name[k]);
			rep->not_served++;
			report_round(rep, &r, false);
			continue;
		}
		r.pause_ms = st->max_gap_ms;
		r.detect_ms = st->first_cmd_ms[to] - t0;
		r.takeover_ms = at - st->first_cmd_ms[to];
		report_round(rep, &r, true);
		first = !first || at < first ? at : first;
		last = at > last ? at : last;
		for (int i = 1; i < d->ngw; i++) {
			if (i == to)
				rep->transitions += acq[k][i] - acq0[k][i];
			else
				rep->standby_moves += acq[k][i] - acq0[k][i];
		}
	}
	rep->spread_ms = last - first;
}

/* kill-many (see the top of this file). */
static int run_kill_many(struct drill *d, struct scenario_report *rep)
{
	unsigned int acq0[MAX_LUNS][MAX_GW];
	struct fence_count f0, f1;
	struct tally before;
	int64_t t0, until;

	report_init(rep, "kill-many");
	if (!all_on_first_gateway(d)) {
		fprintf(stderr, "lunar-drill: kill-many: not every LUN was served by gateway 1 within %d ms\n",
			MANY_WARMUP_MS);
		return -EIO;
	}
	d->threaded = true;
	for (int k = 0; k < d->nmp; k++)
		mpath_mark(&d->mp[k]);
	before = take_tally(d);
	lun_acquisitions(d, acq0);
	f0 = count_fences(d);
	t0 = monotonic_ms();
	gateway_kill(&d->gw[0]);
	until = t0 + RECOVER_TIMEOUT_MS;
	while (!all_served_again(d) && monotonic_ms() < until)
		run_io(d, 100);
	run_io(d, STEADY_MS);
	f1 = count_fences(d);
	rep->fence_entries = (int)fence_delta(f0.entries, f1.entries);
	rep->fence_epochs = (int)fence_delta(f0.epoch, f1.epoch);
	rep->fence_map_bytes = fence_delta(f0.map_bytes, f1.map_bytes);
	d->threaded = false;
	report_luns(d, rep, acq0, t0);
	if (heal(d) || !verify_all(d, "kill-many"))
		rep->failed++;
	add_tally(rep, d, &before);
	return 0;
}

/* ---- the soak (soak.h) ---------------------------------------------- */

/* The soak's I/O after each fault before it is healed and checked. */
#define SOAK_WATCH_MS 5000
#define SOAK_WARMUP_MS 3000
#define SOAK_OSDS 3

/*
 * Whether fault moves LUN lun, served by gateway served, to another
 * gateway: a kill or freeze moves every LUN of the victim; a planned
 * move LUN 0 alone.
 */
static bool moves_lun(const char *fault, unsigned int lun, int served, int victim)
{
	if (!strcmp(fault, "planned"))
		return lun == 0;
	return !report_is_ceph_fault(fault) && served == victim;
}

/*
 * Lock moves no fault called for, from the acquisitions before (acq0)
 * and who served each LUN then (served): a LUN the fault moves
 * (moves_lun) is taken once by another gateway, any other LUN by none;
 * on a gateway fault nobody re-takes a lock it held (the frozen victim
 * thawed must not), while on Ceph's a server may, reopening its image.
 */
static unsigned int unexpected_moves(const struct drill *d, const char *fault,
				     int victim, const int served[MAX_LUNS],
				     unsigned int acq0[MAX_LUNS][MAX_GW])
{
	bool gateway_fault = !report_is_ceph_fault(fault);

	unsigned int acq[MAX_LUNS][MAX_GW], bad = 0;

	lun_acquisitions(d, acq);
	for (unsigned int k = 0; k < d->nluns; k++) {
		unsigned int moved = 0, retaken = 0, due;

		for (int i = 0; i < d->ngw; i++) {
			if (i == served[k])
				retaken += acq[k][i] - acq0[k][i];
			else
				moved += acq[k][i] - acq0[k][i];
		}
		due = moves_lun(fault, k, served[k], victim) ? 1 : 0;
		bad += (moved > due ? moved - due : due - moved) +
		       (gateway_fault ? retaken : 0);
	}
	return bad;
}

/* Hurt as fault says: the gateway scenarios' hurt(), or an OSD restart. */
static int soak_hurt(struct drill *d, const char *fault, int victim)
{
	char osd[16];

	if (!strcmp(fault, "osd-restart")) {
		snprintf(osd, sizeof(osd), "osd.%u", d->osd_restarts++ % SOAK_OSDS);
		return ceph_ctl(d, "restart", osd);
	}
	hurt(d, fault, victim);
	return 0;
}

/* One soak fault on the gateway serving LUN 0, or on Ceph. */
static bool soak_round(struct drill *d, const char *fault, struct round *r,
		       unsigned int *moves)
{
	bool gateway_fault = !report_is_ceph_fault(fault);
	unsigned int acq0[MAX_LUNS][MAX_GW];
	int served[MAX_LUNS], victim = begin_round(d, fault);
	bool ok;

	if (victim < 0)
		return false;
	for (int k = 0; k < d->nmp; k++) {
		mpath_mark(&d->mp[k]);
		served[k] = d->mp[k].cur;
	}
	lun_acquisitions(d, acq0);
	ok = !soak_hurt(d, fault, victim);
	if (ok && gateway_fault && !await_other_path(d, victim)) {
		fprintf(stderr, "lunar-drill: soak %s: no write acknowledged through another gateway within %d ms\n",
			fault, RECOVER_TIMEOUT_MS);
		ok = false;
	}
	run_io(d, SOAK_WATCH_MS);
	for (int k = 0; k < d->nmp; k++)
		if (d->mp[k].st.max_gap_ms > r->pause_ms)
			r->pause_ms = d->mp[k].st.max_gap_ms;
	if (heal(d))
		return false;
	run_io(d, SETTLE_MS);
	*moves = unexpected_moves(d, fault, victim, served, acq0);
	return ok && verify_all(d, fault);
}

/* Sample every gateway's process; count the ones that ended by themselves. */
static void sample_gateways(struct drill *d, struct soak_report *s)
{
	struct proc_sample ps;

	for (int i = 0; i < d->ngw; i++) {
		if (gateway_exited(&d->gw[i]))
			s->crashes++;
		else if (d->gw[i].pid > 0 && !procstat_read(d->gw[i].pid, &ps))
			soak_sample(s, i, d->gw[i].pid, &ps);
	}
}

/* The soak: one fault every period, in turn, for soak_s seconds. */
static int run_soak(struct drill *d, struct soak_report *s)
{
	int64_t start = monotonic_ms(), end = start + d->soak_s * 1000ll;

	soak_init(s, d->nluns, SOAK_OSDS);
	run_io(d, SOAK_WARMUP_MS);	/* every LUN's lock taken */
	sample_gateways(d, s);
	for (unsigned int n = 0; monotonic_ms() < end; n++) {
		const char *fault = soak_faults[n % SOAK_NFAULTS];
		struct scenario_report *rep = soak_fault(s, fault);
		int64_t next = monotonic_ms() + d->soak_period_s * 1000ll;
		struct tally before = take_tally(d);
		struct round r = { 0 };
		unsigned int moves = 0;
		bool ok = soak_round(d, fault, &r, &moves);

		report_round(rep, &r, ok);
		rep->transitions += moves;
		s->unexpected_moves += moves;
		/* A no-op after a full round; repairs one that ended early. */
		if (heal(d))
			return -EIO;
		sample_gateways(d, s);
		if (monotonic_ms() < next)
			run_io(d, (unsigned int)(next - monotonic_ms()));
		add_tally(rep, d, &before);
	}
	s->duration_ms = monotonic_ms() - start;
	return 0;
}

/*
 * Every gateway stopped cleanly each time it was asked to and no
 * sanitizer reported anything in any of them (killed ones included).
 */
static bool gateways_clean(const struct drill *d)
{
	char line[512];
	bool clean = true;

	for (int i = 0; i < d->ngw; i++) {
		if (d->gw[i].unclean)
			clean = false;
		if (gateway_sanitizer_report(&d->gw[i], line, sizeof(line))) {
			fprintf(stderr, "lunar-drill: gateway %d: %s", i + 1, line);
			clean = false;
		}
	}
	return clean;
}

int main(int argc, char **argv)
{
	/* Static: an initiator per LUN is too big for the stack. */
	static struct drill d = {
		.ngw = 2, .alua_type = "both",
		.osd_hang_grace_s = OSD_HANG_GRACE_S,
		.cluster_sh = DRILL_CLUSTER_SH,
		.env = { .lunard = DRILL_LUNARD, .handler_dir = DRILL_HANDLER_DIR,
			 .budget_s = 10 },
	};
	struct scenario_report reps[NSCENARIOS];
	static struct soak_report soak;
	struct drill_goals goals;
	int n = 0, missed, ret;

	if (parse_args(&d, argc, argv)) {
		usage(argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ret = setup(&d);
	if (!ret && soaks(&d))
		ret = run_soak(&d, &soak);
	if (!ret && kills_many(&d))
		ret = run_kill_many(&d, &reps[n++]);
	for (size_t i = 0; !ret && i < NSCENARIOS; i++)
		if (selected(&d, scenarios[i]))
			ret = run_scenario(&d, scenarios[i], &reps[n++]);
	teardown(&d);
	if (ret == -ENOENT && !d.ceph_conf) {
		printf("SKIP: Ceph is not installed (apt-get install ceph-mon ceph-osd ceph-common)\n");
		return 77;
	}
	if (ret) {
		fprintf(stderr, "lunar-drill: %s; logs in %s\n", strerror(-ret), d.workdir);
		return 1;
	}
	if (!n && !soaks(&d)) {
		usage(argv[0]);
		return 2;
	}
	goals = goals_of(&d);
	missed = soaks(&d) ? soak_print(&soak, &goals) :
		 report_print(reps, n, d.json, d.env.budget_s, d.alua_type, &goals);
	if (missed)
		fprintf(stderr, "lunar-drill: goals missed; logs in %s\n", d.workdir);
	if (!gateways_clean(&d)) {
		fprintf(stderr, "lunar-drill: a gateway crashed or a sanitizer reported (above); logs in %s\n",
			d.workdir);
		return 1;
	}
	return missed ? 1 : 0;
}
