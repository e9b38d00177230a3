/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (OPERATING PARAMETERS)
 * over simring: copies within the device (chunked, overlapping both ways)
 * verified with READ, every parameter list error with its sense key, ASC
 * and field pointer, descriptors the copy manager cannot serve (COPY
 * ABORTED), read and write failures during the copy (handler_slow), and
 * the operating parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/shared/handler_slow.h"
#include "runner/handler.h"
#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (16ull << 20)
#define NUM_LBAS (SIZE / BS)

#define HDR 16
#define CSCD 32
#define SEG 28
#define LIST_LEN (HDR + 2 * CSCD + SEG)
#define SEG_AT (HDR + 2 * CSCD)

#define COPY_ABORTED 0x0a
#define ILLEGAL 0x05

struct fixture {
	struct siminit *si;
	uint8_t naa[16];
};

/* The device's NAA designator, as an initiator learns it (VPD 83h). */
static void get_naa(struct siminit *si, uint8_t naa[16])
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x83, 0, 255, 0 }, buf[255];
	struct scsi_result res;

	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_IN, buf, sizeof(buf),
				     &res), 0);
	assert_good(&res);
	assert_int_equal(buf[5] & 0x0f, 0x03);
	memcpy(naa, buf + 8, 16);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || siminit_load_handlers(LUNAR_HANDLER_DIR) ||
	    handlers_load_file(SLOW_HANDLER_PATH))
		return -1;
	f->si = open_lun("ram/xcopy", "xcopy", SIZE, BS);
	get_naa(f->si, f->naa);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	siminit_close(f->si);
	free(f);
	return 0;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* Identification CSCD descriptor naming naa, a block device of BS bytes. */
static void put_cscd(uint8_t *d, const uint8_t naa[16])
{
	memset(d, 0, CSCD);
	d[0] = 0xe4;
	d[4] = 0x01;		/* binary */
	d[5] = 0x03;		/* logical unit, NAA */
	d[7] = 16;
	memcpy(d + 8, naa, 16);
	put_be(d + 29, BS, 3);	/* DISK BLOCK LENGTH */
}

static void put_segment(uint8_t *d, uint16_t n, uint64_t src, uint64_t dst)
{
	memset(d, 0, SEG);
	d[0] = 0x02;		/* block -> block */
	d[3] = SEG - 4;
	put_be(d + 4, 0, 2);	/* source CSCD 0 */
	put_be(d + 6, 1, 2);	/* destination CSCD 1 */
	put_be(d + 10, n, 2);
	put_be(d + 12, src, 8);
	put_be(d + 20, dst, 8);
}

/* A valid list: both CSCDs this device, one segment. */
static void build(uint8_t *p, const uint8_t naa[16], uint16_t n, uint64_t src,
		  uint64_t dst)
{
	memset(p, 0, HDR);
	p[1] = 0x18;		/* LIST ID USAGE 11b */
	put_be(p + 2, 2 * CSCD, 2);
	put_be(p + 8, SEG, 4);
	put_cscd(p + HDR, naa);
	put_cscd(p + HDR + CSCD, naa);
	put_segment(p + SEG_AT, n, src, dst);
}

/* EXTENDED COPY with PARAMETER LIST LENGTH plen and len bytes of data. */
static void xcopy_len(struct siminit *si, uint8_t *list, uint32_t plen,
		      size_t len, struct scsi_result *res)
{
	uint8_t cdb[16] = { 0x83, 0x00 };

	put_be(cdb + 10, plen, 4);
	assert_int_equal(siminit_cmd(si, cdb, len ? SIMRING_DIR_OUT :
				     SIMRING_DIR_NONE, list, len, res), 0);
}

static void xcopy(struct siminit *si, uint8_t *list, size_t len,
		  struct scsi_result *res)
{
	xcopy_len(si, list, (uint32_t)len, len, res);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 5 + i * 3 + (i >> 9) * 17);
}

static void write_blocks(struct siminit *si, uint64_t lba, uint32_t n,
			 uint8_t *data)
{
	struct scsi_result res;

	assert_int_equal(siminit_write(si, lba, n, data, &res), 0);
	assert_good(&res);
}

static void assert_blocks(struct siminit *si, uint64_t lba, uint32_t n,
			  const uint8_t *want)
{
	uint8_t *buf = malloc((size_t)n * BS);
	struct scsi_result res;

	assert_non_null(buf);
	assert_int_equal(siminit_read(si, lba, n, buf, &res), 0);
	assert_good(&res);
	assert_memory_equal(buf, want, (size_t)n * BS);
	free(buf);
}

/* Copy n blocks src -> dst in chunks of chunk blocks and check the result. */
static void check_copy(struct siminit *si, const uint8_t naa[16],
		       uint32_t chunk, uint16_t n, uint64_t src, uint64_t dst)
{
	uint8_t *data = malloc((size_t)n * BS), list[LIST_LEN];
	struct scsi_result res;

	assert_non_null(data);
	tcmu_dev_set_opt_xcopy_rw_len(siminit_device(si), chunk);
	fill(data, (size_t)n * BS, (unsigned int)(src + dst));
	write_blocks(si, src, n, data);
	build(list, naa, n, src, dst);
	xcopy(si, list, sizeof(list), &res);
	assert_good(&res);
	assert_blocks(si, dst, n, data);
	free(data);
}

static void test_xcopy_copies(void **state)
{
	struct fixture *f = *state;
	uint8_t src[64 * BS];

	check_copy(f->si, f->naa, 16, 64, 1000, 5000);
	/* The source is left as it was. */
	fill(src, sizeof(src), 6000);
	assert_blocks(f->si, 1000, 64, src);
	/* One chunk, and the last block of the device. */
	check_copy(f->si, f->naa, 2048, 100, 7000, 9000);
	check_copy(f->si, f->naa, 3, 1, 100, NUM_LBAS - 1);
}

/* Overlapping ranges copy as if through a buffer, whichever way they overlap. */
static void test_xcopy_overlapping(void **state)
{
	struct fixture *f = *state;

	check_copy(f->si, f->naa, 16, 64, 2000, 2010);
	check_copy(f->si, f->naa, 16, 64, 3010, 3000);
	check_copy(f->si, f->naa, 7, 50, 4000, 4001);
}

static void test_xcopy_nothing_to_do(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN];
	struct scsi_result res;

	xcopy(f->si, NULL, 0, &res);
	assert_good(&res);
	/* A segment of 0 blocks; no segment at all. */
	build(list, f->naa, 0, 1, 2);
	xcopy(f->si, list, sizeof(list), &res);
	assert_good(&res);
	build(list, f->naa, 4, 1, 2);
	put_be(list + 8, 0, 4);
	xcopy(f->si, list, SEG_AT, &res);
	assert_good(&res);
}

static void expect_param_error(struct siminit *si, uint8_t *list, size_t len,
			       uint16_t asc, unsigned int byte)
{
	struct scsi_result res;

	xcopy(si, list, len, &res);
	assert_sense(&res, ILLEGAL, asc);
	assert_field_pointer(&res, 0, byte);
}

static void test_xcopy_header_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN];
	struct scsi_result res;

	/* Shorter than the header; shorter than the CDB says. */
	build(list, f->naa, 1, 1, 2);
	xcopy(f->si, list, HDR - 1, &res);
	assert_sense(&res, ILLEGAL, 0x1a00);
	xcopy_len(f->si, list, LIST_LEN, LIST_LEN - 4, &res);
	assert_sense(&res, ILLEGAL, 0x1a00);
	/* LIST ID USAGE 01b is reserved. */
	list[1] = 0x08;
	xcopy(f->si, list, sizeof(list), &res);
	assert_sense(&res, ILLEGAL, 0x2600);
	assert_field_pointer(&res, 0, 1);
	assert_int_equal(res.sense[15], 0x80 | 0x08 | 4);	/* bit 4 */
	/* LIST IDENTIFIER must be 0 with 11b. */
	build(list, f->naa, 1, 1, 2);
	list[0] = 7;
	expect_param_error(f->si, list, sizeof(list), 0x2600, 0);
	/* Reserved bits and bytes. */
	build(list, f->naa, 1, 1, 2);
	list[1] |= 0x40;
	expect_param_error(f->si, list, sizeof(list), 0x2600, 1);
	build(list, f->naa, 1, 1, 2);
	list[6] = 1;
	expect_param_error(f->si, list, sizeof(list), 0x2600, 6);
	/* Inline data is not supported. */
	build(list, f->naa, 1, 1, 2);
	list[15] = 4;
	expect_param_error(f->si, list, sizeof(list), 0x2600, 12);
	/* PRIORITY and STR are accepted. */
	build(list, f->naa, 1, 1, 2);
	list[1] |= 0x20 | 0x05;
	xcopy(f->si, list, sizeof(list), &res);
	assert_good(&res);
}

static void test_xcopy_length_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN], big[2048] = { 0 };
	struct scsi_result res;

	/* Descriptor lists longer than the parameter list. */
	build(list, f->naa, 1, 1, 2);
	put_be(list + 8, SEG + 28, 4);
	xcopy(f->si, list, sizeof(list), &res);
	assert_sense(&res, ILLEGAL, 0x1a00);
	/* Longer than MAXIMUM DESCRIPTOR LIST LENGTH (1024). */
	build(big, f->naa, 1, 1, 2);
	put_be(big + 8, 1024 - 2 * CSCD + 4, 4);
	xcopy(f->si, big, sizeof(big), &res);
	assert_sense(&res, ILLEGAL, 0x1a00);
	/* CSCD list not a whole number of descriptors. */
	build(list, f->naa, 1, 1, 2);
	put_be(list + 2, 2 * CSCD - 4, 2);
	expect_param_error(f->si, list, sizeof(list), 0x2600, 2);
	/* Segment list shorter than its descriptor; header cut short. */
	build(list, f->naa, 1, 1, 2);
	put_be(list + 8, SEG - 1, 4);
	expect_param_error(f->si, list, sizeof(list), 0x2600, 8);
	build(list, f->naa, 1, 1, 2);
	put_be(list + 8, 2, 4);
	expect_param_error(f->si, list, sizeof(list), 0x2600, 8);
}

static void test_xcopy_descriptor_counts_and_types(void **state)
{
	struct fixture *f = *state;
	uint8_t list[HDR + 3 * CSCD + 2 * SEG];
	size_t len3 = HDR + 3 * CSCD + SEG;

	/* Three CSCD descriptors: more than the two reported. */
	build(list, f->naa, 1, 1, 2);
	memmove(list + HDR + 3 * CSCD, list + SEG_AT, SEG);
	put_cscd(list + HDR + 2 * CSCD, f->naa);
	put_be(list + 2, 3 * CSCD, 2);
	expect_param_error(f->si, list, len3, 0x2606, 2);
	/* CSCD type other than identification (E4h). */
	build(list, f->naa, 1, 1, 2);
	list[HDR + CSCD] = 0xe0;
	expect_param_error(f->si, list, LIST_LEN, 0x2607, HDR + CSCD);
	/* Two segment descriptors: more than the one reported. */
	build(list, f->naa, 1, 1, 2);
	put_segment(list + SEG_AT + SEG, 1, 3, 4);
	put_be(list + 8, 2 * SEG, 4);
	expect_param_error(f->si, list, LIST_LEN + SEG, 0x2608, SEG_AT + SEG);
	/* Segment type other than block -> block (02h). */
	build(list, f->naa, 1, 1, 2);
	list[SEG_AT] = 0x01;
	expect_param_error(f->si, list, LIST_LEN, 0x2609, SEG_AT);
}

static void test_xcopy_descriptor_fields(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN];

	/* CSCD: code set, association, designator length. */
	build(list, f->naa, 1, 1, 2);
	list[HDR + 4] = 0x02;
	expect_param_error(f->si, list, LIST_LEN, 0x2600, HDR + 4);
	build(list, f->naa, 1, 1, 2);
	list[HDR + CSCD + 5] |= 0x10;
	expect_param_error(f->si, list, LIST_LEN, 0x2600, HDR + CSCD + 5);
	build(list, f->naa, 1, 1, 2);
	list[HDR + 7] = 8;
	expect_param_error(f->si, list, LIST_LEN, 0x2600, HDR + 7);
	/* Segment: descriptor length, reserved bits. */
	build(list, f->naa, 1, 1, 2);
	list[SEG_AT + 3] = 0x14;
	expect_param_error(f->si, list, LIST_LEN, 0x2600, SEG_AT + 2);
	build(list, f->naa, 1, 1, 2);
	list[SEG_AT + 1] = 0x04;
	expect_param_error(f->si, list, LIST_LEN, 0x2600, SEG_AT + 1);
}

/*
 * Every LIST ID USAGE but the reserved 01b copies: 00b and 10b with any
 * LIST IDENTIFIER (nothing is held), 11b with a zero one.  Whatever the
 * CSCD descriptors' LU ID TYPE: SPC-4 ignores it in them.
 */
static void test_xcopy_list_id_usage(void **state)
{
	struct fixture *f = *state;
	static const uint8_t usages[] = { 0x00, 0x10, 0x18 };
	uint8_t data[8 * BS], list[LIST_LEN];
	struct scsi_result res;

	for (size_t i = 0; i < sizeof(usages); i++) {
		fill(data, sizeof(data), 70 + (unsigned int)i);
		write_blocks(f->si, 700, 8, data);
		build(list, f->naa, 8, 700, 800 + 10 * i);
		list[0] = usages[i] == 0x18 ? 0 : (uint8_t)(i + 1);
		list[1] = usages[i];
		/* LU ID TYPE: ignored in identification descriptors. */
		list[HDR + 1] = (uint8_t)(i << 6);
		list[HDR + CSCD + 1] = 0xc0;
		xcopy(f->si, list, sizeof(list), &res);
		assert_good(&res);
		assert_blocks(f->si, 800 + 10 * i, 8, data);
	}
}

static void expect_copy_aborted(struct siminit *si, uint8_t *list,
				uint16_t asc)
{
	struct scsi_result res;

	xcopy(si, list, LIST_LEN, &res);
	assert_sense(&res, COPY_ABORTED, asc);
}

/* COPY ABORTED with a segment pointer (SD 0: into the parameter list). */
static void expect_segment_aborted(struct siminit *si, uint8_t *list,
				   unsigned int byte)
{
	struct scsi_result res;

	xcopy(si, list, LIST_LEN, &res);
	assert_sense(&res, COPY_ABORTED, 0x0000);
	assert_int_equal(res.sense[15], 0x80);
	assert_int_equal(res.sense[16] << 8 | res.sense[17], byte);
}

/* A segment naming a CSCD index past the list: nothing is written. */
static void test_xcopy_cscd_index_past_the_list(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN], before[4 * BS];

	fill(before, sizeof(before), 13);
	write_blocks(f->si, 600, 4, before);
	build(list, f->naa, 4, 500, 600);
	list[SEG_AT + 5] = 2;
	expect_segment_aborted(f->si, list, SEG_AT + 4);
	build(list, f->naa, 4, 500, 600);
	list[SEG_AT + 6] = 0x80;
	expect_segment_aborted(f->si, list, SEG_AT + 6);
	assert_blocks(f->si, 600, 4, before);
}

static void test_xcopy_targets_not_served(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN], other[16], before[4 * BS], after[4 * BS];
	struct scsi_result res;

	/* Another device as destination: nothing is written. */
	fill(before, sizeof(before), 9);
	write_blocks(f->si, 600, 4, before);
	memcpy(other, f->naa, 16);
	other[15] ^= 1;
	build(list, f->naa, 4, 500, 600);
	put_cscd(list + HDR + CSCD, other);
	expect_copy_aborted(f->si, list, 0x0d02);
	assert_int_equal(siminit_read(f->si, 600, 4, after, &res), 0);
	assert_memory_equal(after, before, sizeof(before));
	/* Another device as source. */
	build(list, f->naa, 4, 500, 600);
	put_cscd(list + HDR, other);
	expect_copy_aborted(f->si, list, 0x0d02);
	/* An unused descriptor may name anything. */
	build(list, f->naa, 4, 500, 600);
	put_be(list + SEG_AT + 6, 0, 2);
	put_cscd(list + HDR + CSCD, other);
	xcopy(f->si, list, LIST_LEN, &res);
	assert_good(&res);
	/* Not a block device; not an NAA designator; other block length. */
	build(list, f->naa, 4, 500, 600);
	list[HDR + 1] = 0x01;
	expect_copy_aborted(f->si, list, 0x0d03);
	build(list, f->naa, 4, 500, 600);
	list[HDR + CSCD + 5] = 0x02;
	expect_copy_aborted(f->si, list, 0x0d03);
	build(list, f->naa, 4, 500, 600);
	put_be(list + HDR + 29, 4096, 3);
	expect_copy_aborted(f->si, list, 0x0d03);
}

static void test_xcopy_out_of_range(void **state)
{
	struct fixture *f = *state;
	uint8_t list[LIST_LEN];

	build(list, f->naa, 4, NUM_LBAS - 3, 0);
	expect_segment_aborted(f->si, list, SEG_AT + 12);
	build(list, f->naa, 4, 0, NUM_LBAS - 3);
	expect_segment_aborted(f->si, list, SEG_AT + 20);
	build(list, f->naa, 1, UINT64_MAX, 0);
	expect_segment_aborted(f->si, list, SEG_AT + 12);
}

/* A failing read or write ends the copy with COPY ABORTED and its ASC. */
static void test_xcopy_io_failures(void **state)
{
	struct siminit *si = open_lun("slow/xcopy", "slowxcopy", SIZE, BS);
	struct slow_ctl *ctl = tcmur_dev_get_private(siminit_device(si));
	uint8_t naa[16], list[LIST_LEN];

	(void)state;
	get_naa(si, naa);
	check_copy(si, naa, 4, 20, 10, 40);
	build(list, naa, 20, 10, 40);
	__atomic_store_n(&ctl->fail_read, TCMU_STS_RD_ERR, __ATOMIC_RELAXED);
	expect_copy_aborted(si, list, 0x1100);
	__atomic_store_n(&ctl->fail_read, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->fail_write, TCMU_STS_WR_ERR, __ATOMIC_RELAXED);
	expect_copy_aborted(si, list, 0x0c00);
	__atomic_store_n(&ctl->fail_write, 0, __ATOMIC_RELAXED);
	siminit_close(si);
}

static void test_receive_copy_results_operating_parameters(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[16] = { 0x84, 0x03, [13] = 255 }, buf[255];
	uint8_t status[16] = { 0x84, 0x00, [13] = 255 };
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(siminit_cmd(f->si, cdb, SIMRING_DIR_IN, buf,
				     sizeof(buf), &res), 0);
	assert_good(&res);
	assert_int_equal(res.data_len, 46);
	assert_int_equal(be32(buf), 42);		/* AVAILABLE DATA */
	assert_int_equal(buf[4], 0x01);			/* SNLID */
	assert_int_equal(buf[8] << 8 | buf[9], 2);	/* max CSCD descriptors */
	assert_int_equal(buf[10] << 8 | buf[11], 1);	/* max segment descriptors */
	assert_int_equal(be32(buf + 12), 1024);		/* max descriptor list */
	assert_int_equal(be32(buf + 16), 0xffff * BS);	/* max segment length */
	assert_int_equal(be32(buf + 20), 0);		/* inline data */
	assert_int_equal(be32(buf + 24), 0);		/* held data */
	assert_int_equal(be32(buf + 28), 0);		/* stream transfer */
	assert_int_equal(buf[34] << 8 | buf[35], 1);	/* total concurrent */
	assert_int_equal(buf[36], 1);			/* max concurrent */
	assert_int_equal(buf[37], 9);			/* granularities, log2 */
	assert_int_equal(buf[38], 9);
	assert_int_equal(buf[39], 9);
	assert_int_equal(buf[43], 2);
	assert_int_equal(buf[44], 0x02);
	assert_int_equal(buf[45], 0xe4);

	/* ALLOCATION LENGTH honoured. */
	cdb[13] = 10;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(siminit_cmd(f->si, cdb, SIMRING_DIR_IN, buf,
				     sizeof(buf), &res), 0);
	assert_good(&res);
	assert_int_equal(res.data_len, 10);
	assert_int_equal(be32(buf), 42);
	/* Other service actions (no copy data is held) and reserved bytes. */
	assert_int_equal(siminit_cmd(f->si, status, SIMRING_DIR_IN, buf,
				     sizeof(buf), &res), 0);
	assert_sense(&res, ILLEGAL, 0x2400);
	cdb[2] = 1;
	assert_int_equal(siminit_cmd(f->si, cdb, SIMRING_DIR_IN, buf,
				     sizeof(buf), &res), 0);
	assert_sense(&res, ILLEGAL, 0x2400);
	assert_field_pointer(&res, 1, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xcopy_copies),
		cmocka_unit_test(test_xcopy_overlapping),
		cmocka_unit_test(test_xcopy_nothing_to_do),
		cmocka_unit_test(test_xcopy_header_errors),
		cmocka_unit_test(test_xcopy_length_errors),
		cmocka_unit_test(test_xcopy_descriptor_counts_and_types),
		cmocka_unit_test(test_xcopy_descriptor_fields),
		cmocka_unit_test(test_xcopy_list_id_usage),
		cmocka_unit_test(test_xcopy_cscd_index_past_the_list),
		cmocka_unit_test(test_xcopy_targets_not_served),
		cmocka_unit_test(test_xcopy_out_of_range),
		cmocka_unit_test(test_xcopy_io_failures),
		cmocka_unit_test(test_receive_copy_results_operating_parameters),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
