/*
 * Loading target_core_user with libkmod (honouring modprobe blacklists),
 * and the kernel's netlink blocking switches used while lunard starts.
 * Main thread only.
 */
#ifndef LUNAR_KMOD_H
#define LUNAR_KMOD_H

#include <stdbool.h>

/*
 * Make sure target_core_user is loaded.  0, or -errno after logging a
 * message an operator can act on.
 */
int kmod_load_tcmu(void);

/*
 * block_netlink: while set, the kernel refuses new device requests (they
 * fail and may be retried), so none arrives while lunard is half set up.
 * reset_netlink fails requests a previous daemon never answered.
 */
int kmod_block_netlink(bool block);
int kmod_reset_netlink(void);

#endif
