#!/bin/sh
# /init of the VM tier's initramfs (busybox sh; build-image.sh installs it).
#
# Mounts the host's root (9p "hostroot", read-only; with run-vm.sh --root
# another root) under a tmpfs overlay at /newroot, so host binaries run
# unchanged, mounts the per-run share (9p "share") at /newroot/share,
# chroots there to run /share/run.sh (written by run-vm.sh) and powers
# off.  /share/booted tells the host the guest got that far; run.sh writes
# the scenario's status.
PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH
R=/newroot
NINEP=trans=virtio,version=9p2000.L,msize=262144

say() { echo "lunar-vm-init: $*"; }

die() {
	say "FAILED: $*"
	sync
	poweroff -f
	sleep 60 # poweroff -f does not return; never let /init exit (panic)
}

load() {
	for m in "$@"; do
		modprobe "$m" || die "modprobe $m"
	done
}

mount_base() {
	mount -t proc proc /proc || die "mount /proc"
	mount -t sysfs sysfs /sys || die "mount /sys"
	mount -t devtmpfs devtmpfs /dev || die "mount /dev"
	# target_core_mod checks db_root (/etc/target) when it loads, against
	# the loader's root, and LIO's kernel threads write PR/ALUA metadata
	# there against this root: create the directories here and load
	# target_core_mod from here (load_modules), before the chroot.
	mkdir -p /etc/target/pr /etc/target/alua /var/target/pr /var/target/alua
}

# The root's modules, SCSI disks and generic devices, target_core_mod (see
# mount_base) with crct10dif_generic first (a soft dependency of
# crc-t10dif that modprobe would not load).  The rest of the target stack
# is left to the daemon (tcmu-runner and lunard load target_core_user
# themselves) and the scenario.
load_modules() {
	load virtio_pci 9pnet_virtio 9p overlay configfs sd_mod sg
	load crct10dif_generic crc-t10dif target_core_mod
}

mount_root() {
	mkdir -p /mnt/host /mnt/upper
	mount -t 9p -o "$NINEP,cache=loose,ro" hostroot /mnt/host || die "mount 9p hostroot"
	mount -t tmpfs -o mode=755 upper /mnt/upper || die "mount tmpfs upper"
	mkdir -p /mnt/upper/u /mnt/upper/w
	mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/upper/u,workdir=/mnt/upper/w \
		overlay "$R" || die "mount overlay root"
}

mount_inside() {
	mount -t proc proc "$R/proc" || die "mount $R/proc"
	mount -t sysfs sysfs "$R/sys" || die "mount $R/sys"
	mount -t configfs configfs "$R/sys/kernel/config" || die "mount configfs"
	mount -t devtmpfs devtmpfs "$R/dev" || die "mount $R/dev"
	mkdir -p "$R/dev/pts" "$R/dev/shm"
	mount -t devpts devpts "$R/dev/pts" || die "mount devpts"
	mount -t tmpfs shm "$R/dev/shm" || die "mount /dev/shm"
	mount -t tmpfs -o mode=755 run "$R/run" || die "mount /run"
	mount -t tmpfs -o mode=1777 tmp "$R/tmp" || die "mount /tmp"
	mkdir -p "$R/share"
	mount -t 9p -o "$NINEP,cache=none" share "$R/share" || die "mount 9p share"
	# run-vm.sh --xshare: a directory several guests share (absent: none).
	mkdir -p "$R/xshare"
	mount -t 9p -o "$NINEP,cache=none" xshare "$R/xshare" 2>/dev/null || rmdir "$R/xshare"
	kver=$(uname -r)
	mkdir -p "$R/lib/modules/$kver"
	mount --bind "/lib/modules/$kver" "$R/lib/modules/$kver" || die "bind /lib/modules/$kver"
}

# Host paths under /tmp or /run that the scenario needs (its own directory,
# a build directory) are hidden by the guest's tmpfs: bind them back,
# read-only, from the host root.  run-vm.sh lists them in /share/binds.
bind_host_paths() {
	[ -f "$R/share/binds" ] || return 0
	while read -r p; do
		[ -n "$p" ] || continue
		if [ -d "/mnt/host$p" ]; then
			mkdir -p "$R$p"
		else
			mkdir -p "$R${p%/*}"
			: >"$R$p"
		fi
		mount --bind "/mnt/host$p" "$R$p" || die "bind host path $p"
	done <"$R/share/binds"
}

# run-vm.sh --root: the scenario's directory, shared as "scripts", at its
# host path.
mount_scripts() {
	[ -f "$R/share/scripts-dir" ] || return 0
	d=$(cat "$R/share/scripts-dir")
	mkdir -p "$R$d"
	mount -t 9p -o "$NINEP,cache=loose,ro" scripts "$R$d" || die "mount 9p scripts at $d"
}

# devtmpfs has no /dev/fd; the host has no kmod, so busybox provides
# modprobe & co. first in PATH.
complete_root() {
	ln -sf /proc/self/fd "$R/dev/fd"
	ln -sf /proc/self/fd/0 "$R/dev/stdin"
	ln -sf /proc/self/fd/1 "$R/dev/stdout"
	ln -sf /proc/self/fd/2 "$R/dev/stderr"
	mkdir -p "$R/usr/local/sbin"
	cp /bin/busybox "$R/usr/local/sbin/busybox"
	for a in modprobe insmod rmmod lsmod modinfo; do
		ln -sf busybox "$R/usr/local/sbin/$a"
	done
	hostname lunar-vm
	ip link set lo up || die "bring up lo"
}

mount_base
load_modules
mount_root
mount_inside
bind_host_paths
mount_scripts
complete_root
[ -x "$R/share/run.sh" ] || die "no executable /share/run.sh in the share"
say "ready ($(cut -d' ' -f1 /proc/uptime) s)"
echo booted >"$R/share/booted"
chroot "$R" /share/run.sh </dev/null
sync
poweroff -f
sleep 60
