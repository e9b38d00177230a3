/*
 * runner/compat/: the libtcmu helpers handlers call, with tcmu-runner
 * 1.5.4's semantics.  The memcpy helpers and tcmu_iovec_seek() consume
 * the iovec (bases advance, lengths shrink); the CDB helpers decode by
 * group code (a 6-byte transfer length of 0 stays 0, variable-length and
 * vendor groups have no LBA or length); the sense helpers build fixed
 * format sense.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "libtcmu_common.h"

/* 4 + 0 + 6 + 8 = 18 bytes over four entries. */
struct vec {
	uint8_t a[4], b[6], c[8];
	struct iovec iov[4];
};

static struct vec v;

static int setup(void **state)
{
	(void)state;
	memset(&v, 0, sizeof(v));
	v.iov[0] = (struct iovec){ v.a, sizeof(v.a) };
	v.iov[1] = (struct iovec){ v.b, 0 };
	v.iov[2] = (struct iovec){ v.b, sizeof(v.b) };
	v.iov[3] = (struct iovec){ v.c, sizeof(v.c) };
	return 0;
}

/* Byte i of the 18-byte vector. */
static uint8_t *at(size_t i)
{
	return i < 4 ? &v.a[i] : i < 10 ? &v.b[i - 4] : &v.c[i - 10];
}

static void assert_entry(int i, const void *base, size_t len)
{
	assert_ptr_equal(v.iov[i].iov_base, base);
	assert_int_equal(v.iov[i].iov_len, len);
}

/* Where a seek leaves the base of a used-up entry is not part of the API. */
static void assert_used_up(int i)
{
	assert_int_equal(v.iov[i].iov_len, 0);
}

static void test_memcpy_into_consumes(void **state)
{
	uint8_t src[32];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);
	assert_int_equal(tcmu_memcpy_into_iovec(v.iov, 4, src, 7), 7);
	assert_memory_equal(v.a, src, 4);
	assert_memory_equal(v.b, src + 4, 3);
	assert_int_equal(v.b[3], 0);
	assert_entry(0, v.a + 4, 0);
	assert_entry(1, v.b, 0);
	assert_entry(2, v.b + 3, 3);
	assert_entry(3, v.c, 8);
	/* The next copy continues where this one stopped. */
	assert_int_equal(tcmu_memcpy_into_iovec(v.iov, 4, src + 7, 100), 11);
	assert_memory_equal(v.b + 3, src + 7, 3);
	assert_memory_equal(v.c, src + 10, 8);
	assert_entry(2, v.b + 6, 0);
	assert_entry(3, v.c + 8, 0);
	assert_int_equal(tcmu_memcpy_into_iovec(v.iov, 4, src, 1), 0);
}

static void test_memcpy_from_consumes(void **state)
{
	uint8_t dst[32];

	(void)state;
	for (size_t i = 0; i < 18; i++)
		*at(i) = (uint8_t)(0x80 + i);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(tcmu_memcpy_from_iovec(dst, 5, v.iov, 4), 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(dst[i], 0x80 + i);
	assert_entry(0, v.a + 4, 0);
	assert_entry(2, v.b + 1, 5);
	assert_int_equal(tcmu_memcpy_from_iovec(dst + 5, 32, v.iov, 4), 13);
	for (size_t i = 0; i < 18; i++)
		assert_int_equal(dst[i], 0x80 + i);
	assert_entry(3, v.c + 8, 0);
	/* Only iov_cnt entries are looked at. */
	setup(state);
	assert_int_equal(tcmu_memcpy_from_iovec(dst, 32, v.iov, 1), 4);
	assert_entry(2, v.b, 6);
}

static void test_iovec_seek(void **state)
{
	(void)state;
	/* Inside the first entry: nothing used up. */
	assert_int_equal(tcmu_iovec_seek(v.iov, 3), 0);
	assert_entry(0, v.a + 3, 1);
	/* The rest of a, the empty entry, and 2 bytes into b. */
	assert_int_equal(tcmu_iovec_seek(v.iov, 3), 2);
	assert_used_up(0);
	assert_used_up(1);
	assert_entry(2, v.b + 2, 4);
	/* Exactly to the end of an entry uses it up. */
	assert_int_equal(tcmu_iovec_seek(v.iov + 2, 4), 1);
	assert_used_up(2);
	assert_entry(3, v.c, 8);
	assert_int_equal(tcmu_iovec_seek(v.iov + 3, 0), 0);
	assert_entry(3, v.c, 8);
}

/*
 * Unlike 1.5.4 (which only lowered iov_cnt, leaving iovec on the used-up
 * entries and dropping the last ones from view), lunar also advances
 * cmd->iovec past the entries a seek used up.
 */
static void test_cmd_seek(void **state)
{
	struct tcmulib_cmd cmd = { .iovec = v.iov, .iov_cnt = 4 };

	(void)state;
	tcmu_cmd_seek(&cmd, 2);
	assert_ptr_equal(cmd.iovec, v.iov);
	assert_int_equal(cmd.iov_cnt, 4);
	assert_entry(0, v.a + 2, 2);
	tcmu_cmd_seek(&cmd, 5);
	assert_ptr_equal(cmd.iovec, v.iov + 2);
	assert_int_equal(cmd.iov_cnt, 2);
	assert_entry(2, v.b + 3, 3);
	tcmu_cmd_seek(&cmd, 11);
	assert_int_equal(cmd.iov_cnt, 0);
	assert_ptr_equal(cmd.iovec, v.iov + 4);
}

static void test_iovec_compare(void **state)
{
	uint8_t mem[18];

	(void)state;
	for (size_t i = 0; i < 18; i++)
		mem[i] = *at(i) = (uint8_t)(i * 5);
	assert_int_equal(tcmu_iovec_compare(mem, v.iov, 18), -1);
	v.c[2] = 0xff;
	assert_int_equal(tcmu_iovec_compare(mem, v.iov, 18), 12);
	/* size stops the comparison before the difference. */
	assert_int_equal(tcmu_iovec_compare(mem, v.iov, 12), -1);
	v.a[3] ^= 1;
	assert_int_equal(tcmu_iovec_compare(mem, v.iov, 18), 3);
	/* Nothing consumed. */
	assert_entry(0, v.a, 4);
	assert_entry(3, v.c, 8);
}

static void test_iovec_zero_length(void **state)
{
	(void)state;
	memset(v.a, 1, sizeof(v.a));
	memset(v.b, 1, sizeof(v.b));
	memset(v.c, 1, sizeof(v.c));
	assert_int_equal(tcmu_iovec_length(v.iov, 4), 18);
	assert_int_equal(tcmu_iovec_length(v.iov, 2), 4);
	assert_false(tcmu_iovec_zeroed(v.iov, 4));
	tcmu_iovec_zero(v.iov, 3);
	assert_true(tcmu_iovec_zeroed(v.iov, 3));
	assert_false(tcmu_iovec_zeroed(v.iov, 4));
	assert_int_equal(v.c[0], 1);
	tcmu_iovec_zero(v.iov, 4);
	assert_true(tcmu_iovec_zeroed(v.iov, 4));
	v.c[7] = 2;
	assert_false(tcmu_iovec_zeroed(v.iov, 4));
	assert_true(tcmu_iovec_zeroed(v.iov, 0));
	assert_entry(3, v.c, 8);
}

static void test_cdb_length(void **state)
{
	uint8_t cdb[16] = { 0 };

	(void)state;
	for (unsigned int op = 0; op < 256; op++) {
		int want;

		cdb[0] = (uint8_t)op;
		cdb[7] = 24;
		switch (op >> 5) {
		case 0: want = 6; break;
		case 1: case 2: want = 10; break;
		case 3: want = op == 0x7f ? 32 : -EINVAL; break;
		case 4: want = 16; break;
		case 5: want = 12; break;
		default: want = -EINVAL; break;
		}
		assert_int_equal(tcmu_cdb_get_length(cdb), want);
	}
	cdb[0] = 0x7f;
	cdb[7] = 0;
	assert_int_equal(tcmu_cdb_get_length(cdb), 8);
	cdb[7] = 255;
	assert_int_equal(tcmu_cdb_get_length(cdb), 263);
}

static void test_cdb_lba_and_length(void **state)
{
	uint8_t r6[6] = { 0x08, 0xff, 0x12, 0x34, 0x00, 0 };
	uint8_t r10[10] = { 0x28, 0, 0x01, 0x02, 0x03, 0x04, 0, 0xab, 0xcd, 0 };
	uint8_t r12[12] = { 0xa8, 0, 0x11, 0x22, 0x33, 0x44,
			    0x01, 0x02, 0x03, 0x04, 0, 0 };
	uint8_t r16[16] = { 0x88, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
			    0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0, 0 };
	uint8_t var[32] = { 0x7f, 0, 1, 2, 3, 4, 5, 24, 9, 9, 9, 9 };
	uint8_t vendor[16] = { 0xc0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t group3[16] = { 0x60, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	(void)state;
	/* 21-bit LBA: the top bits of byte 1 are not part of it. */
	assert_int_equal(tcmu_cdb_get_lba(r6), 0x1f1234);
	/* 6-byte length 0 stays 0 here (not 256). */
	assert_int_equal(tcmu_cdb_get_xfer_length(r6), 0);
	r6[4] = 0x80;
	assert_int_equal(tcmu_cdb_get_xfer_length(r6), 0x80);
	assert_int_equal(tcmu_cdb_get_lba(r10), 0x01020304);
	assert_int_equal(tcmu_cdb_get_xfer_length(r10), 0xabcd);
	assert_int_equal(tcmu_cdb_get_lba(r12), 0x11223344);
	assert_int_equal(tcmu_cdb_get_xfer_length(r12), 0x01020304);
	assert_int_equal(tcmu_cdb_get_lba(r16), 0x0123456789abcdefull);
	assert_int_equal(tcmu_cdb_get_xfer_length(r16), 0xfedcba98);
	assert_int_equal(tcmu_cdb_get_lba(var), 0);
	assert_int_equal(tcmu_cdb_get_xfer_length(var), 0);
	assert_int_equal(tcmu_cdb_get_lba(vendor), 0);
	assert_int_equal(tcmu_cdb_get_xfer_length(vendor), 0);
	assert_int_equal(tcmu_cdb_get_lba(group3), 0);
	assert_int_equal(tcmu_cdb_get_xfer_length(group3), 0);
}

static void test_sense_helpers(void **state)
{
	uint8_t s[SENSE_BUFFERSIZE];
	uint8_t zero[SENSE_BUFFERSIZE - 18] = { 0 };

	(void)state;
	memset(s, 0, sizeof(s));
	assert_int_equal(tcmu_sense_set_data(s, 0x03, 0x1100),
			 TCMU_STS_PASSTHROUGH_ERR);
	assert_int_equal(TCMU_STS_PASSTHROUGH_ERR, 2);
	assert_int_equal(s[0], 0x70);
	assert_int_equal(s[1], 0);
	assert_int_equal(s[2], 0x03);
	assert_int_equal(s[7], 0x0a);
	assert_int_equal(s[12], 0x11);
	assert_int_equal(s[13], 0x00);
	assert_int_equal(s[15], 0);
	assert_memory_equal(s + 18, zero, sizeof(zero));

	memset(s, 0, sizeof(s));
	tcmu_sense_set_info(s, 0xdeadbeef);
	assert_int_equal(s[0] & 0x80, 0x80);
	assert_int_equal(s[3], 0xde);
	assert_int_equal(s[4], 0xad);
	assert_int_equal(s[5], 0xbe);
	assert_int_equal(s[6], 0xef);
	/* The MISCOMPARE idiom: info first, then key and ASC. */
	__tcmu_sense_set_data(s, 0x0e, 0x1d00);
	assert_int_equal(s[0], 0xf0);
	assert_int_equal(s[2], 0x0e);
	assert_int_equal(s[12], 0x1d);
	assert_int_equal(s[6], 0xef);

	memset(s, 0, sizeof(s));
	tcmu_sense_set_key_specific_info(s, 0x4321);
	assert_int_equal(s[15], 0x80);
	assert_int_equal(s[16], 0x43);
	assert_int_equal(s[17], 0x21);
	__tcmu_sense_set_data(s, 0x02, 0x0404);
	assert_int_equal(s[15], 0x80);
	assert_int_equal(s[17], 0x21);
	assert_int_equal(s[2], 0x02);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_memcpy_into_consumes, setup),
		cmocka_unit_test_setup(test_memcpy_from_consumes, setup),
		cmocka_unit_test_setup(test_iovec_seek, setup),
		cmocka_unit_test_setup(test_cmd_seek, setup),
		cmocka_unit_test_setup(test_iovec_compare, setup),
		cmocka_unit_test_setup(test_iovec_zero_length, setup),
		cmocka_unit_test(test_cdb_length),
		cmocka_unit_test(test_cdb_lba_and_length),
		cmocka_unit_test(test_sense_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
