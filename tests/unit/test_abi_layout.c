/*
 * The frozen tcmu-runner 1.5.4 handler ABI (x86_64): struct layouts and
 * enum values exactly as 1.5.4 handler binaries use them.  The offsets
 * were read from Debian's binary handler_rbd.so (1.5.4-4.1); the
 * tcmulib_cmd hm_private offset and the enum values come from the 1.5.4
 * headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/device.h"
#include "tcmu-runner.h"

#define assert_offset(type, field, off) \
	assert_int_equal(offsetof(struct type, field), (off))

static void test_tcmur_handler(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct tcmur_handler), 200);
	assert_offset(tcmur_handler, name, 0x00);
	assert_offset(tcmur_handler, subtype, 0x08);
	assert_offset(tcmur_handler, cfg_desc, 0x10);
	assert_offset(tcmur_handler, opaque, 0x18);
	assert_offset(tcmur_handler, check_config, 0x20);
	assert_offset(tcmur_handler, reconfig, 0x28);
	assert_offset(tcmur_handler, open, 0x30);
	assert_offset(tcmur_handler, close, 0x38);
	assert_offset(tcmur_handler, nr_threads, 0x40);
	assert_offset(tcmur_handler, handle_cmd, 0x48);
	assert_offset(tcmur_handler, read, 0x50);
	assert_offset(tcmur_handler, write, 0x58);
	assert_offset(tcmur_handler, flush, 0x60);
	assert_offset(tcmur_handler, unmap, 0x68);
	assert_offset(tcmur_handler, writesame, 0x70);
	assert_offset(tcmur_handler, caw, 0x78);
	assert_offset(tcmur_handler, report_event, 0x80);
	assert_offset(tcmur_handler, lock, 0x88);
	assert_offset(tcmur_handler, unlock, 0x90);
	assert_offset(tcmur_handler, get_lock_tag, 0x98);
	assert_offset(tcmur_handler, get_lock_state, 0xa0);
	assert_offset(tcmur_handler, _is_dbus_handler, 0xa8);
	assert_offset(tcmur_handler, update_logdir, 0xb0);
	assert_offset(tcmur_handler, init, 0xb8);
	assert_offset(tcmur_handler, destroy, 0xc0);
}

static void test_tcmulib_cmd(void **state)
{
	(void)state;
	assert_offset(tcmulib_cmd, cmd_id, 0x00);
	assert_offset(tcmulib_cmd, cdb, 0x08);
	assert_offset(tcmulib_cmd, iovec, 0x10);
	assert_offset(tcmulib_cmd, iov_cnt, 0x18);
	assert_offset(tcmulib_cmd, sense_buf, 0x20);
	assert_int_equal(sizeof(((struct tcmulib_cmd *)0)->sense_buf), 96);
	assert_int_equal(SENSE_BUFFERSIZE, 96);
	assert_offset(tcmulib_cmd, hm_private, 0x80);
}

static void test_tcmur_cmd(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct tcmur_cmd), 0x60);
	assert_offset(tcmur_cmd, lib_cmd, 0x00);
	assert_offset(tcmur_cmd, iovec, 0x08);
	assert_offset(tcmur_cmd, iov_cnt, 0x10);
	assert_offset(tcmur_cmd, iov_base_copy, 0x18);
	assert_offset(tcmur_cmd, cmd_state, 0x20);
	assert_offset(tcmur_cmd, requested, 0x28);
	assert_offset(tcmur_cmd, cmds_list_entry, 0x30);
	assert_offset(tcmur_cmd, start_time, 0x40);
	assert_offset(tcmur_cmd, timed_out, 0x50);
	assert_offset(tcmur_cmd, done, 0x58);
	assert_int_equal(sizeof(struct list_node), 16);
}

/* The prefix of 1.5.4's struct tcmur_device that handler_rbd.so reads. */
static void test_rdev_view(void **state)
{
	(void)state;
	assert_offset(lunar_rdev_view, dev, 0x00);
	assert_offset(lunar_rdev_view, hm_private, 0x08);
	assert_offset(lunar_rdev_view, cmdproc_thread, 0x10);
	assert_offset(lunar_rdev_view, flags, 0x18);
	assert_offset(lunar_rdev_view, failover_type, 0x1c);
	assert_offset(lunar_rdev_view, recovery_entry, 0x20);
	assert_offset(lunar_rdev_view, lock_lost_cnt, 0x30);
	assert_offset(lunar_rdev_view, conn_lost_cnt, 0x38);
	assert_offset(lunar_rdev_view, cmd_timed_out_cnt, 0x40);
	assert_offset(lunar_rdev_view, event_work, 0x48);
	assert_offset(lunar_rdev_view, lock_lost, 0x50);
	assert_offset(lunar_rdev_view, lock_state, 0x51);
	assert_int_equal(sizeof(((struct lunar_rdev_view *)0)->lock_state), 1);
	/* The view is where tcmu_dev_get_private() starts out pointing. */
	assert_offset(tcmu_device, rdev, 0);
}

static void test_status_values(void **state)
{
	static const int want[] = {
		TCMU_STS_ASYNC_HANDLED, -2, TCMU_STS_NOT_HANDLED, -1,
		TCMU_STS_OK, 0, TCMU_STS_NO_RESOURCE, 1,
		TCMU_STS_PASSTHROUGH_ERR, 2, TCMU_STS_BUSY, 3,
		TCMU_STS_WR_ERR, 4, TCMU_STS_RD_ERR, 5,
		TCMU_STS_MISCOMPARE, 6, TCMU_STS_INVALID_CMD, 7,
		TCMU_STS_INVALID_CDB, 8, TCMU_STS_INVALID_PARAM_LIST, 9,
		TCMU_STS_INVALID_PARAM_LIST_LEN, 10, TCMU_STS_TIMEOUT, 11,
		TCMU_STS_FENCED, 12, TCMU_STS_HW_ERR, 13,
		TCMU_STS_RANGE, 14, TCMU_STS_FRMT_IN_PROGRESS, 15,
		TCMU_STS_CAPACITY_CHANGED, 16, TCMU_STS_NOTSUPP_SAVE_PARAMS, 17,
		TCMU_STS_WR_ERR_INCOMPAT_FRMT, 18, TCMU_STS_TRANSITION, 19,
		TCMU_STS_IMPL_TRANSITION_ERR, 20, TCMU_STS_EXPL_TRANSITION_ERR, 21,
		TCMU_STS_NO_LOCK_HOLDERS, 22, TCMU_STS_NOTSUPP_SEG_DESC_TYPE, 23,
		TCMU_STS_NOTSUPP_TGT_DESC_TYPE, 24, TCMU_STS_CP_TGT_DEV_NOTCONN, 25,
		TCMU_STS_INVALID_CP_TGT_DEV_TYPE, 26, TCMU_STS_TOO_MANY_SEG_DESC, 27,
		TCMU_STS_TOO_MANY_TGT_DESC, 28,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i += 2)
		assert_int_equal(want[i], want[i + 1]);
}

static void test_lock_and_event_values(void **state)
{
	(void)state;
	assert_int_equal(TCMUR_DEV_LOCK_UNKNOWN, 0);
	assert_int_equal(TCMUR_DEV_LOCK_UNLOCKED, 1);
	assert_int_equal(TCMUR_DEV_LOCK_READ_LOCKING, 2);
	assert_int_equal(TCMUR_DEV_LOCK_READ_LOCKED, 3);
	assert_int_equal(TCMUR_DEV_LOCK_WRITE_LOCKING, 4);
	assert_int_equal(TCMUR_DEV_LOCK_WRITE_LOCKED, 5);
	assert_int_equal(TCMU_INVALID_LOCK_TAG, 0xffff);
	assert_int_equal(TCMUR_EVT_LOCK_LOST, 0);
	assert_int_equal(TCMUR_EVT_CONN_LOST, 1);
	assert_int_equal(TCMUR_EVT_CMD_TIMED_OUT, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcmur_handler),
		cmocka_unit_test(test_tcmulib_cmd),
		cmocka_unit_test(test_tcmur_cmd),
		cmocka_unit_test(test_rdev_view),
		cmocka_unit_test(test_status_values),
		cmocka_unit_test(test_lock_and_event_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
