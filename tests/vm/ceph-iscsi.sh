#!/bin/bash
# ceph-iscsi drives lunar (see scenario-ceph-iscsi.sh): builds the gateway
# root (lunar's package and ceph-iscsi, tests/vm/gateway-root.sh), starts
# a Ceph with a manager (ceph-iscsi reads the service map) on the host's
# loopback and boots one guest on that root.
#
# usage: ceph-iscsi.sh BUILD_DIR [RESULTS_DIR]
# Environment: LUNAR_GATEWAY_ROOT (default /var/tmp/lunar-gateway-root).
# Exit status: 0 pass, 1 fail, 77 skip (no qemu, no Ceph).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(realpath -e -- "${1:?usage: ceph-iscsi.sh BUILD_DIR [RESULTS_DIR]}")
results=${2:-$build/tests/vm/results/ceph_iscsi}
root=${LUNAR_GATEWAY_ROOT:-/var/tmp/lunar-gateway-root}

work=""
cleanup() {
	[ -n "$work" ] || return 0
	"$src/tests/ceph/cluster.sh" purge "$work/ceph" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
flunk() { echo "ceph-iscsi: FAIL: $*" >&2; exit 1; }

"$here/gateway-root.sh" "$build" "$root" || flunk "no gateway root"
work=$(mktemp -d /tmp/ceph-iscsi.XXXXXX)
rc=0
WITH_MGR=1 POOL=rbd "$src/tests/ceph/cluster.sh" start "$work/ceph" >"$work/ceph.log" 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { echo "ceph-iscsi: SKIP: Ceph is not installed"; exit 77; }
[ "$rc" -eq 0 ] || { cat "$work/ceph.log" >&2; flunk "Ceph did not start"; }
mkdir -m 755 "$work/x"
cp "$work/ceph/ceph.conf" "$work/ceph/keyring" "$work/x/"
export CI_CEPH=/xshare LUNAR_VM_ENV=CI_CEPH
"$here/run-vm.sh" --root "$root" --timeout 600 --mem 2048 --nic user \
	--xshare "$work/x" --results "$results" "$here/scenario-ceph-iscsi.sh"
