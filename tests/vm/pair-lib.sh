# shellcheck shell=bash
# The host side of the two-guest tests (ha-drill.sh, ceph-iscsi.sh),
# sourced: two guests linked by a socket netdev on host loopback, against
# a throw-away Ceph on the host, run best of two.  The caller keeps src
# (the source tree), work (the run's scratch directory; the cluster lives
# in $work/ceph) and pids (the guests' run-vm.sh), and defines say, flunk,
# vm (run-vm.sh with its options) and attempt N.

# What attempt N returns when every check held but a pause goal.
readonly GOAL_MISSED=3

# pair_cleanup: stop the guests, purge the cluster, remove $work; the
# EXIT trap and the end of each attempt.
pair_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
	[ -n "$work" ] || return 0
	"$src/tests/ceph/cluster.sh" purge "$work/ceph" >/dev/null 2>&1 || true
	rm -rf "$work"
	work=""
}

# start_cluster: tests/ceph/cluster.sh start $work/ceph, its settings
# (POOL, IMG, WITH_MGR, EXTRA_CONF...) from the environment, its log in
# $work/ceph.log.  Exits 77 (skip) when Ceph is not installed, fails when
# it does not start.
start_cluster() {
	local rc=0
	"$src/tests/ceph/cluster.sh" start "$work/ceph" >"$work/ceph.log" 2>&1 || rc=$?
	[ "$rc" -ne 77 ] || { say "SKIP: Ceph is not installed (apt-get install ceph-mon ceph-osd ceph-common)"; exit 77; }
	[ "$rc" -eq 0 ] || { cat "$work/ceph.log" >&2; flunk "Ceph did not start"; }
}

# unused_port: a random TCP port on this host below the kernel's
# ephemeral range, bound by no socket now.  Below that range because an
# outgoing connection (Ceph's, the host's) may hold any port inside it,
# and the first guest's QEMU then fails to bind its link.
unused_port() {
	local low port try
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	for try in $(seq 50); do
		port=$((20000 + RANDOM % (low - 20000)))
		awk -v p="$(printf ':%04X' "$port")" \
			'substr($2, length($2) - 4) == p { f = 1 } END { exit f }' \
			/proc/net/tcp /proc/net/tcp6 && { echo "$port"; return 0; }
	done
	flunk "unused_port: no free TCP port found below $low"
}

# start_guests OUT SCRIPT MAC NAME1 ARG1 NAME2 ARG2 [NAME3 ARG3]: boots
# guest NAME1 running SCRIPT ARG1 (results in OUT/NAME1, its output in
# OUT/NAME1.out) with one link per other guest (its eth1, eth2), each
# listening on an unused port; once they listen, guest NAME2 (and NAME3)
# running SCRIPT ARG2 (ARG3), its eth1 connected to its link.  MAC (two
# hex digits) tells the drills' addresses apart.  Guests boot through the
# caller's vm function; their pids are appended to the caller's pids
# array, in the order given.
start_guests() {
	local out=$1 script=$2 mac=$3 k links=() ports=()
	shift 3
	mkdir -p "$out"
	for ((k = 1; k < $# / 2; k++)); do
		ports+=("$(unused_port)")
		links+=(--nic "listen:${ports[k - 1]}:52:54:00:$mac:0$k:01")
	done
	vm --results "$out/$1" "${links[@]}" "$script" "$2" >"$out/$1.out" 2>&1 &
	pids+=($!)
	sleep 2
	for ((k = 1; k < ${#ports[@]} + 1; k++)); do
		shift 2
		vm --results "$out/$1" --nic "connect:${ports[k - 1]}:52:54:00:$mac:0$k:02" \
			"$script" "$2" >"$out/$1.out" 2>&1 &
		pids+=($!)
	done
}

# best_of_two RESULTS: attempt 1 (in RESULTS/attempt-1), and attempt 2 if
# attempt 1 missed only a goal: the guests are emulated (TCG) on a shared
# 2-core host.  Anything else attempt N found has failed the run already.
# The status of the last attempt.
best_of_two() {
	local rc=0
	mkdir -p "$1"
	rm -rf "$1"/attempt-*
	attempt 1 || rc=$?
	[ "$rc" = "$GOAL_MISSED" ] || return "$rc"
	say "a goal missed in attempt 1; one more run (best of two, see the header)"
	rc=0
	attempt 2 || rc=$?
	return "$rc"
}
