#!/bin/bash
# iSCSI conformance of lunard beside tcmu-runner 1.5.4 and the kernel:
# libiscsi's iscsi-test-cu runs every SCSI.* and iSCSI.* test against one
# LUN at a time, exported by LIO's iSCSI target on 127.0.0.1: the kernel's
# rd_mcp, Debian's tcmu-runner 1.5.4 (its qcow handler on a raw file) and
# lunard's file handler.  Per backstore $RESULTS/conformance-<name>.txt
# (counts, failed tests) and .tests (every test's outcome); the comparison
# in $RESULTS/conformance.txt.  docs/conformance.md explains the results.
#
# Fails if lunard passes fewer tests than tcmu-runner or rd_mcp, or fails
# a test that passes on rd_mcp, except
#  - when every assertion it fails is about the iSCSI residual count: the
#    kernel's TCMU passthrough never parses the CDB, and its ring can only
#    shorten data-in, so no TCMU daemon can make LIO report an overflow;
#  - when, run again alone up to RERUNS times, the test passes once on
#    lunard or fails once on a fresh rd_mcp LUN: a race outside lunard
#    (see docs/conformance.md, Reserve6).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require iscsi-test-cu

LUN_SIZE=64M
RERUNS=5
BACKSTORES=(rd_mcp tcmu-runner lunard)

# Kernel messages for every out-of-range LBA would go to the serial
# console, which is slow under TCG; dmesg still has them.
echo 1 >/proc/sys/kernel/printk

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

# itc_outcomes LOG: one line per test, "pass|skip|fail SUITE.TEST", with
# " residual" after a failure whose failed assertions all concern the
# iSCSI residual.  CUnit counts a skip as a pass; libiscsi says [SKIPPED].
itc_outcomes() {
	awk '
	function flush() {
		if (failed != "")
			print "fail", failed (asserts && asserts == residual ? " residual" : "")
		failed = ""
	}
	/^Suite: / { flush(); suite = $2; next }
	/^Run Summary/ { flush(); next }
	/^  Test: / {
		flush(); test = suite "." $2; skipped = 0
		sub(/^  Test: [^ ]+ \.\.\./, "")
	}
	failed != "" && /^ +[0-9]+\. [^ ]+\.c:[0-9]+ +- / {
		asserts++
		if (substr($0, index($0, " - ")) ~ /residual/)
			residual++
		next
	}
	test == "" { next }
	/\[SKIPPED\]/ { skipped = 1 }
	/^passed/ { print (skipped ? "skip" : "pass"), test; test = ""; next }
	/^FAILED/ { failed = test; asserts = residual = 0; test = ""; next }
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

# itc_suite NAME BACKSTORE: every SCSI.* and iSCSI.* test on BACKSTORE as
# LUN 0 of a fresh iSCSI target; outcomes and counts into $RESULTS.
itc_suite() {
	local name=$1 iqn out=$RESULTS/conformance-$1.tests t0=$SECONDS
	iqn=$(iscsi_target_setup "$2")
	step "iscsi-test-cu on $name"
	itc_run "$name" SCSI,iSCSI "iscsi://127.0.0.1/$iqn/0"
	itc_outcomes "$RESULTS/conformance-$name.log" | LC_ALL=C sort -k2,2 >"$out"
	itc_check "$name"
	{
		printf 'backstore: %s\ntests: %d passed: %d failed: %d skipped: %d\n' \
			"$name" "$(wc -l <"$out")" "$(count pass "$out")" \
			"$(count fail "$out")" "$(count skip "$out")"
		echo "failed:"
		awk '$1 == "fail" { print "  " $2 ($3 ? " (" $3 " only)" : "") }' "$out"
	} >"$RESULTS/conformance-$name.txt"
	step "$name: $(sed -n 2p "$RESULTS/conformance-$name.txt") ($((SECONDS - t0)) s)"
}

# suspects: lunard's failures that pass on rd_mcp, residual-only ones aside.
suspects() {
	LC_ALL=C join -j 2 "$RESULTS/conformance-lunard.tests" "$RESULTS/conformance-rd_mcp.tests" |
		awk '$2 == "fail" && $3 != "residual" && $NF == "pass" { print $1 }'
}

# itc_alone NAME TEST URL: run TEST alone; prints its outcome.
itc_alone() {
	local outcome
	itc_run "$1" "[Si]*.$2" "$3"
	outcome=$(itc_outcomes "$RESULTS/conformance-$1.log" | cut -d' ' -f1)
	[ -n "$outcome" ] || fail "$2 did not run (see conformance-$1.log)"
	echo "$outcome"
}

# rerun_suspects LUNARD_URL RD_MCP_URL: each suspect alone, in turn on
# lunard and on a fresh rd_mcp LUN, up to RERUNS times each.  It is
# lunard's own failure only if it fails every time on lunard and passes
# every time on rd_mcp.  Verdicts in conformance-reruns.txt.
rerun_suspects() {
	local t i verdict lunard rd_mcp
	: >"$RESULTS/conformance-reruns.txt"
	for t in $(suspects); do
		verdict="lunard's own: fails $RERUNS of $RERUNS times, rd_mcp passes"
		for ((i = 1; i <= RERUNS; i++)); do
			lunard=$(itc_alone "rerun-lunard-$t-$i" "$t" "$1")
			if [ "$lunard" != fail ]; then
				verdict="flaky: passes on lunard in rerun $i"
				break
			fi
			rd_mcp=$(itc_alone "rerun-rd_mcp-$t-$i" "$t" "$2")
			if [ "$rd_mcp" = fail ]; then
				verdict="flaky: fails on rd_mcp too in rerun $i"
				break
			fi
		done
		echo "$t: $verdict" >>"$RESULTS/conformance-reruns.txt"
	done
}

run_rd_mcp() {
	local bs
	bs=$(make_kernel_backstore rd_mcp rd0 "$LUN_SIZE")
	itc_suite rd_mcp "$bs"
	cleanup_target
}

run_tcmu_runner() {
	local bs
	start_daemon tcmu-runner
	truncate -s "$LUN_SIZE" /tmp/qcow0.img	# the qcow handler probes it
	bs=$(make_user_backstore qcow0 "$LUN_SIZE" qcow//tmp/qcow0.img)
	itc_suite tcmu-runner "$bs"
	cleanup_target
	stop_daemon
}

# The suspects' reruns on rd_mcp go to a second target, so that lunard's
# run saw a target with one LUN, as the others did.
run_lunard() {
	local bs rd iqn
	start_daemon lunard
	bs=$(make_user_backstore file0 "$LUN_SIZE" file//tmp/file0.img)
	itc_suite lunard "$bs"
	if [ -n "$(suspects)" ]; then
		rd=$(make_kernel_backstore rd_mcp rd1 "$LUN_SIZE")
		iqn=$(ISCSI_IQN=$ISCSI_IQN.reruns iscsi_target_setup "$rd")
		rerun_suspects "iscsi://127.0.0.1/$ISCSI_IQN/0" "iscsi://127.0.0.1/$iqn/0"
	fi
	cleanup_target
	stop_daemon
}

# summary: counts side by side, lunard's failures sorted by where else
# they fail, and the verdict (its status).
summary() {
	local b passed bad=0
	local rd=$RESULTS/conformance-rd_mcp.tests lu=$RESULTS/conformance-lunard.tests
	printf '%-12s %6s %6s %6s %7s\n' backstore tests passed failed skipped
	for b in "${BACKSTORES[@]}"; do
		printf '%-12s %6d %6d %6d %7d\n' "$b" "$(wc -l <"$RESULTS/conformance-$b.tests")" \
			"$(count pass "$RESULTS/conformance-$b.tests")" \
			"$(count fail "$RESULTS/conformance-$b.tests")" \
			"$(count skip "$RESULTS/conformance-$b.tests")"
	done
	echo
	echo "lunard failures, by their outcome on rd_mcp:"
	LC_ALL=C join -j 2 "$lu" "$rd" | awk '$2 == "fail" {
		printf "  %-45s rd_mcp %s%s\n", $1, $NF, ($3 == "residual" ? " (lunard: residual only)" : "") }'
	echo "run again alone, on lunard and on rd_mcp:"
	sed 's/^/  /' "$RESULTS/conformance-reruns.txt"
	passed=$(count pass "$lu")
	for b in rd_mcp tcmu-runner; do
		if [ "$passed" -lt "$(count pass "$RESULTS/conformance-$b.tests")" ]; then
			echo "FAIL: lunard passes fewer tests than $b"
			bad=1
		fi
	done
	if grep -q "lunard's own" "$RESULTS/conformance-reruns.txt"; then
		echo "FAIL: lunard fails tests that pass on rd_mcp"
		bad=1
	fi
	return "$bad"
}

step "rd_mcp"
run_rd_mcp
step "tcmu-runner (qcow on a raw file)"
run_tcmu_runner
step "lunard (file handler)"
: >"$RESULTS/conformance-reruns.txt"
run_lunard
summary >"$RESULTS/conformance.txt" || { cat "$RESULTS/conformance.txt"; fail "see conformance.txt"; }
cat "$RESULTS/conformance.txt"
pass
