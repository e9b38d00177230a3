#!/bin/bash
# targetcli-fb, unmodified, administers lunard's backstores over D-Bus
# (org.kernel.TCMUService1) on a real system bus: it lists the user:
# backstore types lunard's handlers provide, creates a user:file backstore
# (its CheckConfig call reaching the file handler), exports it through
# tcm_loop for fio with verification, is refused a configuration the handler
# rejects, and deletes it again.  Meanwhile one device whose handler takes
# seconds to accept its configuration must not hold up another device's
# creation or D-Bus calls.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require targetcli gdbus fio

# lunard's handlers plus handler_probe (its check_config can sleep).
hdir=/tmp/handlers
mkdir -p "$hdir"
ln -s "$LUNAR_BUILD"/handlers/*.so "$LUNAR_BUILD/tests/handler_probe.so" "$hdir/"

start_dbus
start_daemon lunard --handler-path "$hdir"
wait_for "gdbus introspect --system --dest org.kernel.TCMUService1 --object-path /org/kernel/TCMUService1/file" 20 ||
	fail "lunard did not appear on the system bus"

# tcli ARGS...: targetcli's output (stdout and stderr) and exit status.
tcli() {
	local out rc=0
	out=$(targetcli "$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	return "$rc"
}

step "targetcli lists lunard's handlers"
out=$(tcli ls /backstores) || fail "targetcli ls /backstores failed"
printf '%s\n' "$out" >"$RESULTS/targetcli-ls.txt"
for t in user:file user:ram user:probe; do
	grep -q "o- $t " <<<"$out" || fail "targetcli does not list $t: $out"
done

step "targetcli creates user:file t1"
tcli /backstores/user:file create name=t1 size=64M cfgstring=/tmp/t1.img >/dev/null ||
	fail "targetcli could not create user:file t1"
rc=0
out=$(tcli ls /backstores/user:file) || rc=$?
[ "$rc" = 0 ] && grep -q "o- t1 " <<<"$out" ||
	fail "targetcli does not list t1 after creating it (ls exit $rc): $out"
[ "$(stat -c %s /tmp/t1.img)" = $((64 << 20)) ] || fail "lunard did not create /tmp/t1.img"

step "targetcli exports t1 through tcm_loop"
wwn=naa.5001405aaaaaaaaa
tcli /loopback create "$wwn" >/dev/null || fail "targetcli /loopback create failed"
tcli "/loopback/$wwn/luns" create /backstores/user:file/t1 >/dev/null ||
	fail "targetcli could not map t1 as a LUN"
addr=$(cat "$CFG/loopback/$wwn/tpgt_1/address")
wait_for "_block_of $addr:0" "$DEVICE_TIMEOUT" || fail "no block device for t1"
dev=/dev/$(_block_of "$addr:0")
t1_dir=$(echo "$CFG"/core/user_*/t1)
check_identity "$dev" "$t1_dir"
fio_verify "$dev" 16M

step "targetcli is refused a configuration the handler rejects"
if out=$(tcli /backstores/user:file create name=bad size=1M cfgstring=/no/such/dir/x.img); then
	fail "targetcli created a backstore on a missing directory: $out"
fi
grep -q -i "no such\|not\|cannot" <<<"$out" || fail "no reason given for the refusal: $out"
! compgen -G "$CFG/core/user_*/bad" >/dev/null || fail "a refused backstore was left in configfs"

step "a slow device does not hold up another or D-Bus"
# probe/sleep=8000: check_config sleeps 8 s inside the device's add.
mkdir -p "$CFG/core/user_9/slow"
printf 'dev_size=1048576' >"$CFG/core/user_9/slow/control"
printf 'dev_config=probe/sleep=8000' >"$CFG/core/user_9/slow/control"
(printf 1 >"$CFG/core/user_9/slow/enable") 2>/dev/null &
slow=$!
sleep 0.5
t0=$(_now_ms)
out=$(tcli /backstores/user:ram create name=quick size=16M cfgstring=quick) ||
	fail "creating user:ram quick failed while another device was opening: $out"
gdbus call --system --dest org.kernel.TCMUService1 \
	--object-path /org/kernel/TCMUService1/ram \
	--method org.kernel.TCMUService1.CheckConfig ram/x >/dev/null ||
	fail "CheckConfig failed while another device was opening"
quick_ms=$(($(_now_ms) - t0))
# Had lunard (or the kernel) serialised them, the slow add would be over.
kill -0 "$slow" 2>/dev/null ||
	fail "the quick device and CheckConfig took $quick_ms ms: they waited for the slow device"
step "quick device + CheckConfig done in $quick_ms ms while the slow one was still opening"
wait "$slow" || true	# the probe handler never opens devices
rmdir "$CFG/core/user_9/slow" "$CFG/core/user_9"
tcli /backstores/user:ram delete quick >/dev/null || fail "targetcli delete quick failed"

step "targetcli deletes t1"
tcli /loopback delete "$wwn" >/dev/null || fail "targetcli /loopback delete failed"
tcli /backstores/user:file delete t1 >/dev/null || fail "targetcli could not delete t1"
[ ! -e "$t1_dir" ] || fail "t1 is still in configfs"
grep -q "file/t1: removed" "$LOGDIR/lunard.log" || fail "lunard did not close t1"

stop_daemon
pass
