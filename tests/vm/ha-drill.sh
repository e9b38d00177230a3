#!/bin/bash
# The real-kernel failover drill: two QEMU guests as two gateways (each its
# own kernel and lunard, each enabling only its own iSCSI target port
# group), one RBD image on a Ceph running on the host's loopback, and the
# first guest also the initiator (open-iscsi + multipathd + scsi_dh_alua
# over both portals) running fio with verification.  See scenario-ha.sh.
#
# usage: ha-drill.sh BUILD_DIR poweroff|kill|planned [RESULTS_DIR]
#   poweroff  gateway B (the lock owner) is powered off hard
#   kill      gateway B's lunard is killed with SIGKILL (its guardian
#             fails the commands it had in flight at once) and restarted
#             100 ms later (systemd's Restart=on-failure)
#   planned   the initiator moves the group to gateway A (STPG)
#
# Prints the largest gap between fio's completions against the goal
# (poweroff 5 s, kill 2 s, planned 1 s).  Passes when fio's verification
# is clean, the lock did not move before the failure and gateway A never
# lost it, gateway A took it exactly once after the failure (no
# ping-pong) and owns the image at the end — or, after a kill that found
# no command in flight to fail, B's restarted lunard took its own lock
# back and nobody else took it — and the gap stays under three times the
# goal (a timing on a shared, emulated machine is reported, not judged
# finely).
# Exit status: 0 pass, 1 fail, 77 skip (no qemu, no Ceph).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(realpath -e -- "${1:?usage: ha-drill.sh BUILD_DIR poweroff|kill|planned [RESULTS_DIR]}")
fail=${2:?which failure: poweroff, kill or planned}
results=${3:-/tmp/lunar-ha-$fail}
case $fail in
poweroff) goal_ms=5000 ;;
kill) goal_ms=2000 ;;
planned) goal_ms=1000 ;;
*) echo "ha-drill: unknown failure '$fail'" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/lunar-ha.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$src/tests/ceph/cluster.sh" purge "$work/ceph" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

rc=0
# Ceph's default paxos_propose_interval (cluster.sh shortens it to start
# faster): takeovers pay for monitor proposals what they pay in production.
WITH_MGR=0 POOL=rbd IMG=ha IMG_SIZE=64M \
	EXTRA_CONF=$'osd heartbeat grace = 3\nosd heartbeat interval = 1\nrbd cache = false\npaxos propose interval = 1' \
	"$src/tests/ceph/cluster.sh" start "$work/ceph" >"$work/ceph.log" 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { echo "ha-drill: SKIP: Ceph is not installed" >&2; exit 77; }
[ "$rc" -eq 0 ] || { cat "$work/ceph.log" >&2; echo "ha-drill: Ceph did not start" >&2; exit 1; }
chmod -R a+rX "$work"
mkdir -m 777 "$work/x"

export LUNAR_BUILD=$build HA_CEPH=$work/ceph HA_IMAGE=ha HA_FAIL=$fail HA_BUDGET=10
HA_SERIAL=$(cat /proc/sys/kernel/random/uuid)
export HA_SERIAL
export LUNAR_VM_ENV="LUNAR_BUILD HA_CEPH HA_IMAGE HA_SERIAL HA_FAIL HA_BUDGET"
port=$((47000 + RANDOM % 1000))
vm() {
	"$here/run-vm.sh" --timeout 420 --mem 1536 --xshare "$work/x" --nic user "$@"
}

mkdir -p "$results"
vm --results "$results/a" --nic "listen:$port:52:54:00:77:00:01" \
	"$here/scenario-ha.sh" initiator >"$results/a.out" 2>&1 &
pids+=($!)
sleep 2
vm --results "$results/b" --nic "connect:$port:52:54:00:77:00:02" \
	"$here/scenario-ha.sh" gateway >"$results/b.out" 2>&1 &
pids+=($!)
a_rc=0 b_rc=0
wait "${pids[0]}" || a_rc=$?
wait "${pids[1]}" || b_rc=$?
pids=()

show() { sed 's/^/  | /' "$1" >&2 || true; }
if [ "$a_rc" -ne 0 ]; then
	echo "ha-drill $fail: FAIL: the initiator side exited $a_rc; its output:" >&2
	tail -n 40 "$results/a.out" | show /dev/stdin
	exit 1
fi
# A powered-off gateway leaves no status; a killed lunard's guest passes.
if [ "$fail" != poweroff ] && [ "$b_rc" -ne 0 ]; then
	echo "ha-drill $fail: FAIL: gateway B exited $b_rc" >&2
	tail -n 30 "$results/b.out" | show /dev/stdin
	exit 1
fi
pause=$(awk '$1 == "pause_ms" { print $2 }' "$results/a/ha.txt")
takeovers=$(awk '$1 == "takeovers" { print $2 }' "$results/a/ha.txt")
verdict="goal met"
[ -n "$pause" ] && [ "$pause" -le "$goal_ms" ] || verdict="GOAL MISSED"
setup=$(awk '$1 == "setup_acquisitions" { print $2 }' "$results/a/ha.txt")
echo "ha-drill $fail: largest completion gap ${pause:-?} ms, goal ${goal_ms} ms: $verdict; fio verify clean; gateway A took the lock ${takeovers:-?} time(s) after the failure, ${setup:-?} before it"
cp "$work/x/b-lunard.log" "$results/" 2>/dev/null || true
owner=$(awk '$1 == "owner_at_end" { print $2 }' "$results/a/ha.txt")
# A kill has two good ends: the dead lunard's commands failed, the
# initiator moved, gateway A took over once (B's new lunard a standby);
# or nothing was in flight to fail, the initiator waited, and B's new
# lunard took its own lock back (no move at all).
if [ "$fail" = kill ] && [ "$takeovers" = 0 ] && [ "$owner" = 2 ]; then
	grep -q "an earlier lunard on this gateway holds the cluster lock" "$results/b-lunard.log" ||
		{ echo "ha-drill kill: FAIL: gateway B still owns the image but its new lunard did not take the lock back" >&2; exit 1; }
	echo "ha-drill kill: the initiator stayed; gateway B's restarted lunard took its lock back"
else
	[ "$owner" = 1 ] ||
		{ echo "ha-drill $fail: FAIL: gateway A does not own the image at the end (owner group ${owner:-unknown})" >&2; exit 1; }
	[ "$takeovers" = 1 ] ||
		{ echo "ha-drill $fail: FAIL: expected exactly one takeover by gateway A after the failure, saw ${takeovers:-?}" >&2; exit 1; }
fi
# No lock move before the failure, and the final owner never lost it
# (librbd renewing its lock cookie once made a gateway give it up).
[ "$setup" = 0 ] ||
	{ echo "ha-drill $fail: FAIL: the lock moved ${setup:-?} time(s) before any failure" >&2; exit 1; }
if grep -q "cluster lock lost" "$results/a/logs/lunard.log"; then
	echo "ha-drill $fail: FAIL: gateway A lost the lock without a failure:" >&2
	grep "cluster lock lost" "$results/a/logs/lunard.log" | show /dev/stdin
	exit 1
fi
if [ "$fail" = kill ]; then
	grep -q "lunard died; its in-flight commands were failed back" "$results/b-lunard.log" ||
		{ echo "ha-drill kill: FAIL: gateway B's guardian did not fail the dead lunard's commands" >&2; exit 1; }
	grep -q "adopted from a previous daemon" "$results/b-lunard.log" ||
		{ echo "ha-drill kill: FAIL: gateway B's restarted lunard did not adopt its device" >&2; exit 1; }
fi
[ -n "$pause" ] && [ "$pause" -le $((3 * goal_ms)) ] || {
	echo "ha-drill $fail: FAIL: pause ${pause:-unknown} ms is over three times the goal" >&2
	exit 1
}
