#!/bin/bash
# Netlink RECONFIG_DEVICE through the real kernel: a size change (attrib/
# dev_size) grows the backing file and reaches the initiator as CAPACITY
# DATA HAS CHANGED, and after a rescan as the new capacity; a write cache
# change (attrib/emulate_write_cache) reaches it as MODE PARAMETERS
# CHANGED and a write-through cache; a cfgstring change the file handler
# cannot follow is refused (the kernel keeps the old one) and the LUN keeps
# serving; one handler_slow follows (its ;hold_ms=N) is taken by the
# kernel and holds I/O from then on, and one it refuses leaves both the
# kernel's dev_config and the hold as they were.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_readcap blockdev

img=/tmp/z.img
hdir=/tmp/handlers
mkdir -p "$hdir"
ln -s "$LUNAR_BUILD"/handlers/*.so "$LUNAR_BUILD/tests/handler_slow.so" "$hdir/"
start_daemon lunard --handler-path "$hdir"
bs=$(make_user_backstore z 64M "file/$img")
dev=$(loop_attach "$bs")
blk=${dev#/dev/}
hctl=$(basename "$(readlink -f "/sys/block/$blk/device")")	# how sd names it
step "attached as $dev"
dd_verify "$dev" 4 "$img"

# touch_device: one read, so sd meets the pending unit attention.
touch_device() {
	dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none ||
		fail "read from $dev failed after the reconfiguration"
}

step "grow to 128 MiB"
cfs_write "$bs/attrib/dev_size" $((128 << 20))
[ "$(stat -c %s "$img")" = $((128 << 20)) ] ||
	fail "the file handler did not grow $img to 128 MiB"
touch_device
wait_for "dmesg | grep -q '$hctl: Capacity data has changed'" 10 ||
	fail "the initiator saw no CAPACITY DATA HAS CHANGED unit attention"
printf 1 >"/sys/block/$blk/device/rescan"
[ "$(blockdev --getsize64 "$dev")" = $((128 << 20)) ] ||
	fail "$dev is $(blockdev --getsize64 "$dev") bytes after the rescan, not 128 MiB"
check_capacity "$dev" $((256 << 10)) 512
step "write and read back the new half"
head -c $((1 << 20)) /dev/urandom >/tmp/tail.bin
dd if=/tmp/tail.bin of="$dev" bs=1M seek=127 oflag=direct conv=fsync status=none ||
	fail "writing the last MiB of the grown $dev failed"
cmp <(dd if="$dev" bs=1M skip=127 iflag=direct status=none) /tmp/tail.bin ||
	fail "the last MiB of the grown $dev reads back different"

step "write cache off"
cache=$(echo /sys/block/"$blk"/device/scsi_disk/*/cache_type)
[ "$(cat "$cache")" = "write back" ] || fail "cache type is '$(cat "$cache")' at start"
cfs_write "$bs/attrib/emulate_write_cache" 0
touch_device
wait_for "dmesg | grep -q '$hctl: Mode parameters changed'" 10 ||
	fail "the initiator saw no MODE PARAMETERS CHANGED unit attention"
printf 1 >"/sys/block/$blk/device/rescan"
[ "$(cat "$cache")" = "write through" ] ||
	fail "cache type is '$(cat "$cache")' after turning the write cache off"

step "cfgstring change the handler cannot follow"
if printf 'file//tmp/other.img' >"$bs/attrib/dev_config" 2>/dev/null; then
	fail "the kernel accepted a cfgstring change lunard's file handler refuses"
fi
grep -q "file//tmp/z.img" "$bs/info" || fail "the kernel changed dev_config despite the refusal"
dd_verify "$dev" 4 "$img"

sbs=$(make_user_backstore r 16M "slow/r")
sdev=$(loop_attach "$sbs")
# read_ms: how many milliseconds one direct 4 KiB read from $sdev takes.
read_ms() {
	local t0 t1
	t0=$(date +%s%N)
	dd if="$sdev" of=/dev/null bs=4k count=1 iflag=direct status=none ||
		fail "read from $sdev failed after the reconfiguration"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
step "cfgstring change handler_slow follows: hold every I/O 400 ms"
cfs_write "$sbs/attrib/dev_config" "slow/r;hold_ms=400"
grep -q "slow/r;hold_ms=400" "$sbs/info" || fail "the kernel did not take the accepted dev_config"
grep -q "handler switched to configuration 'slow/r;hold_ms=400'" "$LOGDIR/lunard.log" ||
	fail "lunard did not log the accepted cfgstring change"
ms=$(read_ms)
[ "$ms" -ge 400 ] || fail "a read took $ms ms after the change to hold_ms=400"
step "cfgstring change handler_slow refuses: hold_ms=soon"
if printf 'slow/r;hold_ms=soon' >"$sbs/attrib/dev_config" 2>/dev/null; then
	fail "the kernel accepted a cfgstring handler_slow refuses"
fi
grep -q "slow/r;hold_ms=400" "$sbs/info" || fail "the kernel changed dev_config despite the refusal"
ms=$(read_ms)
[ "$ms" -ge 400 ] || fail "a read took $ms ms: the refused change did not keep hold_ms=400"
cfs_write "$sbs/attrib/dev_config" "slow/r"
dd_verify "$sdev" 1

cleanup_target
stop_daemon
pass
