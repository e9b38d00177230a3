/*
 * A handler file whose handler_init() registers two handlers and then
 * fails: the loader must unregister both (calling their destroy(), since
 * their init() ran) and unload the file.  destroy() counts into the test
 * program's bad_init_destroyed.
 */
#include <errno.h>

#include "tcmu-runner.h"

extern unsigned int bad_init_destroyed;

static int bad_open(struct tcmu_device *dev, bool reopen)
{
	(void)dev;
	(void)reopen;
	return -EIO;
}

static int bad_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	(void)dev;
	(void)cmd;
	return TCMU_STS_OK;
}

static void bad_destroy(void)
{
	bad_init_destroyed++;
}

static struct tcmur_handler first = {
	.subtype = "badinit", .open = bad_open, .flush = bad_flush,
	.destroy = bad_destroy,
};

static struct tcmur_handler second = {
	.subtype = "badinit2", .open = bad_open, .flush = bad_flush,
	.destroy = bad_destroy,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	if (tcmur_register_handler(&first) || tcmur_register_handler(&second))
		return -EINVAL;
	return -EIO;	/* half-way through, as a failed backend setup would */
}
