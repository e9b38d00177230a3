#!/bin/bash
# No silent skips in the test sources: a test that cannot run exits 77
# with a "SKIP: why" line (tests/run-tier.sh then fails the tier unless
# tests/allowed-skips excuses it), it never passes without checking.
#  - cmocka's skip() marks one test skipped and the binary still exits 0;
#  - a scenario's own "exit 77" bypasses lib.sh's skip()/require, which
#    print the reason;
#  - print_message/printf about something "skipped" or "not run" is how a
#    check that returns early without asserting usually reads.
# usage: no-silent-skips.sh TESTS_DIR
set -euo pipefail
dir=${1:?usage: no-silent-skips.sh TESTS_DIR}
bad=0

# report WHAT: grep's matches on stdin, each named as a violation.
report() {
	local what=$1 line
	while IFS= read -r line; do
		echo "FAIL: $what: ${line#"$dir"/}"
		bad=1
	done
}

report "cmocka skip()" < <(grep -rnE '(^|[^_[:alnum:]])skip\(\)' --include='*.c' "$dir")
report "scenario exits 77 itself" < <(grep -nE 'exit[[:space:]]+77' "$dir"/vm/scenario-*.sh)
report "a check that reports itself not done" < <(grep -rniE \
	'(print_message|printf)\(.*(skipped|not run|not checked)' --include='*.c' "$dir")
[ "$bad" = 0 ] && echo "ok: no silent skips in $dir"
exit "$bad"
