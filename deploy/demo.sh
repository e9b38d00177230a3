#!/bin/bash
# lunar's main job, end to end: install what is needed, build, start lunard
# and serve a file-backed LUN to an initiator, showing what the initiator
# sees.  This host's kernel has no TCMU, so the LUN is offered to lunard
# over simring, lunar's implementation of the kernel's side of the ring;
# the same daemon, SCSI core and file handler serve the real kernel.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${LUNAR_BUILD:-$src/build}
"$src/deploy/install-deps.sh"
"$src/deploy/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF

work=$(mktemp -d /tmp/lunar-demo.XXXXXX)
lunard=
cleanup() {
	[ -n "$lunard" ] && kill "$lunard" 2>/dev/null && wait "$lunard" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$build/runner/lunard" --handler-path "$build/handlers" --sim-socket "$work/sim.sock" \
	-l "$work" --config /dev/null 2>"$work/lunard.stderr" &
lunard=$!
for _ in $(seq 100); do [ -S "$work/sim.sock" ] && break; sleep 0.05; done

echo "== lunard serving file/$work/lun.img (256 MiB) to a simulated initiator"
"$build/tests/lunar-bench" --connect "$work/sim.sock" --cfgstring "file/$work/lun.img" \
	--size $((256 << 20)) --verify --bs 4096 --qd 32 --rw randwrite --seconds 2 --repeat 1
"$build/tests/lunar-bench" --connect "$work/sim.sock" --cfgstring "file/$work/lun.img" \
	--size $((256 << 20)) --bs 4096 --qd 32 --rw randread --seconds 2 --repeat 1
echo "== backing file: $(du -h --apparent-size "$work/lun.img" | cut -f1) apparent, $(du -h "$work/lun.img" | cut -f1) allocated"
echo "== lunard log:"
sed 's/^/   /' "$work/lunard.log"
