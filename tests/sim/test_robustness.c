/*
 * The core under hostile or unusual conditions, over simring:
 *  - malformed ring entries (iovec outside the data area, CDB running past
 *    its entry, unknown entry type, TMRs naming nothing) are answered with
 *    an error and the device keeps serving;
 *  - a corrupt entry header stops that device from taking commands, and the
 *    device can still be removed;
 *  - a TMR abort completes a command still waiting behind an overlapping
 *    COMPARE AND WRITE, before it reaches the handler;
 *  - ;tcmur_cmd_time_out=N marks, logs and counts a slow command, whose
 *    late completion is still delivered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/ha.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/handler_slow.h"
#include "runner/ring/tcmu_uapi.h"
#include "tests/shared/scsi_check.h"

#define BS 512

struct seen {
	bool done;
	uint8_t status;
	uint8_t sense[96];
};

static int setup(void **state)
{
	(void)state;
	if (siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	    handlers_load_file(SLOW_HANDLER_PATH))
		return -1;
	return 0;
}

static void on_injected(void *priv, const struct simring_completion *c)
{
	struct seen *s = priv;

	s->done = true;
	s->status = c->status;
	memcpy(s->sense, c->sense, sizeof(s->sense));
}

/* Wait (reaping) until *flag is set or ms pass.  Returns the flag. */
static bool wait_flag(struct siminit *si, const bool *flag, int ms)
{
	struct simring *sr = siminit_ring(si);

	for (int waited = 0; !*flag && waited < ms; waited += 10) {
		simring_wait_kick(sr, 10);
		assert_true(simring_reap(sr) >= 0);
	}
	return *flag;
}

/* A READ(10) command entry of 128 bytes with one iovec and CDB at 112. */
static void build_cmd(struct simring *sr, uint8_t *ent, uint16_t id,
		      uint64_t iov_base, uint64_t iov_len)
{
	struct tcmu_cmd_entry e;
	struct iovec iov = { (void *)(uintptr_t)iov_base, iov_len };
	uint64_t at = simring_next_entry_offset(sr, 128);
	uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

	memset(ent, 0, 128);
	memset(&e, 0, sizeof(e));
	e.hdr.len_op = tcmu_hdr_len_op(128, TCMU_OP_CMD);
	e.hdr.cmd_id = id;
	e.req.iov_cnt = 1;
	e.req.cdb_off = at + 112;
	memcpy(ent, &e, sizeof(e));
	memcpy(ent + offsetof(struct tcmu_cmd_entry, req.iov), &iov, sizeof(iov));
	memcpy(ent + 112, cdb, sizeof(cdb));
}

static void inject_and_expect(struct siminit *si, uint8_t *ent, uint32_t len,
			      uint8_t key, uint16_t asc)
{
	struct simring *sr = siminit_ring(si);
	struct seen s = { 0 };

	assert_int_equal(simring_inject(sr, ent, len, on_injected, &s), 0);
	simring_notify_user(sr);
	assert_true(wait_flag(si, &s.done, 5000));
	assert_int_equal(s.status, 0x02);
	if (key) {
		assert_int_equal(s.sense[2] & 0x0f, key);
		assert_int_equal(s.sense[12] << 8 | s.sense[13], asc);
	}
	assert_null(simring_error(sr));
}

static void still_serves(struct siminit *si)
{
	uint8_t out[BS], in[BS];
	struct scsi_result res;

	memset(out, 0x3c, sizeof(out));
	assert_int_equal(siminit_write(si, 9, 1, out, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_read(si, 9, 1, in, &res), 0);
	assert_good(&res);
	assert_memory_equal(in, out, BS);
}

static void test_malformed_entries_are_failed(void **state)
{
	struct siminit *si = open_lun("ram/hostile", "hostile", 8 << 20, 512);
	struct simring *sr = siminit_ring(si);
	uint8_t ent[128];
	uint16_t ids[3] = { 7, 65535, 1 };

	(void)state;
	/* iovec pointing at the mailbox instead of the data area. */
	build_cmd(sr, ent, 40001, 0, BS);
	inject_and_expect(si, ent, sizeof(ent), 0x04, 0x4400);
	/* iovec running past the end of the mapping. */
	build_cmd(sr, ent, 40002, simring_map_len(sr) - 16, BS);
	inject_and_expect(si, ent, sizeof(ent), 0x04, 0x4400);
	/* CDB offset outside its entry. */
	build_cmd(sr, ent, 40003, simring_map_len(sr) - BS, BS);
	((struct tcmu_cmd_entry *)ent)->req.cdb_off = 8;
	inject_and_expect(si, ent, sizeof(ent), 0x04, 0x4400);
	/* Variable-length CDB claiming 263 bytes in a 128-byte entry. */
	build_cmd(sr, ent, 40004, simring_map_len(sr) - BS, BS);
	ent[112] = 0x7f;
	ent[112 + 7] = 255;
	inject_and_expect(si, ent, sizeof(ent), 0x04, 0x4400);
	/* iov_cnt far larger than the entry. */
	build_cmd(sr, ent, 40005, simring_map_len(sr) - BS, BS);
	((struct tcmu_cmd_entry *)ent)->req.iov_cnt = 0x10000000;
	inject_and_expect(si, ent, sizeof(ent), 0x04, 0x4400);
	/* An entry type the ring protocol does not define. */
	build_cmd(sr, ent, 40006, simring_map_len(sr) - BS, BS);
	((struct tcmu_cmd_entry_hdr *)ent)->len_op = tcmu_hdr_len_op(128, 5);
	inject_and_expect(si, ent, sizeof(ent), 0, 0);
	/* TMRs naming commands that do not exist. */
	assert_int_equal(simring_tmr(sr, TCMU_TMR_ABORT_TASK, ids, 3), 0);
	assert_int_equal(simring_tmr(sr, TCMU_TMR_LUN_RESET, NULL, 0), 0);
	simring_notify_user(sr);
	still_serves(si);
	siminit_close(si);
}

static void test_corrupt_header_stops_device(void **state)
{
	struct siminit *si = open_lun("ram/corrupt", "corrupt", 8 << 20, 512);
	struct simring *sr = siminit_ring(si);
	uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint8_t ent[16] = { 0 }, buf[BS];
	struct scsi_result res;
	bool done;

	(void)state;
	still_serves(si);
	/* A header whose length field is zero: no way to find the next one. */
	((struct tcmu_cmd_entry_hdr *)ent)->len_op = tcmu_hdr_len_op(0, TCMU_OP_CMD);
	assert_int_equal(simring_inject(sr, ent, sizeof(ent), NULL, NULL), 0);
	assert_int_equal(siminit_submit(si, read10, SIMRING_DIR_IN, buf, BS, &res, &done), 0);
	/* The command behind the corrupt entry is never taken... */
	assert_false(wait_flag(si, &done, 300));
	assert_true(__atomic_load_n(&siminit_device(si)->broken, __ATOMIC_ACQUIRE));
	/* ...and removing the device does not hang on it. */
	device_remove(siminit_device(si));
	/* The kernel then fails what was never taken back to the initiator. */
	simring_reset_ring(siminit_ring(si));
	assert_true(done);
	assert_int_equal(res.ret, -ETIMEDOUT);
	simring_destroy(siminit_ring(si));
	free(si);
}

static void test_tmr_aborts_waiting_command(void **state)
{
	struct siminit *si = open_lun("slow/tmr", "tmr", 8 << 20, 512);
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));
	uint8_t caw[16] = { 0x89, 0, [9] = 5, [13] = 1 };
	uint8_t w10[10] = { 0x2a, 0, 0, 0, 0, 5, 0, 0, 1, 0 };
	uint8_t cawbuf[2 * BS] = { 0 }, wbuf[BS], now[BS];
	struct scsi_result caw_res, w_res, res;
	bool caw_done, w_done;
	uint16_t w_id;

	(void)state;
	memset(cawbuf + BS, 0xca, BS);		/* compare zeros, write 0xca */
	memset(wbuf, 0x77, sizeof(wbuf));
	__atomic_store_n(&ctl->hold_ms, 300, __ATOMIC_RELAXED);
	assert_int_equal(siminit_submit(si, caw, SIMRING_DIR_OUT, cawbuf,
					sizeof(cawbuf), &caw_res, &caw_done), 0);
	assert_int_equal(siminit_submit(si, w10, SIMRING_DIR_OUT, wbuf, BS,
					&w_res, &w_done), 0);
	w_id = siminit_last_cmd_id(si);
	assert_int_equal(simring_tmr(siminit_ring(si), TCMU_TMR_ABORT_TASK,
				     &w_id, 1), 0);
	simring_notify_user(siminit_ring(si));
	/* The WRITE, held behind the CAW, comes back long before the CAW. */
	assert_true(wait_flag(si, &w_done, 5000));
	assert_false(caw_done);
	assert_int_equal(w_res.status, 0x08);
	assert_int_equal(siminit_wait_all(si, 10000), 0);
	assert_good(&caw_res);
	__atomic_store_n(&ctl->hold_ms, 0, __ATOMIC_RELAXED);
	/* The aborted WRITE never reached the medium. */
	assert_int_equal(siminit_read(si, 5, 1, now, &res), 0);
	assert_good(&res);
	assert_memory_equal(now, cawbuf + BS, BS);
	siminit_close(si);
}

/*
 * A command outliving ;tcmur_cmd_time_out is counted, its late completion
 * still delivered, and the LUN (only) is reopened: BUSY meanwhile, then
 * served by a fresh handler instance.
 */
static void test_command_timeout_tracked(void **state)
{
	struct siminit *si = open_lun("slow/timeout;tcmur_cmd_time_out=1", "tmo", 8 << 20, 512);
	struct tcmu_device *dev = siminit_device(si);
	struct slow_ctl *ctl = tcmur_dev_get_private(dev);
	uint8_t buf[BS];
	struct scsi_result res;

	(void)state;
	/* The runner option is not part of what the handler sees. */
	assert_string_equal(tcmu_dev_get_cfgstring(dev), "slow/timeout");
	__atomic_store_n(&ctl->hold_ms, 1600, __ATOMIC_RELAXED);
	assert_int_equal(siminit_read(si, 0, 1, buf, &res), 0);
	assert_good(&res);			/* the late completion is delivered */
	assert_int_equal(__atomic_load_n(&dev->rdev.cmd_timed_out_cnt, __ATOMIC_RELAXED), 1);
	assert_int_equal(siminit_wait_recovered(si, 5000), 0);
	assert_ptr_not_equal(tcmur_dev_get_private(dev), NULL);
	assert_int_equal(siminit_read(si, 0, 1, buf, &res), 0);
	assert_good(&res);
	assert_int_equal(__atomic_load_n(&dev->rdev.cmd_timed_out_cnt, __ATOMIC_RELAXED), 1);
	assert_int_equal(ha_recoveries(dev), 1);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_entries_are_failed),
		cmocka_unit_test(test_corrupt_header_stops_device),
		cmocka_unit_test(test_tmr_aborts_waiting_command),
		cmocka_unit_test(test_command_timeout_tracked),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
