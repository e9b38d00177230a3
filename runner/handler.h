/*
 * Handler registry and loader.
 *
 * lunard loads every handler_*.so in the handler directory (alphabetical),
 * calls its handler_init(), which registers a struct tcmur_handler through
 * tcmur_register_handler().  A device's cfgstring "<subtype>/<config>"
 * selects the handler whose subtype equals <subtype> exactly.
 *
 * Threading: loading and unloading happen on the main thread before
 * devices exist / after they are gone; lookups from any thread.
 */
#ifndef LUNAR_HANDLER_H
#define LUNAR_HANDLER_H

#include <stdbool.h>

#include "tcmu-runner.h"

struct lunar_handler {
	struct tcmur_handler *ops;
	struct tcmulib_handler lib;	/* what tcmu_dev_get_handler() returns */
	void *dl;			/* dlopen() handle; NULL if built in */
	char *path;			/* file it came from, for logs */
	bool passthrough_only;		/* no read, write or flush */
	struct lunar_handler *next;
};

/* dlopen every handler_*.so in dir.  Returns how many loaded, or -errno. */
int handlers_load_dir(const char *dir);

/*
 * Load one handler file.  0 or -errno.  A file whose handler_init() fails
 * keeps nothing registered (what it registered is unregistered, calling
 * destroy()) and is unloaded.
 */
int handlers_load_file(const char *path);

/* Unregister everything (calling destroy()) and dlclose. */
void handlers_unload_all(void);

/* Handler for "<subtype>/..." (exact subtype match), or NULL. */
struct lunar_handler *handlers_find(const char *cfgstring);

/* Iterate registered handlers (registration order). */
struct lunar_handler *handlers_first(void);

#endif
