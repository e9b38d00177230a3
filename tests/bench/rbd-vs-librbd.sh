#!/bin/bash
# lunar's rbd handler against raw librbd on the same image of a local Ceph
# (tests/ceph/cluster.sh).  Three sides, same block size and queue depth:
#   librbd     fio's rbd engine: librbd with no SCSI and no ring, the
#              baseline.  One fio thread that submits and sleeps until
#              librbd signals completions, plus librbd's own threads
#              (messenger, completion); not pinned.
#   lunar      lunar-bench driving lunar's core with its handler_rbd.so:
#              the simulated kernel + initiator thread (CPU 0), which sleeps
#              until completions are announced (--spin-us 0: a polling CPU
#              here is taken from the OSD), lunar's command thread (CPU 1;
#              spins 20 us for ring entries after each batch, as in
#              lunard), plus librbd's threads, not pinned.
#   tcmu-1.5.4 the same with Debian's tcmu-runner 1.5.4 handler_rbd.so,
#              loaded unchanged.
# The OSD and monitor share the machine's CPUs with all of them.  Each side
# runs REPEATS times in one invocation, the sides in an order rotated per
# repetition (a Latin square); prints per side the median IOPS, min-max,
# the CPUs the client process kept busy (Ceph's daemons not counted), and
# the ratio of medians to librbd with the spread of the per-repetition
# ratios.  Warm-up alike: lunar-bench does not count the first tenth of
# each run, fio gets --ramp_time of a tenth of the run.
# librbd's cache is off for all three ("rbd cache = false", which 1.5.4's
# handler forces anyway): with it on, librbd stays write-through until it
# sees a flush (rbd_cache_writethrough_until_flush), which fio's engine
# sends at start-up and a flush-free benchmark never does.
#
# usage: rbd-vs-librbd.sh BUILD_DIR [seconds-per-run] [repeats] [ceph-dir]
# Fails (exit 1, naming the package) when Ceph, fio's rbd engine or
# Debian's tcmu-runner handlers are missing: a benchmark that cannot run
# must not look like a pass.  Fails on any I/O error; performance is
# reported, never asserted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build=${1:?usage: $0 BUILD_DIR [seconds] [repeats] [ceph-dir]}
secs=${2:-3}
reps=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
bench=$build/tests/lunar-bench
debian=/usr/lib/x86_64-linux-gnu/tcmu-runner
size=$((256 << 20))
qd=32
need fio fio
need python3 python3
[ -x "$bench" ] || { echo "$bench not built" >&2; exit 1; }
[ -f "$build/handlers/handler_rbd.so" ] ||
	{ echo "$build/handlers/handler_rbd.so not built: install librbd-dev and librados-dev, then rebuild" >&2; exit 1; }
[ -f "$debian/handler_rbd.so" ] ||
	{ echo "$debian/handler_rbd.so is missing: install the tcmu-runner package" >&2; exit 1; }
fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*rbd' ||
	{ echo "fio has no rbd engine: install Debian's fio package (built with librbd) and librbd1" >&2; exit 1; }
ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')

ceph_dir=${4:-$(mktemp -d /tmp/lunar-rbd-bench.XXXXXX)}
trap '"$here/ceph/cluster.sh" purge "$ceph_dir"' EXIT
rc=0
conf=$(EXTRA_CONF="rbd cache = false" IMG=img IMG_SIZE=$((size >> 20))M "$here/ceph/cluster.sh" start "$ceph_dir" | tail -1) || rc=$?
if [ "$rc" = 77 ]; then
	echo "Ceph is missing: install ceph-mon, ceph-osd and ceph-common" >&2
	exit 1
fi
[ "$rc" = 0 ] || exit "$rc"
export CEPH_CONF=$conf
raw=$ceph_dir/runs.tsv

fio_rbd() {	# fio_rbd RW BS [extra fio args]: fio's JSON
	fio --name=librbd --ioengine=rbd --clientname=admin \
		--pool=rbd --rbdname=img --rw="$1" --bs="$2" --iodepth=$qd \
		--size=$size --output-format=json "${@:3}"
}

# run SIDE WORKLOAD RW BS REP: one run of SIDE, recorded in $raw.
run() {
	local handlers=$debian
	case $1 in
	librbd)
		measure "$raw" "$2" "$1" "$5" fio_iops fio_rbd "$3" "$4" \
			--time_based --runtime="${ms}ms" --ramp_time="$((ms / 10))ms"
		return ;;
	lunar) handlers=$build/handlers ;;
	esac
	measure "$raw" "$2" "$1" "$5" bench_iops \
		"$bench" --handler-path "$handlers" --cfgstring "rbd/rbd/img;conf=$conf" \
		--size $size --bs "$4" --qd $qd --rw "$3" --seconds "$secs" \
		--repeat 1 --spin-us 0 --json
}

# Every object written once, so reads read data, not holes.
fio_rbd write 1M | fio_iops >/dev/null

: >"$raw"
for w in "randread 4096 4K" "randwrite 4096 4K" "read 1048576 1M" "write 1048576 1M"; do
	read -r rw bs name <<<"$w"
	for ((rep = 1; rep <= reps; rep++)); do
		for side in $(rotated "$rep" librbd lunar tcmu-1.5.4); do
			run "$side" "$rw-$name" "$rw" "$bs" "$rep"
		done
	done
done
echo "rbd handlers vs librbd: QD$qd, $reps run(s) of $secs s per side, order rotated per repetition"
report "$raw" librbd
