#!/bin/bash
# The lib.sh helpers the other scenarios do not use: an rd_mcp backstore
# on two tcm_loop paths (one wwid), the LIO iSCSI target on 127.0.0.1
# read by libiscsi, a daemon killed with SIGKILL and started again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_inq iscsi-inq iscsi-readcapacity16

step "rd_mcp backstore on two tcm_loop paths"
rd=$(make_kernel_backstore rd_mcp r0 32M)
a=$(loop_attach "$rd")
b=$(loop_attach "$rd")
[ "$a" != "$b" ] || fail "two loop_attach calls gave the same device $a"
check_identity "$a" "$rd" RAMDISK-MCP
check_identity "$b" "$rd" RAMDISK-MCP
dd_verify "$a" 1
cmp -n $((1 << 20)) "$a" "$b" || fail "$a and $b do not show the same data"

step "iSCSI target on 127.0.0.1:3260"
iqn=$(iscsi_target_setup "$rd")
out=$(iscsi-inq "iscsi://127.0.0.1/$iqn/0") || fail "iscsi-inq on $iqn LUN 0 failed"
grep -q 'Vendor:LIO-ORG' <<<"$out" || fail "iscsi-inq: unexpected answer: $out"
out=$(iscsi-readcapacity16 "iscsi://127.0.0.1/$iqn/0") || fail "iscsi-readcapacity16 failed"
grep -q 'Total size:33554432' <<<"$out" || fail "iscsi-readcapacity16: unexpected answer: $out"

step "tcmu-runner: SIGKILL, then start again"
start_daemon tcmu-runner
kill_daemon
start_daemon tcmu-runner
stop_daemon

cleanup_target
left=$(find "$CFG/core" "$CFG/loopback" "$CFG/iscsi" -mindepth 1 -maxdepth 1 \
	\( -name '*_[0-9]*' -o -name 'naa.*' -o -name 'iqn.*' \) 2>/dev/null)
[ -z "$left" ] || fail "left after cleanup_target: $left"
pass
