#!/bin/bash
# lunar's main job, end to end: install what is needed, build, start lunard
# and serve a file-backed LUN through the kernel's LIO (TCMU + tcm_loop),
# showing what the initiator sees (deploy/demo-lun.sh).  When this host's
# kernel has no TCMU, the same runs inside a QEMU guest booting Debian's
# kernel with this host's root filesystem (tests/vm/run-vm.sh), so the
# binaries built here serve the guest's kernel unchanged.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${LUNAR_BUILD:-$src/build-demo}
"$src/deploy/install-deps.sh"
"$src/deploy/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF

host_has_tcmu() {
	[ -d /sys/module/target_core_user ] ||
		{ modprobe -n -q target_core_user && modprobe -n -q tcm_loop; } 2>/dev/null
}

if host_has_tcmu; then
	exec "$src/deploy/demo-lun.sh" "$build"
fi
echo "== this kernel ($(uname -r)) has no TCMU: running the demo in a QEMU guest"
echo "   (Debian's kernel; this host's root filesystem, so the same lunard binary)"
LUNAR_VM_ENV=LUNAR_DEMO_BUILD LUNAR_DEMO_BUILD=$build \
	exec "$src/tests/vm/run-vm.sh" --timeout 240 "$src/deploy/demo-lun.sh" "$build"
