#!/bin/bash
# lunard on the real kernel: its file handler serving a user backstore
# (dev_config=file//tmp/x.img, as targetcli writes it) through tcm_loop,
# checked like the tcmu-runner reference (scenario-tcmu-runner.sh): INQUIRY
# and VPD identity, capacity, data written and read back, fio with crc32c
# verification; then a clean teardown and exit on SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_inq sg_readcap fio

img=/tmp/x.img
size=$((64 << 20))
step "start lunard"
start_daemon lunard

step "one TCMU daemon per host"
rc=0
"$LUNAR_BUILD/runner/lunard" --handler-path "$LUNAR_BUILD/handlers" -l /tmp \
	>/tmp/second.out 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "another TCMU daemon" /tmp/second.out ||
	fail "a second lunard was not refused (exit $rc): $(cat /tmp/second.out)"
rc=0
timeout 20 "$TCMU_RUNNER" -l /tmp >/tmp/runner.out 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "tcmu-runner started beside lunard (exit $rc): $(cat /tmp/runner.out)"
daemon_alive || fail "lunard died when a second daemon tried to start"

step "user backstore file/$img on tcm_loop"
bs=$(make_user_backstore x 64M "file/$img")
dev=$(loop_attach "$bs")
step "attached as $dev"
# The file handler creates the file and grows it to the device size.
[ "$(stat -c %s "$img" 2>/dev/null || echo none)" = "$size" ] ||
	fail "lunard's file handler did not create $img of $size bytes"

check_lun "$dev" "$bs" "$size" "$img"

cleanup_target
stop_daemon
pass
