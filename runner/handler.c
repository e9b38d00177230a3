/*
 * Handler registry and dlopen() loader.  See handler.h.
 */
#define _GNU_SOURCE
#include "handler.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "log.h"

static pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct lunar_handler *registry;

/* The file being loaded, so registrations from its handler_init() own it. */
static __thread const char *loading_path;

static struct lunar_handler *find_subtype(const char *subtype, size_t len)
{
	for (struct lunar_handler *h = registry; h; h = h->next)
		if (strlen(h->ops->subtype) == len &&
		    !strncmp(h->ops->subtype, subtype, len))
			return h;
	return NULL;
}

static bool valid_handler(const struct tcmur_handler *ops)
{
	if (!ops || !ops->subtype || !ops->subtype[0] || !ops->open)
		return false;
	if (strchr(ops->subtype, '/'))
		return false;
	/* A handler must be able to do something with a command. */
	return ops->handle_cmd || ops->read || ops->write || ops->flush;
}

static struct lunar_handler *new_entry(struct tcmur_handler *ops)
{
	struct lunar_handler *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ops = ops;
	h->passthrough_only = !ops->read && !ops->write && !ops->flush;
	h->lib.name = ops->name;
	h->lib.subtype = ops->subtype;
	h->lib.cfg_desc = ops->cfg_desc;
	h->lib.check_config = ops->check_config;
	h->lib.reconfig = ops->reconfig;
	h->lib.update_logdir = ops->update_logdir;
	h->lib.hm_private = ops;
	if (loading_path && !(h->path = strdup(loading_path))) {
		free(h);
		return NULL;
	}
	return h;
}

LUNAR_EXPORT int tcmur_register_handler(struct tcmur_handler *ops)
{
	struct lunar_handler *h, **tail;
	int ret;

	if (!valid_handler(ops)) {
		lunar_err(NULL, "rejecting handler from %s: subtype missing, contains '/', or no open/I/O callouts",
			  loading_path ? loading_path : "(built in)");
		return -EINVAL;
	}
	h = new_entry(ops);
	if (!h)
		return -ENOMEM;
	if (ops->init && (ret = ops->init()) != 0) {
		lunar_err(NULL, "handler %s: init() failed: %d", ops->subtype, ret);
		free(h->path);
		free(h);
		return ret < 0 ? ret : -EIO;
	}

	pthread_rwlock_wrlock(&registry_lock);
	if (find_subtype(ops->subtype, strlen(ops->subtype))) {
		pthread_rwlock_unlock(&registry_lock);
		lunar_err(NULL, "handler subtype %s already registered; ignoring %s",
			  ops->subtype, h->path ? h->path : "(built in)");
		if (ops->destroy)
			ops->destroy();
		free(h->path);
		free(h);
		return -EEXIST;
	}
	for (tail = &registry; *tail; tail = &(*tail)->next)
		;
	*tail = h;
	pthread_rwlock_unlock(&registry_lock);
	lunar_info(NULL, "registered handler %s (%s)", ops->subtype,
		   ops->name ? ops->name : "unnamed");
	return 0;
}

LUNAR_EXPORT bool tcmur_unregister_handler(struct tcmur_handler *ops)
{
	struct lunar_handler **p, *h = NULL;

	pthread_rwlock_wrlock(&registry_lock);
	for (p = &registry; *p; p = &(*p)->next)
		if ((*p)->ops == ops) {
			h = *p;
			*p = h->next;
			break;
		}
	pthread_rwlock_unlock(&registry_lock);
	if (!h)
		return false;
	if (ops->destroy)
		ops->destroy();
	free(h->path);
	free(h);
	return true;
}

/* Whether h was registered by the handler_init() of path now running. */
static bool loading_from(const struct lunar_handler *h, const char *path)
{
	return !h->dl && h->path && !strcmp(h->path, path);
}

/*
 * handler_init() of path failed after registering some handlers: their
 * init() ran, so unregistering them calls destroy(), before the caller
 * unmaps the code both live in.
 */
static void unregister_loading(const char *path)
{
	for (;;) {
		struct tcmur_handler *ops = NULL;

		pthread_rwlock_rdlock(&registry_lock);
		for (struct lunar_handler *h = registry; h && !ops; h = h->next)
			if (loading_from(h, path))
				ops = h->ops;
		pthread_rwlock_unlock(&registry_lock);
		if (!ops)
			return;
		tcmur_unregister_handler(ops);
	}
}

int handlers_load_file(const char *path)
{
	int (*init)(void);
	void *dl;
	int ret;

	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		lunar_err(NULL, "cannot load handler %s: %s", path, dlerror());
		return -ENOEXEC;
	}
	init = (int (*)(void))dlsym(dl, "handler_init");
	if (!init) {
		lunar_err(NULL, "handler %s has no handler_init symbol", path);
		dlclose(dl);
		return -ENOEXEC;
	}
	loading_path = path;
	ret = init();
	loading_path = NULL;
	if (ret) {
		lunar_err(NULL, "handler_init of %s failed: %d; unloading it", path, ret);
		unregister_loading(path);
		dlclose(dl);
		return ret < 0 ? ret : -EIO;
	}

	/* Remember the handle on what this file registered, for dlclose(). */
	bool owned = false;

	pthread_rwlock_wrlock(&registry_lock);
	for (struct lunar_handler *h = registry; h; h = h->next)
		if (loading_from(h, path)) {
			h->dl = dl;
			owned = true;
		}
	pthread_rwlock_unlock(&registry_lock);
	if (!owned) {
		lunar_warn(NULL, "handler %s registered nothing; unloading it", path);
		dlclose(dl);
		return -ENOENT;
	}
	return 0;
}

static int is_handler_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return !strncmp(d->d_name, "handler_", 8) && len > 11 &&
	       !strcmp(d->d_name + len - 3, ".so");
}

int handlers_load_dir(const char *dir)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n, loaded = 0;

	n = scandir(dir, &names, is_handler_file, alphasort);
	if (n < 0) {
		int err = -errno;

		lunar_warn(NULL, "cannot read handler directory %s: %s", dir,
			   strerror(-err));
		return err;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) <
			    (int)sizeof(path) &&
		    handlers_load_file(path) == 0)
			loaded++;
		free(names[i]);
	}
	free(names);
	return loaded;
}

static bool dl_in_use(void *dl)
{
	bool used = false;

	pthread_rwlock_rdlock(&registry_lock);
	for (struct lunar_handler *h = registry; h && !used; h = h->next)
		used = h->dl == dl;
	pthread_rwlock_unlock(&registry_lock);
	return used;
}

/*
 * One .so may register several handlers: it is closed with the last of
 * them, since the others' ops live in its memory.
 */
void handlers_unload_all(void)
{
	for (;;) {
		struct lunar_handler *h;
		void *dl;

		pthread_rwlock_rdlock(&registry_lock);
		h = registry;
		pthread_rwlock_unlock(&registry_lock);
		if (!h)
			return;
		dl = h->dl;
		tcmur_unregister_handler(h->ops);
		if (dl && !dl_in_use(dl))
			dlclose(dl);
	}
}

struct lunar_handler *handlers_find(const char *cfgstring)
{
	const char *slash = strchr(cfgstring, '/');
	struct lunar_handler *h;

	if (!slash)
		return NULL;
	pthread_rwlock_rdlock(&registry_lock);
	h = find_subtype(cfgstring, (size_t)(slash - cfgstring));
	pthread_rwlock_unlock(&registry_lock);
	return h;
}

struct lunar_handler *handlers_first(void)
{
	struct lunar_handler *h;

	pthread_rwlock_rdlock(&registry_lock);
	h = registry;
	pthread_rwlock_unlock(&registry_lock);
	return h;
}
