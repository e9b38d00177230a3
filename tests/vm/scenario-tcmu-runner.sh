#!/bin/bash
# Reference for comparisons: Debian's tcmu-runner 1.5.4 serving a user
# backstore (its qcow handler on a raw file; Debian ships no file handler)
# through tcm_loop: INQUIRY, capacity, data written and read back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_inq sg_readcap fio

img=/tmp/x.img
size=$((64 << 20))
step "start tcmu-runner"
start_daemon tcmu-runner
truncate -s "$size" "$img" # the qcow handler probes the file: it must exist

step "user backstore qcow/$img on tcm_loop"
bs=$(make_user_backstore x 64M "qcow/$img")
dev=$(loop_attach "$bs")
step "attached as $dev"

check_lun "$dev" "$bs" "$size" "$img"

cleanup_target
stop_daemon
pass
