# shellcheck shell=bash
# Helpers for the comparison scripts in tests/bench (sourced).  Each
# script runs every side of its comparison REPEATS times in one invocation,
# in rotated order, records one row per run and prints medians, spreads
# and ratios with `report`.

# need CMD PACKAGE: exit 1 unless CMD is installed, naming the package
# that has it (a benchmark that cannot run must not look like a pass).
need() {
	command -v "$1" >/dev/null && return
	echo "$(basename "$0"): $1 is missing: install the $2 package" >&2
	exit 1
}

# fio_iops: read + write IOPS of the first job of fio's JSON on stdin;
# fails if the job reports an error.
fio_iops() {
	python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
if j["error"]:
    sys.exit("fio: the job failed with error %d" % j["error"])
print(j["read"]["iops"] + j["write"]["iops"])'
}

# bench_iops: the IOPS of lunar-bench --json on stdin.
bench_iops() { python3 -c 'import json, sys; print(json.load(sys.stdin)["iops"])'; }

# rotated REP SIDE...: the sides in the order repetition REP (from 1) runs
# them, one a line.  A Latin square: over N repetitions each side runs
# first, second, ... once, so load drifting during the invocation, and
# whatever one run leaves behind for the next, hit every side alike.
rotated() {
	local rep=$1 i
	shift
	local -a sides=("$@")
	for ((i = 0; i < ${#sides[@]}; i++)); do
		echo "${sides[(i + rep - 1) % ${#sides[@]}]}"
	done
}

# measure TSV WORKLOAD SIDE REP PARSER CMD...: run CMD; append to TSV the
# row report reads, with IOPS from PARSER (fio_iops, bench_iops) on CMD's
# stdout and CPUS the CPUs CMD kept busy on average: the user + system
# time of all its threads (io_uring's and librbd's workers are threads of
# their process) over its wall time.  Fails if CMD or PARSER does.
measure() {
	local tsv=$1 label out times iops TIMEFORMAT='%U %S %R'
	local parser=$5
	label=$(printf '%s\t%s\t%s' "$2" "$3" "$4")
	shift 5
	out=$(mktemp)
	# time's report to the capture, CMD's stderr to ours (fd 3).
	times=$({ time "$@" >"$out" 2>&3; } 3>&2 2>&1) || { rm -f "$out"; return 1; }
	iops=$("$parser" <"$out") || { rm -f "$out"; return 1; }
	rm -f "$out"
	awk -v l="$label" -v i="$iops" '{ printf "%s\t%s\t%.2f\n", l, i, ($1 + $2) / $3 }' \
		<<<"$times" >>"$tsv"
}

# report TSV BASELINE: per workload and side (rows "WORKLOAD<tab>SIDE<tab>
# REP<tab>IOPS<tab>CPUS", in the order they first appear), the median IOPS
# (the lower one of an even count), min-max, median CPUs busy, and for the
# sides other than BASELINE the ratio of medians to BASELINE's with the
# spread of the per-repetition ratios.
report() {
	python3 - "$1" "$2" <<-'EOF'
	import sys
	rows, base = {}, sys.argv[2]
	for line in open(sys.argv[1]):
	    w, side, rep, iops, cpus = line.rstrip("\n").split("\t")
	    rows.setdefault(w, {}).setdefault(side, {})[rep] = (float(iops), float(cpus))

	def median(v):
	    return sorted(v)[(len(v) - 1) // 2]

	print("%-15s %-11s %9s %21s %5s  %s" % ("workload", "side", "IOPS", "(min-max)",
	                                         "CPUs", "ratio to " + base + " (per repetition)"))
	for w, sides in rows.items():
	    for side, runs in sides.items():
	        iops = [r[0] for r in runs.values()]
	        line = "%-15s %-11s %9.0f %21s %5.2f" % (
	            w, side, median(iops), "(%.0f-%.0f)" % (min(iops), max(iops)),
	            median([r[1] for r in runs.values()]))
	        if side != base:
	            b = sides[base]
	            ratios = [runs[k][0] / b[k][0] for k in runs]
	            line += "  %.3f (%.3f-%.3f)" % (median(iops) / median([r[0] for r in b.values()]),
	                                           min(ratios), max(ratios))
	        print(line)
	EOF
}
