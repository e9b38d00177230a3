#!/bin/bash
# Run one libFuzzer target for LUNAR_FUZZ_SECONDS (default 60) from its
# committed seed corpus, and print what it did: executions, coverage,
# corpus size.  A crash, leak, sanitizer report or hang (-timeout) fails;
# the input that did it is kept in $LUNAR_FUZZ_ARTIFACTS (default: the
# current directory) as crash-*/timeout-*/leak-*, and printed.
#
# usage: run-target.sh FUZZ_BINARY SEED_DIR [libFuzzer options...]
set -euo pipefail
bin=${1:?usage: run-target.sh FUZZ_BINARY SEED_DIR [options...]}
seeds=${2:?usage: run-target.sh FUZZ_BINARY SEED_DIR [options...]}
shift 2
name=$(basename "$bin")
seconds=${LUNAR_FUZZ_SECONDS:-60}
artifacts=${LUNAR_FUZZ_ARTIFACTS:-$PWD}
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] ||
	{ echo "run-target: FAIL: no seed corpus in $seeds" >&2; exit 1; }
work=$(mktemp -d "/tmp/lunar-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$seeds/." "$work/"
log=$work.log
rc=0
"$bin" "$work" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$@" \
	>"$log" 2>&1 || rc=$?
stat() { awk -v k="stat::$1:" '$1 == k { print $2 }' "$log" | tail -1; }
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
corpus=$(ls "$work" | wc -l)
echo "fuzz $name: ${seconds} s, $(stat number_of_executed_units) executions ($(stat average_exec_per_sec)/s), coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$seeds" | wc -l) -> $corpus inputs, peak RSS $(stat peak_rss_mb) MB"
if [ "$rc" != 0 ]; then
	echo "run-target: FAIL: $name exited $rc; its output:" >&2
	tail -60 "$log" >&2
	ls "$artifacts/$name-"* 2>/dev/null | sed 's/^/run-target: reproducer: /' >&2 || true
fi
rm -f "$log"
exit "$rc"
