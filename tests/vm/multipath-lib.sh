# shellcheck shell=bash
# The initiator side of the two-gateway drills (scenario-ha.sh,
# scenario-ceph-iscsi.sh), sourced after lib.sh: open-iscsi with short
# timeouts, dm-multipath grouping each LUN's paths by their ALUA state
# (scsi_dh_alua), and what the drills read off it.  Gateway N's iSCSI
# portal is 192.168.77.N and its ALUA target port group has id N.

# multipath_start: iscsi_start, then multipathd_start.
multipath_start() {
	iscsi_start
	multipathd_start
}

# iscsi_start: the modules and iscsid with the drills' timeouts (a dead
# portal noticed within ~2 s, its session replaced within 2 s more).
iscsi_start() {
	local m
	for m in iscsi_tcp dm-multipath dm-round-robin scsi_dh_alua; do
		modprobe "$m" || fail "modprobe $m"
	done
	sed -i -e 's/^node.conn\[0\].timeo.noop_out_interval = .*/node.conn[0].timeo.noop_out_interval = 1/' \
		-e 's/^node.conn\[0\].timeo.noop_out_timeout = .*/node.conn[0].timeo.noop_out_timeout = 1/' \
		-e 's/^node.session.timeo.replacement_timeout = .*/node.session.timeo.replacement_timeout = 2/' \
		/etc/iscsi/iscsid.conf
	mkdir -p /run/lock/iscsi
	iscsid || fail "iscsid"
}

# multipathd_start: udevd and multipathd (ALUA, paths grouped by
# priority, I/O queued while no path is left); devices already there are
# taken in at once.  MULTIPATH_GROUPING=failover puts each path in a group
# of its own, as Ceph's iSCSI guide configures Linux initiators: with
# more than one standby gateway, grouping by priority joins their paths,
# and dm-multipath activates every path of the group it switches to — an
# STPG through each standby, the lock moving twice.
multipathd_start() {
	export SYSTEMD_IGNORE_CHROOT=1
	/lib/systemd/systemd-udevd --daemon || fail "udevd"
	udevadm trigger --action=add && udevadm settle
	cat >/etc/multipath.conf <<-EOF
	defaults {
		user_friendly_names yes
		find_multipaths no
		polling_interval 1
		fast_io_fail_tmo 1
	}
	devices {
		device {
			vendor "LIO-ORG"
			product ".*"
			hardware_handler "1 alua"
			path_grouping_policy ${MULTIPATH_GROUPING:-group_by_prio}
			prio alua
			path_checker tur
			path_selector "round-robin 0"
			failback 60
			no_path_retry queue
		}
	}
	EOF
	multipathd -d -v2 >"$LOGDIR/multipathd.log" 2>&1 &
}

# maps: the multipath devices' names, one per LUN, sorted.
maps() { dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1 }' | sort; }

# each_map CMD: CMD MAP holds for every multipath device.
each_map() {
	local m
	for m in $(maps); do "$@" "$m" || return 1; done
}

# group_is_optimized N MAP: MAP's current path reports group N
# active/optimized.
group_is_optimized() {
	sg_rtpg -d "/dev/mapper/$2" 2>/dev/null | grep -A1 "target port group id : 0x$1" |
		grep -q 'active/optimized'
}

# path_to N MAP: MAP's sd device whose target port group is N.
path_to() {
	local d
	for d in /sys/block/"$(basename "$(readlink -f "/dev/mapper/$2")")"/slaves/*; do
		sg_vpd -p 0x83 "/dev/${d##*/}" 2>/dev/null | grep -q "Target port group: 0x$1" &&
			{ echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

# owner_group MAP: the id of the group gateway 1 reports active/optimized
# for MAP's LUN (nothing if none).
owner_group() {
	local id
	id=$(sg_rtpg -d "$(path_to 1 "$1")" 2>/dev/null |
		awk '/target port group id/ { id = $6 }
		     /active\/optimized/ && id != "" { print id; exit }')
	[ -z "$id" ] || echo $((id))
}

# owner_groups: each LUN's owner group as owner_group says it ("?" for a
# LUN gateway 1 could not ask), one per line, sorted.
owner_groups() {
	local m
	for m in $(maps); do owner_group "$m" || echo "?"; done | sort
}

# fio_global RUNTIME: the [global] section of the drills' fio jobs: random
# 4 KiB writes verified with crc32c for RUNTIME seconds, each job logging
# its completions to /tmp/ha_clat.<job number>.log.
fio_global() {
	cat <<-EOF
	[global]
	direct=1
	ioengine=libaio
	rw=randwrite
	bs=4k
	time_based
	runtime=$1
	verify=crc32c
	verify_backlog=256
	verify_fatal=1
	write_lat_log=/tmp/ha
	log_avg_msec=0
	EOF
}

# max_gap_ms LOG RUNTIME: the largest gap between completions in one fio
# completion latency log of a RUNTIME-second run (entries are not strictly
# in time order: sorted first).  Fails unless the log covers the whole
# run, from its first two seconds to its last two: a missing or cut-short
# log must not read as "no gap".  (Four fio jobs starting at once in a TCG
# guest: one's first completion came at 1025 ms.)  A slow job's log may
# be short (a rate-capped writer at queue depth 1 under TCG with dozens of
# LUNs: a few dozen completions), and its largest gap is still the truth.
max_gap_ms() {
	[ -s "$1" ] || fail "fio wrote no completion latency log $1"
	cut -d, -f1 "$1" | sort -n |
		awk -v end=$((($2 - 2) * 1000)) '
			{ t = $1 + 0; if (NR > 1 && t - last > gap) gap = t - last
			  if (NR == 1) first = t; last = t }
			END { if (NR < 10 || first > 2000 || last < end) {
				printf "%d completions from %d to %d ms\n", NR, first, last > "/dev/stderr"
				exit 1 }
			      print gap + 0 }' ||
		fail "fio's completion log $1 does not cover the run ($2 s)"
}

# longest_write_ms LOG: the longest any write in one fio completion
# latency log waited (entries "time ms, latency ns, direction, ...";
# direction 1 is a write).
longest_write_ms() {
	awk -F, '$3 + 0 == 1 && $2 + 0 > max { max = $2 + 0 } END { printf "%d\n", max / 1000000 }' "$1"
}

# rank P VALUES...: the P-th percentile of ascending VALUES (nearest rank).
rank() {
	local p=$1 n i
	shift
	n=$#
	i=$(((p * n + 99) / 100))
	[ "$i" -ge 1 ] || i=1
	echo "${!i}"
}
