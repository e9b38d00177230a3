# Helpers for the comparison scripts in tests/bench (sourced).

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# fio_iops: read + write IOPS of the first job of fio's JSON on stdin.
fio_iops() {
	python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(j["read"]["iops"] + j["write"]["iops"])'
}

# bench_iops: the IOPS of lunar-bench --json on stdin.
bench_iops() { sed -n 's/.*"iops":\([0-9.]*\).*/\1/p'; }
