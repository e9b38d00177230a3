#!/bin/bash
# Side-by-side I/O performance through the real kernel, one VM run: the
# kernel's fileio backstore (the ceiling), lunard's file handler and Debian's
# tcmu-runner 1.5.4 (qcow handler on a raw file: Debian ships no file
# handler), all on the same preallocated tmpfs file, each exported through
# tcm_loop.  fio (libaio, O_DIRECT): 4 KiB random read and write at QD16,
# 1 MiB sequential read and write at QD4.  The daemons cannot run together,
# so each repetition runs the three backstores one after the other, in an
# order rotated per repetition (a Latin square: each backstore runs first,
# second and third once per three repetitions), so drift hits all alike.
# Medians and ratios go to stdout and $RESULTS/perf.{txt,json}.  Fails on any
# I/O error; performance is reported, never asserted (the machine is noisy).
#
# Both TCMU devices get hw_max_sectors=PERF_MAX_SECTORS (2048: 1 MiB, as
# ceph-iscsi's gateways configure; the TCMU default of 128 splits a 1 MiB
# request into 16 commands while fileio takes it whole).
#
# PERF_REPS (3), PERF_SECONDS (4, per fio job after a 1 s ramp), PERF_SIZE
# (256M), PERF_MAX_SECTORS and PERF_LUNARD_OPTS (appended to lunard's
# cfgstring, e.g. ";engine=threads") may be passed with LUNAR_VM_ENV.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require fio jq

reps=${PERF_REPS:-3}
seconds=${PERF_SECONDS:-4}
size=${PERF_SIZE:-256M}
max_sectors=${PERF_MAX_SECTORS:-2048}
lunard_opts=${PERF_LUNARD_OPTS:-}
img=/tmp/perf.img
raw=$RESULTS/perf-raw.tsv
backstores=(fileio lunard tcmu-runner)
# name rw bs iodepth; the unit of each is what the table reports.
workloads=("randread 4k 16" "randwrite 4k 16" "read 1M 4" "write 1M 4")

[ -f /usr/lib/x86_64-linux-gnu/tcmu-runner/handler_qcow.so ] ||
	skip "Debian's tcmu-runner package (handler_qcow.so) is not installed"

# fio_args: one fio invocation running every workload in turn (stonewall).
fio_args() {
	local w name bs qd
	for w in "${workloads[@]}"; do
		read -r name bs qd <<<"$w"
		printf '%s\n' "--name=$name" --stonewall "--rw=$name" "--bs=$bs" "--iodepth=$qd"
	done
}

# io_errors: how many I/O errors the kernel has logged so far.
io_errors() { dmesg | grep -c 'I/O error' || true; }

# attach BACKSTORE: its LUN on tcm_loop (starting its daemon); prints /dev/sdX.
attach() {
	local bs
	case $1 in
	fileio) bs=$(make_kernel_backstore fileio perf "$size" "$img") ;;
	lunard) bs=$(make_user_backstore perf "$size" "file/$img$lunard_opts" \
		"hw_max_sectors=$max_sectors") ;;
	tcmu-runner) bs=$(make_user_backstore perf "$size" "qcow/$img" \
		"hw_max_sectors=$max_sectors") ;;
	esac
	describe "$1" "$bs" >>"$RESULTS/perf-attribs.txt"
	loop_attach "$bs"
}

# describe NAME BACKSTORE_PATH: the attributes that bound a LUN's
# throughput (transfer size, queue depth, TCMU data area), for the record.
describe() {
	local a f
	printf '%s:' "$1"
	for a in hw_max_sectors hw_queue_depth max_data_area_mb; do
		f=$2/attrib/$a
		[ -r "$f" ] && printf ' %s=%s' "$a" "$(cat "$f")"
	done
	echo
}

# record BACKSTORE REP JSON: one line per workload into $raw (IOPS for
# 4 KiB, MiB/s for 1 MiB); fails if any job saw an error or moved nothing.
record() {
	jq -r --arg bs "$1" --arg rep "$2" '.jobs[] |
		(if (.jobname | startswith("rand")) then "IOPS" else "MiB/s" end) as $unit |
		(.read.io_bytes + .write.io_bytes) as $bytes |
		(if .error != 0 or $bytes == 0 then error("\(.jobname): error \(.error), \($bytes) bytes")
		 else . end) |
		(.read.iops + .write.iops) as $iops |
		((.read.bw + .write.bw) / 1024) as $mibs |
		[$bs, .jobname, $rep, (if $unit == "IOPS" then $iops else $mibs end), $unit,
		 ((.read.clat_ns.mean + .write.clat_ns.mean) / 1000)] | @tsv' "$3" >>"$raw" ||
		fail "fio on $1 (repetition $2) reported an error (see $(basename "$3"))"
}

# phase BACKSTORE REP: set the backstore up, run fio, tear it down.
phase() {
	local bs=$1 rep=$2 dev out errs
	out=$RESULTS/fio-$bs-$rep.json
	[ "$bs" = fileio ] || start_daemon "$bs"
	dev=$(attach "$bs")
	errs=$(io_errors)
	step "repetition $rep: $bs on $dev"
	# shellcheck disable=SC2046 # one argument per line
	fio --output-format=json --output="$out" --filename="$dev" --direct=1 \
		--ioengine=libaio --time_based --runtime="$seconds" --ramp_time=1 \
		$(fio_args) || fail "fio on $bs (repetition $rep) failed (see $(basename "$out"))"
	[ "$(io_errors)" = "$errs" ] || fail "the kernel logged I/O errors during $bs, repetition $rep"
	record "$bs" "$rep" "$out"
	cleanup_target
	[ "$bs" = fileio ] || stop_daemon
}

# build_type: the CMake build type of $LUNAR_BUILD (numbers from a Debug
# build say little).
build_type() {
	sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$LUNAR_BUILD/CMakeCache.txt" 2>/dev/null |
		grep . || echo unknown
}

# report: medians per backstore and workload, ratios of medians, as a
# table (stdout, perf.txt) and JSON (perf.json).
report() {
	jq -R -s --arg reps "$reps" --arg seconds "$seconds" --arg size "$size" \
		--arg build "$(build_type)" -f /dev/stdin "$raw" >"$RESULTS/perf.json" <<-'EOF'
		def median: sort | if length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[split("\n")[] | select(length > 0) | split("\t") |
		 {bs: .[0], w: .[1], rep: (.[2] | tonumber), v: (.[3] | tonumber), unit: .[4],
		  lat_us: (.[5] | tonumber)}] as $rows |
		($rows | map(.w) | unique) as $ws |
		def med($b; $w): [$rows[] | select(.bs == $b and .w == $w) | .v] | median;
		{reps: ($reps | tonumber), seconds: ($seconds | tonumber), size: $size,
		 lunard_build: $build, runs: $rows,
		 workloads: [$ws[] as $w | {workload: $w,
			unit: ([$rows[] | select(.w == $w)][0].unit),
			fileio: med("fileio"; $w), lunard: med("lunard"; $w),
			"tcmu-runner": med("tcmu-runner"; $w)} |
			. + {lunard_vs_tcmu_runner: (.lunard / .["tcmu-runner"]),
			     lunard_vs_fileio: (.lunard / .fileio)}]}
	EOF
	jq -r '"lunard build: \(.lunard_build); \(.reps) repetitions, \(.seconds) s per job, \(.size) tmpfs file"' \
		"$RESULTS/perf.json" | tee "$RESULTS/perf.txt"
	jq -r '(["workload", "unit", "fileio", "lunard", "tcmu-runner", "lunard/tcmu-runner", "lunard/fileio"] | @tsv),
		(.workloads[] | [.workload, .unit, (.fileio | round), (.lunard | round),
			(.["tcmu-runner"] | round), (.lunard_vs_tcmu_runner * 100 | round / 100),
			(.lunard_vs_fileio * 100 | round / 100)] | @tsv)' "$RESULTS/perf.json" |
		column -t -s $'\t' | tee -a "$RESULTS/perf.txt"
}

step "backing file $img: $size, written in full"
dd if=/dev/zero of="$img" bs=1M count=$(($(to_bytes "$size") >> 20)) status=none ||
	fail "cannot write $img"
: >"$raw"
for ((rep = 1; rep <= reps; rep++)); do
	for ((i = 0; i < ${#backstores[@]}; i++)); do
		phase "${backstores[(i + rep - 1) % ${#backstores[@]}]}" "$rep"
	done
done
report
pass
