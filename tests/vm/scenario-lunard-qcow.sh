#!/bin/bash
# A handler built for tcmu-runner 1.5.4, unchanged: Debian's handler_qcow.so
# loaded by lunard serves a qcow2 image through the kernel (tcm_loop).
# Data written through the LUN must be what qemu-img reads from the image,
# and the image must check clean afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require qemu-img fio sg_inq

debian=/usr/lib/x86_64-linux-gnu/tcmu-runner
[ -f "$debian/handler_qcow.so" ] || skip "Debian's tcmu-runner package (handler_qcow.so) is not installed"
ext4_scratch /scratch 256M	# qcow allocates clusters with fallocate modes tmpfs lacks
img=/scratch/q.qcow2
qemu-img create -q -f qcow2 "$img" 64M || fail "qemu-img create failed"

start_daemon lunard --handler-path "$debian"
grep -q "registered handler qcow" "$LOGDIR/lunard.log" ||
	fail "lunard did not register Debian's qcow handler"
bs=$(make_user_backstore q 64M "qcow/$img")
dev=$(loop_attach "$bs")
step "attached as $dev"
check_identity "$dev" "$bs"
check_capacity "$dev" $((128 << 10)) 512
fio_verify "$dev" 16M

step "write a pattern at 8 MiB, compare with qemu-img's view"
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none ||
	fail "writing the pattern to $dev failed"
cleanup_target
stop_daemon

qemu-img check -q "$img" || fail "qemu-img check finds $img damaged"
qemu-img convert -O raw "$img" /tmp/q.raw || fail "qemu-img convert failed"
cmp -s <(dd if=/tmp/q.raw bs=1M skip=8 count=4 status=none) /tmp/pattern ||
	fail "the qcow2 image does not hold the data written through lunard"
pass
