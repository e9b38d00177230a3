#!/bin/bash
# lunard's dynamic symbol table against the handler ABI:
#  1. every tcmu_*/tcmur_* symbol a Debian tcmu-runner 1.5.4 handler binary
#     needs is exported by lunard;
#  2. every function declared in include/ is exported;
#  3. lunard exports nothing else (internals stay hidden).
# usage: check-exports.sh LUNARD INCLUDE_DIR DEBIAN_HANDLER_DIR
# Exit 77 ("SKIP:") without Debian's handler binaries: 1 cannot be checked.
set -euo pipefail
lunard=$1 include=$2 debian=$3
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lunard" | awk '$2 == "T" {print $3}' |
	grep -vE '^(_start|_init|_fini|__libc_csu_.*|main)$' | sort -u >"$tmp/exported"

# Function declarations in the public headers (not macros).
grep -hv '^#' "$include"/*.h |
	grep -oE '\b(__tcmu|tcmu|tcmur|lunar)_[a-z0-9_]+\(' | tr -d '(' |
	sort -u >"$tmp/declared"

if ! ls "$debian"/handler_*.so >/dev/null 2>&1; then
	echo "SKIP: no Debian handler binaries in $debian (apt-get install tcmu-runner)"
	exit 77
fi
for so in "$debian"/handler_*.so; do
	nm -D --undefined-only "$so" | awk '{print $2}' | grep -E '^(tcmu|tcmur)_'
done | sort -u >"$tmp/needed"
missing=$(comm -23 "$tmp/needed" "$tmp/exported")
if [ -n "$missing" ]; then
	echo "FAIL: symbols Debian's 1.5.4 handlers need but lunard does not export:"
	echo "$missing"
	fail=1
else
	echo "ok: all $(wc -l <"$tmp/needed") tcmu_*/tcmur_* symbols used by $(ls "$debian"/handler_*.so | wc -l) Debian handler binaries are exported"
fi

missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$missing" ]; then
	echo "FAIL: declared in include/ but not exported:"
	echo "$missing"
	fail=1
else
	echo "ok: all $(wc -l <"$tmp/declared") functions declared in include/ are exported"
fi

extra=$(comm -13 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ]; then
	echo "FAIL: exported but not part of include/:"
	echo "$extra"
	fail=1
else
	echo "ok: lunard exports nothing beyond include/"
fi
exit $fail
