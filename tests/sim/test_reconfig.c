/*
 * Reconfiguring a device's cfgstring (netlink RECONFIG_DEVICE with
 * TCMU_ATTR_DEV_CFG, as the kernel sends it when attrib/dev_config is
 * written; kernel_devices.c passes it to device_reconfig()), on the success
 * path: handler_slow follows a new cfgstring of its own subtype, taking
 * its ";hold_ms=N" for I/O from then on, and refuses the rest, keeping
 * the old configuration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runner/device.h"
#include "runner/handler.h"
#include "tests/shared/handler_slow.h"
#include "libtcmu.h"
#include "tests/shared/scsi_check.h"

#define BS 512

static int setup(void **state)
{
	(void)state;
	return siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	       handlers_load_file(SLOW_HANDLER_PATH);
}

/* What kernel_devices.c does with the kernel's request. */
static int reconfig_cfgstring(struct siminit *si, const char *cfgstring)
{
	char copy[256];
	struct tcmulib_cfg_info cfg = {
		.type = TCMULIB_CFG_DEV_CFGSTR, .data.dev_cfgstring = copy,
	};

	snprintf(copy, sizeof(copy), "%s", cfgstring);
	return device_reconfig(siminit_device(si), &cfg);
}

/* READ(16) of one block at lba: GOOD, the expected data; milliseconds. */
static long timed_read(struct siminit *si, uint64_t lba, const uint8_t *want)
{
	uint8_t buf[BS];
	struct scsi_result res;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(siminit_read(si, lba, 1, buf, &res), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_good(&res);
	assert_memory_equal(buf, want, BS);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static void test_cfgstring_change_followed(void **state)
{
	struct siminit *si = open_lun("slow/re;hold_ms=0", "re", 8 << 20, BS);
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));
	uint8_t data[BS];

	(void)state;
	memset(data, 0x5a, sizeof(data));
	write_read_back(si, 3, 1, data, sizeof(data));
	assert_int_equal(reconfig_cfgstring(si, "slow/re;hold_ms=250"), 0);
	assert_int_equal(__atomic_load_n(&ctl->hold_ms, __ATOMIC_RELAXED), 250);
	assert_true(timed_read(si, 3, data) >= 250);
	/* As in 1.5.4 the device keeps the cfgstring it was added with. */
	assert_string_equal(tcmu_dev_get_cfgstring(siminit_device(si)),
			    "slow/re;hold_ms=0");
	/* Back to no hold: the option may also go away. */
	assert_int_equal(reconfig_cfgstring(si, "slow/re"), 0);
	assert_int_equal(__atomic_load_n(&ctl->hold_ms, __ATOMIC_RELAXED), 0);
	memset(data, 0xa5, sizeof(data));
	write_read_back(si, 4, 1, data, sizeof(data));
	siminit_close(si);
}

/* Refused changes: an error back to the kernel, the old configuration. */
static void test_refused_change_keeps_the_old(void **state)
{
	static const char *const refused[] = {
		"slowx/re;hold_ms=5",		/* another subtype */
		"file//tmp/re.img",		/* another handler */
		"slow/re;hold_ms=soon",		/* not a number */
		"slow/re;hold_ms=-1",
		"slow/re;hold_ms=99999999",	/* beyond a minute */
	};
	struct siminit *si = open_lun("slow/keep;hold_ms=120", "keep", 8 << 20, BS);
	struct tcmu_device *dev = siminit_device(si);
	struct slow_ctl *ctl = tcmur_dev_get_private(dev);
	struct tcmulib_cfg_info size = {
		.type = TCMULIB_CFG_DEV_SIZE, .data.dev_size = 16 << 20,
	};
	uint8_t data[BS];

	(void)state;
	memset(data, 0x33, sizeof(data));
	write_read_back(si, 7, 1, data, sizeof(data));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(reconfig_cfgstring(si, refused[i]), -EINVAL);
		assert_int_equal(__atomic_load_n(&ctl->hold_ms, __ATOMIC_RELAXED), 120);
	}
	/* The handler's memory is fixed: a size change stays refused. */
	assert_int_equal(device_reconfig(dev, &size), -EOPNOTSUPP);
	assert_int_equal(device_num_lbas(dev), (8 << 20) / BS);
	assert_true(timed_read(si, 7, data) >= 120);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfgstring_change_followed),
		cmocka_unit_test(test_refused_change_keeps_the_old),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
