/*
 * handler_file through the whole core over simring, with both I/O engines:
 * each cfgstring runs the engine it names, data written through SCSI lands in the backing file at the right offset,
 * reads come back from it, UNMAP punches holes, SYNCHRONIZE CACHE works,
 * data survives removing and re-adding the device, and bad configurations
 * are refused with a reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/handler.h"
#include "runner/log.h"
#include "tests/shared/scsi_check.h"

#define BS 512
#define SIZE (16ull << 20)

static char dir[] = "/tmp/lunar-file-test.XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || log_open(dir) ||
	    siminit_load_handlers(LUNAR_HANDLER_DIR))
		return -1;
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	log_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct siminit *open_file_lun(const char *file, const char *engine)
{
	static char cfg[512];
	struct siminit_opts o = { .cfgstring = cfg, .size = SIZE, .block_size = BS };
	struct siminit *si;

	snprintf(cfg, sizeof(cfg), "file/%s/%s%s%s", dir, file,
		 engine ? ";engine=" : "", engine ? engine : "");
	assert_int_equal(siminit_open(&o, &si), 0);
	return si;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 13 + i * 7 + (i >> 9));
}

static void read_file(const char *file, off_t off, void *buf, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* The handler logged that it opened file with the engine named engine. */
static void assert_opened_with(const char *file, const char *engine)
{
	char path[256], line[512], *log;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/lunard.log", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	log = calloc(1, 1 << 20);
	assert_non_null(log);
	len = fread(log, 1, (1 << 20) - 1, f);
	fclose(f);
	log[len] = '\0';
	snprintf(line, sizeof(line), "opened %s/%s (%s engine)", dir, file, engine);
	if (!strstr(log, line))
		fail_msg("no \"%s\" in %s", line, path);
	free(log);
}

/*
 * nblocks written at an odd LBA, flushed, checked in the file, read back,
 * and read again after the device is reopened.
 */
static void data_roundtrip(const char *engine, const char *file,
			   uint32_t nblocks, const char *expected_engine)
{
	size_t len = (size_t)nblocks * BS;
	uint8_t *out = malloc(len), *in = malloc(len), *disk = malloc(len);
	uint8_t sync10[10] = { 0x35 };
	struct scsi_result res;
	struct siminit *si = open_file_lun(file, engine);
	struct stat st;
	char path[256];

	assert_non_null(out);
	assert_non_null(in);
	assert_non_null(disk);
	assert_opened_with(file, expected_engine);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, SIZE);		/* grown to the LUN */

	pattern(out, len, nblocks);
	assert_int_equal(siminit_write(si, 777, nblocks, out, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_cmd(si, sync10, SIMRING_DIR_NONE, NULL, 0, &res), 0);
	assert_good(&res);
	read_file(file, 777 * BS, disk, len);
	assert_memory_equal(disk, out, len);
	assert_int_equal(siminit_read(si, 777, nblocks, in, &res), 0);
	assert_good(&res);
	assert_memory_equal(in, out, len);
	siminit_close(si);

	/* The data survives the device going away and coming back. */
	si = open_file_lun(file, engine);
	memset(in, 0, len);
	assert_int_equal(siminit_read(si, 777, nblocks, in, &res), 0);
	assert_good(&res);
	assert_memory_equal(in, out, len);
	siminit_close(si);
	free(out);
	free(in);
	free(disk);
}

static void test_roundtrip_io_uring(void **state)
{
	(void)state;
	data_roundtrip("io_uring", "io_uring", 64, "io_uring");
}

/* 1 MiB: past the io_uring engine's inline limit, through the ring. */
static void test_large_roundtrip_io_uring(void **state)
{
	(void)state;
	data_roundtrip("io_uring", "io_uring-large", 2048, "io_uring");
}

static void test_roundtrip_threads(void **state)
{
	(void)state;
	data_roundtrip("threads", "threads", 64, "threads");
}

static void test_roundtrip_default_engine(void **state)
{
	(void)state;
	data_roundtrip(NULL, "default", 64, "io_uring");
}

static void test_unmap_punches_holes(void **state)
{
	uint8_t *buf = malloc(1 << 20), *zero = calloc(1, 1 << 20);
	uint8_t param[24] = { 0, 22, 0, 16 };
	uint8_t cdb[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, sizeof(param), 0 };
	struct siminit *si = open_file_lun("holes", NULL);
	struct scsi_result res;
	struct stat before, after;
	char path[256];

	(void)state;
	pattern(buf, 1 << 20, 3);
	assert_int_equal(siminit_write(si, 4096, 2048, buf, &res), 0);
	assert_good(&res);
	snprintf(path, sizeof(path), "%s/holes", dir);
	assert_int_equal(stat(path, &before), 0);
	/* UNMAP LBA 4096, 2048 blocks (1 MiB). */
	param[8 + 6] = 0x10;
	param[8 + 10] = 0x08;
	assert_int_equal(siminit_cmd(si, cdb, SIMRING_DIR_OUT, param, sizeof(param), &res), 0);
	assert_good(&res);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_blocks < before.st_blocks);
	assert_int_equal(siminit_read(si, 4096, 2048, buf, &res), 0);
	assert_good(&res);
	assert_memory_equal(buf, zero, 1 << 20);
	siminit_close(si);
	free(buf);
	free(zero);
}

static void test_check_config(void **state)
{
	struct lunar_handler *h = handlers_find("file/x");
	char *reason = NULL;
	char cfg[512];

	(void)state;
	assert_non_null(h);
	assert_non_null(h->ops->check_config);

	snprintf(cfg, sizeof(cfg), "file/%s/new.img", dir);
	assert_true(h->ops->check_config(cfg, &reason));
	assert_false(h->ops->check_config("file/", &reason));
	assert_non_null(strstr(reason, "path"));
	free(reason);
	assert_false(h->ops->check_config("file//no/such/dir/x.img", &reason));
	assert_non_null(strstr(reason, "directory"));
	free(reason);
	assert_false(h->ops->check_config("file//dev/null", &reason));
	assert_non_null(strstr(reason, "neither"));
	free(reason);
	snprintf(cfg, sizeof(cfg), "file/%s/x.img;engine=magic", dir);
	assert_false(h->ops->check_config(cfg, &reason));
	assert_non_null(strstr(reason, "engine"));
	free(reason);
}

static void test_bad_config_fails_device_add(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "file//no/such/dir/x.img", .size = SIZE,
	};
	struct siminit *si = NULL;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), -EINVAL);
	assert_null(si);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_io_uring),
		cmocka_unit_test(test_large_roundtrip_io_uring),
		cmocka_unit_test(test_roundtrip_threads),
		cmocka_unit_test(test_roundtrip_default_engine),
		cmocka_unit_test(test_unmap_punches_holes),
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_bad_config_fails_device_add),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
