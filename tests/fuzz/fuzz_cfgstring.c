/*
 * Every cfgstring parser, with what targetcli, ceph-iscsi or the kernel
 * could pass: the runner's own option (";tcmur_cmd_time_out=N", stripped
 * before a handler sees the string), handler_rbd's
 * "rbd/pool[/ns]/image[@snap][;opt=v]..." (parsed, formatted back, freed)
 * and the check_config() of the file and ram handlers as loaded by lunard
 * (file's looks at the path it is given: stat and access only).  The first
 * byte picks the parser; the rest is the string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbd.h"
#include "runner/device.h"
#include "runner/handler.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tcmur_handler *file_ops, *ram_ops;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (handlers_load_file(LUNAR_HANDLER_DIR "/handler_file.so") ||
	    handlers_load_file(LUNAR_HANDLER_DIR "/handler_ram.so"))
		abort();
	for (struct lunar_handler *h = handlers_first(); h; h = h->next) {
		if (!strcmp(h->ops->subtype, "file"))
			file_ops = h->ops;
		else if (!strcmp(h->ops->subtype, "ram"))
			ram_ops = h->ops;
	}
	if (!file_ops || !ram_ops || !file_ops->check_config)
		abort();
	return 0;
}

static void runner_options(char *cfg)
{
	unsigned int time_out_s;
	size_t before = strlen(cfg);

	if (device_strip_runner_options(cfg, &time_out_s) == 0 &&
	    (strlen(cfg) > before || time_out_s > 24 * 3600))
		__builtin_trap();
}

static void rbd(const char *cfg)
{
	struct lrbd_cfg parsed = { 0 };
	char *reason = NULL, shown[512];

	if (lrbd_cfg_parse(cfg, &parsed, &reason) == 0) {
		if (!parsed.pool || !parsed.image)
			__builtin_trap();
		lrbd_cfg_format(&parsed, shown, sizeof(shown));
		lrbd_cfg_free(&parsed);
	} else if (!reason) {
		__builtin_trap();	/* refused without saying why */
	}
	free(reason);
}

static void check_config(struct tcmur_handler *ops, const char *cfg)
{
	char *reason = NULL;

	if (!ops->check_config)
		return;
	ops->check_config(cfg, &reason);
	free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cfg;

	if (!size)
		return 0;
	cfg = malloc(size);
	if (!cfg)
		return 0;
	memcpy(cfg, data + 1, size - 1);
	cfg[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		runner_options(cfg);
		break;
	case 1:
		rbd(cfg);
		break;
	case 2:
		check_config(file_ops, cfg);
		break;
	case 3:
		check_config(ram_ops, cfg);
		break;
	}
	free(cfg);
	return 0;
}
