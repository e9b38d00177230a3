#!/bin/bash
# lunar's file handler against fio on the same fully allocated tmpfs file:
# 4 KiB random and sequential reads and writes at queue depth 32.  Each
# side runs REPEATS times in one invocation, the sides in an order rotated
# per repetition (a Latin square); prints per side the median IOPS,
# min-max, the CPUs it kept busy, and the ratio of medians to fio with the
# spread of the per-repetition ratios.
#
# The sides, and the threads each has (the CPU column measures them:
# user + system time of all the process's threads over its wall time):
#   fio         io_uring, registered file and buffers (its fastest setup
#               here): one thread that submits and sleeps in
#               io_uring_enter() until completions arrive, plus io_uring's
#               io-wq workers, which do every read and write (tmpfs has no
#               non-blocking path, so io_uring hands each request to a
#               worker).  Not pinned: fio cannot place the workers, and
#               pinning its thread confines them to the same CPU.
#   lunar       lunar-bench --spin-us 0: the simulated kernel + initiator
#               thread sleeps until completions are announced, like fio's
#               thread; lunar's command thread does the I/O inline
#               (pread/pwrite on tmpfs) and, as in lunard, spins 20 us for
#               new ring entries after each batch.  Pinned to CPU 0 and 1.
#               This is the like-for-like ratio.
#   lunar-poll  lunar-bench's default: the same, but the initiator polls
#               for completions 200 us before sleeping: two spinning
#               threads, about two CPUs busy.  Shows what polling buys; its
#               ratio to fio is not like for like.
# Not used for fio: io_uring SQPOLL would give it a second polling thread
# like lunar's, but on tmpfs the SQ thread can only forward each request to
# an io-wq worker (30-85 K IOPS against 180-450 K without it, measured
# here); --hipri needs O_DIRECT on a block device with poll queues.
# Warm-up alike: lunar-bench does not count the first tenth of each run,
# fio gets --ramp_time of a tenth of the run.
#
# usage: file-vs-fio.sh BUILD_DIR [seconds-per-run] [repeats]
# Fails on any I/O error, setup failure or missing tool; performance is
# reported, never asserted (the machine is noisy).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build=${1:?usage: $0 BUILD_DIR [seconds] [repeats]}
secs=${2:-3}
reps=${3:-3}
size=$((1024 * 1024 * 1024))
bench="$build/tests/lunar-bench"
need fio fio
need python3 python3
[ -x "$bench" ] || { echo "$bench not built" >&2; exit 1; }
[ -f "$build/handlers/handler_file.so" ] || { echo "$build/handlers/handler_file.so not built" >&2; exit 1; }
ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')

dir=$(mktemp -d /dev/shm/lunar-fio.XXXXXX)
trap 'rm -rf "$dir"' EXIT
img=$dir/lun.img
raw=$dir/runs.tsv
# Fully allocate the file: both sides then read and write real pages.
dd if=/dev/zero of="$img" bs=1M count=$((size / 1048576)) status=none

# run SIDE RW REP: one run of SIDE, recorded in $raw.
run() {
	local -a spin=()
	case $1 in
	fio)
		measure "$raw" "$2" "$1" "$3" fio_iops \
			fio --name=cmp --filename="$img" --size=$size --rw="$2" \
			--bs=4k --iodepth=32 --ioengine=io_uring --registerfiles=1 \
			--fixedbufs=1 --time_based --runtime="${ms}ms" \
			--ramp_time="$((ms / 10))ms" --numjobs=1 --output-format=json
		return ;;
	lunar) spin=(--spin-us 0) ;;
	esac
	measure "$raw" "$2" "$1" "$3" bench_iops \
		"$bench" --handler-path "$build/handlers" --cfgstring "file/$img" \
		--size $size --bs 4096 --qd 32 --rw "$2" --seconds "$secs" \
		--repeat 1 --json "${spin[@]}"
}

: >"$raw"
for rw in randread randwrite read write; do
	for ((rep = 1; rep <= reps; rep++)); do
		for side in $(rotated "$rep" fio lunar lunar-poll); do
			run "$side" "$rw" "$rep"
		done
	done
done
echo "file handler vs fio on tmpfs: 4 KiB, QD32, $reps run(s) of $secs s per side, order rotated per repetition"
report "$raw" fio
