/*
 * Kernel control-plane parsers: TCM-USER netlink requests (netlink_parse)
 * and TCMU UIO device names (uio_parse_name), on well-formed and hostile
 * input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <netlink/genl/genl.h>

#include "runner/control/netlink.h"
#include "runner/control/uio.h"
#include "runner/ring/tcmu_uapi.h"

#define DEVICE "tcm-user/1/lun0/file//var/lib/x.img"

static struct nl_msg *request(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 0, 0, 30, 0, 0, cmd, TCMU_GENL_VERSION));
	return msg;
}

static struct nl_msg *device_request(uint8_t cmd)
{
	struct nl_msg *msg = request(cmd);

	assert_int_equal(nla_put_string(msg, TCMU_ATTR_DEVICE, DEVICE), 0);
	assert_int_equal(nla_put_u32(msg, TCMU_ATTR_MINOR, 3), 0);
	assert_int_equal(nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 77), 0);
	return msg;
}

static int parse(struct nl_msg *msg, struct nl_request *req, const char **why)
{
	int ret = netlink_parse(msg, req, why);

	nlmsg_free(msg);
	return ret;
}

static void added_and_removed(void **state)
{
	struct nl_request req;
	const char *why;

	(void)state;
	assert_int_equal(parse(device_request(TCMU_CMD_ADDED_DEVICE), &req, &why), 0);
	assert_int_equal(req.cmd, TCMU_CMD_ADDED_DEVICE);
	assert_int_equal(req.minor, 3);
	assert_int_equal(req.dev_id, 77);
	assert_string_equal(req.device, DEVICE);
	assert_int_equal(parse(device_request(TCMU_CMD_REMOVED_DEVICE), &req, &why), 0);
	assert_int_equal(req.cmd, TCMU_CMD_REMOVED_DEVICE);
}

static void reconfig_each_kind(void **state)
{
	struct nl_request req;
	struct nl_msg *msg;
	const char *why;

	(void)state;
	msg = device_request(TCMU_CMD_RECONFIG_DEVICE);
	nla_put_u64(msg, TCMU_ATTR_DEV_SIZE, 1ull << 33);
	assert_int_equal(parse(msg, &req, &why), 0);
	assert_true(req.has_size && !req.has_cfgstring && !req.has_write_cache);
	assert_int_equal(req.size, 1ull << 33);

	msg = device_request(TCMU_CMD_RECONFIG_DEVICE);
	nla_put_u8(msg, TCMU_ATTR_WRITECACHE, 1);
	assert_int_equal(parse(msg, &req, &why), 0);
	assert_true(req.has_write_cache && req.write_cache);

	/* The kernel's order of precedence: cfgstring, size, write cache. */
	msg = device_request(TCMU_CMD_RECONFIG_DEVICE);
	nla_put_u8(msg, TCMU_ATTR_WRITECACHE, 0);
	nla_put_string(msg, TCMU_ATTR_DEV_CFG, "file//new.img");
	assert_int_equal(parse(msg, &req, &why), 0);
	assert_true(req.has_cfgstring && !req.has_write_cache);
	assert_string_equal(req.cfgstring, "file//new.img");

	msg = device_request(TCMU_CMD_RECONFIG_DEVICE);
	assert_int_equal(parse(msg, &req, &why), -EOPNOTSUPP);
	assert_non_null(why);
	assert_int_equal(req.dev_id, 77);	/* so the kernel gets an answer */
}

static void missing_or_mistyped_attributes(void **state)
{
	struct nl_request req;
	struct nl_msg *msg;
	const char *why;

	(void)state;
	msg = request(TCMU_CMD_ADDED_DEVICE);
	nla_put_string(msg, TCMU_ATTR_DEVICE, DEVICE);
	nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 5);
	assert_int_equal(parse(msg, &req, &why), -EINVAL);	/* no minor */
	assert_int_equal(req.dev_id, 5);

	msg = request(TCMU_CMD_ADDED_DEVICE);
	nla_put_string(msg, TCMU_ATTR_DEVICE, DEVICE);
	nla_put_u8(msg, TCMU_ATTR_MINOR, 3);			/* u8, not u32 */
	nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 5);
	assert_int_equal(parse(msg, &req, &why), -EINVAL);
	assert_non_null(why);

	msg = request(TCMU_CMD_RECONFIG_DEVICE);
	nla_put_string(msg, TCMU_ATTR_DEVICE, DEVICE);
	nla_put_u32(msg, TCMU_ATTR_MINOR, 3);
	nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 5);
	nla_put_u32(msg, TCMU_ATTR_DEV_SIZE, 4096);		/* u32, not u64 */
	assert_int_equal(parse(msg, &req, &why), -EINVAL);
}

static void unknown_command_and_attribute(void **state)
{
	struct nl_request req;
	struct nl_msg *msg;
	const char *why;

	(void)state;
	assert_int_equal(parse(device_request(TCMU_CMD_SET_FEATURES), &req, &why),
			 -EOPNOTSUPP);
	assert_int_equal(parse(device_request(200), &req, &why), -EOPNOTSUPP);

	/* Attributes from a newer kernel are ignored. */
	msg = device_request(TCMU_CMD_ADDED_DEVICE);
	nla_put_u32(msg, TCMU_ATTR_MAX + 5, 1);
	assert_int_equal(parse(msg, &req, &why), 0);
}

static void oversized_strings(void **state)
{
	static char big[sizeof(((struct nl_request *)0)->device) + 10];
	struct nl_request req;
	struct nl_msg *msg = nlmsg_alloc_size(2 * sizeof(big));
	const char *why;

	(void)state;
	assert_non_null(genlmsg_put(msg, 0, 0, 30, 0, 0, TCMU_CMD_ADDED_DEVICE,
				    TCMU_GENL_VERSION));
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(nla_put_string(msg, TCMU_ATTR_DEVICE, big), 0);
	nla_put_u32(msg, TCMU_ATTR_MINOR, 3);
	nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 5);
	assert_int_equal(parse(msg, &req, &why), -EINVAL);

	msg = nlmsg_alloc_size(2 * sizeof(big));
	assert_non_null(genlmsg_put(msg, 0, 0, 30, 0, 0, TCMU_CMD_RECONFIG_DEVICE,
				    TCMU_GENL_VERSION));
	nla_put_string(msg, TCMU_ATTR_DEVICE, DEVICE);
	nla_put_u32(msg, TCMU_ATTR_MINOR, 3);
	nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 5);
	nla_put_string(msg, TCMU_ATTR_DEV_CFG, big);
	assert_int_equal(parse(msg, &req, &why), -EINVAL);
}

/* A message cut short: the generic header claims more than there is. */
static void truncated_message(void **state)
{
	struct nl_request req;
	struct nl_msg *msg = device_request(TCMU_CMD_ADDED_DEVICE);
	const char *why;

	(void)state;
	nlmsg_hdr(msg)->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(parse(msg, &req, &why), -EINVAL);

	msg = device_request(TCMU_CMD_ADDED_DEVICE);
	nlmsg_hdr(msg)->nlmsg_len -= 3;		/* last attribute overruns */
	assert_int_equal(parse(msg, &req, &why), -EINVAL);
}

static void uio_names(void **state)
{
	struct uio_identity id;
	char long_dev[200];

	(void)state;
	assert_int_equal(uio_parse_name(DEVICE, &id), 0);
	assert_string_equal(id.hba, "user_1");
	assert_string_equal(id.dev, "lun0");
	assert_string_equal(id.cfgstring, "file//var/lib/x.img");
	assert_int_equal(uio_parse_name("tcm-user/12/d/rbd/pool/img;osd_op_timeout=30\n", &id), 0);
	assert_string_equal(id.hba, "user_12");
	assert_string_equal(id.cfgstring, "rbd/pool/img;osd_op_timeout=30");

	assert_int_equal(uio_parse_name("uio_pci_generic", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/1", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/1/lun0", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/1/lun0/", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user//lun0/file/x", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/1//file/x", &id), -EINVAL);
	assert_int_equal(uio_parse_name("tcm-user/123456789012/d/file/x", &id), -EINVAL);
	memset(long_dev, 'd', sizeof(long_dev));
	memcpy(long_dev, "tcm-user/1/", 11);
	memcpy(long_dev + sizeof(long_dev) - 8, "/file/x", 8);
	assert_int_equal(uio_parse_name(long_dev, &id), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(added_and_removed),
		cmocka_unit_test(reconfig_each_kind),
		cmocka_unit_test(missing_or_mistyped_attributes),
		cmocka_unit_test(unknown_command_and_attribute),
		cmocka_unit_test(oversized_strings),
		cmocka_unit_test(truncated_message),
		cmocka_unit_test(uio_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
