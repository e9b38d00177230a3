#!/bin/bash
# ceph-iscsi drives lunar: one guest booted on a gateway root
# (tests/vm/gateway-root.sh: lunar and ceph-iscsi installed from packages,
# run with run-vm.sh --root) runs lunard as the package installs it and
# rbd-target-api; gwcli — not hand-written configfs — creates the target,
# the gateway, two RBD disks, a host with CHAP and maps the disks; the
# same guest then logs in as that host and verifies I/O on both LUNs.
#
# Checked: the backstores ceph-iscsi made are lunard's (user:rbd with
# ceph-iscsi's cfgstring), lunard serves them, `gwcli ls` shows the
# gateway up and the disks mapped, fio's verification is clean, and what
# ceph-iscsi set that lunard must live with (cmd_time_out) is recorded.
#
# Environment: CI_CEPH (an --xshare'd directory with the host cluster's
# ceph.conf and keyring).  Results: gwcli-ls.txt, attrs.txt,
# fio-verify-<dev>.txt.
. "$(dirname "$0")/lib.sh"
set -euo pipefail

IQN=iqn.2003-01.com.example.iscsi-gw:lunar
HOST_IQN=iqn.1994-05.com.debian:lunar-initiator
GW=gw1 GW_IP=192.168.77.1
CHAP_USER=lunaruser CHAP_PASS=lunarpassword12
DISKS="disk1 disk2"
API=http://127.0.0.1:5000

[ -n "${CI_CEPH:-}" ] && [ -f "$CI_CEPH/ceph.conf" ] || fail "CI_CEPH has no ceph.conf"
require lunard rbd-target-api gwcli iscsiadm fio

# ceph.conf where ceph-iscsi looks (cluster "ceph"), its keyring beside.
ceph_setup() {
	ceph_client_setup "$CI_CEPH"
	mkdir -p /etc/ceph
	cp "$CI_CEPH/keyring" /etc/ceph/keyring
	sed -i "s|^\([[:space:]]*keyring = \).*|\1/etc/ceph/keyring|" /run/ceph/ceph.conf
	ln -sf /run/ceph/ceph.conf /etc/ceph/ceph.conf
	cat >/etc/ceph/iscsi-gateway.cfg <<-EOF
	[config]
	cluster_name = ceph
	pool = rbd
	api_secure = false
	trusted_ip_list = 127.0.0.1,$GW_IP
	minimum_gateways = 1
	EOF
}

# The gateway's name is its host name (ceph-iscsi compares them).
gateway_start() {
	hostname "$GW"
	echo "127.0.1.1 $GW" >>/etc/hosts
	ip addr add "$GW_IP/24" dev eth0 || fail "$GW_IP on eth0"
	start_daemon lunar-package
	# rbd-target-api logs to syslog too (/dev/log must exist) and to
	# /var/log/rbd-target-api, kept with the results.
	busybox syslogd -O "$LOGDIR/syslog" || fail "syslogd"
	mkdir -p "$LOGDIR/rbd-target-api"
	rm -rf /var/log/rbd-target-api
	ln -s "$LOGDIR/rbd-target-api" /var/log/rbd-target-api
	rbd-target-api >"$LOGDIR/rbd-target-api.out" 2>&1 &
	wait_for "curl -sf -u admin:admin $API/api/_ping" 120 ||
		fail "rbd-target-api did not answer on $API within 120 s (see logs/rbd-target-api.out)"
	step "rbd-target-api up"
}

# gw ARGS...: one gwcli command; gwcli exits 0 when the API refused it,
# so its words decide.
gw() {
	local out
	out=$(gwcli "$@" 2>&1) || fail "gwcli $*: $out"
	! grep -qiE "fail|error|no such path|invalid|can ?not" <<<"$out" || fail "gwcli $*: $out"
	step "gwcli $*${out:+: $out}"
}

configure_with_gwcli() {
	local t=/iscsi-targets/$IQN d
	gw /iscsi-targets create "$IQN"
	gw "$t/gateways" create "$GW" "$GW_IP" skipchecks=true
	for d in $DISKS; do gw /disks create pool=rbd "image=$d" size=64M; done
	gw "$t/hosts" create "$HOST_IQN"
	gw "$t/hosts/$HOST_IQN" auth "username=$CHAP_USER" "password=$CHAP_PASS"
	for d in $DISKS; do gw "$t/hosts/$HOST_IQN" disk add "rbd/$d"; done
	gwcli ls >"$RESULTS/gwcli-ls.txt" 2>&1 || fail "gwcli ls"
	local ls=$RESULTS/gwcli-ls.txt
	grep -q "\[$GW_IP (UP)\]" "$ls" || fail "gwcli ls: gateway $GW not up (gwcli-ls.txt)"
	grep -q "Auth: CHAP, Disks: 2" "$ls" || fail "gwcli ls: the host has not CHAP and two disks"
	for d in $DISKS; do
		grep -q "\[rbd/$d(64M), Owner: $GW\]" "$ls" || fail "gwcli ls: rbd/$d not mapped with owner $GW"
	done
}

# Each disk is a user:rbd backstore lunard serves, with ceph-iscsi's
# cfgstring; what ceph-iscsi set on it goes to attrs.txt.
check_backstores() {
	local d bs cfg
	for d in $DISKS; do
		bs=$(grep -l "rbd/rbd/$d;" "$CFG"/core/user_*/*/info 2>/dev/null | head -n 1 || true)
		[ -n "$bs" ] || fail "no user backstore for rbd/$d: $(cat "$CFG"/core/user_*/*/info 2>&1)"
		bs=${bs%/info}
		cfg=$(grep -o "rbd/rbd/$d;[^ ]*" "$bs/info")
		grep -q "rbd\.$d: serving" "$LOGDIR/lunard.log" || fail "lunard does not serve rbd/$d"
		printf '%s %s cmd_time_out=%s qfull_time_out=%s max_data_area_mb=%s\n' "$d" "$cfg" \
			"$(cat "$bs/attrib/cmd_time_out")" "$(cat "$bs/attrib/qfull_time_out")" \
			"$(cat "$bs/attrib/max_data_area_mb")" >>"$RESULTS/attrs.txt"
	done
	step "backstores: $(tr '\n' ';' <"$RESULTS/attrs.txt")"
}

initiator_login() {
	modprobe iscsi_tcp || fail "modprobe iscsi_tcp"
	echo "InitiatorName=$HOST_IQN" >/etc/iscsi/initiatorname.iscsi
	mkdir -p /run/lock/iscsi
	iscsid || fail "iscsid"
	iscsiadm -m discovery -t st -p "$GW_IP" >/dev/null || fail "discovery on $GW_IP"
	iscsiadm -m node -T "$IQN" -o update -n node.session.auth.authmethod -v CHAP &&
		iscsiadm -m node -T "$IQN" -o update -n node.session.auth.username -v "$CHAP_USER" &&
		iscsiadm -m node -T "$IQN" -o update -n node.session.auth.password -v "$CHAP_PASS" ||
		fail "CHAP settings"
	iscsiadm -m node -T "$IQN" -l >/dev/null || fail "login with CHAP"
	wait_for "[ \$(lsscsi_count) -ge 2 ]" 60 || fail "the LUNs did not appear"
	step "logged in with CHAP: $(ls /sys/class/iscsi_session)"
}

lsscsi_count() { ls /sys/class/scsi_disk 2>/dev/null | wc -l; }

main() {
	ceph_setup
	gateway_start
	configure_with_gwcli
	check_backstores
	initiator_login
	local dev
	for dev in /sys/class/scsi_disk/*; do
		dev=/dev/$(ls "$dev/device/block")
		fio_verify "$dev"
	done
	pass
}
main
