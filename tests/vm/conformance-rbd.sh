#!/bin/bash
# iSCSI conformance of lunard's rbd handler: a Ceph cluster on the host's
# loopback (tests/ceph/cluster.sh, image rbd/conformance), then
# scenario-conformance.sh lunard-rbd in a guest that reaches it through
# QEMU user networking (lib.sh ceph_client_setup).
#
# usage: conformance-rbd.sh BUILD_DIR RESULTS_DIR VM_TIMEOUT [CACHE_DIR]
# Exit status: run-vm.sh's (the scenario's), 77 ("SKIP:") without Ceph.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(realpath -e -- "${1:?usage: conformance-rbd.sh BUILD_DIR RESULTS_DIR VM_TIMEOUT [CACHE_DIR]}")
results=${2:?results directory}
timeout=${3:?VM timeout (s)}
cache=${4:-${LUNAR_VM_CACHE:-/var/tmp/lunar-vm-cache}}

work=$(mktemp -d /tmp/lunar-conformance.XXXXXX)
trap '"$src/tests/ceph/cluster.sh" purge "$work/ceph" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rc=0
POOL=rbd IMG=conformance IMG_SIZE=64M "$src/tests/ceph/cluster.sh" start "$work/ceph" \
	>"$work/ceph.log" 2>&1 || rc=$?
[ "$rc" -ne 77 ] || { echo "SKIP: Ceph is not installed (apt-get install ceph-mon ceph-osd ceph-common)"; exit 77; }
[ "$rc" -eq 0 ] || { cat "$work/ceph.log" >&2; echo "conformance-rbd: Ceph did not start" >&2; exit 1; }
chmod -R a+rX "$work"

export LUNAR_BUILD=$build CONFORMANCE_CEPH=$work/ceph
export LUNAR_VM_ENV="LUNAR_BUILD CONFORMANCE_CEPH"
# Not exec: the trap above must purge the cluster when the guest is done.
rc=0
"$here/run-vm.sh" --timeout "$timeout" --cache "$cache" --results "$results" \
	--nic user "$here/scenario-conformance.sh" lunard-rbd || rc=$?
exit "$rc"
