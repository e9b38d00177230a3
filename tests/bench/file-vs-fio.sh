#!/bin/bash
# The file handler against fio on the same tmpfs file, same block size and
# queue depth, alternating runs in one invocation; prints medians and the
# lunar/fio ratio per workload.
#
# usage: file-vs-fio.sh BUILD_DIR [seconds-per-run] [repeats]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build=${1:?usage: $0 BUILD_DIR [seconds] [repeats]}
secs=${2:-3}
reps=${3:-3}
size=$((1024 * 1024 * 1024))
bench="$build/tests/lunar-bench"
command -v fio >/dev/null || { echo "fio is not installed" >&2; exit 1; }
[ -x "$bench" ] || { echo "$bench not built" >&2; exit 1; }

dir=$(mktemp -d /dev/shm/lunar-fio.XXXXXX)
trap 'rm -rf "$dir"' EXIT
img=$dir/lun.img
# Fully allocate the file: both sides then read and write real pages.
dd if=/dev/zero of="$img" bs=1M count=$((size / 1048576)) status=none


for rw in randread randwrite read write; do
	lunar=() fiov=()
	for _ in $(seq "$reps"); do
		lunar+=("$("$bench" --handler-path "$build/handlers" \
			--cfgstring "file/$img" --size $size --bs 4096 --qd 32 \
			--rw $rw --seconds "$secs" --repeat 1 --json | bench_iops)")
		fiov+=("$(fio --name=cmp --filename="$img" --size=$size --rw=$rw \
			--bs=4k --iodepth=32 --ioengine=io_uring --time_based \
			--runtime="$secs" --numjobs=1 --output-format=json | fio_iops)")
	done
	l=$(printf '%s\n' "${lunar[@]}" | median)
	f=$(printf '%s\n' "${fiov[@]}" | median)
	printf '%-10s lunar %8.0f IOPS  fio %8.0f IOPS  ratio %.3f\n' \
		$rw "$l" "$f" "$(echo "$l / $f" | bc -l)"
done
