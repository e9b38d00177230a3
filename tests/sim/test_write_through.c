/*
 * Write-through: a write completes only after the handler flushed it when
 * FUA is set or the write cache is disabled (MODE SELECT clearing WCE),
 * and without a flush otherwise; SYNCHRONIZE CACHE always flushes.
 * Counted on handler_slow's flush callout.
 */
#include <string.h>

#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/handler_slow.h"
#include "tests/shared/scsi_check.h"

#define BS 512

static int setup(void **state)
{
	struct siminit_opts o = { .cfgstring = "slow/wt", .name = "wt", .size = 8 << 20 };
	struct siminit *si;

	if (handlers_load_file(SLOW_HANDLER_PATH) || siminit_open(&o, &si))
		return -1;
	*state = si;
	return 0;
}

static unsigned int flushes(struct siminit *si)
{
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));

	return __atomic_load_n(&ctl->flush_calls, __ATOMIC_RELAXED);
}

static void write10(struct siminit *si, uint8_t flags, struct scsi_result *res)
{
	uint8_t cdb[10] = { 0x2a, flags, 0, 0, 0, 7, 0, 0, 1, 0 };
	uint8_t buf[BS];

	memset(buf, 0x42, sizeof(buf));
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_OUT, buf, BS, res), 0);
	assert_good(res);
}

/* MODE SELECT(6) of the caching page with WCE set as asked. */
static void set_wce(struct siminit *si, bool on)
{
	uint8_t sense_cdb[6] = { 0x1a, 0x08, 0x08, 0, 24, 0 };
	uint8_t select_cdb[6] = { 0x15, 0x10, 0, 0, 24, 0 };
	uint8_t tur[6] = { 0 };
	uint8_t page[24];
	struct scsi_result res;

	assert_int_equal(siminit_cmd(si, sense_cdb, SIMRING_DIR_IN, page,
				     sizeof(page), &res), 0);
	assert_good(&res);
	page[0] = 0;				/* mode data length: reserved */
	page[2] = 0;				/* device-specific parameter */
	page[4 + 2] = (uint8_t)((page[4 + 2] & ~0x04) | (on ? 0x04 : 0));
	assert_int_equal(siminit_cmd(si, select_cdb, SIMRING_DIR_OUT, page,
				     sizeof(page), &res), 0);
	assert_good(&res);
	assert_int_equal(device_write_cache(siminit_device(si)), on);
	/* Consume the MODE PARAMETERS CHANGED unit attention. */
	assert_int_equal(siminit_cmd(si, tur, SIMRING_DIR_NONE, NULL, 0, &res), 0);
}

static void test_write_cache_on(void **state)
{
	struct siminit *si = *state;
	struct scsi_result res;
	unsigned int before;

	set_wce(si, true);
	before = flushes(si);
	write10(si, 0, &res);
	assert_int_equal(flushes(si), before);
	write10(si, 0x08, &res);		/* FUA */
	assert_int_equal(flushes(si), before + 1);
}

static void test_write_cache_off(void **state)
{
	struct siminit *si = *state;
	struct scsi_result res;
	unsigned int before;

	set_wce(si, false);
	before = flushes(si);
	write10(si, 0, &res);
	assert_int_equal(flushes(si), before + 1);
	write10(si, 0, &res);
	assert_int_equal(flushes(si), before + 2);
	set_wce(si, true);
}

static void test_sync_cache_flushes(void **state)
{
	struct siminit *si = *state;
	uint8_t sync10[10] = { 0x35 };
	struct scsi_result res;
	unsigned int before = flushes(si);

	assert_int_equal(siminit_cmd(si, sync10, SIMRING_DIR_NONE, NULL, 0, &res), 0);
	assert_good(&res);
	assert_int_equal(flushes(si), before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_cache_on),
		cmocka_unit_test(test_write_cache_off),
		cmocka_unit_test(test_sync_cache_flushes),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
