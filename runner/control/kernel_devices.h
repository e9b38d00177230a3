/*
 * lunard's kernel control plane: the TCMU devices target_core_user
 * offers, from netlink requests and from /sys/class/uio at start-up.
 *
 * Opening a device (the handler's open() may take seconds, e.g. an RBD
 * connect), removing and reconfiguring one run on worker threads, so the
 * main loop (netlink, D-Bus, other devices) never waits for a backend; the
 * netlink reply is sent when the work is done.  The kernel sends one
 * request per device at a time.
 *
 * Threading: start/stop/dispatch on the main thread.
 */
#ifndef LUNAR_KERNEL_DEVICES_H
#define LUNAR_KERNEL_DEVICES_H

/*
 * Load target_core_user, block netlink, connect, take over the devices
 * that already exist (block, reset ring, reopen, unblock each).  The
 * caller then starts D-Bus and calls kernel_devices_ready().  0 or -errno.
 */
int kernel_devices_start(void);

/* Accept new netlink requests. */
void kernel_devices_ready(void);

/* The netlink fd to watch, and its handler for the main loop. */
int kernel_devices_fd(void);
void kernel_devices_dispatch(void);

/*
 * Stop: refuse new requests, then for every device block the kernel's
 * queue, let in-flight commands finish, close the handler, unblock.
 */
void kernel_devices_stop(void);

#endif
