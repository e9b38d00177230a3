/*
 * Binary compatibility: handler .so files built for tcmu-runner 1.5.4 (from
 * Debian's tcmu-runner package) loaded into lunar unchanged, serving LUNs
 * over simring with verified reads and writes:
 *  - handler_qcow.so: a plain file served raw; synchronous handler
 *    (nr_threads 1) on the worker pool; reads the device size through
 *    tcmu_cfgfs_dev_get_info_u64();
 *  - handler_file_zbc.so: passthrough-only handler (handle_cmd for every
 *    command) emulating a host-managed zoned disk;
 *  - handler_file_optical.so: passthrough-only handler on a worker,
 *    emulating an MMC (CD/DVD) device.
 * A handler that is installed but does not load or register fails the test
 * (that is the ABI break it is here to catch); without Debian's tcmu-runner
 * package at all it exits 77 with a SKIP: line, which tests/run-tier.sh
 * fails unless tests/allowed-skips excuses it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/handler.h"
#include "tests/shared/scsi_check.h"

#define DEBIAN_FILE(name) DEBIAN_HANDLER_DIR "/" name

static char dir[] = "/tmp/lunar-compat.XXXXXX";

/* Only these three: handler_rbd.so needs librbd, tested with Ceph. */
static const char *const debian_handlers[] = {
	DEBIAN_FILE("handler_qcow.so"),
	DEBIAN_FILE("handler_file_zbc.so"),
	DEBIAN_FILE("handler_file_optical.so"),
};

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < sizeof(debian_handlers) / sizeof(debian_handlers[0]); i++) {
		int ret = handlers_load_file(debian_handlers[i]);

		if (ret) {
			print_error("%s: not loaded (%d)\n", debian_handlers[i], ret);
			return -1;
		}
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	handlers_unload_all();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 29 + (i >> 8));
}

static void make_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void test_qcow_raw_file(void **state)
{
	static char cfg[256];
	char path[200];
	struct siminit_opts o = { .cfgstring = cfg, .size = 8 << 20, .block_size = 512 };
	uint8_t out[16 * 512], disk[16 * 512];
	struct siminit *si;
	int fd;

	(void)state;
	assert_non_null(handlers_find("qcow/x"));
	snprintf(path, sizeof(path), "%s/raw.img", dir);
	make_file(path, 8 << 20);
	snprintf(cfg, sizeof(cfg), "qcow/%s", path);
	assert_int_equal(siminit_open(&o, &si), 0);

	pattern(out, sizeof(out), 5);
	write_read_back(si, 1000, 16, out, sizeof(out));
	siminit_close(si);

	/* It really is the raw file, byte for byte at the LBA's offset. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, disk, sizeof(disk), 1000 * 512), sizeof(disk));
	close(fd);
	assert_memory_equal(disk, out, sizeof(out));
}

static void inquiry(struct siminit *si, uint8_t *buf, struct scsi_result *res)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };

	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_IN, buf, 96, res), 0);
	assert_good(res);
}

/* WRITE(10) then READ(10) of the same blocks through a passthrough handler. */
static void write_read_10(struct siminit *si, uint32_t lba, uint16_t nblocks,
			  size_t block_size, unsigned int seed)
{
	uint8_t w10[10] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0,
			    (uint8_t)(nblocks >> 8), (uint8_t)nblocks, 0 };
	uint8_t r10[10];
	size_t len = nblocks * block_size;
	uint8_t *out = malloc(len), *in = malloc(len);
	struct scsi_result res;

	assert_non_null(out);
	assert_non_null(in);
	memcpy(r10, w10, sizeof(r10));
	r10[0] = 0x28;
	pattern(out, len, seed);
	assert_int_equal(siminit_cmd(si, w10, SIMRING_DIR_OUT, out, len, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_cmd(si, r10, SIMRING_DIR_IN, in, len, &res), 0);
	assert_good(&res);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

static void test_zbc_host_managed(void **state)
{
	static char cfg[256];
	char path[200];
	struct siminit_opts o = { .cfgstring = cfg, .size = 64 << 20, .block_size = 512 };
	uint8_t buf[96];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(handlers_find("zbc/x"));
	snprintf(path, sizeof(path), "%s/zoned.img", dir);
	snprintf(cfg, sizeof(cfg), "zbc/model-HM/zsize-4/conv-2@%s", path);
	assert_int_equal(siminit_open(&o, &si), 0);
	inquiry(si, buf, &res);
	assert_int_equal(buf[0] & 0x1f, 0x14);	/* host-managed zoned block */

	/* LBA 0 is in a conventional zone: random writes allowed. */
	write_read_10(si, 0, 8, 512, 9);
	siminit_close(si);
}

static void test_optical(void **state)
{
	static char cfg[256];
	char path[200];
	struct siminit_opts o = { .cfgstring = cfg, .size = 32 << 20, .block_size = 2048 };
	uint8_t buf[96];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(handlers_find("fbo/x"));
	snprintf(path, sizeof(path), "%s/disc.img", dir);
	snprintf(cfg, sizeof(cfg), "fbo/%s", path);
	assert_int_equal(siminit_open(&o, &si), 0);
	inquiry(si, buf, &res);
	assert_int_equal(buf[0] & 0x1f, 0x05);	/* CD/DVD */

	write_read_10(si, 16, 4, 2048, 2);
	siminit_close(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qcow_raw_file),
		cmocka_unit_test(test_zbc_host_managed),
		cmocka_unit_test(test_optical),
	};

	if (access(DEBIAN_HANDLER_DIR, F_OK)) {
		printf("SKIP: no %s: Debian's tcmu-runner package is not installed (apt-get install tcmu-runner)\n",
		       DEBIAN_HANDLER_DIR);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
