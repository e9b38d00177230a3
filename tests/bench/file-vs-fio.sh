#!/bin/bash
# The file handler against fio on the same tmpfs file, same block size and
# queue depth, alternating runs in one invocation; prints medians and the
# lunar/fio ratio per workload.
#
# usage: file-vs-fio.sh BUILD_DIR [seconds-per-run] [repeats]
set -euo pipefail

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

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for rw in randread randwrite read write; do
	lunar=() fiov=()
	for _ in $(seq "$reps"); do
		lunar+=("$("$bench" --handler-path "$build/handlers" \
			--cfgstring "file/$img" --size $size --bs 4096 --qd 32 \
			--rw $rw --seconds "$secs" --repeat 1 --json |
			sed -n 's/.*"iops":\([0-9.]*\).*/\1/p')")
		fiov+=("$(fio --name=cmp --filename="$img" --size=$size --rw=$rw \
			--bs=4k --iodepth=32 --ioengine=io_uring --time_based \
			--runtime="$secs" --numjobs=1 --output-format=json |
			python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(j["read"]["iops"] + j["write"]["iops"])')")
	done
	l=$(printf '%s\n' "${lunar[@]}" | median)
	f=$(printf '%s\n' "${fiov[@]}" | median)
	printf '%-10s lunar %8.0f IOPS  fio %8.0f IOPS  ratio %.3f\n' \
		$rw "$l" "$f" "$(echo "$l / $f" | bc -l)"
done
