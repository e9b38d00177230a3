#!/bin/bash
# The test clusters themselves: two start side by side on different
# monitor ports, each is HEALTH_OK with its pool and image, they are
# distinct clusters (fsid, data), and stopping leaves no daemon running.
# Exit 77 when Ceph is not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/lunar-ceph-test.XXXXXX)
cleanup() {
	"$here/cluster.sh" purge "$work/a" || true
	"$here/cluster.sh" purge "$work/b" || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# pids DIR: the cluster's daemons still running (not zombies).
live_daemons() {
	local f pid n=0
	for f in "$1"/run/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -r "/proc/$pid/stat" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat")" != Z ] && n=$((n + 1))
	done
	echo "$n"
}

rc=0
IMG=img "$here/cluster.sh" start "$work/a" >"$work/a.out" 2>&1 & pa=$!
IMG=img "$here/cluster.sh" start "$work/b" >"$work/b.out" 2>&1 & pb=$!
wait "$pa" || rc=$?
[ "$rc" != 77 ] || { echo "SKIP: Ceph is not installed (apt-get install ceph-mon ceph-osd ceph-common)"; exit 77; }
[ "$rc" = 0 ] || fail "cluster a did not start: $(cat "$work/a.out")"
wait "$pb" || fail "cluster b did not start: $(cat "$work/b.out")"
ca=$(tail -1 "$work/a.out") cb=$(tail -1 "$work/b.out")
[ "$ca" = "$work/a/ceph.conf" ] && [ "$cb" = "$work/b/ceph.conf" ] ||
	fail "start did not print the conf path last ($ca, $cb)"

for c in "$ca" "$cb"; do
	[ "$(ceph -c "$c" health)" = HEALTH_OK ] || fail "$c: $(ceph -c "$c" health)"
	rbd -c "$c" info rbd/img | grep -q "size 64 MiB" || fail "$c: no 64 MiB image rbd/img"
done
[ "$(sed -n 's/^mon host = //p' "$ca")" != "$(sed -n 's/^mon host = //p' "$cb")" ] ||
	fail "both clusters on the same monitor address"
[ "$(ceph -c "$ca" fsid)" != "$(ceph -c "$cb" fsid)" ] || fail "both clusters have one fsid"

# Data written to one is in that one only.
head -c 1M /dev/urandom >"$work/data"
rbd -c "$ca" import --no-progress "$work/data" rbd/copy
rbd -c "$ca" export --no-progress rbd/copy "$work/back"
cmp "$work/data" "$work/back" || fail "data read back from cluster a differs"
! rbd -c "$cb" info rbd/copy >/dev/null 2>&1 || fail "cluster b sees cluster a's image"

"$here/cluster.sh" stop "$work/a"
[ "$(live_daemons "$work/a")" = 0 ] || fail "daemons of cluster a still running after stop"
[ "$(ceph -c "$cb" health)" = HEALTH_OK ] || fail "stopping a disturbed b"
"$here/cluster.sh" stop "$work/b"
[ "$(live_daemons "$work/b")" = 0 ] || fail "daemons of cluster b still running after stop"

# A start on a port in use is refused with a clear message.
IMG= POOL= "$here/cluster.sh" start "$work/a" 3500 >/dev/null
if "$here/cluster.sh" start "$work/b" 3500 >"$work/b.out" 2>&1; then
	fail "a second cluster started on a monitor port in use"
fi
grep -q "port 3500 is in use" "$work/b.out" || fail "no clear message for a port in use: $(cat "$work/b.out")"
echo "PASS: two clusters side by side, distinct, stopped cleanly"
