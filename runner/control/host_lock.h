/*
 * The host lock (tcmu-runner's lock file too): one TCMU daemon serves a
 * host's devices.  A dead lunard's guardian holds it while it fails that
 * lunard's commands (guardian.h); a starting lunard waits that long for
 * it (kernel_devices_start()).
 *
 * Threading: any thread; host_lock_take() sleeps while it waits.
 */
#ifndef LUNAR_HOST_LOCK_H
#define LUNAR_HOST_LOCK_H

#define TCMU_HOST_LOCK "/run/tcmu.lock"

/*
 * Open path (created if missing) and take its write lock, retrying every
 * 5 ms for up to wait_ms while another process holds it.  Returns the fd
 * that holds the lock (closing it releases the lock), -EAGAIN if it is
 * still held after wait_ms, or another -errno.
 */
int host_lock_take(const char *path, unsigned int wait_ms);

#endif
