/*
 * handler_probe (tests only): subtype "probe", whose check_config() lets
 * the D-Bus test see how lunard calls it.  Devices never open.
 *
 *   probe/sleep=<ms>     sleep, then true; false "concurrent" if another
 *                        call of this handler is running meanwhile
 *   probe/fail           false without a reason (lunard says "unknown")
 *   probe/badutf8        false with a reason that is not valid UTF-8
 *   probe/static-reason  true with *reason pointing at static memory,
 *                        which 1.5.4 never freed
 *   anything else        false, "probe rejects '<cfgstring>'"
 *
 * Its cfg_desc is not valid UTF-8 either.  check_config() runs on lunard's
 * worker threads; the in-flight counter is atomic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcmu-runner.h"

static atomic_int running;
static char static_reason[] = "must not be freed";

static bool probe_sleep(long ms, char **reason)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	bool alone = atomic_fetch_add(&running, 1) == 0;

	nanosleep(&ts, NULL);
	alone = atomic_fetch_sub(&running, 1) == 1 && alone;
	if (!alone)
		*reason = strdup("concurrent");
	return alone;
}

static bool probe_check_config(const char *cfgstring, char **reason)
{
	if (!strncmp(cfgstring, "probe/sleep=", 12))
		return probe_sleep(strtol(cfgstring + 12, NULL, 10), reason);
	if (!strcmp(cfgstring, "probe/fail"))
		return false;
	if (!strcmp(cfgstring, "probe/badutf8")) {
		*reason = strdup("bad \xff\xfe reason");
		return false;
	}
	if (!strcmp(cfgstring, "probe/static-reason")) {
		*reason = static_reason;
		return true;
	}
	if (asprintf(reason, "probe rejects '%s'", cfgstring) < 0)
		*reason = NULL;
	return false;
}

static int probe_open(struct tcmu_device *dev, bool reopen)
{
	(void)dev;
	(void)reopen;
	return -EOPNOTSUPP;
}

static void probe_close(struct tcmu_device *dev)
{
	(void)dev;
}

static int probe_read(struct tcmu_device *dev, struct tcmur_cmd *cmd,
		      struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	(void)dev, (void)cmd, (void)iov, (void)iov_cnt, (void)len, (void)off;
	return TCMU_STS_HW_ERR;
}

static struct tcmur_handler probe_handler = {
	.name = "D-Bus test probe",
	.subtype = "probe",
	.cfg_desc = "probe/<mode>: test handler \xff\xfe",
	.check_config = probe_check_config,
	.open = probe_open,
	.close = probe_close,
	.nr_threads = 1,
	.read = probe_read,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&probe_handler);
}
