#!/bin/bash
# Run one ctest tier and fail on anything that did not really run.
#
# usage: run-tier.sh BUILD_DIR LABEL_REGEX [ctest arguments...]
#
# ctest counts a test that exits with its SKIP_RETURN_CODE (77) as passed;
# here a skip fails the tier unless tests/allowed-skips lists the test with
# a reason.  The list is printed first, each skip with the reason the test
# gave (its last "SKIP:" line), and a label that matches no test is an
# error too.  ctest's JUnit report ($BUILD_DIR/junit-<label>.xml) is where
# skips are read from.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(realpath -e -- "${1:?usage: run-tier.sh BUILD_DIR LABEL_REGEX [ctest args...]}")
label=${2:?usage: run-tier.sh BUILD_DIR LABEL_REGEX [ctest args...]}
shift 2
allowed=$here/allowed-skips
junit=$build/junit-$(tr -c 'A-Za-z0-9_\n-' _ <<<"$label").xml

# allowed_entries: the list without comments and blank lines.
allowed_entries() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$allowed"; }

echo "== tier '$label' (${build##*/}): allowed skips (tests/allowed-skips):"
if [ -n "$(allowed_entries)" ]; then
	allowed_entries | sed 's/^/   /'
else
	echo "   none"
fi

rm -f "$junit"
rc=0
(cd "$build" && ctest -L "$label" --no-tests=error --output-on-failure \
	--output-junit "$junit" "$@") || rc=$?
[ -s "$junit" ] || { echo "run-tier: FAIL: ctest wrote no report ($junit)" >&2; exit 1; }

# One line per skipped test: "NAME<TAB>REASON".
skipped=$(python3 - "$junit" <<-'EOF'
	import sys, xml.etree.ElementTree as ET
	for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
	    if case.find("skipped") is None:
	        continue
	    out = case.findtext("system-out") or ""
	    reasons = [l.split("SKIP:", 1)[1].strip() for l in out.splitlines() if "SKIP:" in l]
	    print(case.get("name") + "\t" + (reasons[-1] if reasons else "(the test gave no SKIP: reason)"))
	EOF
)

bad=0
while IFS=$'\t' read -r name why; do
	[ -n "$name" ] || continue
	if allowed_entries | awk -v n="$name" '$1 == n { f = 1 } END { exit !f }'; then
		echo "run-tier: skipped (allowed): $name: $why"
	else
		echo "run-tier: FAIL: $name was skipped: $why" >&2
		bad=1
	fi
done <<<"$skipped"
[ "$bad" = 0 ] || echo "run-tier: a skipped test proves nothing; install what it names (deploy/install-deps.sh) or list it with a reason in tests/allowed-skips" >&2
[ "$rc" = 0 ] && [ "$bad" = 0 ]
