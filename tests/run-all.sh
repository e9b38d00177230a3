#!/bin/bash
# Every test tier, as CI runs it: install dependencies (and the VM tier's
# guest kernel), build normally and with AddressSanitizer +
# UndefinedBehaviorSanitizer, run the lint, unit, compat and sim tiers in
# both builds and under ThreadSanitizer (with the ceph tier; tests/tsan-suppressions
# says why each suppression is there), every libFuzzer target for a minute (fuzz: a clang build,
# all instrumented, two targets at a time), the real-kernel scenarios (vm: QEMU guests, root needed),
# the Debian package on a clean bookworm root (package), the Ceph tier (a
# real cluster on loopback) and the failover drills
# (drills: gateways on a throw-away Ceph) in both builds but vm, the
# ten-minute soak (soak), then a short benchmark pass that prints ratios.
#
# Each tier runs through tests/run-tier.sh: a skipped test fails it unless
# tests/allowed-skips lists it with a reason (the list is printed), so a
# machine missing a package cannot pass with part of the suite unrun.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${LUNAR_TEST_DIR:-$src/build-test}
tier() { "$src/tests/run-tier.sh" "$@"; }
asan() {
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$@"
}
tsan() {
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$src/tests/tsan-suppressions" "$@"
}
"$src/deploy/install-deps.sh"

"$src/deploy/build.sh" "$out/normal" -DCMAKE_BUILD_TYPE=RelWithDebInfo
tier "$out/normal" 'lint|unit|compat|sim'

"$src/deploy/build.sh" "$out/asan" -DCMAKE_BUILD_TYPE=Debug -DLUNAR_SANITIZE=ON
asan tier "$out/asan" 'lint|unit|compat|sim'

# ThreadSanitizer over every threaded test but the drills, whose timing
# goals it would break (they run under ASan); its ceph tier (the rbd
# handler's completions and lock) runs with the other ceph tiers below.
"$src/deploy/build.sh" "$out/tsan" -DCMAKE_BUILD_TYPE=Debug -DLUNAR_TSAN=ON
tsan tier "$out/tsan" 'unit|compat|sim'

CC=clang "$src/deploy/build.sh" "$out/fuzz" -DLUNAR_FUZZ=ON -DBUILD_TESTING=OFF \
	-DCMAKE_BUILD_TYPE=Debug
LUNAR_FUZZ_ARTIFACTS=$out/fuzz tier "$out/fuzz" fuzz -j2

tier "$out/normal" package
tier "$out/normal" vm
tier "$out/normal" ceph
asan tier "$out/asan" ceph
tsan tier "$out/tsan" ceph
tier "$out/normal" drills
# Under ASan only the gateway failures: the implicit-ALUA pass adds no
# code path the others miss, Ceph's faults take lunard through the
# reopen paths the ceph tier already runs under ASan, and kill-many's are
# kill's, times 32 (CI's 60 minutes).
asan tier "$out/asan" drills -E "drill_implicit|drill_ceph_faults|drill_kill_many"
tier "$out/normal" soak

# Benchmarks assert nothing about speed (the machine is noisy) but fail on
# any error; each side runs repeatedly, order rotated (docs/performance.md).
echo "== benchmarks (medians, spreads and ratios within one invocation; informational)"
for rw in randread randwrite; do
	"$out/normal/tests/lunar-bench" --handler-path "$out/normal/handlers" \
		--cfgstring ram/bench --size $((64 << 20)) --bs 4096 --qd 32 \
		--rw "$rw" --seconds 1 --repeat 5 --baseline --json
done
"$src/tests/bench/file-vs-fio.sh" "$out/normal" 1 3
"$src/tests/bench/rbd-vs-librbd.sh" "$out/normal" 2 3
