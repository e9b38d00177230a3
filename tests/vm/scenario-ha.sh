#!/bin/bash
# One side of the two-gateway drill (tests/vm/ha-drill.sh starts both).
#
#   scenario-ha.sh gateway    gateway B: its own kernel and lunard
#   scenario-ha.sh standby    gateway C (HA_GATEWAYS=3): the same, never
#                             the owner before the failure
#   scenario-ha.sh initiator  gateway A, and the initiator: open-iscsi,
#                             multipathd with scsi_dh_alua, fio with verify
#                             (B's paths active, A's and C's standby)
#
# Both export HA_LUNS RBD images of the host's Ceph (reached over QEMU
# user networking, the guest's 127.0.0.1 Ceph traffic NATed to the host):
# rbd/$HA_IMAGE as LUN 0, rbd/$HA_IMAGE<k> as LUN k, all of one IQN, the
# way ceph-iscsi lays it out: target port
# groups tpgt_N (gateway N at 192.168.77.N: A 1, B 2, C 3) exist in every
# kernel, each kernel enables only its own, and ALUA group gw<N> (id N,
# "Implicit and Explicit") holds tpgt_N.  The guests talk over socket
# netdevs (A's eth1 to B, eth2 to C; B's and C's eth1) and meet in
# /xshare.
#
# Environment: LUNAR_BUILD, HA_CEPH (host directory with ceph.conf),
# HA_IMAGE, HA_SERIAL, HA_FAIL (poweroff | kill | freeze | partition |
# planned),
# HA_BUDGET, HA_GATEWAYS (2 or 3, default 2), HA_LUNS (default 1; with more, the first HA_HEAVY_LUNS (4)
# get fio at queue depth 8, the rest a lighter verified writer: queue
# depth 1, 20 writes a second).
# The initiator writes $RESULTS/ha.txt: the largest gap between one LUN's
# completions (pause_ms: the worst LUN's; pause_p50_ms and pause_p99_ms
# over the LUNs; pauses_ms every LUN's), fio_status, the lock
# acquisitions by gateway A before and after the failure, and the group
# that owns every LUN at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multipath-lib.sh"
set -euo pipefail

ROLE=${1:?usage: scenario-ha.sh gateway|initiator}
X=/xshare
IQN=iqn.2003-01.org.linux-iscsi.lunar-vm:ha
SIZE=64M
FIO_RUNTIME=${HA_FIO_RUNTIME:-30}
FAIL_AT=${HA_FAIL_AT:-10}
LUNS=${HA_LUNS:-1}
GATEWAYS=${HA_GATEWAYS:-2}
HEAVY_LUNS=${HA_HEAVY_LUNS:-4}
# Under TCG the kernel scans a new iSCSI LUN in ~2 s, one at a time.
SETUP_WAIT=$((60 + 5 * LUNS))
case $ROLE in
initiator) ME=1 ;;
gateway) ME=2 ;;
standby) ME=3 ;;
*) fail "role must be gateway, standby or initiator, not $ROLE" ;;
esac
[ "$ME" -le "$GATEWAYS" ] || fail "role $ROLE needs HA_GATEWAYS=3"
[ -d "$X" ] || fail "no /xshare: run through ha-drill.sh"

# The host's Ceph (lib.sh) and the link to the other guest (eth1); with
# three gateways gateway A has a second link (eth2, to C), the same
# address and a host route to C over it (B and C need not meet).
net_setup() {
	ceph_client_setup "$HA_CEPH"
	ip link set eth1 up && ip addr add "192.168.77.$ME/24" dev eth1 || fail "eth1"
	if [ "$ME" = 1 ] && [ "$GATEWAYS" = 3 ]; then
		ip link set eth2 up && ip addr add 192.168.77.1/32 dev eth2 &&
			ip route add 192.168.77.3/32 dev eth2 || fail "eth2 (the link to gateway C)"
	fi
}

# cut_from_ceph: drop every packet between this guest and the host's Ceph
# (10.0.2.2 after the DNAT); the link to the other guest stays up.
cut_from_ceph() {
	iptables -I OUTPUT -d 10.0.2.2/32 -j DROP &&
		iptables -I INPUT -s 10.0.2.2/32 -j DROP || fail "iptables: cutting Ceph off"
	step "cut from Ceph (10.0.2.2 dropped both ways)"
}

# reconnect_to_ceph: undo cut_from_ceph, so the fenced lunard can stop.
reconnect_to_ceph() {
	iptables -D OUTPUT -d 10.0.2.2/32 -j DROP &&
		iptables -D INPUT -s 10.0.2.2/32 -j DROP || fail "iptables: reconnecting Ceph"
	step "Ceph reachable again"
}

# image_of K, serial_of K: LUN K's image and unit serial (the same on
# both gateways: multipath joins the paths by it).  The serial differs in
# its first digits: the NAA designator keeps only the first 25 hex digits.
image_of() { if [ "$1" = 0 ]; then echo "$HA_IMAGE"; else echo "$HA_IMAGE$1"; fi; }
serial_of() { printf '%04x%s\n' "$1" "${HA_SERIAL:4}"; }

# backstore_setup K: LUN K's rbd backstore r<K>, with its ALUA groups.
backstore_setup() {
	local bs=$CFG/core/user_1/r$1 n
	mkdir -p "$bs" || fail "mkdir $bs"
	cfs_write "$bs/control" "dev_size=$(to_bytes $SIZE)"
	cfs_write "$bs/control" "dev_config=rbd/rbd/$(image_of "$1");conf=/run/ceph/ceph.conf"
	printf 1 >"$bs/enable" || fail "enabling the rbd backstore r$1 failed"
	cfs_write "$bs/wwn/vpd_unit_serial" "$(serial_of "$1")"
	grep -q '^12$' "$bs/attrib/cmd_time_out" ||
		fail "lunard did not set the budget's cmd_time_out (12 s) on r$1: $(cat "$bs/attrib/cmd_time_out")"
	for n in $(seq 1 "$GATEWAYS"); do
		mkdir "$bs/alua/gw$n" || fail "mkdir r$1/alua/gw$n"
		cfs_write "$bs/alua/gw$n/tg_pt_gp_id" $n
		cfs_write "$bs/alua/gw$n/alua_access_type" 3
		# Standby, as ceph-iscsi creates them under explicit ALUA: the
		# kernel refuses I/O through a Standby port before lunard sees
		# it, so lunard must make its group Active/Optimized to serve.
		cfs_write "$bs/alua/gw$n/alua_access_state" 2
	done
}

gateway_setup() {
	printf 'failover_budget = %s\n' "${HA_BUDGET:-10}" >/run/tcmu.conf
	start_daemon lunard --config /run/tcmu.conf
	local k n tpg pids=()
	# Eight at a time: lunard opens them on its worker pool, and each
	# open waits mostly on Ceph's round trips.
	for k in $(seq 0 $((LUNS - 1))); do
		backstore_setup "$k" &
		pids+=($!)
		[ "${#pids[@]}" -lt 8 ] && [ "$k" -lt $((LUNS - 1)) ] && continue
		for n in "${pids[@]}"; do wait "$n" || fail "a backstore could not be set up (above)"; done
		pids=()
	done
	modprobe iscsi_target_mod && modprobe crc32c_generic || fail "modprobe iscsi_target_mod"
	for n in $(seq 1 "$GATEWAYS"); do
		tpg=$CFG/iscsi/$IQN/tpgt_$n
		for k in $(seq 0 $((LUNS - 1))); do
			mkdir -p "$tpg/lun/lun_$k" || fail "mkdir $tpg/lun/lun_$k"
			ln -s "$CFG/core/user_1/r$k" "$tpg/lun/lun_$k/port" || fail "link LUN $k in tpgt_$n"
			cfs_write "$tpg/lun/lun_$k/alua_tg_pt_gp" "gw$n"
		done
		for a in authentication=0 generate_node_acls=1 demo_mode_write_protect=0 cache_dynamic_acls=1; do
			cfs_write "$tpg/attrib/${a%%=*}" "${a#*=}"
		done
	done
	tpg=$CFG/iscsi/$IQN/tpgt_$ME
	mkdir "$tpg/np/192.168.77.$ME:3260" || fail "portal 192.168.77.$ME:3260"
	cfs_write "$tpg/enable" 1
	step "gateway $ME exports $LUNS RBD image(s) from rbd/$HA_IMAGE on 192.168.77.$ME:3260"
}

# ---- gateway B --------------------------------------------------------

gateway_main() {
	net_setup
	gateway_setup
	touch $X/b.ready
	wait_for "[ -e $X/fail ] || [ -e $X/a.done ]" "$((600 + 10 * LUNS))" || fail "no word from the initiator"
	if [ -e $X/fail ]; then
		case $HA_FAIL in
		poweroff) step "powering off hard"; sync; echo o >/proc/sysrq-trigger ;;
		# Restarted 100 ms later, as systemd's Restart=on-failure does
		# (deploy/systemd/lunard.service); by then the guardian has
		# failed the dead lunard's commands and the initiator moves.
		kill) kill_daemon
			sleep 0.1
			start_daemon lunard --config /run/tcmu.conf ;;
		# Hung, not dead: its guardian hears no beat, kills it and
		# fails its commands (guardian.h); systemd then restarts it.
		# A SIGCONT would find nothing left to resume: nothing the
		# stopped process had queued can land.
		freeze) freeze_daemon 30
			sleep 0.1
			start_daemon lunard --config /run/tcmu.conf ;;
		# Cut from Ceph, still reached by the initiator: its Ceph
		# traffic (NATed to the host, ceph_client_setup) dropped both
		# ways until the run ends.
		partition) cut_from_ceph ;;
		planned) ;;
		esac
	fi
	wait_for "[ -e $X/a.done ]" "$((600 + 10 * LUNS))" || fail "the initiator did not finish"
	[ "$HA_FAIL" != partition ] || reconnect_to_ceph
	cp "$LOGDIR/lunard.log" "$X/b-lunard.log" 2>/dev/null || true
	pass
}

# ---- gateway C --------------------------------------------------------

# A standby that stays one: the initiator activates A's or C's paths after
# B fails, and the lock must go to that gateway alone.
standby_main() {
	net_setup
	gateway_setup
	touch $X/c.ready
	wait_for "[ -e $X/a.done ]" "$((600 + 10 * LUNS))" || fail "the initiator did not finish"
	cp "$LOGDIR/lunard.log" "$X/c-lunard.log" 2>/dev/null || true
	pass
}

# ---- gateway A + initiator -------------------------------------------

initiator_setup() {
	[ "$GATEWAYS" = 2 ] || MULTIPATH_GROUPING=failover
	multipath_start
	# Gateway B's portal first: multipath activates its group (STPG), so
	# B owns every image when A's paths join as Standby — the drill hurts B.
	login 2
	wait_for "[ \$(maps | wc -l) -eq $LUNS ]" "$SETUP_WAIT" ||
		fail "$(maps | wc -l) of $LUNS multipath devices appeared"
	wait_for "each_map group_is_optimized 2" "$SETUP_WAIT" ||
		fail "gateway B's group did not become active/optimized on every LUN"
	login 1
	[ "$GATEWAYS" = 2 ] || login 3
	# Gateway A's (and C's) paths answer TUR Standby (its kernel's
	# state, see backstore_setup) until it first serves: ghost paths.
	wait_for "[ \$(multipath -ll 2>/dev/null | grep -cE 'active (ready|ghost)') -eq $((GATEWAYS * LUNS)) ]" "$SETUP_WAIT" ||
		fail "the second paths did not join: $(multipath -ll 2>&1 | tr '\n' ' ')"
	wait_for settled "$SETUP_WAIT" || fail "the lock did not settle on gateway B"
	step "multipath: $(multipath -ll 2>/dev/null | head -n 12 | tr '\n' ' ')"
}

acquisitions() { grep -c "cluster lock acquired" "$LOGDIR/lunard.log" || true; }

# settled: gateway B's group has been active/optimized on every LUN, and
# gateway A has taken no lock, for 3 s.
settled() {
	local n
	n=$(acquisitions)
	for _ in 1 2 3; do
		each_map group_is_optimized 2 || return 1
		sleep 1
	done
	[ "$(acquisitions)" = "$n" ]
}

# login N: log in to gateway N's portal.
login() {
	iscsiadm -m discovery -t sendtargets -p "192.168.77.$1:3260" >/dev/null ||
		fail "discovery on 192.168.77.$1"
	iscsiadm -m node -T "$IQN" -p "192.168.77.$1:3260" --login >/dev/null ||
		fail "login to 192.168.77.$1"
}

# owners_at_end: the owner groups of all LUNs, each once ("1"; "1 2" if
# they differ; "?" for a LUN gateway A could not say).
owners_at_end() { owner_groups | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# fio_jobs: a fio job file, one job per LUN: the first HEAVY_LUNS at
# queue depth 8, the rest a lighter writer; each logs its completions to
# /tmp/ha_clat.<job number>.log.
fio_jobs() {
	local m k=0
	fio_global "$FIO_RUNTIME"
	for m in $(maps); do
		printf '[lun%d]\nfilename=/dev/mapper/%s\n' "$k" "$m"
		if [ "$k" -lt "$HEAVY_LUNS" ]; then
			printf 'iodepth=8\nsize=48M\n'
		else
			printf 'iodepth=1\nsize=8M\nrate_iops=20\n'
		fi
		k=$((k + 1))
	done
}

# pauses_ms: every LUN's largest completion gap, ascending.
pauses_ms() {
	local k
	for k in $(seq 1 "$LUNS"); do max_gap_ms "/tmp/ha_clat.$k.log" "$FIO_RUNTIME"; done | sort -n
}

initiator_main() {
	net_setup
	gateway_setup
	wait_for "[ -e $X/b.ready ]" "$((300 + 5 * LUNS))" || fail "gateway B never got ready"
	[ "$GATEWAYS" = 2 ] || wait_for "[ -e $X/c.ready ]" "$((300 + 5 * LUNS))" ||
		fail "gateway C never got ready"
	initiator_setup
	local rc=0 fio_pid
	fio_jobs >/tmp/ha.fio
	fio --output="$RESULTS/fio.txt" /tmp/ha.fio &
	fio_pid=$!
	sleep "$FAIL_AT"
	local before
	before=$(acquisitions)
	step "failure: $HA_FAIL"
	case $HA_FAIL in
	# dm-multipath activates gateway A's path group: scsi_dh_alua sends
	# the STPG (an STPG behind its back would be undone by its next
	# activation of the group it still considers current).
	planned) for m in $(maps); do
			multipathd switchgroup map "$m" group 2 >/dev/null ||
				fail "multipathd switchgroup $m"
		done ;;
	*) touch $X/fail ;;
	esac
	wait "$fio_pid" || rc=$?
	# Read before gateway B hears the run is over: its guest then stops.
	local after owners
	after=$(acquisitions)
	owners=$(owners_at_end)
	touch $X/a.done
	cp /tmp/ha.fio /tmp/ha_clat.*.log "$RESULTS/" 2>/dev/null || true
	local pauses
	pauses_ms >/tmp/ha_pauses || fail "a LUN's completion log does not cover the run (above)"
	pauses=$(tr '\n' ' ' </tmp/ha_pauses)
	# shellcheck disable=SC2086  # the list splits into rank's arguments
	{
		echo "pause_ms $(rank 100 $pauses)"
		echo "pause_p50_ms $(rank 50 $pauses)"
		echo "pause_p99_ms $(rank 99 $pauses)"
		echo "pauses_ms $pauses"
		echo "luns $LUNS"
		echo "fio_status $rc"
		echo "setup_acquisitions $before"
		echo "takeovers $((after - before))"
		echo "owner_at_end $owners"
		{ grep -h "cluster lock acquired" "$LOGDIR/lunard.log" || true; } | sed 's/^/gateway A: /'
	} >"$RESULTS/ha.txt"
	cat "$RESULTS/ha.txt"
	multipath -ll >"$RESULTS/multipath.txt" 2>&1 || true
	[ "$rc" -eq 0 ] || fail "fio failed (status $rc; see fio.txt)"
	grep -q 'err= 0' "$RESULTS/fio.txt" || fail "fio reported errors"
	pass
}

"${ROLE}_main"
