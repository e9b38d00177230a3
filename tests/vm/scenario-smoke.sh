#!/bin/bash
# The harness without lunard: a kernel fileio backstore on tcm_loop, data
# written and read back through the /dev/sdX the kernel makes for it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "modprobe target_core_user tcm_loop"
modprobe target_core_user
modprobe tcm_loop
[ -d "$CFG/core" ] || fail "$CFG/core missing after loading target_core_mod"

step "fileio backstore on tcm_loop"
bs=$(make_kernel_backstore fileio f0 64M /tmp/f0.img)
dev=$(loop_attach "$bs")
step "attached as $dev"
[ "$(blockdev --getsize64 "$dev")" -eq $((64 << 20)) ] || fail "$dev is not 64 MiB"

step "dd write/read verify"
dd_verify "$dev" 4 /tmp/f0.img

cleanup_target
wait_for "test ! -e $dev" "$DEVICE_TIMEOUT" || fail "$dev still present after cleanup"
pass
