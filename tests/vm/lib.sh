# shellcheck shell=bash
# Helpers for VM scenarios; sourced in the guest by tests/vm/scenario-*.sh:
#
#   . "$(dirname "$0")/lib.sh"
#
# Every helper checks what it did and calls fail with a message naming what
# went wrong.  State that must survive command substitution (the undo list
# of configfs objects, the tcm_loop WWN counter) lives in files under
# $VM_STATE; the daemon's pid lives in the scenario's shell, so start and
# stop the daemon from there, not from a $(...).  README.md lists the API.
set -euo pipefail
shopt -s inherit_errexit

if [ "${LUNAR_VM:-}" != 1 ]; then
	echo "FAIL: $(basename "$0") runs inside the VM: tests/vm/run-vm.sh $0" >&2
	exit 1
fi

CFG=/sys/kernel/config/target
VM_STATE=${VM_STATE:-/tmp/lunar-vm}
LOGDIR=$VM_STATE/logs
RESULTS=${RESULTS:-$VM_STATE/results}
TCMU_RUNNER=${TCMU_RUNNER:-/usr/bin/tcmu-runner}
DAEMON_START_TIMEOUT=${DAEMON_START_TIMEOUT:-30}
DAEMON_STOP_TIMEOUT=${DAEMON_STOP_TIMEOUT:-30}
DEVICE_TIMEOUT=${DEVICE_TIMEOUT:-20}
ISCSI_IQN=${ISCSI_IQN:-iqn.2003-01.org.linux-iscsi.lunar-vm:target}
DAEMON_NAME="" DAEMON_PID="" DAEMON_STATUS=""
REPLY_LINE='tcmu daemon: command reply support'

mkdir -p "$LOGDIR" "$RESULTS"
: >"$VM_STATE/undo"
_LIB_T0=${EPOCHREALTIME/./}

# ---- basics ---------------------------------------------------------------

# fail MSG: print MSG and end the scenario (status 1).  The exit trap adds
# the daemon's log and the kernel's messages, then MSG again: a caller
# that shows only the output's tail still shows why.
_LIB_FAILURE=""
fail() {
	_LIB_FAILURE=$*
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip MSG: end the scenario as skipped (ctest SKIP, status 77).
skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

# require CMD...: skip unless every CMD is installed.
require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed on the host"
	done
}

_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

elapsed() {
	local t=${EPOCHREALTIME/./}
	local ms=$(((t - _LIB_T0) / 1000))
	printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# step MSG: a progress line with the time since lib.sh was sourced.
step() { printf '== [%6s s] %s\n' "$(elapsed)" "$*"; }

# pass: the scenario's last line.
pass() { printf 'PASS: %s (%s s)\n' "$(basename "$0")" "$(elapsed)"; }

# wait_for CMD TIMEOUT: poll CMD (a shell command string, run with eval;
# its stdout is discarded, its stderr is not) every 0.1 s until it
# succeeds; returns 1 with a message after TIMEOUT seconds.  CMD may call
# fail to give up early.
wait_for() {
	local cmd=${1:?wait_for: no command} timeout=${2:?wait_for: no timeout}
	[[ $timeout =~ ^[0-9]+$ ]] || fail "wait_for: timeout must be whole seconds, got '$timeout'"
	local deadline=$(($(_now_ms) + timeout * 1000))
	until eval "$cmd" >/dev/null; do
		if [ "$(_now_ms)" -ge "$deadline" ]; then
			printf 'wait_for: timed out after %s s waiting for: %s\n' "$timeout" "$cmd" >&2
			return 1
		fi
		sleep 0.1
	done
}

# to_bytes SIZE: SIZE in bytes; SIZE is a number with an optional K, M or G.
to_bytes() {
	[[ ${1:-} =~ ^([0-9]+)([KMG]?)$ ]] || fail "bad size '${1:-}' (bytes, or a number followed by K, M or G)"
	local n=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	K) n=$((n << 10)) ;;
	M) n=$((n << 20)) ;;
	G) n=$((n << 30)) ;;
	esac
	echo "$n"
}

# ---- daemons --------------------------------------------------------------

_reply_lines() { dmesg | grep -c "$REPLY_LINE" || true; }

# daemon_alive: the daemon started by start_daemon runs (not a zombie).
daemon_alive() {
	[ -n "$DAEMON_PID" ] && [ -r "/proc/$DAEMON_PID/stat" ] || return 1
	local stat
	stat=$(cat "/proc/$DAEMON_PID/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# _netlink_subscribed PID: PID holds a generic netlink socket that joined a
# multicast group (TCMU's "config" group is the only one a daemon joins).
_netlink_subscribed() {
	local inodes
	inodes=$(find "/proc/$1/fd" -type l -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		tr -dc '0-9\n')
	[ -n "$inodes" ] || return 1
	awk -v inodes="$inodes" '
		BEGIN { n = split(inodes, a, "\n"); for (i = 1; i <= n; i++) mine[a[i]] = 1 }
		NR > 1 && $2 == 16 && $4 != "00000000" && ($NF in mine) { found = 1 }
		END { exit !found }' /proc/net/netlink
}

# _daemon_registered SEEN: the daemon is on netlink: the kernel logged a
# new "command reply support" line (the daemon's SET_FEATURES), or it
# subscribed to TCMU's multicast group.  Fails at once if it died.
_daemon_registered() {
	if ! daemon_alive; then
		_reap
		fail "$DAEMON_NAME ended while starting ($(_status_text "$DAEMON_STATUS"))"
	fi
	[ "$(_reply_lines)" -gt "$1" ] || _netlink_subscribed "$DAEMON_PID"
}

# start_daemon lunard|lunar-package|tcmu-runner [ARGS...]: start the
# daemon in the background (logs in $LOGDIR, copied to $RESULTS/logs at
# exit) and wait until it registered on netlink.  lunard comes from
# $LUNAR_BUILD with --handler-path $LUNAR_BUILD/handlers; lunar-package is
# /usr/bin/lunard as lunar's package installs it (a guest booted with
# run-vm.sh --root); tcmu-runner is Debian's 1.5.4.
start_daemon() {
	local name=${1:?start_daemon: which daemon (lunard or tcmu-runner)?}
	shift
	[ -z "$DAEMON_PID" ] || fail "start_daemon $name: $DAEMON_NAME (pid $DAEMON_PID) is still running"
	local -a cmd
	case $name in
	lunard)
		[ -n "${LUNAR_BUILD:-}" ] ||
			fail "start_daemon lunard: LUNAR_BUILD (lunar's build directory) is not set; pass it with LUNAR_VM_ENV=LUNAR_BUILD"
		cmd=("$LUNAR_BUILD/runner/lunard" --handler-path "$LUNAR_BUILD/handlers" -l "$LOGDIR") ;;
	lunar-package) cmd=(/usr/bin/lunard -l "$LOGDIR") ;;
	tcmu-runner) cmd=("$TCMU_RUNNER" -l "$LOGDIR") ;;
	*) fail "start_daemon: unknown daemon '$name' (lunard, lunar-package or tcmu-runner)" ;;
	esac
	[ -x "${cmd[0]}" ] || fail "start_daemon $name: ${cmd[0]} is not an executable"
	local seen
	seen=$(_reply_lines)
	"${cmd[@]}" "$@" >>"$LOGDIR/$name.out" 2>&1 </dev/null &
	DAEMON_PID=$! DAEMON_NAME=$name DAEMON_STATUS=""
	wait_for "_daemon_registered $seen" "$DAEMON_START_TIMEOUT" ||
		fail "start_daemon $name: not on netlink after $DAEMON_START_TIMEOUT s (no '$REPLY_LINE' in dmesg, no TCMU group subscription)"
	step "$name running (pid $DAEMON_PID)"
}

# _reap: collect the exited daemon's status into DAEMON_STATUS (bash's
# own "Killed" notice is silenced; _status_text says it).
_reap() {
	DAEMON_STATUS=0
	{ wait "$DAEMON_PID"; } 2>/dev/null || DAEMON_STATUS=$?
	DAEMON_PID=""
}

_status_text() {
	if [ "$1" -gt 128 ]; then
		echo "killed by signal $(($1 - 128)) ($(kill -l "$(($1 - 128))"))"
	else
		echo "exit status $1"
	fi
}

# stop_daemon: SIGTERM, wait for the daemon to exit; returns its exit
# status (also in DAEMON_STATUS), so a daemon that does not exit cleanly
# fails a set -e scenario.
stop_daemon() {
	[ -n "$DAEMON_PID" ] || fail "stop_daemon: no daemon running"
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	wait_for "! daemon_alive" "$DAEMON_STOP_TIMEOUT" ||
		fail "stop_daemon: $DAEMON_NAME (pid $DAEMON_PID) still running $DAEMON_STOP_TIMEOUT s after SIGTERM"
	_reap
	step "$DAEMON_NAME stopped ($(_status_text "$DAEMON_STATUS"))"
	return "$DAEMON_STATUS"
}

# kill_daemon: SIGKILL the daemon and reap it.
kill_daemon() {
	[ -n "$DAEMON_PID" ] || fail "kill_daemon: no daemon running"
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	_reap
	step "$DAEMON_NAME killed"
}

# freeze_daemon SECONDS: SIGSTOP the daemon (hung, not dead) and wait up
# to SECONDS for something else to end it (lunard's guardian kills a
# stopped lunard with shared LUNs); reaps it.  Fails if it is still there.
freeze_daemon() {
	[ -n "$DAEMON_PID" ] || fail "freeze_daemon: no daemon running"
	kill -STOP "$DAEMON_PID" || fail "freeze_daemon: cannot stop $DAEMON_NAME (pid $DAEMON_PID)"
	step "$DAEMON_NAME stopped (SIGSTOP)"
	if ! wait_for "! daemon_alive" "$1"; then
		kill -CONT "$DAEMON_PID" 2>/dev/null || true
		fail "freeze_daemon: $DAEMON_NAME (pid $DAEMON_PID) still there $1 s after SIGSTOP"
	fi
	_reap
	step "$DAEMON_NAME ended while stopped ($(_status_text "$DAEMON_STATUS"))"
}

# start_dbus: a system bus for the daemon's D-Bus API and targetcli (start
# it before the daemon).  The host's dbus configuration and messagebus
# user come with the host root.
start_dbus() {
	require dbus-daemon
	[ -S /run/dbus/system_bus_socket ] && return 0
	mkdir -p /run/dbus
	dbus-daemon --system --fork >/dev/null || fail "start_dbus: dbus-daemon --system failed"
	wait_for "test -S /run/dbus/system_bus_socket" "$DAEMON_START_TIMEOUT" ||
		fail "start_dbus: no /run/dbus/system_bus_socket"
}

# ---- configfs -------------------------------------------------------------

# undo_push CMD: remember a shell command that cleanup_target runs (last
# pushed, first run).
undo_push() { printf '%s\n' "$*" >>"$VM_STATE/undo"; }

_q() { printf '%q' "$1"; }

# cfs_write FILE VALUE: write VALUE (no newline) to a configfs attribute.
cfs_write() {
	printf '%s' "$2" >"$1" || fail "configfs: writing '$2' to $1 failed"
}

_cfs_mkdir() {
	mkdir -p "$1" || fail "configfs: mkdir $1 failed"
}

# _set_serial DIR: a unit serial, as targetcli sets one (LIO derives the
# NAA identifier from it; PR and ALUA metadata need it).
_set_serial() {
	cfs_write "$1/wwn/vpd_unit_serial" "$(cat /proc/sys/kernel/random/uuid)"
}

# _new_backstore HBA NAME: create core/HBA/NAME (undo: remove both; the
# HBA only when empty).
_new_backstore() {
	local hba=$CFG/core/$1 dir=$CFG/core/$1/$2
	[ ! -e "$dir" ] || fail "backstore $dir already exists"
	undo_push "rmdir $(_q "$hba") 2>/dev/null || true"
	_cfs_mkdir "$dir"
	undo_push "rmdir $(_q "$dir")"
}

# make_user_backstore NAME SIZE CFGSTRING [CONTROL...]: a TCMU (user)
# backstore served by the running daemon, with extra control options such as
# hw_max_sectors=N; prints its configfs path.
make_user_backstore() {
	local name=${1:?make_user_backstore: no NAME} cfg=${3:?make_user_backstore: no CFGSTRING}
	local size dir=$CFG/core/user_1/$1 opt
	size=$(to_bytes "${2:?make_user_backstore: no SIZE}")
	# The daemon loads target_core_user (as tcmu-runner does): not done here.
	[ -d /sys/module/target_core_user ] ||
		fail "make_user_backstore: target_core_user is not loaded (the daemon loads it at start-up)"
	_new_backstore user_1 "$name"
	cfs_write "$dir/control" "dev_size=$size"
	cfs_write "$dir/control" "dev_config=$cfg"
	for opt in "${@:4}"; do
		cfs_write "$dir/control" "$opt"
	done
	printf 1 >"$dir/enable" ||
		fail "enabling user backstore $name ($cfg) failed: is the daemon running, does it have the handler?"
	_set_serial "$dir"
	echo "$dir"
}

# make_kernel_backstore fileio|rd_mcp NAME SIZE [FILE]: a kernel backstore
# (fileio on FILE, default /tmp/NAME.img, created sparse); prints its path.
make_kernel_backstore() {
	local type=${1:?make_kernel_backstore: no type (fileio or rd_mcp)}
	local name=${2:?make_kernel_backstore: no NAME} size hba ctrl
	size=$(to_bytes "${3:?make_kernel_backstore: no SIZE}")
	case $type in
	fileio)
		local file=${4:-/tmp/$name.img}
		truncate -s "$size" "$file" || fail "cannot create $file"
		hba=fileio_0 ctrl="fd_dev_name=$file,fd_dev_size=$size" ;;
	rd_mcp)
		[ $((size % 4096)) -eq 0 ] || fail "rd_mcp size must be a multiple of 4096, got $size"
		hba=rd_mcp_0 ctrl="rd_pages=$((size / 4096))" ;;
	*) fail "make_kernel_backstore: unknown type '$type' (fileio or rd_mcp)" ;;
	esac
	local dir=$CFG/core/$hba/$name
	modprobe target_core_mod || fail "modprobe target_core_mod failed"
	[ "$type" != fileio ] || modprobe target_core_file || fail "modprobe target_core_file failed"
	_new_backstore "$hba" "$name"
	cfs_write "$dir/control" "$ctrl"
	printf 1 >"$dir/enable" || fail "enabling $type backstore $name ($ctrl) failed"
	_set_serial "$dir"
	echo "$dir"
}

_next_seq() {
	local f=$VM_STATE/seq n=0
	[ -f "$f" ] && n=$(cat "$f")
	n=$((n + 1))
	echo "$n" >"$f"
	echo "$n"
}

# _block_of H:C:T:L: the sdX of a SCSI device, once sd has attached it.
_block_of() {
	local b
	for b in "/sys/bus/scsi/devices/$1/block/"*; do
		[ -e "$b" ] && { basename "$b"; return 0; }
	done
	return 1
}

# loop_attach BACKSTORE_PATH: a new tcm_loop target (its own SCSI host)
# with BACKSTORE_PATH as LUN 0; waits for and prints the /dev/sdX.
loop_attach() {
	local bs=${1:?loop_attach: no backstore path} n wwn tpg addr blk
	[ -d "$bs" ] || fail "loop_attach: no backstore $bs"
	[ "$(cat "$bs/enable")" = 1 ] || fail "loop_attach: backstore $bs is not enabled"
	modprobe tcm_loop || fail "modprobe tcm_loop failed"
	n=$(_next_seq)
	wwn=$(printf 'naa.50014050%08x' "$n")
	tpg=$CFG/loopback/$wwn/tpgt_1
	undo_push "rmdir $(_q "$CFG/loopback/$wwn")"
	_cfs_mkdir "$tpg"
	undo_push "rmdir $(_q "$tpg")"
	# The I_T nexus must exist before the LUN, or no SCSI device appears.
	cfs_write "$tpg/nexus" "$(printf 'naa.5001405f%08x' "$n")"
	_cfs_mkdir "$tpg/lun/lun_0"
	undo_push "rmdir $(_q "$tpg/lun/lun_0")"
	ln -s "$bs" "$tpg/lun/lun_0/port" || fail "loop_attach: linking $bs into $tpg/lun/lun_0 failed"
	undo_push "rm $(_q "$tpg/lun/lun_0/port")"
	addr=$(cat "$tpg/address") || fail "loop_attach: no $tpg/address"
	wait_for "_block_of $addr:0" "$DEVICE_TIMEOUT" ||
		fail "loop_attach: no block device for SCSI $addr:0 ($bs) after $DEVICE_TIMEOUT s"
	blk=$(_block_of "$addr:0")
	wait_for "test -b /dev/$blk" "$DEVICE_TIMEOUT" || fail "loop_attach: /dev/$blk did not appear"
	echo "/dev/$blk"
}

_listening() {
	local port
	port=$(printf '%04X' "$2")
	awk -v a="$1:$port" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

# iscsi_target_setup BACKSTORE_PATH...: LIO iSCSI target $ISCSI_IQN on
# 127.0.0.1:3260, demo-mode ACLs (any initiator, no authentication), the
# backstores as LUN 0, 1, ...; waits for the portal and prints the IQN
# (URL: iscsi://127.0.0.1/$ISCSI_IQN/<lun>).
iscsi_target_setup() {
	[ $# -ge 1 ] || fail "iscsi_target_setup: no backstore given"
	local tpg=$CFG/iscsi/$ISCSI_IQN/tpgt_1 i=0 bs a
	modprobe iscsi_target_mod || fail "modprobe iscsi_target_mod failed"
	modprobe crc32c_generic || fail "modprobe crc32c_generic failed"
	[ ! -e "$CFG/iscsi/$ISCSI_IQN" ] || fail "iscsi_target_setup: $ISCSI_IQN already exists"
	undo_push "rmdir $(_q "$CFG/iscsi/$ISCSI_IQN")"
	_cfs_mkdir "$tpg"
	undo_push "rmdir $(_q "$tpg")"
	_cfs_mkdir "$tpg/np/127.0.0.1:3260"
	undo_push "rmdir $(_q "$tpg/np/127.0.0.1:3260")"
	for bs in "$@"; do
		[ -d "$bs" ] || fail "iscsi_target_setup: no backstore $bs"
		_cfs_mkdir "$tpg/lun/lun_$i"
		undo_push "rmdir $(_q "$tpg/lun/lun_$i")"
		ln -s "$bs" "$tpg/lun/lun_$i/port" || fail "iscsi_target_setup: linking $bs as LUN $i failed"
		undo_push "rm $(_q "$tpg/lun/lun_$i/port")"
		i=$((i + 1))
	done
	for a in authentication=0 generate_node_acls=1 demo_mode_write_protect=0 cache_dynamic_acls=1; do
		cfs_write "$tpg/attrib/${a%%=*}" "${a#*=}"
	done
	cfs_write "$tpg/enable" 1
	undo_push "printf 0 >$(_q "$tpg/enable")"
	wait_for "_listening 0100007F 3260" "$DEVICE_TIMEOUT" ||
		fail "iscsi_target_setup: nothing listens on 127.0.0.1:3260"
	echo "$ISCSI_IQN"
}

# cleanup_target: undo every configfs object the helpers made, newest
# first (LUN links, LUNs, TPGs, targets, backstores).  Run it while the
# daemon still runs: removing a user backstore waits for the daemon.
cleanup_target() {
	local line errors=0
	[ -s "$VM_STATE/undo" ] || return 0
	while IFS= read -r line; do
		eval "$line" || {
			printf 'cleanup_target: "%s" failed\n' "$line" >&2
			errors=$((errors + 1))
		}
	done < <(tac "$VM_STATE/undo")
	: >"$VM_STATE/undo"
	[ "$errors" -eq 0 ] || fail "cleanup_target: $errors step(s) failed"
	step "target configuration removed"
}

# ---- checks ---------------------------------------------------------------

# check_identity DEV BACKSTORE_PATH [PRODUCT]: standard INQUIRY names
# LIO-ORG and PRODUCT (default "TCMU device"), VPD 0x80 the backstore's unit
# serial, VPD 0x83 the NAA 6 identifier LIO derives from that serial (what
# multipath takes as the wwid).
check_identity() {
	local dev=${1:?check_identity: no device} bs=${2:?check_identity: no backstore}
	local product=${3:-TCMU device} serial naa out
	serial=$(sed -n 's/^T10 VPD Unit Serial Number: //p' "$bs/wwn/vpd_unit_serial")
	[ -n "$serial" ] || fail "check_identity: $bs has no unit serial"
	out=$(sg_inq "$dev") || fail "check_identity: sg_inq $dev failed"
	grep -q '^ *Vendor identification: LIO-ORG' <<<"$out" ||
		fail "check_identity: $dev vendor is not LIO-ORG: $(grep 'Vendor identification' <<<"$out")"
	grep -q "^ *Product identification: $product" <<<"$out" ||
		fail "check_identity: $dev product is not '$product': $(grep 'Product identification' <<<"$out")"
	out=$(sg_inq -p 0x80 "$dev") || fail "check_identity: sg_inq -p 0x80 $dev failed"
	grep -q "Unit serial number: $serial\$" <<<"$out" ||
		fail "check_identity: $dev VPD 0x80 lacks serial $serial: $out"
	naa=6001405$(tr -dc '0-9a-fA-F' <<<"$serial" | cut -c1-25 | tr 'A-F' 'a-f')
	out=$(sg_inq -p 0x83 "$dev") || fail "check_identity: sg_inq -p 0x83 $dev failed"
	grep -qi "\[0x$naa\]" <<<"$out" || fail "check_identity: $dev VPD 0x83 lacks NAA 0x$naa: $out"
}

# check_capacity DEV BLOCKS BLOCK_SIZE: READ CAPACITY(16) reports them.
check_capacity() {
	local dev=${1:?check_capacity: no device} blocks=${2:?} bsize=${3:?} out
	out=$(sg_readcap -l "$dev") || fail "check_capacity: sg_readcap -l $dev failed"
	grep -q "Number of logical blocks=$blocks\$" <<<"$out" &&
		grep -q "Logical block length=$bsize bytes" <<<"$out" ||
		fail "check_capacity: $dev is not $blocks blocks of $bsize bytes: $out"
}

# ext4_scratch DIR SIZE: an ext4 filesystem of SIZE mounted at DIR (on a
# loop device over a file in the guest's tmpfs), for backing files that
# need what tmpfs lacks (qcow's fallocate modes, a disk-like page cache).
ext4_scratch() {
	local dir=${1:?ext4_scratch: no DIR} size file
	size=$(to_bytes "${2:?ext4_scratch: no SIZE}")
	file=/tmp/scratch-$(_next_seq).ext4
	modprobe loop && modprobe ext4 || fail "ext4_scratch: modprobe loop/ext4 failed"
	truncate -s "$size" "$file" || fail "ext4_scratch: cannot create $file"
	mkfs.ext4 -q -F "$file" || fail "ext4_scratch: mkfs.ext4 $file failed"
	mkdir -p "$dir"
	mount -o loop "$file" "$dir" || fail "ext4_scratch: mounting $file on $dir failed"
}

# ---- Ceph -----------------------------------------------------------------

# ceph_client_setup CEPH_DIR: reach the cluster tests/ceph/cluster.sh runs
# on the host (CEPH_DIR/ceph.conf, passed in LUNAR_VM_ENV) from this guest,
# whose first NIC is QEMU's user network (run-vm.sh --nic user): the
# guest's 127.0.0.1:<Ceph ports> are NATed to the host (slirp's
# 10.0.2.2).  Writes /run/ceph/ceph.conf, with client logs (librados and
# librbd errors) under $LOGDIR, so in the results.
ceph_client_setup() {
	local dir=${1:?ceph_client_setup: no CEPH_DIR} m mon
	[ -f "$dir/ceph.conf" ] || fail "ceph_client_setup: no $dir/ceph.conf (start the cluster on the host)"
	for m in virtio_net nf_tables nft_compat nft_chain_nat nf_nat xt_nat xt_multiport xt_MASQUERADE xt_tcpudp; do
		modprobe "$m" || fail "modprobe $m"
	done
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || fail "eth0"
	sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1
	iptables -t nat -A OUTPUT -d 127.0.0.1/32 -p tcp -m multiport \
		--dports 3300:3399,6800:7300 -j DNAT --to-destination 10.0.2.2 ||
		fail "iptables DNAT"
	iptables -t nat -A POSTROUTING -o eth0 -s 127.0.0.0/8 -j MASQUERADE ||
		fail "iptables MASQUERADE"
	mkdir -p /run/ceph
	{ cat "$dir/ceph.conf"; printf '[client]\nadmin socket = /run/ceph/$name.$pid.asok\nlog file = %s/ceph-$name.$pid.log\n' "$LOGDIR"; } \
		>/run/ceph/ceph.conf
	mon=$(grep -o '127\.0\.0\.1:[0-9]*' /run/ceph/ceph.conf | head -n 1)
	[ -n "$mon" ] || fail "no monitor address in $dir/ceph.conf"
	wait_for "timeout 3 bash -c '</dev/tcp/${mon%:*}/${mon#*:}' 2>/dev/null" 60 ||
		fail "the host's Ceph monitor $mon is not reachable from the guest"
	step "network up, Ceph reachable"
}

# ---- I/O checks -----------------------------------------------------------

# dd_verify DEV [MIB] [BACKING_FILE]: write MIB (default 4) MiB of random
# data to DEV with O_DIRECT (and fsync), read it back, compare; with
# BACKING_FILE, also check the data landed at its start.
dd_verify() {
	local dev=${1:?dd_verify: no device} mib=${2:-4} backing=${3:-}
	local pat=$VM_STATE/pattern back=$VM_STATE/readback
	head -c $((mib << 20)) /dev/urandom >"$pat"
	dd if="$pat" of="$dev" bs=1M oflag=direct conv=fsync status=none ||
		fail "dd_verify: writing $mib MiB to $dev failed"
	dd if="$dev" of="$back" bs=1M count="$mib" iflag=direct status=none ||
		fail "dd_verify: reading $mib MiB from $dev failed"
	cmp -s "$pat" "$back" || fail "dd_verify: data read back from $dev differs from what was written"
	if [ -n "$backing" ]; then
		cmp -s -n $((mib << 20)) "$pat" "$backing" ||
			fail "dd_verify: $backing does not hold the data written to $dev"
	fi
	rm -f "$pat" "$back"
}

# fio_verify DEV [SIZE] [ARGS...]: fio random 4 KiB writes at queue depth
# 16 over SIZE (default 32M) of DEV, then reads everything back checking
# crc32c; output in $RESULTS/fio-verify-<dev>.txt.
fio_verify() {
	local dev=${1:?fio_verify: no device} size=${2:-32M}
	shift $(($# < 2 ? $# : 2))
	local out
	out=$RESULTS/fio-verify-$(basename "$dev").txt
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --size="$size" \
		--verify=crc32c --do_verify=1 --verify_fatal=1 "$@" \
		--output="$out" || {
		tail -n 20 "$out" >&2 || true
		fail "fio_verify on $dev failed (see $(basename "$out"))"
	}
	grep -q 'err= 0' "$out" || fail "fio_verify on $dev reported errors (see $(basename "$out"))"
}

# check_lun DEV BACKSTORE_PATH BYTES [BACKING_FILE]: the checks every
# served LUN must pass: identity, capacity in 512-byte blocks, data written
# and read back (landing in BACKING_FILE if given), fio with verification.
check_lun() {
	local dev=${1:?check_lun: no device} bs=${2:?check_lun: no backstore}
	local bytes=${3:?check_lun: no size} backing=${4:-}
	step "sg_inq / sg_readcap"
	check_identity "$dev" "$bs"
	check_capacity "$dev" $((bytes / 512)) 512
	step "dd write/read verify"
	dd_verify "$dev" 4 "$backing"
	step "fio randwrite + crc32c verify"
	fio_verify "$dev" 32M
}

# ---- exit -----------------------------------------------------------------

_diagnostics() {
	local f
	if [ -n "$DAEMON_NAME" ]; then
		for f in "$LOGDIR/$DAEMON_NAME.log" "$LOGDIR/$DAEMON_NAME.out"; do
			[ -s "$f" ] || continue
			printf -- '---- %s (last 30 lines)\n' "$f"
			tail -n 30 "$f"
		done
	fi
	printf -- '---- dmesg (last 20 lines)\n'
	dmesg | tail -n 20
	[ -z "$_LIB_FAILURE" ] || printf 'FAIL (repeated): %s\n' "$_LIB_FAILURE"
}

# On exit: diagnostics when failing, no daemon left behind, logs and the
# kernel's messages into $RESULTS.
_lib_on_exit() {
	local rc=$?
	set +e
	[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || _diagnostics >&2
	# Tear the target down while the daemon can still answer, so the
	# guest's poweroff does not wait on commands nobody serves.
	if daemon_alive && [ -s "$VM_STATE/undo" ]; then
		tac "$VM_STATE/undo" | timeout 30 bash >/dev/null 2>&1
	fi
	if [ -n "$DAEMON_PID" ]; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		_reap
	fi
	mkdir -p "$RESULTS/logs"
	cp -a "$LOGDIR/." "$RESULTS/logs/" 2>/dev/null
	dmesg >"$RESULTS/dmesg.txt" 2>&1
	exit "$rc"
}
trap _lib_on_exit EXIT
