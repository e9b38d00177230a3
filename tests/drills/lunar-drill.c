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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/budget.h"
#include "gateway.h"
#include "ledger.h"
#include "mpath.h"
#include "report.h"

#define MAX_GW MPATH_MAX_PATHS
#define IMAGE_SIZE (64ull << 20)
#define QD 8
#define CHUNKS_PER_SLOT 8
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
	/* The OSD the Ceph faults hurt: the acting primary of the object
	 * every chunk the initiator writes lies in (the first 4 MiB). */
	char victim[32];
	const char *ceph_conf;	/* NULL: start our own */
	const char *cluster_sh;
	char workdir[256];
	char own_conf[320];
	char cfgstring[512];
	struct gateway_env env;
	struct gateway gw[MAX_GW];
	struct ledger ledger;
	struct mpath_path paths[MAX_GW];
	struct mpath mp[2];
	int nmp;
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
 * osd-hang stops the OSD until past the heartbeat grace and its peers'
 * next check (up to one heartbeat interval), so the monitor marks it
 * down — a host that vanished without a word — then continues it (it
 * rejoins).  Its pause bound: that detection plus the monitor's proposal
 * (1 s), peering and lunard's reopen after its command timeout.  With
 * Ceph's defaults (grace 20 s, interval 6 s; --osd-hang-grace 0) the
 * bound is 31 s, past Linux's 30 s SCSI command timeout, which is then
 * the one that counts; the pause measured 27.9-29.3 s: too close to that
 * timeout for CI, so by default the drill shortens the
 * grace (12 s, interval 3 s: still past lunard's 10 s command timeout
 * and the kernel's 12 s), set at run time for this scenario only.
 */
#define OSD_HANG_GRACE_S 12
#define OSD_HANG_INTERVAL_S 3
#define CEPH_GRACE_S 20
#define CEPH_INTERVAL_S 6
#define OSD_HANG_SLACK_MS 5000

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --scenario NAME|all [--rounds N] [--json]\n"
		"  [--gateways N] [--alua implicit|explicit|both] [--budget S]\n"
		"  [--io-timeout-ms MS] [--osd-hang-grace S (0: Ceph's default)]\n"
		"  [--ceph-conf PATH] [--lunard PATH]\n"
		"  [--handler-path DIR] [--cluster-script PATH] [--workdir DIR]\n"
		"scenarios: kill freeze ceph-loss planned disagree restart\n"
		"  (all: every one of these), osd-stop mon-restart osd-hang\n"
		"  osd-kill (ceph-faults: these four)\n",
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

/* The Ceph-fault scenarios are selected (they need their own Ceph). */
static bool hurts_ceph(const struct drill *d)
{
	return !strcmp(d->scenario, "ceph-faults") ||
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
		default: return -EINVAL;
		}
	}
	if (!d->scenario || !d->rounds || d->ngw < 2 || d->ngw > MAX_GW ||
	    (strcmp(d->alua_type, "implicit") && strcmp(d->alua_type, "explicit") &&
	     strcmp(d->alua_type, "both")) || budget_set_s(d->env.budget_s))
		return -EINVAL;
	if (!strcmp(d->scenario, "planned") && !has_stpg(d)) {
		fprintf(stderr, "lunar-drill: planned moves need explicit ALUA (--alua explicit|both)\n");
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

/* The longest osd-hang's OSD may go unnoticed: grace plus one interval. */
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

/* report.h's bounds for this set-up. */
static struct drill_goals goals_of(const struct drill *d)
{
	return (struct drill_goals){
		.io_timeout_ms = d->io_timeout_ms,
		.holddown_ms = has_stpg(d) ? 0 : budget_holddown_ms(),
		.takeover_slack_ms = REPORT_TAKEOVER_SLACK_MS,
		.planned_pause_ms = REPORT_PLANNED_PAUSE_MS,
		.osd_stop_ms = osd_stop_ms(),
		.ceph_fault_pause_ms = CEPH_FAULT_PAUSE_MS,
		.osd_hang_pause_ms = osd_hang_detect_ms(d) + OSD_HANG_SLACK_MS,
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
	/* All OSDs share one host here: let each report a failed peer as
	 * OSDs on different hosts would (the monitor wants two reporters
	 * from different subtrees, host by default). */
	const char *timers = hurts_ceph(d) ?
		"mon osd reporter subtree level = osd\n" :
		"osd heartbeat grace = 3\nosd heartbeat interval = 1\n";
	char cmd[1024];
	int st;

	snprintf(d->own_conf, sizeof(d->own_conf), "%s/ceph/ceph.conf", d->workdir);
	snprintf(cmd, sizeof(cmd),
		 "%s WITH_MGR=0 POOL=rbd IMG=drill IMG_SIZE=64M "
		 "EXTRA_CONF='%srbd cache = false\npaxos propose interval = 1' %s start %s/ceph > %s/ceph.log 2>&1",
		 layout, timers, d->cluster_sh, d->workdir, d->workdir);
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

static int open_initiator(struct drill *d, struct mpath *m, int preferred,
			  uint32_t chunk_base)
{
	memset(m, 0, sizeof(*m));
	m->npaths = d->ngw;
	m->preferred = preferred;
	m->explicit_alua = has_stpg(d);
	m->io_timeout_ms = d->io_timeout_ms;
	m->cfgstring = d->cfgstring;
	m->size = IMAGE_SIZE;
	m->name = preferred ? "initiator B" : "initiator A";
	m->qd = QD;
	m->chunk_base = chunk_base;
	m->chunks_per_slot = CHUNKS_PER_SLOT;
	m->ledger = &d->ledger;
	m->paths = d->paths;
	return mpath_open(m);
}

static void run_io(struct drill *d, unsigned int ms)
{
	int64_t until = monotonic_ms() + ms;

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
			n += gateway_lock_acquisitions(&d->gw[i]);
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

		mpath_stpg(&d->mp[0], to);
		d->mp[0].cur = -1;	/* scsi_dh_alua re-reads the groups */
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

/* One round of a failover scenario; false if I/O never came back. */
static bool failover_round(struct drill *d, const char *scen, struct round *r)
{
	struct mpath *m = &d->mp[0];
	int owner = begin_round(d, scen);
	int64_t t0, acked;

	if (owner < 0)
		return false;
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

/* osd-hang (see OSD_HANG_GRACE_S). */
static int hang_osd(struct drill *d)
{
	int ret = 0;

	if (d->osd_hang_grace_s)
		ret = set_heartbeat(d, d->osd_hang_grace_s, OSD_HANG_INTERVAL_S);
	if (!ret)
		ret = stop_victim(d, osd_hang_detect_ms(d) + OSD_HANG_SLACK_MS);
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

static uint64_t acks(const struct drill *d)
{
	return d->mp[0].st.acks + d->mp[1].st.acks;
}

static int run_scenario(struct drill *d, const char *scen, struct scenario_report *rep)
{
	bool disagree = !strcmp(scen, "disagree");
	unsigned int acq0;
	int stayer = -1;
	int64_t start = monotonic_ms();
	uint64_t lost0 = d->ledger.lost, stale0 = d->ledger.stale;
	uint64_t checked0 = d->ledger.checked, acks0 = acks(d);
	uint64_t errors0 = d->mp[0].st.io_errors;
	uint64_t failures0 = d->mp[0].st.path_failures;
	/* A killed memstore OSD does not come back, and a hang takes 30 s:
	 * one round. */
	unsigned int rounds = !strcmp(scen, "osd-kill") ||
			      !strcmp(scen, "osd-hang") ? 1 : d->rounds;

	report_init(rep, scen);
	d->nmp = disagree ? 2 : 1;
	if (disagree && open_initiator(d, &d->mp[1], 1, QD * CHUNKS_PER_SLOT))
		return -EIO;
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
			  failover_round(d, scen, &r);

		for (int m = 0; m < d->nmp && ok; m++)
			if (mpath_verify(&d->mp[m])) {
				fprintf(stderr, "lunar-drill: %s: read-back did not complete\n", scen);
				ok = false;
			}
		report_round(rep, &r, ok);
		if (heal(d))
			return -EIO;
	}
	rep->verified = d->ledger.checked - checked0;
	rep->acked = acks(d) - acks0;
	rep->lost = d->ledger.lost - lost0;
	rep->stale = d->ledger.stale - stale0;
	rep->io_errors = d->mp[0].st.io_errors - errors0;
	rep->path_failures = d->mp[0].st.path_failures - failures0;
	rep->transitions = acquisitions(d, stayer) - acq0;
	rep->duration_ms = monotonic_ms() - start;
	d->nmp = 1;
	return 0;
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
	snprintf(d->cfgstring, sizeof(d->cfgstring), "rbd/rbd/drill;conf=%s",
		 d->ceph_conf);
	d->env.workdir = d->workdir;
	for (int i = 0; i < d->ngw; i++) {
		d->paths[i].sock = d->gw[i].sock;
		d->paths[i].name = "lun";
		alua_spec(d, i, d->paths[i].alua, sizeof(d->paths[i].alua));
		ret = gateway_init(&d->gw[i], &d->env, i);
		if (!ret)
			ret = gateway_start(&d->gw[i], &d->env);
		if (ret)
			return ret;
	}
	ret = ledger_init(&d->ledger, 2 * QD * CHUNKS_PER_SLOT);
	if (!ret)
		ret = open_initiator(d, &d->mp[0], 0, 0);
	d->nmp = 1;
	return ret;
}

static void teardown(struct drill *d)
{
	if (d->mp[0].paths)
		mpath_drop_paths(&d->mp[0]);
	for (int i = 0; i < d->ngw; i++) {
		gateway_restore(&d->gw[i]);
		gateway_stop(&d->gw[i]);
	}
	stop_ceph(d);
	ledger_free(&d->ledger);
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
	struct drill d = {
		.ngw = 2, .alua_type = "both", .io_timeout_ms = 1000,
		.osd_hang_grace_s = OSD_HANG_GRACE_S,
		.cluster_sh = DRILL_CLUSTER_SH,
		.env = { .lunard = DRILL_LUNARD, .handler_dir = DRILL_HANDLER_DIR,
			 .budget_s = 10 },
	};
	struct scenario_report reps[NSCENARIOS];
	struct drill_goals goals;
	int n = 0, missed, ret;

	if (parse_args(&d, argc, argv)) {
		usage(argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ret = setup(&d);
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
	if (!n) {
		usage(argv[0]);
		return 2;
	}
	goals = goals_of(&d);
	missed = report_print(reps, n, d.json, d.env.budget_s, d.alua_type, &goals);
	if (missed)
		fprintf(stderr, "lunar-drill: goals missed; logs in %s\n", d.workdir);
	if (!gateways_clean(&d)) {
		fprintf(stderr, "lunar-drill: a gateway crashed or a sanitizer reported (above); logs in %s\n",
			d.workdir);
		return 1;
	}
	return missed ? 1 : 0;
}
