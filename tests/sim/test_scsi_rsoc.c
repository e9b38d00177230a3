/*
 * REPORT SUPPORTED OPERATION CODES over simring with the ram handler:
 * the all-commands list against the opcode table and its supported()
 * predicates, command timeouts descriptors, the one-command formats
 * (options 1, 2, 3) with their CDB usage data, allocation length, and the
 * rejected option/operation code combinations.
 */
#include <string.h>

#include "runner/scsi/scsi.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define NO_SA 0xffff

static int setup(void **state)
{
	struct siminit_opts o = { .cfgstring = "ram/rsoc" };
	struct siminit *si;

	if (siminit_load_handlers(LUNAR_HANDLER_DIR) || siminit_open(&o, &si))
		return -1;
	*state = si;
	return 0;
}

static void rsoc(struct siminit *si, uint8_t options, uint8_t opcode,
		 uint16_t sa, uint8_t *buf, uint32_t alloc,
		 struct scsi_result *res)
{
	uint8_t cdb[12] = {
		0xa3, 0x0c, options, opcode, (uint8_t)(sa >> 8), (uint8_t)sa,
		(uint8_t)(alloc >> 24), (uint8_t)(alloc >> 16),
		(uint8_t)(alloc >> 8), (uint8_t)alloc, 0, 0,
	};

	memset(buf, 0xaa, alloc);
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_IN, buf, alloc, res), 0);
}

/* Descriptor of opcode/sa in an option 0 reply, or NULL. */
static const uint8_t *find_desc(const uint8_t *buf, size_t desc_len,
				uint8_t opcode, uint16_t sa)
{
	size_t len = be32(buf);

	for (size_t off = 4; off < 4 + len; off += desc_len) {
		const uint8_t *d = buf + off;
		bool servactv = d[5] & 0x01;

		if (d[0] == opcode &&
		    (servactv ? (uint16_t)(d[2] << 8 | d[3]) == sa : sa == NO_SA))
			return d;
	}
	return NULL;
}

/* The reply lists exactly the table's rows supported on this device. */
static void assert_matches_table(struct siminit *si, const uint8_t *buf,
				 size_t desc_len)
{
	struct tcmu_device *dev = siminit_device(si);
	size_t count, listed = 0;
	const struct scsi_op *ops = scsi_ops(&count);

	for (size_t i = 0; i < count; i++) {
		const uint8_t *d = find_desc(buf, desc_len, ops[i].opcode,
					     ops[i].sa);
		bool supported = !ops[i].supported || ops[i].supported(dev);

		assert_int_equal(d != NULL, supported);
		if (!d)
			continue;
		listed++;
		assert_int_equal(d[6] << 8 | d[7], ops[i].cdb_len);
		assert_int_equal(d[5] & 0x01, ops[i].sa != NO_SA);
	}
	assert_int_equal(be32(buf), listed * desc_len);
}

static void test_all_commands(void **state)
{
	static const struct { uint8_t opcode; uint16_t sa; uint8_t len; } must[] = {
		{ 0x12, NO_SA, 6 },	/* INQUIRY */
		{ 0x88, NO_SA, 16 },	/* READ(16) */
		{ 0x8a, NO_SA, 16 },	/* WRITE(16) */
		{ 0x35, NO_SA, 10 },	/* SYNCHRONIZE CACHE(10) */
		{ 0x9e, 0x10, 16 },	/* READ CAPACITY(16) */
		{ 0xa3, 0x0c, 12 },	/* REPORT SUPPORTED OPERATION CODES */
		{ 0x42, NO_SA, 10 },	/* UNMAP: the ram handler unmaps */
		{ 0x1a, NO_SA, 6 },	/* MODE SENSE(6) */
		{ 0x8f, NO_SA, 16 },	/* VERIFY(16) */
	};
	uint8_t buf[4096];
	struct scsi_result res;

	rsoc(*state, 0, 0, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4 + be32(buf));
	assert_matches_table(*state, buf, 8);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		const uint8_t *d = find_desc(buf, 8, must[i].opcode, must[i].sa);

		assert_non_null(d);
		assert_int_equal(d[1], 0);
		assert_int_equal(d[4], 0);
		assert_int_equal(d[5] & 0x02, 0);	/* no CTDP without RCTD */
		assert_int_equal(d[6] << 8 | d[7], must[i].len);
	}
	/* Not a command lunar serves (LIO answers REPORT LUNS itself). */
	assert_null(find_desc(buf, 8, 0xa0, NO_SA));
}

static void test_all_commands_follow_supported(void **state)
{
	struct siminit *si = *state;
	uint8_t buf[4096];
	struct scsi_result res;

	tcmu_dev_set_unmap_enabled(siminit_device(si), false);
	rsoc(si, 0, 0, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_null(find_desc(buf, 8, 0x42, NO_SA));
	assert_matches_table(si, buf, 8);
	rsoc(si, 1, 0x42, 0, buf, 64, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4);
	assert_int_equal(buf[1] & 0x07, 0x01);		/* not supported */
	tcmu_dev_set_unmap_enabled(siminit_device(si), true);
	rsoc(si, 1, 0x42, 0, buf, 64, &res);
	assert_good(&res);
	assert_int_equal(buf[1] & 0x07, 0x03);
}

static void test_all_commands_with_timeouts(void **state)
{
	static const uint8_t timeouts[12] = { 0x00, 0x0a };
	uint8_t buf[8192];
	struct scsi_result res;
	size_t len;

	rsoc(*state, 0x80, 0, 0, buf, sizeof(buf), &res);	/* RCTD */
	assert_good(&res);
	len = be32(buf);
	assert_int_equal(res.data_len, 4 + len);
	assert_int_equal(len % 20, 0);
	assert_matches_table(*state, buf, 20);
	for (size_t off = 4; off < 4 + len; off += 20) {
		assert_int_equal(buf[off + 5] & 0x02, 0x02);	/* CTDP */
		assert_memory_equal(buf + off + 8, timeouts, sizeof(timeouts));
	}
}

static void test_all_commands_alloc_len(void **state)
{
	uint8_t full[4096], buf[4096];
	struct scsi_result res;

	rsoc(*state, 0, 0, 0, full, sizeof(full), &res);
	assert_good(&res);
	rsoc(*state, 0, 0, 0, buf, 10, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 10);
	assert_memory_equal(buf, full, 10);		/* full length in header */
	rsoc(*state, 0, 0, 0, buf, 0, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 0);
}

static void test_one_command_read10(void **state)
{
	static const uint8_t expect[] = {
		0x00, 0x03, 0x00, 0x0a,
		0x28, 0x18, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00,
	};
	uint8_t buf[64];
	struct scsi_result res;

	rsoc(*state, 1, 0x28, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	/* Option 3: an opcode without service actions ignores the SA. */
	rsoc(*state, 3, 0x28, 0x1234, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_memory_equal(buf, expect, sizeof(expect));
	/* RCTD: CTDP and a timeouts descriptor after the usage data. */
	rsoc(*state, 0x81, 0x28, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, sizeof(expect) + 12);
	assert_int_equal(buf[1], 0x83);
	assert_memory_equal(buf + 2, expect + 2, sizeof(expect) - 2);
	assert_int_equal(buf[14] << 8 | buf[15], 0x0a);
	for (size_t i = 16; i < 26; i++)
		assert_int_equal(buf[i], 0);
	/* Allocation length. */
	rsoc(*state, 1, 0x28, 0, buf, 6, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 6);
	assert_memory_equal(buf, expect, 6);
}

static void test_one_command_with_service_action(void **state)
{
	static const uint8_t rc16[] = {
		0x00, 0x03, 0x00, 0x10,
		0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0,
	};
	static const uint8_t self[] = {
		0x00, 0x03, 0x00, 0x0c,
		0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0,
	};
	uint8_t buf[64];
	struct scsi_result res;

	rsoc(*state, 2, 0x9e, 0x10, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, sizeof(rc16));
	assert_memory_equal(buf, rc16, sizeof(rc16));
	rsoc(*state, 3, 0x9e, 0x10, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_memory_equal(buf, rc16, sizeof(rc16));
	rsoc(*state, 2, 0xa3, 0x0c, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_memory_equal(buf, self, sizeof(self));
	/* Unsupported service actions and opcodes: SUPPORT 001b. */
	rsoc(*state, 2, 0x9e, 0x11, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4);
	assert_int_equal(buf[1], 0x01);
	rsoc(*state, 3, 0x9e, 0x1010, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(buf[1], 0x01);
	rsoc(*state, 1, 0xc9, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[2] << 8 | buf[3], 0);
}

static void test_bad_requests(void **state)
{
	uint8_t bad_bits[12] = { 0xa3, 0x0c, 0x08, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	uint8_t buf[64];
	struct scsi_result res;

	/* Option 1 for an opcode that has service actions. */
	rsoc(*state, 1, 0x9e, 0, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
	/* Option 2 for an opcode without service actions. */
	rsoc(*state, 2, 0x28, 0, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
	/* Reserved reporting options. */
	for (uint8_t opt = 4; opt < 8; opt++) {
		rsoc(*state, opt, 0x28, 0, buf, sizeof(buf), &res);
		assert_sense(&res, 0x05, 0x2400);
		assert_field_pointer(&res, 1, 2);
	}
	/* Reserved bit in byte 2. */
	assert_int_equal(siminit_cmd(*state, bad_bits, SIMRING_DIR_IN, buf,
				     sizeof(buf), &res), 0);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_commands),
		cmocka_unit_test(test_all_commands_follow_supported),
		cmocka_unit_test(test_all_commands_with_timeouts),
		cmocka_unit_test(test_all_commands_alloc_len),
		cmocka_unit_test(test_one_command_read10),
		cmocka_unit_test(test_one_command_with_service_action),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
