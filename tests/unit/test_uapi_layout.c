/*
 * runner/ring/tcmu_uapi.h restates the kernel's TCMU shared-memory layout
 * (<linux/target_core_user.h>) so it can live beside <sys/uio.h>.  Every
 * size, offset, constant and header helper listed in uapi_layout.h must
 * agree with the kernel header, which uapi_kernel.c evaluates in a
 * translation unit of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/ring/tcmu_uapi.h"
#include "uapi_layout.h"

#define L_SIZE(t) (uint64_t)sizeof(struct t),
#define L_OFF(t, m) (uint64_t)offsetof(struct t, m),
#define L_MSIZE(t, m) (uint64_t)sizeof(((struct t *)0)->m),
#define L_VAL(e) (uint64_t)(e),

#define N_SIZE(t) "sizeof(struct " #t ")",
#define N_OFF(t, m) "offsetof(struct " #t ", " #m ")",
#define N_MSIZE(t, m) "sizeof(" #t "." #m ")",
#define N_VAL(e) #e,

static void test_matches_kernel_header(void **state)
{
	const uint64_t lunar[] = { UAPI_LAYOUT(L_SIZE, L_OFF, L_MSIZE, L_VAL) };
	static const char *const what[] = {
		UAPI_LAYOUT(N_SIZE, N_OFF, N_MSIZE, N_VAL)
	};
	const size_t n = sizeof(lunar) / sizeof(lunar[0]);
	uint64_t kernel[sizeof(lunar) / sizeof(lunar[0])];
	int mismatches = 0;

	(void)state;
	assert_int_equal(kernel_uapi_layout(kernel, n), n);
	for (size_t i = 0; i < n; i++) {
		if (lunar[i] == kernel[i])
			continue;
		print_error("%s: lunar %llu, kernel %llu\n", what[i],
			    (unsigned long long)lunar[i],
			    (unsigned long long)kernel[i]);
		mismatches++;
	}
	assert_int_equal(mismatches, 0);
}

/* Values the ring code relies on, independent of either header. */
static void test_expected_values(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct tcmu_mailbox), 128);
	assert_int_equal(offsetof(struct tcmu_mailbox, cmd_tail), 64);
	assert_int_equal(sizeof(struct tcmu_cmd_entry), 112);
	assert_int_equal(offsetof(struct tcmu_cmd_entry, req.cdb_off), 24);
	assert_int_equal(offsetof(struct tcmu_cmd_entry, req.iov), 48);
	assert_int_equal(offsetof(struct tcmu_cmd_entry, rsp.read_len), 12);
	assert_int_equal(offsetof(struct tcmu_cmd_entry, rsp.sense_buffer), 16);
	assert_int_equal(sizeof(struct tcmu_tmr_entry), 32);
	assert_int_equal(tcmu_hdr_len_op(112, TCMU_OP_CMD), 113);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_kernel_header),
		cmocka_unit_test(test_expected_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
