/*
 * Command objects.  See cmd.h.
 *
 * Freed objects are kept in a small per-thread cache: commands of a
 * handler that completes inline are allocated and freed on the device's
 * command thread, thousands of times a second.  Sanitizer builds skip the
 * cache so that use-after-free stays detectable.
 */
#include "cmd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

#if defined(__SANITIZE_ADDRESS__)

static struct lunar_cmd *cache_get(void)
{
	return NULL;
}

static bool cache_put(struct lunar_cmd *cmd)
{
	(void)cmd;
	return false;
}

#else

#define CACHE_MAX 64

struct cmd_cache {
	unsigned int n;
	struct lunar_cmd *items[CACHE_MAX];
};

static __thread struct cmd_cache *thread_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

static void cache_destroy(void *p)
{
	struct cmd_cache *c = p;

	while (c->n)
		free(c->items[--c->n]);
	free(c);
}

static void make_key(void)
{
	pthread_key_create(&cache_key, cache_destroy);
}

static struct cmd_cache *cache(void)
{
	if (thread_cache)
		return thread_cache;
	pthread_once(&cache_key_once, make_key);
	thread_cache = calloc(1, sizeof(*thread_cache));
	if (thread_cache)
		pthread_setspecific(cache_key, thread_cache);
	return thread_cache;
}

static struct lunar_cmd *cache_get(void)
{
	struct cmd_cache *c = cache();

	return c && c->n ? c->items[--c->n] : NULL;
}

static bool cache_put(struct lunar_cmd *cmd)
{
	struct cmd_cache *c = cache();

	if (!c || c->n == CACHE_MAX)
		return false;
	c->items[c->n++] = cmd;
	return true;
}

#endif

struct lunar_cmd *cmd_alloc(struct tcmu_device *dev)
{
	struct lunar_cmd *cmd = cache_get();

	if (cmd)
		memset(cmd, 0, sizeof(*cmd));
	else if (!(cmd = calloc(1, sizeof(*cmd))))
		return NULL;
	cmd->dev = dev;
	cmd->lib.hm_private = &cmd->rcmd;
	cmd->rcmd.lib_cmd = &cmd->lib;
	return cmd;
}

void cmd_free(struct lunar_cmd *cmd)
{
	if (!cmd)
		return;
	if (cmd->state) {
		if (cmd->state_free)
			cmd->state_free(cmd->state);
		else
			free(cmd->state);
	}
	if (cmd->work_iov && cmd->work_iov != cmd->work_inline)
		free(cmd->work_iov);
	ring_cmd_release(&cmd->ring);
	if (!cache_put(cmd))
		free(cmd);
}

struct iovec *cmd_reset_iov(struct lunar_cmd *cmd)
{
	size_t cnt = cmd->ring.iov_cnt + (size_t)cmd->ring.iov_bidi_cnt;

	if (!cmd->work_iov) {
		cmd->work_iov = cnt <= RING_INLINE_IOVS ? cmd->work_inline :
			malloc(cnt * sizeof(struct iovec));
		if (!cmd->work_iov) {
			/*
			 * Never hand out ring.iov itself: handlers consume
			 * their iovecs, and every later reset copies from it.
			 */
			cmd->lib.iovec = NULL;
			cmd->lib.iov_cnt = 0;
			return NULL;
		}
	}
	memcpy(cmd->work_iov, cmd->ring.iov, cnt * sizeof(struct iovec));
	cmd->lib.iovec = cmd->work_iov;
	cmd->lib.iov_cnt = cmd->ring.iov_cnt;
	return cmd->lib.iovec;
}

void cmd_set_state(struct lunar_cmd *cmd, void *state,
		   void (*free_fn)(void *state))
{
	cmd->state = state;
	cmd->state_free = free_fn;
}

struct iovec *cmd_iov_for(struct lunar_cmd *cmd, size_t len)
{
	struct iovec *iov = cmd_reset_iov(cmd);
	size_t n = 0;

	if (!iov)
		return NULL;
	while (n < cmd->lib.iov_cnt && len) {
		if (iov[n].iov_len > len)
			iov[n].iov_len = len;
		len -= iov[n].iov_len;
		n++;
	}
	cmd->lib.iov_cnt = n;
	return iov;
}
