# shellcheck shell=bash
# The host side of the two-guest tests (ha-drill.sh, ceph-iscsi.sh),
# sourced: two guests linked by a socket netdev on host loopback.

# start_pair OUT SCRIPT NAME1 ARG1 NAME2 ARG2 MAC: boots guest NAME1
# running SCRIPT ARG1 (results in OUT/NAME1, its output in OUT/NAME1.out)
# listening on a random port, then, once it listens, guest NAME2 running
# SCRIPT ARG2 connected to it; MAC (two hex digits) tells the pair's
# addresses apart.  Guests boot through the caller's vm function; their
# pids are appended to the caller's pids array, NAME1's first.
start_pair() {
	local out=$1 script=$2 mac=$7 port
	port=$((47000 + RANDOM % 2000))
	mkdir -p "$out"
	vm --results "$out/$3" --nic "listen:$port:52:54:00:$mac:00:01" \
		"$script" "$4" >"$out/$3.out" 2>&1 &
	pids+=($!)
	sleep 2
	vm --results "$out/$5" --nic "connect:$port:52:54:00:$mac:00:02" \
		"$script" "$6" >"$out/$5.out" 2>&1 &
	pids+=($!)
}
