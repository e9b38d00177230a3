#!/bin/bash
# Netlink RECONFIG_DEVICE through the real kernel: a size change (attrib/
# dev_size) grows the backing file and reaches the initiator as CAPACITY
# DATA HAS CHANGED, and after a rescan as the new capacity; a write cache
# change (attrib/emulate_write_cache) reaches it as MODE PARAMETERS
# CHANGED and a write-through cache; a cfgstring change the file handler
# cannot follow is refused (the kernel keeps the old one) and the LUN keeps
# serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require sg_readcap blockdev

img=/tmp/z.img
start_daemon lunard
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

cleanup_target
stop_daemon
pass
