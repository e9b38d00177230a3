#!/bin/bash
# Serve a demo file LUN with lunard through this kernel's LIO (TCMU user
# backstore + tcm_loop initiator) and show what the initiator sees: lsblk,
# sg_inq, sg_readcap and a short fio run.  Everything it creates (configfs
# objects, the daemon) is removed on exit; the backing file is kept.
#
# usage: demo-lun.sh [BUILD_DIR]   (root; the kernel needs target_core_user
#                                  and tcm_loop; run by deploy/demo.sh, and
#                                  by the VM tier with $LUNAR_BUILD)
set -euo pipefail
build=${1:-${LUNAR_BUILD:?usage: $0 BUILD_DIR}}
img=${LUNAR_DEMO_IMG:-/var/tmp/lunar-demo.img}
cfg=/sys/kernel/config/target
hba=$cfg/core/user_4242
bs=$hba/lunar_demo
wwn=naa.5001405deadbeef1
tpg=$cfg/loopback/$wwn/tpgt_1
work=$(mktemp -d /tmp/lunar-demo.XXXXXX)
lunard=

say() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# Undo in reverse order of creation; every step may not have happened.
cleanup() {
	set +e
	rm -f "$tpg/lun/lun_0/port" 2>/dev/null
	rmdir "$tpg/lun/lun_0" "$tpg" "$cfg/loopback/$wwn" 2>/dev/null
	rmdir "$bs" "$hba" 2>/dev/null
	if [ -n "$lunard" ]; then
		kill -TERM "$lunard" 2>/dev/null
		wait "$lunard" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

wait_until() {	# wait_until SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

start_lunard() {
	say "starting lunard ($build/runner/lunard)"
	"$build/runner/lunard" --handler-path "$build/handlers" -l "$work" \
		2>"$work/lunard.stderr" &
	lunard=$!
	wait_until 30 grep -q "lunard .* ready" "$work/lunard.log" || {
		cat "$work/lunard.stderr" >&2
		die "lunard did not start"
	}
}

make_backstore() {
	say "user backstore file/$img (256 MiB) in configfs"
	mkdir -p "$bs"
	printf 'dev_size=%d' $((256 << 20)) >"$bs/control"
	printf 'dev_config=file/%s' "$img" >"$bs/control"
	printf 1 >"$bs/enable" || {
		cat "$work/lunard.log" >&2
		die "enabling the backstore failed"
	}
	printf '%s' "$(cat /proc/sys/kernel/random/uuid)" >"$bs/wwn/vpd_unit_serial"
}

# tcm_loop: a local SCSI host whose LUN 0 is the backstore; prints /dev/sdX.
attach() {
	modprobe tcm_loop || die "this kernel has no tcm_loop"
	mkdir -p "$tpg/lun/lun_0"
	printf 'naa.5001405feedbee1' >"$tpg/nexus"
	ln -s "$bs" "$tpg/lun/lun_0/port"
	local addr
	addr=$(cat "$tpg/address")
	wait_until 20 compgen -G "/sys/bus/scsi/devices/$addr:0/block/*" ||
		die "no block device appeared for the LUN"
	local blk
	blk=$(basename /sys/bus/scsi/devices/"$addr":0/block/*)
	wait_until 10 test -b "/dev/$blk"
	echo "/dev/$blk"
}

show() {
	local dev=$1
	say "lsblk $dev"
	lsblk -o NAME,SIZE,TYPE,VENDOR,MODEL "$dev"
	say "sg_inq $dev"
	sg_inq "$dev" | sed -n '/Vendor identification/,/Product revision/p'
	sg_inq -p 0x83 "$dev" | grep -i -A2 "designator.type: NAA" || true
	say "sg_readcap $dev"
	sg_readcap -l "$dev" | sed -n '/logical blocks/,/Logical block length/p'
	say "fio: 4 KiB random writes with crc32c verification, then random reads (QD16, 3 s each)"
	fio --name=write --filename="$dev" --direct=1 --ioengine=libaio --bs=4k \
		--iodepth=16 --rw=randwrite --size=64M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse --terse-version=3 |
		awk -F';' '{ printf "randwrite: %d IOPS, verify passed, %d errors\n", $49, $5 }'
	fio --name=read --filename="$dev" --direct=1 --ioengine=libaio --bs=4k \
		--iodepth=16 --rw=randread --time_based --runtime=3 --output-format=terse \
		--terse-version=3 | awk -F';' '{ printf "randread:  %d IOPS, %d errors\n", $8, $5 }'
}

modprobe -q configfs 2>/dev/null || true
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
start_lunard
make_backstore
dev=$(attach)
show "$dev"
say "lunard's log"
sed 's/^/   /' "$work/lunard.log"
