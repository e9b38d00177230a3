#!/bin/bash
# Side-by-side I/O performance through the real kernel, one VM run, all on
# the same preallocated tmpfs file, each exported through tcm_loop:
#   fileio       the kernel's fileio backstore (the ceiling);
#   lunard-qcow  lunard serving the file with Debian's tcmu-runner 1.5.4
#                handler_qcow.so (raw fallback: the file has no qcow header),
#                loaded unchanged;
#   tcmu-runner  Debian's tcmu-runner 1.5.4 with the same handler_qcow.so
#                (Debian ships no file handler);
#   lunard-file  lunard's own file handler, for reference against fileio.
# lunard-qcow / tcmu-runner is the daemon comparison: same backend, same
# handler binary; lunard-file runs a different backend, so its ratio is to
# fileio only.  Threads per device, both daemons alike with the qcow
# handler: a command thread that takes commands off the ring and one
# worker thread that runs the handler's synchronous callouts; lunard's
# command thread spins 20 us for new ring entries after each batch,
# tcmu-runner's sleeps at once.  lunard-file does the I/O on its command
# thread.
# fio (libaio, O_DIRECT): 4 KiB random read and write at QD16, 1 MiB
# sequential read and write at QD4, each after a 1 s ramp.  The daemons
# cannot run together, so each repetition runs the backstores one after
# the other, in an order rotated per repetition (a Latin square when the
# repetitions are a multiple of four), so drift hits all alike.  Medians,
# min-max and ratios of medians go to stdout and $RESULTS/perf.{txt,json}.
# Fails on any I/O error and when a tool or Debian's handler_qcow.so is
# missing; performance is reported, never asserted (the machine is noisy).
#
# Both TCMU devices get hw_max_sectors=PERF_MAX_SECTORS (2048: 1 MiB, as
# ceph-iscsi's gateways configure; the TCMU default of 128 splits a 1 MiB
# request into 16 commands while fileio takes it whole).
#
# PERF_REPS (3), PERF_SECONDS (4, per fio job after a 1 s ramp), PERF_SIZE
# (256M), PERF_MAX_SECTORS and PERF_LUNARD_OPTS (appended to lunard-file's
# cfgstring, e.g. ";engine=threads") may be passed with LUNAR_VM_ENV.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
for tool in fio jq column; do
	command -v "$tool" >/dev/null || fail "$tool is not installed on the host"
done

reps=${PERF_REPS:-3}
seconds=${PERF_SECONDS:-4}
size=${PERF_SIZE:-256M}
max_sectors=${PERF_MAX_SECTORS:-2048}
lunard_opts=${PERF_LUNARD_OPTS:-}
img=/tmp/perf.img
raw=$RESULTS/perf-raw.tsv
debian=/usr/lib/x86_64-linux-gnu/tcmu-runner
backstores=(fileio lunard-qcow tcmu-runner lunard-file)
# name rw bs iodepth; the unit of each is what the table reports.
workloads=("randread 4k 16" "randwrite 4k 16" "read 1M 4" "write 1M 4")

[ -f "$debian/handler_qcow.so" ] ||
	fail "Debian's tcmu-runner package (handler_qcow.so) is not installed on the host"

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

# start_server BACKSTORE: start the daemon that serves BACKSTORE, if any.
start_server() {
	case $1 in
	lunard-qcow) start_daemon lunard --handler-path "$debian" ;;
	lunard-file) start_daemon lunard ;;
	tcmu-runner) start_daemon tcmu-runner ;;
	esac
}

# attach BACKSTORE: its LUN on tcm_loop (its daemon running); prints /dev/sdX.
attach() {
	local bs
	case $1 in
	fileio) bs=$(make_kernel_backstore fileio perf "$size" "$img") ;;
	lunard-file) bs=$(make_user_backstore perf "$size" "file/$img$lunard_opts" \
		"hw_max_sectors=$max_sectors") ;;
	lunard-qcow | tcmu-runner) bs=$(make_user_backstore perf "$size" "qcow/$img" \
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
	start_server "$bs"
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

# report: per backstore and workload the median and min-max, ratios of
# medians, as a table (stdout, perf.txt) and JSON (perf.json).
report() {
	jq -R -s --arg reps "$reps" --arg seconds "$seconds" --arg size "$size" \
		--arg build "$(build_type)" -f /dev/stdin "$raw" >"$RESULTS/perf.json" <<-'EOF'
		def median: sort | if length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[split("\n")[] | select(length > 0) | split("\t") |
		 {bs: .[0], w: .[1], rep: (.[2] | tonumber), v: (.[3] | tonumber), unit: .[4],
		  lat_us: (.[5] | tonumber)}] as $rows |
		($rows | map(.w) | unique) as $ws |
		def stats($b; $w): [$rows[] | select(.bs == $b and .w == $w) | .v] |
			{median: median, min: min, max: max};
		{reps: ($reps | tonumber), seconds: ($seconds | tonumber), size: $size,
		 lunard_build: $build, runs: $rows,
		 workloads: [$ws[] as $w | {workload: $w,
			unit: ([$rows[] | select(.w == $w)][0].unit),
			fileio: stats("fileio"; $w), "lunard-qcow": stats("lunard-qcow"; $w),
			"tcmu-runner": stats("tcmu-runner"; $w),
			"lunard-file": stats("lunard-file"; $w)} |
			. + {lunard_qcow_vs_tcmu_runner: (.["lunard-qcow"].median / .["tcmu-runner"].median),
			     lunard_file_vs_fileio: (.["lunard-file"].median / .fileio.median)}]}
	EOF
	{
		jq -r '"lunard build: \(.lunard_build); \(.reps) repetitions, \(.seconds) s per job, \(.size) tmpfs file"' \
			"$RESULTS/perf.json"
		echo "lunard-qcow and tcmu-runner: Debian's 1.5.4 handler_qcow.so on the same raw file (the daemon comparison);"
		echo "lunard-file: lunard's file handler (compared with fileio only).  Medians, (min-max) over the repetitions."
		jq -r 'def cell($s): "\($s.median | round) (\($s.min | round)-\($s.max | round))";
			(["workload", "unit", "fileio", "lunard-qcow", "tcmu-runner", "lunard-file",
			  "lunard-qcow/tcmu-runner", "lunard-file/fileio"] | @tsv),
			(.workloads[] | [.workload, .unit, cell(.fileio), cell(.["lunard-qcow"]),
				cell(.["tcmu-runner"]), cell(.["lunard-file"]),
				(.lunard_qcow_vs_tcmu_runner * 100 | round / 100),
				(.lunard_file_vs_fileio * 100 | round / 100)] | @tsv)' "$RESULTS/perf.json" |
			column -t -s $'\t'
	} | tee "$RESULTS/perf.txt"
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
