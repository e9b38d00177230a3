/*
 * The host lock.  See host_lock.h.
 */
#include "host_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define RETRY_MS 5

int host_lock_take(const char *path, unsigned int wait_ms)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int err;

	if (fd < 0)
		return -errno;
	for (unsigned int waited = 0;; waited += RETRY_MS) {
		if (!fcntl(fd, F_SETLK, &fl))
			return fd;
		err = errno == EACCES ? -EAGAIN : -errno;
		if (err != -EAGAIN || waited >= wait_ms)
			break;
		usleep(RETRY_MS * 1000);
	}
	close(fd);
	return err;
}
