/*
 * The whole SCSI core over simring: every input is a run of commands
 * (CDB, direction, data-out bytes, buffer length) sent to one RAM-backed
 * LUN with explicit ALUA, the same device across inputs, as a hostile
 * initiator would send them.  The opcode comes from the input or, half the
 * time, from the commands whose parameter lists are parsed (MODE SELECT,
 * EXTENDED COPY, UNMAP, SET TARGET PORT GROUPS, COMPARE AND WRITE, WRITE
 * SAME, VERIFY ...), so those parsers see fuzzed lists early.
 *
 * A failure is a sanitizer report, a command that never completes, or a
 * completion the simulated kernel refuses (a broken ring).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/handler.h"
#include "runner/ring/ring.h"
#include "tests/shared/siminit.h"

#define MAX_DATA (64u * 1024)

static const uint8_t opcodes[] = {
	0x15, 0x55,		/* MODE SELECT(6), (10) */
	0x1a, 0x5a,		/* MODE SENSE(6), (10) */
	0x83, 0x84,		/* EXTENDED COPY, RECEIVE COPY RESULTS */
	0x42,			/* UNMAP */
	0xa4, 0xa3,		/* MAINTENANCE OUT (STPG), IN (RTPG, RSOC) */
	0x89,			/* COMPARE AND WRITE */
	0x41, 0x93,		/* WRITE SAME(10), (16) */
	0x2f, 0x8f, 0x2e,	/* VERIFY(10), (16), WRITE AND VERIFY(10) */
	0x12, 0x9e, 0x25,	/* INQUIRY, SERVICE ACTION IN(16), READ CAPACITY */
	0x28, 0x2a, 0x88, 0x8a,	/* READ/WRITE(10), (16) */
	0x04, 0x35, 0x00, 0x03,	/* FORMAT UNIT, SYNC CACHE, TUR, REQUEST SENSE */
	0x7f,			/* variable length */
};

static struct siminit *si;

struct input {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct input *in, size_t bytes)
{
	uint32_t v = 0;

	for (size_t i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct siminit_opts o = {
		.cfgstring = "ram/fuzz", .size = 1 << 20, .block_size = 512,
		.alua = "explicit;gw1:1:local,gw2:2",
	};

	(void)argc, (void)argv;
	if (siminit_load_handlers(LUNAR_HANDLER_DIR) || siminit_open(&o, &si))
		abort();
	return 0;
}

/* One command from the input; false when the input is used up. */
static bool one_command(struct input *in, uint8_t *buf)
{
	uint8_t cdb[RING_MAX_CDB_LEN] = { 0 };
	uint32_t flags = take(in, 1), cdb_len = take(in, 1) % 32 + 1;
	uint32_t len = take(in, 2) % MAX_DATA;
	enum simring_dir dir = (enum simring_dir)(flags % 3);
	struct scsi_result res;
	int ret;

	if (!in->left)
		return false;
	for (uint32_t i = 0; i < cdb_len; i++)
		cdb[i] = (uint8_t)take(in, 1);
	if (flags & 0x80)
		cdb[0] = opcodes[cdb[0] % sizeof(opcodes)];
	if (dir == SIMRING_DIR_NONE)
		len = 0;
	for (uint32_t i = 0; dir == SIMRING_DIR_OUT && i < len; i++)
		buf[i] = (uint8_t)take(in, 1);
	ret = siminit_cmd(si, cdb, dir, len ? buf : NULL, len, &res);
	if (ret == -ETIMEDOUT || simring_error(siminit_ring(si)))
		__builtin_trap();	/* hung, or completed it wrongly */
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_DATA];
	struct input in = { data, size };

	while (one_command(&in, buf))
		;
	return 0;
}
