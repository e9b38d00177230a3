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

# start_pair OUT SCRIPT NAME1 ARG1 NAME2 ARG2 MAC: boots guest NAME1
# running SCRIPT ARG1 (results in OUT/NAME1, its output in OUT/NAME1.out)
# listening on an unused port, then, once it listens, guest NAME2 running
# SCRIPT ARG2 connected to it; MAC (two hex digits) tells the pair's
# addresses apart.  Guests boot through the caller's vm function; their
# pids are appended to the caller's pids array, NAME1's first.
start_pair() {
	local out=$1 script=$2 mac=$7 port
	port=$(unused_port)
	mkdir -p "$out"
	vm --results "$out/$3" --nic "listen:$port:52:54:00:$mac:00:01" \
		"$script" "$4" >"$out/$3.out" 2>&1 &
	pids+=($!)
	sleep 2
	vm --results "$out/$5" --nic "connect:$port:52:54:00:$mac:00:02" \
		"$script" "$6" >"$out/$5.out" 2>&1 &
	pids+=($!)
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
