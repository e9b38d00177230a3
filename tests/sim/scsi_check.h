/*
 * Assertions shared by the sim-tier SCSI tests (cmocka).
 */
#ifndef LUNAR_SCSI_CHECK_H
#define LUNAR_SCSI_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "siminit.h"

#define STATUS_GOOD 0x00
#define STATUS_CHECK 0x02

/* The command completed GOOD. */
#define assert_good(res) do {						\
		assert_int_equal((res)->ret, 0);			\
		assert_int_equal((res)->status, STATUS_GOOD);		\
	} while (0)

/* CHECK CONDITION with fixed-format sense key/ASC+ASCQ. */
#define assert_sense(res, key, asc_ascq) do {				\
		assert_int_equal((res)->ret, 0);			\
		assert_int_equal((res)->status, STATUS_CHECK);		\
		assert_int_equal((res)->sense[0] & 0x7f, 0x70);		\
		assert_int_equal(sense_key(res), (key));		\
		assert_int_equal(sense_asc(res), (asc_ascq));		\
	} while (0)

/* ILLEGAL REQUEST with a sense-key-specific field pointer. */
#define assert_field_pointer(res, in_cdb, byte) do {			\
		assert_true((res)->sense[15] & 0x80);			\
		assert_int_equal(!!((res)->sense[15] & 0x40), !!(in_cdb)); \
		assert_int_equal((res)->sense[16] << 8 | (res)->sense[17], (byte)); \
	} while (0)

#endif
