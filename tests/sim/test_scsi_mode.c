/*
 * MODE SENSE (6/10) and MODE SELECT (6/10) over simring with the ram
 * handler: page contents, block descriptors, page control, allocation
 * length, the WCE toggle (write cache, unit attention) and the malformed
 * variants of CDBs and parameter lists with their exact sense.
 */
#include <string.h>

#include "runner/device.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (64ull << 20)
#define NUM_LBAS (SIZE / BS)

/* Current pages as lunar reports them (WCE clear), ascending page code. */
static const uint8_t rw_recovery[12] = { 0x01, 0x0a };
static const uint8_t caching[20] = { 0x08, 0x12 };
static const uint8_t control[12] = {
	0x0a, 0x0a, 0x02, 0x10, 0, 0x40, 0, 0, 0xff, 0xff, 0, 0,
};
static const uint8_t iec[12] = { 0x1c, 0x0a };
#define PAGES_LEN (12 + 20 + 12 + 12)

static int setup(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/mode", .size = SIZE, .block_size = BS,
	};
	struct siminit *si;

	if (siminit_load_handlers(LUNAR_HANDLER_DIR) || siminit_open(&o, &si))
		return -1;
	*state = si;
	return 0;
}

static void tur(struct siminit *si, struct scsi_result *res)
{
	uint8_t cdb[6] = { 0 };

	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_NONE, NULL, 0, res), 0);
}

/* MODE SENSE(6) or (10); byte1 carries DBD/LLBAA, page2 PC and page code. */
static void sense6(struct siminit *si, uint8_t byte1, uint8_t page2,
		   uint8_t sub, uint8_t *buf, uint8_t alloc,
		   struct scsi_result *res)
{
	uint8_t cdb[6] = { 0x1a, byte1, page2, sub, alloc, 0 };

	cmd_in(si, cdb, buf, alloc ? alloc : 1, res);
}

static void sense10(struct siminit *si, uint8_t byte1, uint8_t page2,
		    uint8_t sub, uint8_t *buf, uint16_t alloc,
		    struct scsi_result *res)
{
	uint8_t cdb[10] = { 0x5a, byte1, page2, sub, 0, 0, 0,
			    (uint8_t)(alloc >> 8), (uint8_t)alloc, 0 };

	cmd_in(si, cdb, buf, alloc, res);
}

static void select6(struct siminit *si, uint8_t byte1, uint8_t *param,
		    uint8_t len, struct scsi_result *res)
{
	uint8_t cdb[6] = { 0x15, byte1, 0, 0, len, 0 };

	cmd_out(si, cdb, param, len, res);
}

static void select10(struct siminit *si, uint8_t *param, uint16_t len,
		     struct scsi_result *res)
{
	uint8_t cdb[10] = { 0x55, 0x10, 0, 0, 0, 0, 0, (uint8_t)(len >> 8),
			    (uint8_t)len, 0 };

	cmd_out(si, cdb, param, len, res);
}

/* The write cache setting now (the handler's open() chose the first one). */
static bool wce_now(struct siminit *si)
{
	return device_write_cache(siminit_device(si));
}

static void assert_all_pages(const uint8_t *p, bool wce)
{
	assert_memory_equal(p, rw_recovery, sizeof(rw_recovery));
	p += sizeof(rw_recovery);
	assert_memory_equal(p, caching, 2);
	assert_int_equal(p[2], wce ? 0x04 : 0);
	assert_memory_equal(p + 3, caching + 3, sizeof(caching) - 3);
	p += sizeof(caching);
	assert_memory_equal(p, control, sizeof(control));
	p += sizeof(control);
	assert_memory_equal(p, iec, sizeof(iec));
}

static void test_sense6_all_pages(void **state)
{
	uint8_t buf[255];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	sense6(*state, 0, 0x3f, 0, buf, 255, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4 + 8 + PAGES_LEN);
	assert_int_equal(buf[0], 3 + 8 + PAGES_LEN);	/* MODE DATA LENGTH */
	assert_int_equal(buf[1], 0);			/* medium type */
	assert_int_equal(buf[2], 0x10);			/* DPOFUA, not WP */
	assert_int_equal(buf[3], 8);
	assert_int_equal(be32(buf + 4), NUM_LBAS);
	assert_int_equal(be32(buf + 8), BS);
	assert_all_pages(buf + 12, wce_now(*state));
}

static void test_sense10_long_descriptor_and_dbd(void **state)
{
	uint8_t buf[256];
	struct scsi_result res;

	sense10(*state, 0x10, 0x3f, 0, buf, sizeof(buf), &res);	/* LLBAA */
	assert_good(&res);
	assert_int_equal(res.data_len, 8 + 16 + PAGES_LEN);
	assert_int_equal(buf[0] << 8 | buf[1], 6 + 16 + PAGES_LEN);
	assert_int_equal(buf[3], 0x10);
	assert_int_equal(buf[4], 0x01);			/* LONGLBA */
	assert_int_equal(buf[6] << 8 | buf[7], 16);
	assert_int_equal(be64(buf + 8), NUM_LBAS);
	assert_int_equal(be32(buf + 16), 0);
	assert_int_equal(be32(buf + 20), BS);
	assert_all_pages(buf + 24, wce_now(*state));

	/* Without LLBAA: short descriptor. */
	sense10(*state, 0, 0x3f, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[6] << 8 | buf[7], 8);
	assert_int_equal(be32(buf + 8), NUM_LBAS);
	assert_all_pages(buf + 16, wce_now(*state));

	/* DBD: no block descriptor at all. */
	sense10(*state, 0x18, 0x3f, 0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 8 + PAGES_LEN);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[6] << 8 | buf[7], 0);
	assert_all_pages(buf + 8, wce_now(*state));
}

static void test_sense_single_pages_and_subpages(void **state)
{
	static const struct { uint8_t code; const uint8_t *page; size_t len; } pages[] = {
		{ 0x01, rw_recovery, sizeof(rw_recovery) },
		{ 0x08, caching, sizeof(caching) },
		{ 0x0a, control, sizeof(control) },
		{ 0x1c, iec, sizeof(iec) },
	};
	uint8_t buf[255], all[255];
	struct scsi_result res;

	for (size_t i = 0; i < 4; i++) {
		uint8_t expect[20];

		memcpy(expect, pages[i].page, pages[i].len);
		if (pages[i].code == 0x08 && wce_now(*state))
			expect[2] = 0x04;
		sense6(*state, 0x08, pages[i].code, 0, buf, 255, &res);
		assert_good(&res);
		assert_int_equal(res.data_len, 4 + pages[i].len);
		assert_int_equal(buf[0], 3 + pages[i].len);
		assert_int_equal(buf[3], 0);
		assert_memory_equal(buf + 4, expect, pages[i].len);
	}
	/* 3Fh/FFh: every page and subpage, the same data as 3Fh/00h. */
	sense6(*state, 0, 0x3f, 0, all, 255, &res);
	assert_good(&res);
	sense6(*state, 0, 0x3f, 0xff, buf, 255, &res);
	assert_good(&res);
	assert_memory_equal(buf, all, 4 + 8 + PAGES_LEN);
}

static void test_sense_page_control(void **state)
{
	uint8_t buf[255], cur[255];
	struct scsi_result res;

	/* Changeable: only WCE; header and descriptor stay current values. */
	sense6(*state, 0, 0x40 | 0x3f, 0, buf, 255, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 4 + 8 + PAGES_LEN);
	assert_int_equal(buf[2], 0x10);
	assert_int_equal(be32(buf + 4), NUM_LBAS);
	assert_memory_equal(buf + 12, rw_recovery, sizeof(rw_recovery));
	assert_int_equal(buf[24], 0x08);
	assert_int_equal(buf[25], 0x12);
	assert_int_equal(buf[26], 0x04);
	for (size_t i = 27; i < 44; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[44], 0x0a);
	assert_int_equal(buf[45], 0x0a);
	for (size_t i = 46; i < 56; i++)
		assert_int_equal(buf[i], 0);
	/* Default values are the current ones. */
	sense6(*state, 0, 0x3f, 0, cur, 255, &res);
	assert_good(&res);
	sense6(*state, 0, 0x80 | 0x3f, 0, buf, 255, &res);
	assert_good(&res);
	assert_memory_equal(buf, cur, 4 + 8 + PAGES_LEN);
	/* Saved values: not supported. */
	sense6(*state, 0, 0xc0 | 0x08, 0, buf, 255, &res);
	assert_sense(&res, 0x05, 0x3900);
	sense10(*state, 0, 0xc0 | 0x3f, 0, buf, 255, &res);
	assert_sense(&res, 0x05, 0x3900);
}

static void test_sense_alloc_len(void **state)
{
	uint8_t buf[64];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	sense6(*state, 0, 0x3f, 0, buf, 10, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 10);
	assert_int_equal(buf[0], 3 + 8 + PAGES_LEN);	/* full length */
	assert_int_equal(buf[10], 0xaa);
	sense10(*state, 0, 0x3f, 0, buf, 2, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 2);
	assert_int_equal(buf[0] << 8 | buf[1], 6 + 8 + PAGES_LEN);
}

static void test_sense_clamps_block_count(void **state)
{
	struct tcmu_device *dev = siminit_device(*state);
	uint64_t big = (1ull << 32) + 5;
	uint8_t buf[255];
	struct scsi_result res;

	/* Geometry only (nothing is read): no need for a 2 TiB backstore. */
	__atomic_store_n(&dev->num_lbas, big, __ATOMIC_RELEASE);
	sense6(*state, 0, 0x08, 0, buf, 255, &res);
	assert_good(&res);
	assert_int_equal(be32(buf + 4), 0xffffffffu);
	sense10(*state, 0x10, 0x08, 0, buf, 255, &res);
	assert_good(&res);
	assert_int_equal(be64(buf + 8), big);
	__atomic_store_n(&dev->num_lbas, NUM_LBAS, __ATOMIC_RELEASE);
}

static void test_sense_bad_cdb(void **state)
{
	uint8_t buf[255];
	struct scsi_result res;

	sense6(*state, 0, 0x19, 0, buf, 255, &res);	/* unknown page */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
	sense10(*state, 0, 0x00, 0, buf, 255, &res);	/* vendor page 0 */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
	sense6(*state, 0, 0x08, 0x01, buf, 255, &res);	/* subpage */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 3);
	sense6(*state, 0, 0x0a, 0xff, buf, 255, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 3);
	sense10(*state, 0, 0x3f, 0x01, buf, 255, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 3);
	sense6(*state, 0x10, 0x3f, 0, buf, 255, &res);	/* LLBAA: (10) only */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
}

/* Caching page (DBD) as MODE SENSE(6) reports it, as a MODE SELECT list. */
static size_t caching_list(struct siminit *si, uint8_t *param, bool wce)
{
	struct scsi_result res;

	sense6(si, 0x08, 0x08, 0, param, 4 + 20, &res);
	assert_good(&res);
	param[0] = 0;				/* reserved in MODE SELECT */
	param[2] = 0;
	param[4 + 2] = wce ? 0x04 : 0;
	return 4 + 20;
}

static void expect_mode_changed_ua(struct siminit *si)
{
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	uint8_t buf[36];
	struct scsi_result res;

	cmd_in(si, inq, buf, sizeof(buf), &res);	/* keeps the UA */
	assert_good(&res);
	tur(si, &res);
	assert_sense(&res, 0x06, 0x2a01);
	tur(si, &res);
	assert_good(&res);
}

/* MODE SELECT(6) or (10) of the Caching page with WCE = wce. */
static void select_wce(struct siminit *si, bool ten, bool wce,
		       struct scsi_result *res)
{
	uint8_t param[64] = { 0 };
	size_t len = caching_list(si, param + 4, wce);

	if (ten) {
		memset(param + 4, 0, 4);	/* 8-byte header */
		select10(si, param, (uint16_t)(len + 4), res);
	} else {
		select6(si, 0x10, param + 4, (uint8_t)len, res);
	}
}

/* WCE as MODE SENSE reports it, in the Caching page and in "all pages". */
static void assert_sensed_wce(struct siminit *si, bool wce)
{
	uint8_t buf[255];
	struct scsi_result res;

	sense6(si, 0x08, 0x08, 0, buf, 255, &res);
	assert_good(&res);
	assert_int_equal(buf[4 + 2], wce ? 0x04 : 0);
	sense10(si, 0x08, 0x3f, 0, buf, 255, &res);
	assert_good(&res);
	assert_all_pages(buf + 8, wce);
}

/* Off then on (or on, off, on): each change is real and reported once. */
static void test_select_toggles_write_cache(void **state)
{
	struct siminit *si = *state;
	bool initial = wce_now(si);
	struct scsi_result res;

	if (initial) {
		select_wce(si, false, false, &res);
		assert_good(&res);
		assert_false(wce_now(si));
		expect_mode_changed_ua(si);
		assert_sensed_wce(si, false);
	}
	select_wce(si, true, true, &res);
	assert_good(&res);
	assert_true(wce_now(si));
	expect_mode_changed_ua(si);
	assert_sensed_wce(si, true);

	select_wce(si, false, false, &res);
	assert_good(&res);
	assert_false(wce_now(si));
	expect_mode_changed_ua(si);
	assert_sensed_wce(si, false);

	/* Selecting the current value changes nothing: no unit attention. */
	select_wce(si, true, false, &res);
	assert_good(&res);
	tur(si, &res);
	assert_good(&res);

	select_wce(si, false, initial, &res);
	assert_good(&res);
	assert_int_equal(wce_now(si), initial);
	if (initial)
		expect_mode_changed_ua(si);
}

/* Echoing MODE SENSE data back changes nothing and raises no UA. */
static void test_select_echo_of_sense(void **state)
{
	struct siminit *si = *state;
	bool initial = wce_now(si);
	uint8_t param[256];
	struct scsi_result res;
	size_t len;

	sense10(si, 0x10, 0x3f, 0, param, sizeof(param), &res);	/* long */
	assert_good(&res);
	len = res.data_len;
	param[0] = param[1] = 0;
	select10(si, param, (uint16_t)len, &res);
	assert_good(&res);
	sense6(si, 0, 0x3f, 0, param, 255, &res);			/* short */
	assert_good(&res);
	len = res.data_len;
	param[0] = 0;
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_good(&res);
	/* NUMBER OF LOGICAL BLOCKS 0: keep the capacity. */
	memset(param + 4, 0, 4);
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_good(&res);
	tur(si, &res);
	assert_good(&res);
	assert_int_equal(wce_now(si), initial);
}

static void test_select_cdb_errors(void **state)
{
	struct siminit *si = *state;
	uint8_t param[64];
	struct scsi_result res;
	bool initial = wce_now(si);
	size_t len = caching_list(si, param, !initial);

	select6(si, 0x00, param, (uint8_t)len, &res);		/* PF = 0 */
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	assert_int_equal(res.sense[15] & 0x0f, 0x08 | 4);	/* bit 4 */
	select6(si, 0x11, param, (uint8_t)len, &res);		/* SP */
	assert_sense(&res, 0x05, 0x3900);
	select6(si, 0x10, param, 0, &res);			/* nothing */
	assert_good(&res);
	assert_int_equal(wce_now(si), initial);
	tur(si, &res);
	assert_good(&res);
}

static void test_select_length_errors(void **state)
{
	struct siminit *si = *state;
	uint8_t cdb[6] = { 0x15, 0x10, 0, 0, 24, 0 };
	uint8_t param[64];
	struct scsi_result res;
	bool initial = wce_now(si);
	size_t len = caching_list(si, param, !initial);

	/* Shorter than the header: refused before a byte past it is read. */
	for (uint8_t n = 1; n < 4; n++) {
		select6(si, 0x10, param, n, &res);
		assert_sense(&res, 0x05, 0x1a00);
	}
	for (uint16_t n = 1; n < 8; n++) {
		select10(si, param, n, &res);
		assert_sense(&res, 0x05, 0x1a00);
	}
	param[3] = 8;					/* descriptor missing */
	select6(si, 0x10, param, 10, &res);
	assert_sense(&res, 0x05, 0x1a00);
	param[3] = 0;
	select6(si, 0x10, param, (uint8_t)(len - 1), &res);	/* cut page */
	assert_sense(&res, 0x05, 0x1a00);
	select6(si, 0x10, param, 5, &res);		/* half a page header */
	assert_sense(&res, 0x05, 0x1a00);
	/* The CDB asks for more than the data-out buffer holds. */
	cmd_out(si, cdb, param, 12, &res);
	assert_sense(&res, 0x05, 0x1a00);
	assert_int_equal(wce_now(si), initial);
}

static void test_select_bad_header_and_descriptor(void **state)
{
	/* Byte of the MODE SELECT(6) list set to val: field pointer. */
	static const struct { uint8_t byte, val; uint16_t field; } cases[] = {
		{ 0, 31, 0 },			/* MODE DATA LENGTH */
		{ 1, 0x01, 1 },			/* medium type */
		{ 2, 0x80, 2 },			/* WP */
		{ 2, 0x01, 2 },			/* reserved */
		{ 3, 16, 3 },			/* descriptor length */
		{ 7, 0x01, 4 },			/* number of blocks */
		{ 8, 0x01, 8 },			/* reserved */
		{ 10, 0x10, 9 },		/* block length */
	};
	struct siminit *si = *state;
	uint8_t good[64], param[64];
	struct scsi_result res;
	uint8_t len = 4 + 8 + 20;

	sense6(si, 0, 0x08, 0, good, len, &res);
	assert_good(&res);
	good[0] = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(param, good, len);
		param[cases[i].byte] = cases[i].val;
		select6(si, 0x10, param, len, &res);
		assert_sense(&res, 0x05, 0x2600);
		assert_field_pointer(&res, 0, cases[i].field);
	}
	/* MODE SELECT(10): reserved header bits. */
	memset(param, 0, 8);
	memcpy(param + 8, good + 12, 20);
	param[4] = 0x02;
	select10(si, param, 28, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 4);
	param[4] = 0;
	param[5] = 0x01;
	select10(si, param, 28, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 5);
	param[5] = 0;
	select10(si, param, 28, &res);
	assert_good(&res);
}

static void test_select_bad_pages(void **state)
{
	struct siminit *si = *state;
	uint8_t param[64];
	struct scsi_result res;
	size_t len = 4 + sizeof(control);

	memset(param, 0, 4);
	memcpy(param + 4, control, sizeof(control));
	param[4 + 3] = 0x00;			/* QUEUE ALGORITHM MODIFIER */
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 7);
	assert_int_equal(res.sense[15] & 0x0f, 0x08 | 4);	/* bit 4 */
	memcpy(param + 4, control, sizeof(control));
	param[4 + 9] = 0xfe;			/* BUSY TIMEOUT PERIOD */
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 13);
	memcpy(param + 4, control, sizeof(control));
	param[4] = 0x19;			/* unknown page */
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 4);
	param[4] = 0x40 | 0x0a;			/* SPF: subpage format */
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 4);
	param[4] = 0x0a;
	param[5] = 0x0b;			/* page length */
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 5);
	/* PS is ignored. */
	param[4] = 0x80 | 0x0a;
	param[5] = 0x0a;
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_good(&res);
	/* Caching page: RCD (bit 0 of byte 2) is not changeable. */
	len = caching_list(si, param, false);
	param[4 + 2] = 0x01;
	select6(si, 0x10, param, (uint8_t)len, &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 6);
	assert_int_equal(res.sense[15] & 0x0f, 0x08 | 0);
}

/* A bad page after a good WCE change: nothing is applied. */
static void test_select_validates_all_before_applying(void **state)
{
	struct siminit *si = *state;
	uint8_t param[64];
	struct scsi_result res;
	bool initial = wce_now(si);
	size_t len = caching_list(si, param, !initial);

	memcpy(param + len, control, sizeof(control));
	param[len + 5] = 0;			/* TAS */
	select6(si, 0x10, param, (uint8_t)(len + sizeof(control)), &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, len + 5);
	assert_int_equal(wce_now(si), initial);
	tur(si, &res);
	assert_good(&res);				/* no unit attention */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sense6_all_pages),
		cmocka_unit_test(test_sense10_long_descriptor_and_dbd),
		cmocka_unit_test(test_sense_single_pages_and_subpages),
		cmocka_unit_test(test_sense_page_control),
		cmocka_unit_test(test_sense_alloc_len),
		cmocka_unit_test(test_sense_clamps_block_count),
		cmocka_unit_test(test_sense_bad_cdb),
		cmocka_unit_test(test_select_toggles_write_cache),
		cmocka_unit_test(test_select_echo_of_sense),
		cmocka_unit_test(test_select_cdb_errors),
		cmocka_unit_test(test_select_length_errors),
		cmocka_unit_test(test_select_bad_header_and_descriptor),
		cmocka_unit_test(test_select_bad_pages),
		cmocka_unit_test(test_select_validates_all_before_applying),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
