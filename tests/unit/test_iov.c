/*
 * runner/iov.c: offset-addressed iovec helpers that never modify the
 * iovec array.  Copies, zeroing and comparison starting inside one entry
 * and crossing into the next, empty entries, offsets at and past the end,
 * and slices (including an output array that is too small).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runner/iov.h"

/* Three pieces of 5, 0 and 11 bytes, then 16: 32 bytes in all. */
struct vec {
	uint8_t a[5], c[11], d[16];
	struct iovec iov[4];
	struct iovec pristine[4];
};

static struct vec v;

static int setup(void **state)
{
	(void)state;
	memset(&v, 0, sizeof(v));
	v.iov[0] = (struct iovec){ v.a, sizeof(v.a) };
	v.iov[1] = (struct iovec){ v.c, 0 };
	v.iov[2] = (struct iovec){ v.c, sizeof(v.c) };
	v.iov[3] = (struct iovec){ v.d, sizeof(v.d) };
	memcpy(v.pristine, v.iov, sizeof(v.iov));
	return 0;
}

/* Byte i of the 32-byte vector. */
static uint8_t *byte_at(size_t i)
{
	if (i < 5)
		return &v.a[i];
	if (i < 16)
		return &v.c[i - 5];
	return &v.d[i - 16];
}

static void assert_iov_untouched(void)
{
	assert_memory_equal(v.iov, v.pristine, sizeof(v.iov));
}

static void test_length(void **state)
{
	(void)state;
	assert_int_equal(iov_length(v.iov, 4), 32);
	assert_int_equal(iov_length(v.iov, 2), 5);
	assert_int_equal(iov_length(v.iov, 0), 0);
}

static void test_copy_to(void **state)
{
	uint8_t src[32];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x40 + i);
	/* From byte 3 across a, the empty entry, c and into d. */
	assert_int_equal(iov_copy_to(v.iov, 4, 3, src, 20), 20);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(*byte_at(i), i >= 3 && i < 23 ? 0x40 + i - 3 : 0);
	/* Clipped at the end of the data. */
	assert_int_equal(iov_copy_to(v.iov, 4, 30, src, 10), 2);
	assert_int_equal(v.d[14], 0x40);
	assert_int_equal(v.d[15], 0x41);
	/* At or past the end, or nothing asked: nothing copied. */
	assert_int_equal(iov_copy_to(v.iov, 4, 32, src, 1), 0);
	assert_int_equal(iov_copy_to(v.iov, 4, 1000, src, 1), 0);
	assert_int_equal(iov_copy_to(v.iov, 4, 0, src, 0), 0);
	assert_int_equal(v.a[0], 0);
	assert_iov_untouched();
}

static void test_copy_from(void **state)
{
	uint8_t dst[40];

	(void)state;
	for (size_t i = 0; i < 32; i++)
		*byte_at(i) = (uint8_t)i;
	memset(dst, 0xee, sizeof(dst));
	assert_int_equal(iov_copy_from(dst, v.iov, 4, 4, 13), 13);
	for (size_t i = 0; i < 13; i++)
		assert_int_equal(dst[i], 4 + i);
	assert_int_equal(dst[13], 0xee);
	memset(dst, 0xee, sizeof(dst));
	assert_int_equal(iov_copy_from(dst, v.iov, 4, 16, 40), 16);
	assert_int_equal(dst[0], 16);
	assert_int_equal(dst[15], 31);
	assert_int_equal(dst[16], 0xee);
	assert_int_equal(iov_copy_from(dst, v.iov, 4, 5, 0), 0);
	assert_int_equal(iov_copy_from(dst, v.iov, 4, 32, 1), 0);
	assert_int_equal(iov_copy_from(dst, v.iov, 0, 0, 1), 0);
	assert_iov_untouched();
}

static void test_zero(void **state)
{
	(void)state;
	memset(v.a, 0xff, sizeof(v.a));
	memset(v.c, 0xff, sizeof(v.c));
	memset(v.d, 0xff, sizeof(v.d));
	iov_zero(v.iov, 4, 4, 13);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(*byte_at(i), i >= 4 && i < 17 ? 0 : 0xff);
	iov_zero(v.iov, 4, 32, 8);
	iov_zero(v.iov, 4, 0, 0);
	assert_int_equal(v.a[0], 0xff);
	iov_zero(v.iov, 4, 20, 100);
	assert_int_equal(v.d[3], 0xff);
	assert_int_equal(v.d[4], 0);
	assert_int_equal(v.d[15], 0);
	assert_iov_untouched();
}

static void test_compare(void **state)
{
	uint8_t mem[32];

	(void)state;
	for (size_t i = 0; i < 32; i++)
		mem[i] = *byte_at(i) = (uint8_t)(i * 3);
	assert_int_equal(iov_compare(v.iov, 4, 0, mem, 32), -1);
	assert_int_equal(iov_compare(v.iov, 4, 7, mem + 7, 20), -1);
	/* First difference, counted from off. */
	*byte_at(18) ^= 1;
	assert_int_equal(iov_compare(v.iov, 4, 0, mem, 32), 18);
	assert_int_equal(iov_compare(v.iov, 4, 6, mem + 6, 26), 12);
	*byte_at(9) ^= 1;
	assert_int_equal(iov_compare(v.iov, 4, 6, mem + 6, 26), 3);
	assert_int_equal(iov_compare(v.iov, 4, 0, mem, 0), -1);
	/* The difference in byte 4, last of the first entry. */
	*byte_at(4) ^= 0x80;
	assert_int_equal(iov_compare(v.iov, 4, 0, mem, 5), 4);
	assert_iov_untouched();
}

static void test_slice(void **state)
{
	struct iovec three[3] = { v.iov[0], v.iov[2], v.iov[3] };
	struct iovec out[4];

	(void)state;
	/* Bytes 3..22: tail of a, all of c, head of d. */
	assert_int_equal(iov_slice(three, 3, 3, 20, out, 3), 3);
	assert_ptr_equal(out[0].iov_base, v.a + 3);
	assert_int_equal(out[0].iov_len, 2);
	assert_ptr_equal(out[1].iov_base, v.c);
	assert_int_equal(out[1].iov_len, 11);
	assert_ptr_equal(out[2].iov_base, v.d);
	assert_int_equal(out[2].iov_len, 7);
	/* Inside one entry. */
	assert_int_equal(iov_slice(three, 3, 17, 4, out, 1), 1);
	assert_ptr_equal(out[0].iov_base, v.d + 1);
	assert_int_equal(out[0].iov_len, 4);
	/* Exactly to the end. */
	assert_int_equal(iov_slice(three, 3, 16, 16, out, 1), 1);
	assert_int_equal(out[0].iov_len, 16);
	/* Output array too small. */
	assert_int_equal(iov_slice(three, 3, 3, 20, out, 2), -1);
	/* Past the data, starting or ending. */
	assert_int_equal(iov_slice(three, 3, 16, 17, out, 4), -1);
	assert_int_equal(iov_slice(three, 3, 32, 1, out, 4), -1);
	assert_int_equal(iov_slice(three, 3, 40, 1, out, 4), -1);
	/* Empty slice, even at or past the end. */
	assert_int_equal(iov_slice(three, 3, 32, 0, out, 0), 0);
	assert_int_equal(iov_slice(three, 3, 99, 0, out, 4), 0);
	/* An empty entry inside the range is passed on as an empty piece. */
	assert_int_equal(iov_slice(v.iov, 4, 3, 20, out, 4), 4);
	assert_int_equal(out[1].iov_len, 0);
	assert_ptr_equal(out[2].iov_base, v.c);
	assert_int_equal(out[3].iov_len, 7);
	/* An empty entry at the start of the range is skipped. */
	assert_int_equal(iov_slice(v.iov, 4, 5, 11, out, 1), 1);
	assert_ptr_equal(out[0].iov_base, v.c);
	assert_int_equal(out[0].iov_len, 11);
	assert_iov_untouched();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_length, setup),
		cmocka_unit_test_setup(test_copy_to, setup),
		cmocka_unit_test_setup(test_copy_from, setup),
		cmocka_unit_test_setup(test_zero, setup),
		cmocka_unit_test_setup(test_compare, setup),
		cmocka_unit_test_setup(test_slice, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
