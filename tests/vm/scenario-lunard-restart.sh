#!/bin/bash
# lunard restarted under I/O costs the initiator latency, not errors: fio
# writes with crc32c verification through tcm_loop while lunard is killed
# (SIGKILL: commands left in the ring) and, in a second round, stopped
# (SIGTERM: drained); each time a new lunard adopts the device (block,
# reset ring, reopen, unblock).  fio must finish with no error and every
# block verified, and the kernel must have logged no I/O error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require fio

img=/tmp/r.img
start_daemon lunard
bs=$(make_user_backstore r 64M "file/$img")
dev=$(loop_attach "$bs")
step "attached as $dev"

# writes_done: writes the block layer has completed on $dev since boot.
writes_done() { awk '{ print $5 }' "/sys/block/${dev#/dev/}/stat"; }

# adoptions: how many times a lunard has adopted a device so far (the log
# is appended to by every lunard of the scenario).
adoptions() { grep -c "adopted from a previous daemon" "$LOGDIR/lunard.log" || true; }

# restart_under_io SIGNAL: fio in the background, SIGNAL to lunard during
# its write phase, a new lunard, then fio must end cleanly.
restart_under_io() {
	local sig=$1 out=$RESULTS/fio-restart-$1.txt fio_pid base adopted
	base=$(writes_done)
	adopted=$(adoptions)
	fio --name=restart --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --size=48M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 \
		--output="$out" &
	fio_pid=$!
	# Wait until this fio's writes are flowing through lunard.
	wait_for "[ \$(writes_done) -gt $((base + 500)) ]" 30 ||
		fail "fio did not start writing to $dev"
	kill -0 "$fio_pid" 2>/dev/null || fail "fio ended before SIG$sig could hit it"
	step "SIG$sig to lunard during fio ($(($(writes_done) - base)) writes done)"
	if [ "$sig" = KILL ]; then
		kill_daemon
	else
		stop_daemon || fail "lunard did not stop cleanly on SIGTERM under I/O"
	fi
	sleep 1
	start_daemon lunard
	[ "$(adoptions)" -gt "$adopted" ] ||
		fail "the new lunard did not adopt the device after SIG$sig"
	wait "$fio_pid" || { tail -n 30 "$out" >&2; fail "fio failed across the SIG$sig restart"; }
	grep -q 'err= 0' "$out" || fail "fio reported errors across the SIG$sig restart"
	step "fio finished, all blocks verified after SIG$sig + restart"
}

restart_under_io KILL
restart_under_io TERM

if dmesg | grep -E -i 'I/O error|critical (target|medium) error|Buffer I/O'; then
	fail "the kernel logged I/O errors during the restarts"
fi
dd_verify "$dev" 4 "$img"
cleanup_target
stop_daemon
pass
