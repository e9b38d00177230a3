#!/bin/bash
# Every test tier, as CI runs it: install dependencies, build normally and
# with AddressSanitizer + UndefinedBehaviorSanitizer, run the unit and sim
# tiers in both builds, the real-kernel scenarios (vm: QEMU guests, root
# needed), the Ceph tier (a real cluster on loopback), the failover drills
# (drill: gateways on a throw-away Ceph), then a short benchmark pass that
# prints ratios.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${LUNAR_TEST_DIR:-$src/build-test}
"$src/deploy/install-deps.sh"

"$src/deploy/build.sh" "$out/normal" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$out/normal" && ctest --output-on-failure -L 'unit|sim')

"$src/deploy/build.sh" "$out/asan" -DCMAKE_BUILD_TYPE=Debug -DLUNAR_SANITIZE=ON
(cd "$out/asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -L 'unit|sim')

(cd "$out/normal" && ctest --output-on-failure -L vm)
(cd "$out/normal" && ctest --output-on-failure -L ceph)
(cd "$out/normal" && ctest --output-on-failure -L drill)

echo "== benchmarks (ratios within one invocation; informational)"
"$out/normal/tests/lunar-bench" --handler-path "$out/normal/handlers" \
	--cfgstring ram/bench --size $((64 << 20)) --bs 4096 --qd 32 \
	--rw randread --seconds 1 --repeat 3 --baseline --json
"$src/tests/bench/file-vs-fio.sh" "$out/normal" 1 1
"$src/tests/bench/rbd-vs-librbd.sh" "$out/normal" 2 3 || [ $? -eq 77 ]
