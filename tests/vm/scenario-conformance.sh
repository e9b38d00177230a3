#!/bin/bash
# iSCSI conformance: libiscsi's iscsi-test-cu runs every SCSI.* and
# iSCSI.* test against one LUN at a time, exported by LIO's iSCSI target
# on 127.0.0.1, for each backstore named:
#
#   scenario-conformance.sh BACKSTORE...
#     rd_mcp        the kernel's own SPC/SBC emulation (a RAM disk)
#     tcmu-runner   Debian's tcmu-runner 1.5.4 (its qcow handler on a raw
#                   file: Debian ships no file handler)
#     lunard-file   lunard's file handler
#     lunard-ram    lunard's ram handler
#     lunard-rbd    lunard's rbd handler on the host's Ceph
#                   (CONFORMANCE_CEPH: the cluster.sh directory; run-vm.sh
#                   --nic user; tests/vm/conformance-rbd.sh sets it up)
#
# Every lunard backstore's outcome of every test (pass, fail, skip) must be
# the one tests/vm/conformance/<backstore>.expected records, where each
# fail and skip carries its reason: any change, better or worse, fails the
# scenario until that file is updated in the same commit (a proposed file
# is written to $RESULTS/<backstore>.expected.new).  With tcmu-runner and
# lunard-file both run, lunard-file must also pass at least as many tests
# as tcmu-runner and rd_mcp.  Per backstore $RESULTS/conformance-<name>.log
# (iscsi-test-cu's output), .tests (every outcome) and .txt (counts);
# docs/conformance.md explains the results.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require iscsi-test-cu

LUN_SIZE=64M
EXPECTED_DIR=$(cd "$(dirname "$0")" && pwd)/conformance
[ $# -ge 1 ] || fail "usage: scenario-conformance.sh BACKSTORE... (rd_mcp tcmu-runner lunard-file lunard-ram lunard-rbd)"

# Kernel messages for every out-of-range LBA would go to the serial
# console, which is slow under TCG; dmesg still has them.
echo 1 >/proc/sys/kernel/printk

# test_order: the suites in the order they are to run — iSCSI's, then
# SCSI's, SCSI.Reserve6 last: RESERVE(6) is LIO's own (it never reaches a
# TCMU daemon) and its Logout test can leave a reservation of an old
# session behind for a moment, which the tests after it would meet as
# RESERVATION CONFLICT.  As a comma-separated --test list, which
# iscsi-test-cu registers from the last item to the first.
test_order() {
	local -a order
	mapfile -t order < <(iscsi-test-cu -l | awk -F. '
		NF == 2 && $1 == "iSCSI" { print }
		NF == 2 && $1 == "SCSI" && $2 != "Reserve6" { scsi[++n] = $0 }
		END { for (i = 1; i <= n; i++) print scsi[i]; print "SCSI.Reserve6" }')
	[ "${#order[@]}" -gt 40 ] || fail "iscsi-test-cu -l listed only ${#order[@]} suites"
	local i out=""
	for ((i = ${#order[@]} - 1; i >= 0; i--)); do
		out+=${out:+,}${order[i]}
	done
	echo "$out"
}

# itc_run NAME TESTS URL: iscsi-test-cu on TESTS, its output in
# $RESULTS/conformance-NAME.log.  The LUNs are scratch: destructive tests
# are allowed.  SANITIZE tests are not: no backstore here implements
# SANITIZE, and the suite leaves a second initiator's reservation behind
# that fails the tests after it.  It runs in an empty directory: a file
# named like a test would be read as a list of tests.
itc_run() {
	local name=$1 tests=$2 url=$3 dir rc=0
	dir=$(mktemp -d)
	(cd "$dir" && iscsi-test-cu --dataloss --test="$tests" "$url") \
		>"$RESULTS/conformance-$name.log" 2>&1 || rc=$?
	rmdir "$dir"
	# 1 means some test failed; anything else means it could not run.
	[ "$rc" -le 1 ] || fail "iscsi-test-cu on $name exited with $rc (see conformance-$name.log)"
}

# itc_outcomes LOG: one line per test, "pass|skip|fail SUITE.TEST".  CUnit
# counts a skip as a pass; libiscsi says [SKIPPED].
itc_outcomes() {
	awk '
	function flush() { if (failed != "") print "fail", failed; failed = "" }
	/^Suite: / { flush(); suite = $2; next }
	/^Run Summary/ { flush(); next }
	/^  Test: / {
		flush(); test = suite "." $2; skipped = 0
		sub(/^  Test: [^ ]+ \.\.\./, "")	# the outcome may follow on this line
	}
	test == "" { next }
	/\[SKIPPED\]/ { skipped = 1 }
	/^passed/ { print (skipped ? "skip" : "pass"), test; test = ""; next }
	/^FAILED/ { failed = test; test = ""; next }
	END { flush() }' "$1"
}

# count OUTCOME FILE
count() { grep -c "^$1 " "$2" || true; }

# itc_check NAME: the parsed outcomes agree with CUnit's own run summary
# ("tests  Total  Ran  Passed  Failed  Inactive").
itc_check() {
	local log=$RESULTS/conformance-$1.log out=$RESULTS/conformance-$1.tests
	local summary ran passed failed
	summary=$(awk '$1 == "tests" && NF == 6 { print $3, $4, $5 }' "$log")
	[ -n "$summary" ] || fail "$1: iscsi-test-cu printed no run summary (see conformance-$1.log)"
	read -r ran passed failed <<<"$summary"
	if [ "$(wc -l <"$out")" -ne "$ran" ] ||
		[ $(($(count pass "$out") + $(count skip "$out"))) -ne "$passed" ] ||
		[ "$(count fail "$out")" -ne "$failed" ]; then
		fail "$1: parsed outcomes disagree with CUnit's summary ($ran run, $passed passed, $failed failed)"
	fi
}

# itc_suite NAME BACKSTORE_PATH: every test on BACKSTORE_PATH as LUN 0 of
# a fresh iSCSI target; outcomes and counts into $RESULTS.
itc_suite() {
	local name=$1 iqn out=$RESULTS/conformance-$1.tests t0=$SECONDS
	iqn=$(iscsi_target_setup "$2")
	step "iscsi-test-cu on $name"
	itc_run "$name" "$TESTS" "iscsi://127.0.0.1/$iqn/0"
	itc_outcomes "$RESULTS/conformance-$name.log" | LC_ALL=C sort -k2,2 >"$out"
	itc_check "$name"
	printf 'backstore: %s\ntests: %d passed: %d failed: %d skipped: %d\n' \
		"$name" "$(wc -l <"$out")" "$(count pass "$out")" \
		"$(count fail "$out")" "$(count skip "$out")" >"$RESULTS/conformance-$name.txt"
	step "$name: $(sed -n 2p "$RESULTS/conformance-$name.txt") ($((SECONDS - t0)) s)"
	cleanup_target
}

# expected_outcomes NAME: the expected file as "OUTCOME TEST REASON" lines,
# sorted by test; fails on a malformed line (a fail, skip or any without
# a reason, an unknown outcome, a test listed twice).
expected_outcomes() {
	local file=$EXPECTED_DIR/$1.expected
	[ -f "$file" ] || fail "no expected outcomes for $1 ($file)"
	awk '
		/^[[:space:]]*(#|$)/ { next }
		$1 !~ /^(pass|fail|skip|any)$/ { bad = bad "\n  line " NR ": unknown outcome " $1; next }
		$1 != "pass" && NF < 3 { bad = bad "\n  line " NR ": " $1 " " $2 " gives no reason"; next }
		seen[$2]++ { bad = bad "\n  line " NR ": " $2 " listed twice"; next }
		{ print }
		END { if (bad != "") { print FILENAME ":" bad > "/dev/stderr"; exit 1 } }' "$file" |
		LC_ALL=C sort -k2,2 || fail "$file is malformed (above)"
}

# compare_expected NAME: every outcome as expected; the differences, and
# a proposed expected file, otherwise.
compare_expected() {
	local name=$1 exp=$RESULTS/$1.expected.sorted diffs
	expected_outcomes "$name" >"$exp"
	diffs=$(LC_ALL=C join -j 2 -a 1 -a 2 -e MISSING -o 0,1.1,2.1 \
		"$RESULTS/conformance-$name.tests" "$exp" |
		awk '$3 != "any" && $2 != $3 { printf "  %-50s now %-7s expected %s\n", $1, $2, $3 }')
	[ -n "$diffs" ] || { step "$name: all $(wc -l <"$exp") outcomes as expected"; return 0; }
	propose "$name" "$exp" >"$RESULTS/$name.expected.new"
	printf '%s: outcomes differ from %s:\n%s\n' "$name" \
		"tests/vm/conformance/$name.expected" "$diffs" >>"$RESULTS/conformance.txt"
	return 1
}

# propose NAME SORTED_EXPECTED: the expected file this run would need,
# reasons kept where the outcome is unchanged (or "any").
propose() {
	sed -n '/^#/p' "$EXPECTED_DIR/$1.expected"
	LC_ALL=C join -j 2 -a 1 "$RESULTS/conformance-$1.tests" "$2" |
		awk '{ reason = ""
		       if (NF >= 3 && ($2 == $3 || $3 == "any")) {
			   out = $3; for (i = 4; i <= NF; i++) reason = reason " " $i
		       } else { out = $2; if (out != "pass") reason = " REASON NEEDED" }
		       print out, $1 reason }'
}

run_rd_mcp() {
	local bs
	bs=$(make_kernel_backstore rd_mcp rd0 "$LUN_SIZE")
	itc_suite rd_mcp "$bs"
}

run_tcmu-runner() {
	local bs
	start_daemon tcmu-runner
	truncate -s "$LUN_SIZE" /tmp/qcow0.img	# the qcow handler probes it
	bs=$(make_user_backstore qcow0 "$LUN_SIZE" qcow//tmp/qcow0.img)
	itc_suite tcmu-runner "$bs"
	stop_daemon
}

# run_lunard NAME CFGSTRING
run_lunard() {
	local bs
	start_daemon lunard
	bs=$(make_user_backstore "${1#lunard-}0" "$LUN_SIZE" "$2")
	itc_suite "$1" "$bs"
	stop_daemon
}

run_lunard-file() { run_lunard lunard-file file//tmp/file0.img; }
run_lunard-ram() { run_lunard lunard-ram ram/conformance; }
run_lunard-rbd() {
	[ -n "${CONFORMANCE_CEPH:-}" ] || fail "lunard-rbd needs CONFORMANCE_CEPH (tests/vm/conformance-rbd.sh)"
	ceph_client_setup "$CONFORMANCE_CEPH"
	run_lunard lunard-rbd "rbd/rbd/conformance;conf=/run/ceph/ceph.conf"
}

# summary: counts side by side.
summary() {
	local b
	printf '%-12s %6s %6s %6s %7s\n' backstore tests passed failed skipped
	for b in "$@"; do
		printf '%-12s %6d %6d %6d %7d\n' "$b" "$(wc -l <"$RESULTS/conformance-$b.tests")" \
			"$(count pass "$RESULTS/conformance-$b.tests")" \
			"$(count fail "$RESULTS/conformance-$b.tests")" \
			"$(count skip "$RESULTS/conformance-$b.tests")"
	done
}

# fewer_passes_than OTHER: lunard-file passes fewer tests than OTHER.
fewer_passes_than() {
	[ -f "$RESULTS/conformance-$1.tests" ] && [ -f "$RESULTS/conformance-lunard-file.tests" ] &&
		[ "$(count pass "$RESULTS/conformance-lunard-file.tests")" -lt \
			"$(count pass "$RESULTS/conformance-$1.tests")" ]
}

TESTS=$(test_order)
for b in "$@"; do
	declare -F "run_$b" >/dev/null || fail "unknown backstore '$b'"
done
for b in "$@"; do
	step "$b"
	"run_$b"
done
summary "$@" >"$RESULTS/conformance.txt"
bad=0
for b in "$@"; do
	[[ $b != lunard-* ]] || compare_expected "$b" || bad=1
done
for b in rd_mcp tcmu-runner; do
	! fewer_passes_than "$b" || { echo "lunard-file passes fewer tests than $b" >>"$RESULTS/conformance.txt"; bad=1; }
done
cat "$RESULTS/conformance.txt"
[ "$bad" = 0 ] || fail "conformance outcomes changed (above; proposed files in the results: <backstore>.expected.new)"
pass
