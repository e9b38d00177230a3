#!/bin/bash
# lunar's rbd handler against raw librbd on the same image of a local Ceph
# (tests/ceph/cluster.sh), alternating runs in one invocation: fio's rbd
# engine (librbd, no SCSI, no ring) is the baseline; lunar-bench drives
# lunar's core with handler_rbd.so (lunar's) and with Debian's
# tcmu-runner 1.5.4 handler_rbd.so, loaded unchanged.  Same block size and
# queue depth everywhere; prints medians and the ratios to librbd.
# librbd's cache is off for all three ("rbd cache = false", which 1.5.4's
# handler forces anyway): with it on, librbd stays write-through until it
# sees a flush (rbd_cache_writethrough_until_flush), which fio's engine
# sends at start-up and a flush-free benchmark never does.
#
# usage: rbd-vs-librbd.sh BUILD_DIR [seconds-per-run] [repeats] [ceph-dir]
# Exit 77 when Ceph or fio's rbd engine is missing.
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
[ -x "$bench" ] || { echo "$bench not built" >&2; exit 1; }
[ -f "$build/handlers/handler_rbd.so" ] || { echo "handler_rbd.so not built" >&2; exit 77; }
fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*rbd' || { echo "fio has no rbd engine" >&2; exit 77; }

ceph_dir=${4:-$(mktemp -d /tmp/lunar-rbd-bench.XXXXXX)}
trap '"$here/ceph/cluster.sh" purge "$ceph_dir"' EXIT
rc=0
conf=$(EXTRA_CONF="rbd cache = false" IMG=img IMG_SIZE=$((size >> 20))M "$here/ceph/cluster.sh" start "$ceph_dir" | tail -1) || rc=$?
[ "$rc" = 0 ] || exit "$rc"
export CEPH_CONF=$conf

fio_rbd() {	# fio_rbd RW BS [extra fio args]: IOPS
	fio --name=librbd --ioengine=rbd --clientname=admin \
		--pool=rbd --rbdname=img --rw="$1" --bs="$2" --iodepth=$qd \
		--size=$size --time_based --runtime="$secs" --output-format=json "${@:3}" | fio_iops
}

lunar_bench() {	# lunar_bench HANDLER_DIR RW BS: IOPS
	"$bench" --handler-path "$1" --cfgstring "rbd/rbd/img;conf=$conf" \
		--size $size --bs "$3" --qd $qd --rw "$2" --seconds "$secs" \
		--repeat 1 --spin-us 0 --json | bench_iops
}

# Every object written once, so reads read data, not holes.
fio_rbd write 1M --time_based=0 --runtime=0 >/dev/null

printf '%-10s %-5s %12s %12s %12s %8s %8s\n' workload bs librbd lunar tcmu-1.5.4 lunar/l 1.5.4/l
for w in "randread 4096" "randwrite 4096" "read 1048576" "write 1048576"; do
	read -r rw bs <<<"$w"
	base=() ours=() theirs=()
	for _ in $(seq "$reps"); do
		base+=("$(fio_rbd "$rw" "$bs")")
		ours+=("$(lunar_bench "$build/handlers" "$rw" "$bs")")
		theirs+=("$(lunar_bench "$debian" "$rw" "$bs")")
	done
	b=$(printf '%s\n' "${base[@]}" | median)
	o=$(printf '%s\n' "${ours[@]}" | median)
	t=$(printf '%s\n' "${theirs[@]}" | median)
	printf '%-10s %-5s %12.0f %12.0f %12.0f %8.3f %8.3f\n' "$rw" \
		"$((bs >= 1048576 ? bs >> 20 : bs >> 10))$([ "$bs" -ge 1048576 ] && echo M || echo K)" \
		"$b" "$o" "$t" "$(echo "$o / $b" | bc -l)" "$(echo "$t / $b" | bc -l)"
done
