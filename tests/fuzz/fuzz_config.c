/*
 * /etc/tcmu/tcmu.conf as lunard reads it (config_parse()): any text, a
 * NUL ending it early.  Whatever it accepts must be in range: a log level
 * lunard knows, a terminated log directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct config cfg;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_parse(text, &cfg);
	if ((cfg.has_log_level && (cfg.log_level < 0 || cfg.log_level > 5)) ||
	    strnlen(cfg.log_dir, sizeof(cfg.log_dir)) == sizeof(cfg.log_dir))
		__builtin_trap();
	free(text);
	return 0;
}
