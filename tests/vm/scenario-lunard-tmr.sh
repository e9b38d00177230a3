#!/bin/bash
# Task management through the real kernel: lunard turns on the kernel's TMR
# notifications, so a LUN RESET issued by the initiator while commands sit
# in a slow backend (handler_slow, each I/O held 300 ms) reaches lunard as
# a TMR entry naming them.  The initiator retries what the reset aborted:
# fio must finish with every block verified.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_reset fio

hdir=/tmp/handlers
mkdir -p "$hdir"
ln -s "$LUNAR_BUILD"/handlers/*.so "$LUNAR_BUILD/tests/handler_slow.so" "$hdir/"
start_daemon lunard --handler-path "$hdir"
bs=$(make_user_backstore s 16M "slow/s;hold_ms=300")
[ "$(cat "$bs/attrib/tmr_notification")" = 1 ] ||
	fail "lunard did not turn on attrib/tmr_notification"
dev=$(loop_attach "$bs")
step "attached as $dev"

out=$RESULTS/fio-tmr.txt
fio --name=tmr --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=64k --iodepth=8 --size=4M --verify=crc32c --do_verify=1 \
	--verify_fatal=1 --output="$out" &
fio_pid=$!
# inflight: "<reads> <writes>" the block layer has outstanding.
wait_for "[ \$(awk '{print \$2}' /sys/block/${dev#/dev/}/inflight) -ge 4 ]" 30 ||
	fail "fio never had writes in flight on $dev"
step "LUN RESET while commands are in the backend"
sg_reset -d "$dev" || fail "sg_reset -d $dev failed"
wait "$fio_pid" || { tail -n 20 "$out" >&2; fail "fio failed across the LUN reset"; }
grep -q 'err= 0' "$out" || fail "fio reported errors across the LUN reset"
grep -E -q "task management LUN RESET named [1-9][0-9]* command" "$LOGDIR/lunard.log" ||
	fail "lunard saw no LUN RESET naming in-flight commands"
step "$(grep -o 'task management LUN RESET named [0-9]* command(s)[^$]*' "$LOGDIR/lunard.log" | head -1)"

cleanup_target
stop_daemon
pass
