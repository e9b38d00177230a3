/*
 * The drill's multipath initiator.  See mpath.h.
 */
#define _GNU_SOURCE
#include "mpath.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECHECK_MS 500
#define CHECK_MS 1000
#define RETRY_MS 10
/* scsi_dh_alua allows an activation 60 s; the drill's Ceph needs far less. */
#define STPG_TIMEOUT_MS 10000
#define STATUS_GOOD 0x00
#define STATUS_CHECK 0x02
#define STATUS_BUSY 0x08
#define STATUS_TASK_SET_FULL 0x28
#define ALUA_AO 0x0
#define ALUA_STANDBY 0x2
#define ALUA_UNAVAILABLE 0x3
#define ALUA_OFFLINE 0xe
#define ALUA_TRANSITIONING 0xf
#define STATE_UNKNOWN 0xff

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

bool mpath_path_up(const struct mpath *m, int i)
{
	return m->paths[i].si != NULL;
}

int mpath_reconnect(struct mpath *m, int i)
{
	struct mpath_path *p = &m->paths[i];
	char name[64];
	struct siminit_opts o = {
		.cfgstring = m->cfgstring, .name = name, .size = m->size,
		.sim_socket = p->sock, .alua = p->alua,
	};

	if (p->si)
		return 0;
	snprintf(name, sizeof(name), "%s-%u", p->name, p->gen++);
	return siminit_open(&o, &p->si);
}

int mpath_open(struct mpath *m)
{
	for (int i = 0; i < m->npaths; i++) {
		int ret = mpath_reconnect(m, i);

		if (ret)
			return ret;
	}
	for (unsigned int k = 0; k < MPATH_MAX_QD; k++)
		m->slots[k].path = -1;
	memset(m->group_state, STATE_UNKNOWN, sizeof(m->group_state));
	m->cur = -1;
	m->activating = -1;
	m->settling = -1;
	m->writing = true;
	return 0;
}

void mpath_drop_paths(struct mpath *m)
{
	for (int i = 0; i < m->npaths; i++)
		if (m->paths[i].si) {
			siminit_abandon(m->paths[i].si);
			m->paths[i].si = NULL;
		}
}

/* Give up on path i: what is in flight there has an unknown outcome. */
static void fail_path(struct mpath *m, int i, const char *why)
{
	if (getenv("LUNAR_DRILL_VERBOSE"))
		fprintf(stderr, "lunar-drill: %s: path to gateway %d failed: %s\n",
			m->name, i + 1, why);
	for (unsigned int k = 0; k < m->qd; k++) {
		struct mpath_slot *s = &m->slots[k];

		if (s->path != i)
			continue;
		ledger_abandon(m->ledger, s->seq);
		s->path = -1;
	}
	if (m->paths[i].si) {
		siminit_abandon(m->paths[i].si);
		m->paths[i].si = NULL;
	}
	m->paths[i].tur_busy = false;
	if (m->activating == i)
		m->activating = -1;
	if (m->settling == i)
		m->settling = -1;
	m->st.path_failures++;
	if (m->cur == i)
		m->cur = -1;
}

/* One command on path i to completion; false if the path failed. */
static bool path_cmd(struct mpath *m, int i, const uint8_t *cdb,
		     enum simring_dir dir, void *buf, size_t len,
		     struct scsi_result *res)
{
	int64_t deadline = monotonic_ms() + m->io_timeout_ms;
	bool done = false;

	if (!m->paths[i].si || siminit_submit(m->paths[i].si, cdb, dir, buf, len,
					      res, &done))
		goto fail;
	while (!done && monotonic_ms() < deadline)
		if (siminit_poll(m->paths[i].si, 5) < 0)
			break;
	if (done && !res->ret)
		return true;
fail:
	fail_path(m, i, done ? "command error" : "command timed out");
	return false;
}

/* REPORT TARGET PORT GROUPS through path i: state of group id g at [g-1]. */
static bool rtpg(struct mpath *m, int i, uint8_t *states)
{
	uint8_t cdb[12] = { 0xa3, 0x0a }, buf[512];
	struct scsi_result res;
	uint32_t len;

	cdb[8] = sizeof(buf) >> 8;
	cdb[9] = sizeof(buf) & 0xff;
	for (int tries = 0; tries < 5; tries++) {
		if (!path_cmd(m, i, cdb, SIMRING_DIR_IN, buf, sizeof(buf), &res))
			return false;
		if (res.status == STATUS_GOOD)
			break;
	}
	if (res.status != STATUS_GOOD)
		return false;
	len = (uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
	for (uint32_t off = 4; off + 8 <= len + 4 && off + 8 <= sizeof(buf);
	     off += 8 + 4u * buf[off + 7]) {
		unsigned int id = (unsigned int)(buf[off + 2] << 8 | buf[off + 3]);

		if (id >= 1 && id <= MPATH_MAX_PATHS) {
			states[id - 1] = buf[off] & 0x0f;
			m->group_state[id - 1] = states[id - 1];
		}
	}
	return true;
}

/* scsi_dh_alua refuses I/O to a group last reported in these states. */
static bool group_refuses_io(const struct mpath *m, int i)
{
	uint8_t st = m->group_state[i];

	return st == ALUA_STANDBY || st == ALUA_UNAVAILABLE || st == ALUA_OFFLINE;
}

static bool unit_attention(const struct scsi_result *res, uint16_t asc)
{
	return res->status == STATUS_CHECK && (res->sense[2] & 0x0f) == 0x06 &&
	       (uint16_t)(res->sense[12] << 8 | res->sense[13]) == asc;
}

/*
 * multipathd's TUR checker on the paths not in use, without blocking the
 * I/O loop: one TEST UNIT READY in flight per path; a unit attention for
 * changed access states makes scsi_dh_alua re-read the groups there.
 */
static void check_paths(struct mpath *m, int64_t now)
{
	static const uint8_t tur[6] = { 0 };
	bool start = now >= m->check_ms;

	if (start)
		m->check_ms = now + CHECK_MS;
	for (int i = 0; i < m->npaths; i++) {
		struct mpath_path *p = &m->paths[i];
		uint8_t states[MPATH_MAX_PATHS];

		if (!p->si || i == m->cur)
			continue;
		if (p->tur_busy && siminit_poll(p->si, 0) < 0) {
			fail_path(m, i, "path checker: ring error");
		} else if (p->tur_busy && p->tur_done) {
			p->tur_busy = false;
			if (unit_attention(&p->tur_res, 0x2a06))
				rtpg(m, i, states);
		} else if (p->tur_busy && now - p->tur_sent_ms > m->io_timeout_ms) {
			fail_path(m, i, "path checker timed out");
		} else if (!p->tur_busy && start) {
			p->tur_done = false;
			p->tur_sent_ms = now;
			p->tur_busy = !siminit_submit(p->si, tur, SIMRING_DIR_NONE,
						      NULL, 0, &p->tur_res,
						      &p->tur_done);
		}
	}
}

/* Send the activation's STPG through its path. */
static void send_stpg(struct mpath *m)
{
	uint8_t cdb[12] = { 0xa4, 0x0a };
	struct siminit *si = m->paths[m->activating].si;

	cdb[9] = sizeof(m->stpg_param);
	memset(m->stpg_param, 0, sizeof(m->stpg_param));
	m->stpg_param[4] = ALUA_AO;
	m->stpg_param[7] = (uint8_t)(m->activating + 1);
	m->stpg_done = false;
	m->stpg_busy = si && !siminit_submit(si, cdb, SIMRING_DIR_OUT,
					     m->stpg_param,
					     sizeof(m->stpg_param),
					     &m->stpg_res, &m->stpg_done);
	if (!m->stpg_busy)
		fail_path(m, m->activating, "cannot send STPG");
}

void mpath_activate(struct mpath *m, int i)
{
	m->cur = -1;
	m->activating = i;
	m->stpg_deadline_ms = monotonic_ms() + STPG_TIMEOUT_MS;
	send_stpg(m);
}

/* The activation in flight: done, retried after a refusal, or failed. */
static void check_activation(struct mpath *m, int64_t now)
{
	int i = m->activating;

	if (!m->stpg_busy) {
		if (now >= m->stpg_retry_ms)
			send_stpg(m);
		return;
	}
	if (siminit_poll(m->paths[i].si, 0) < 0) {
		fail_path(m, i, "ring error");
		return;
	}
	if (!m->stpg_done) {
		if (now > m->stpg_deadline_ms)
			fail_path(m, i, "STPG timed out");
		return;
	}
	m->stpg_busy = false;
	if (!m->stpg_res.ret && m->stpg_res.status == STATUS_GOOD) {
		m->activating = -1;
		m->settling = i;
		m->group_state[i] = ALUA_AO;
		m->cur = i;
	} else if (m->stpg_res.ret || now > m->stpg_deadline_ms) {
		fail_path(m, i, "STPG failed");
	} else {
		m->stpg_retry_ms = now + RETRY_MS;
	}
}

static int first_up(struct mpath *m)
{
	int others = m->npaths - 1;

	if (mpath_path_up(m, m->preferred))
		return m->preferred;
	for (int j = 0; j < others; j++) {
		int i = (m->preferred + 1 + ((int)m->spread + j) % others) % m->npaths;

		if (mpath_path_up(m, i))
			return i;
	}
	return -1;
}

/*
 * Pick the path to use as dm-multipath's "prio alua" does: each path is
 * ranked by the state its own target port group has in the REPORT TARGET
 * PORT GROUPS answered through that path.  An Active/Optimized one wins;
 * while one is transitioning, wait; with none, activate the preferred
 * path's group (STPG, explicit ALUA) or just use it (implicit).
 */
static void choose(struct mpath *m)
{
	int pick = -1;
	bool transitioning = false;

	m->recheck_ms = monotonic_ms() + RECHECK_MS;
	for (int i = 0; i < m->npaths && pick < 0; i++) {
		uint8_t states[MPATH_MAX_PATHS];

		memset(states, 0xff, sizeof(states));
		if (!mpath_path_up(m, i) || !rtpg(m, i, states))
			continue;
		if (states[i] == ALUA_AO)
			pick = i;
		transitioning |= states[i] == ALUA_TRANSITIONING;
	}
	if (pick < 0 && transitioning)
		return;
	if (pick < 0) {
		pick = first_up(m);
		if (pick >= 0 && m->explicit_alua) {
			mpath_activate(m, pick);
			return;
		}
	}
	if (pick >= 0)
		m->group_state[pick] = ALUA_AO;	/* reported, or used as is */
	m->cur = pick;
}

/* A path to use: the activation in flight checked, or one chosen. */
static void pick_path(struct mpath *m, int64_t now)
{
	if (m->activating >= 0)
		check_activation(m, now);
	else if (m->cur < 0)
		choose(m);
}

/* A 16-byte READ or WRITE of chunk (its place on m's LUN). */
static void chunk_cdb(const struct mpath *m, uint8_t *cdb, uint8_t opcode,
		      uint32_t chunk)
{
	uint64_t lba = (uint64_t)(chunk - m->chunk_base + m->lun_first_chunk) *
		       CHUNK_BLOCKS;

	memset(cdb, 0, 16);
	cdb[0] = opcode;
	for (int i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	cdb[13] = CHUNK_BLOCKS;
}

static void submit(struct mpath *m, struct mpath_slot *s, int64_t now)
{
	uint8_t cdb[16];
	uint32_t chunk;

	if (!s->seq) {
		unsigned int k = (unsigned int)(s - m->slots);

		chunk = m->chunk_base + k * m->chunks_per_slot +
			s->next_chunk++ % m->chunks_per_slot;
		s->seq = ledger_attempt(m->ledger, chunk, s->buf, CHUNK_BYTES);
	} else {
		chunk = ledger_chunk(m->ledger, s->seq);
	}
	chunk_cdb(m, cdb, 0x8a, chunk);
	if (siminit_submit(m->paths[m->cur].si, cdb, SIMRING_DIR_OUT, s->buf,
			   CHUNK_BYTES, &s->res, &s->done)) {
		fail_path(m, m->cur, "cannot submit");
		return;
	}
	s->path = m->cur;
	s->submitted_ms = now;
	s->timeout_ms = m->cur == m->settling ? STPG_TIMEOUT_MS : m->io_timeout_ms;
	if (!m->st.first_cmd_ms[m->cur])
		m->st.first_cmd_ms[m->cur] = now;
}

static void acked(struct mpath *m, struct mpath_slot *s, int64_t now)
{
	ledger_ack(m->ledger, s->seq);
	s->seq = 0;
	if (m->st.last_ack_ms && now - m->st.last_ack_ms > m->st.max_gap_ms)
		m->st.max_gap_ms = now - m->st.last_ack_ms;
	m->st.last_ack_ms = now;
	if (!m->st.first_ack_ms[s->path])
		m->st.first_ack_ms[s->path] = now;
	m->st.acks++;
}

/* A CHECK CONDITION: retry, and maybe choose the path again. */
static void check_condition(struct mpath *m, struct mpath_slot *s, int64_t now)
{
	uint8_t key = s->res.sense[2] & 0x0f;
	uint16_t asc = (uint16_t)(s->res.sense[12] << 8 | s->res.sense[13]);

	s->not_before_ms = now;
	if (key == 0x06) {
		if (asc == 0x2a06)
			m->cur = -1;
	} else if (key == 0x02 && asc == 0x040a) {
		s->not_before_ms = now + RETRY_MS;
		if (now >= m->recheck_ms)
			m->cur = -1;
	} else if (key == 0x02 && (asc == 0x040b || asc == 0x040c)) {
		m->cur = -1;
	} else {
		m->st.io_errors++;
		s->not_before_ms = now + 5 * RETRY_MS;
	}
}

static void completed(struct mpath *m, struct mpath_slot *s, int64_t now)
{
	if (s->res.ret) {
		fail_path(m, s->path, "write error");
		return;
	}
	if (s->res.status == STATUS_GOOD) {
		acked(m, s, now);
		if (m->settling == s->path)
			m->settling = -1;
		s->path = -1;
		return;
	}
	s->path = -1;
	m->st.retries++;
	if (s->res.status == STATUS_CHECK) {
		check_condition(m, s, now);
		return;
	}
	if (s->res.status != STATUS_BUSY && s->res.status != STATUS_TASK_SET_FULL)
		m->st.io_errors++;
	s->not_before_ms = now + RETRY_MS;
}

static void reap_paths(struct mpath *m)
{
	for (int i = 0; i < m->npaths; i++) {
		bool busy = false;

		for (unsigned int k = 0; k < m->qd; k++)
			busy |= m->slots[k].path == i;
		if (busy && (!m->paths[i].si ||
			     siminit_poll(m->paths[i].si, i == m->cur ? 2 : 0) < 0))
			fail_path(m, i, "ring error");
	}
}

static void finish_slots(struct mpath *m, int64_t now)
{
	for (unsigned int k = 0; k < m->qd; k++) {
		struct mpath_slot *s = &m->slots[k];

		if (s->path < 0)
			continue;
		if (s->done)
			completed(m, s, now);
		else if (now - s->submitted_ms > s->timeout_ms)
			fail_path(m, s->path, "write timed out");
	}
}

void mpath_step(struct mpath *m)
{
	int64_t now = monotonic_ms();

	pick_path(m, now);
	if (m->cur >= 0 && group_refuses_io(m, m->cur))
		fail_path(m, m->cur, "its port group was last reported Standby or Unavailable");
	if (m->cur >= 0) {
		for (unsigned int k = 0; k < m->qd && m->cur >= 0; k++) {
			struct mpath_slot *s = &m->slots[k];

			if (s->path < 0 && (s->seq || m->writing) &&
			    now >= s->not_before_ms)
				submit(m, s, now);
		}
	} else {
		sleep_ms(RETRY_MS);
	}
	reap_paths(m);
	finish_slots(m, monotonic_ms());
	check_paths(m, monotonic_ms());
}

void mpath_mark(struct mpath *m)
{
	memset(m->st.first_cmd_ms, 0, sizeof(m->st.first_cmd_ms));
	memset(m->st.first_ack_ms, 0, sizeof(m->st.first_ack_ms));
	m->st.max_gap_ms = 0;
	m->st.last_ack_ms = monotonic_ms();
}

static bool idle(const struct mpath *m)
{
	for (unsigned int k = 0; k < m->qd; k++)
		if (m->slots[k].seq)
			return false;
	return true;
}

/* READ one chunk through the current path, retrying like the writes. */
static int read_chunk(struct mpath *m, uint32_t chunk, uint8_t *buf)
{
	int64_t deadline = monotonic_ms() + 30000;
	uint8_t cdb[16];
	struct scsi_result res;

	chunk_cdb(m, cdb, 0x88, chunk);
	while (monotonic_ms() < deadline) {
		pick_path(m, monotonic_ms());
		if (m->cur < 0) {
			sleep_ms(RETRY_MS);
			continue;
		}
		if (!path_cmd(m, m->cur, cdb, SIMRING_DIR_IN, buf, CHUNK_BYTES, &res))
			continue;
		if (res.status == STATUS_GOOD)
			return 0;
		if (res.status == STATUS_CHECK && (res.sense[2] & 0x0f) == 0x02)
			m->cur = -1;
		sleep_ms(RETRY_MS);
	}
	return -ETIMEDOUT;
}

int mpath_verify(struct mpath *m)
{
	int64_t deadline = monotonic_ms() + 30000;
	uint8_t buf[CHUNK_BYTES];
	uint32_t n = m->qd * m->chunks_per_slot;
	int ret = 0;

	m->writing = false;
	while (!idle(m) && monotonic_ms() < deadline)
		mpath_step(m);
	if (!idle(m))
		ret = -ETIMEDOUT;
	for (uint32_t c = m->chunk_base; !ret && c < m->chunk_base + n; c++) {
		ret = read_chunk(m, c, buf);
		if (!ret)
			ledger_check(m->ledger, c, buf, CHUNK_BYTES);
	}
	m->writing = true;
	return ret;
}
