/*
 * handler_file internals: requests and the I/O engine contract.
 */
#ifndef LUNAR_HANDLER_FILE_H
#define LUNAR_HANDLER_FILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct tcmu_device;
struct tcmur_cmd;

enum file_op {
	FILE_READ,
	FILE_WRITE,
	FILE_FLUSH,
	FILE_UNMAP,
};

/* One handler callout in flight.  iov is consumed as data moves. */
struct file_req {
	struct tcmu_device *dev;
	struct tcmur_cmd *cmd;
	enum file_op op;
	struct iovec *iov;
	size_t iov_cnt;
	uint64_t len;		/* bytes still to move (read/write) */
	uint64_t off;
	struct file_req *next;
};

struct file_engine_ops;

struct file_dev {
	int fd;
	const struct file_engine_ops *engine;
	void *engine_state;	/* owned by the engine between start and stop */
};

/*
 * An I/O engine, chosen per device by the cfgstring's ";engine=<name>".
 * file.c calls start from open() and stop from close(); submit from the
 * handler callouts, on the device's command thread.  Engines finish each
 * request with file_req_complete(), from whichever thread did the I/O.
 */
struct file_engine_ops {
	const char *name;
	/* Set up fd->engine_state for the open fd->fd.  0 or -errno. */
	int (*start)(struct tcmu_device *dev, struct file_dev *fd);
	/*
	 * Run or queue the request described by req (the caller's copy;
	 * engines allocate their own when it must outlive the call).
	 * TCMU_STS_OK (the command completes, maybe already) or a failure
	 * status.
	 */
	int (*submit)(struct file_dev *fd, const struct file_req *req);
	/* Called with nothing in flight (the runner drained the device). */
	void (*stop)(struct file_dev *fd);
};

extern const struct file_engine_ops uring_engine_ops;	/* uring.c */
extern const struct file_engine_ops thread_engine_ops;	/* threads.c */

/*
 * Account res bytes moved by a read or write.  Returns true when req is
 * finished (all bytes moved, or a read hit end of file: the rest is
 * zero-filled); false when the remainder must be issued again.
 */
bool file_req_advance(struct file_req *req, size_t res);

/* Perform req with blocking system calls.  0 or -errno. */
int file_req_run_sync(int fd, struct file_req *req);

/* Complete req's command (err 0 or -errno); req itself is not freed. */
void file_req_complete(const struct file_req *req, int err);

/* A heap copy of req, or NULL. */
struct file_req *file_req_dup(const struct file_req *req);

const char *file_op_name(enum file_op op);

#endif
