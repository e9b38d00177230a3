#!/bin/bash
# ceph-iscsi drives two lunar gateways (tests/vm/ceph-iscsi.sh boots both
# on a gateway root, tests/vm/gateway-root.sh: lunar and ceph-iscsi
# installed from packages).  Each gateway runs lunard as the package
# installs it and rbd-target-api; gwcli on gateway 1 — not hand-written
# configfs — creates the target, both gateways, two RBD disks (ceph-iscsi
# gives them different owners), a host with CHAP and maps the disks.
# Gateway 1 is also the initiator: open-iscsi with CHAP on both portals,
# multipathd with scsi_dh_alua, fio with verification on both LUNs, while
# three failures hit gateway 2, one per phase, each with its own fio run:
#
#   kill      gateway 2's lunard is killed (SIGKILL) and restarted 100 ms
#             later, as systemd's Restart=on-failure does
#   planned   the initiator moves gateway 2's LUN to gateway 1 and back
#             (or back only, if the kill left it on gateway 1): dm-multipath
#             activates the other path group (STPG under explicit ALUA)
#   poweroff  gateway 2 is powered off hard
#
# With CI_UPGRADE=1 (implicit ALUA only: tcmu-runner 1.5.4 rejects
# explicit) gateway 2 starts as a tcmu-runner gateway — Debian's
# tcmu-runner 1.5.4 and its handler_rbd.so installed in place of lunar —
# and is upgraded first, one step per phase, fio verifying throughout:
#
#   mixed-kill     gateway 2's tcmu-runner is killed and restarted 100 ms
#                  later (the LUN goes to lunar on gateway 1 or stays)
#   to-lunar       the initiator moves gateway 2's LUN to lunar on gateway
#                  1 (dm-multipath switches path groups; no STPG)
#   to-tcmu-runner and back to tcmu-runner on gateway 2
#   upgrade        gateway 2 is upgraded as an operator would: lunar's
#                  package installed in tcmu-runner's place (apt-get
#                  install, offline), the service restarted (tcmu-runner
#                  stopped, lunard started)
#
# then the three phases above, both gateways on lunar.
#
#   scenario-ceph-iscsi.sh gateway1|gateway2
#
# Checked in the guest: gwcli ls shows both gateways up, the host with
# CHAP and two disks with different owners; the backstores are lunard's
# (user:rbd with ceph-iscsi's cfgstring) and lunard serves them; gwcli
# reads each disk's lock owner from the Ceph service map (lunar reports
# under tcmu-runner 1.5.4's names) and it is the disk's owner; fio's
# verification is clean in every phase; a lock moves only when a phase
# moves it (gateway 1 takes gateway 2's LUN once per kill and power-off,
# gateway 1's own LUN never moves, gateway 1 never loses a lock).  The
# pause goals are checked by ceph-iscsi.sh from ceph-iscsi.txt (the
# largest gap between completions per phase, per LUN).
#
# Environment: CI_CEPH (an --xshare'd directory with the host cluster's
# ceph.conf and keyring; the gateways meet there too), CI_ALUA (explicit,
# the default, or implicit: ceph-iscsi's alua_failover_type), CI_UPGRADE
# (1: the rolling upgrade above).  Results:
# gwcli-ls.txt, attrs.txt, ceph-iscsi.txt, fio-<phase>.txt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multipath-lib.sh"
set -euo pipefail

ROLE=${1:?usage: scenario-ceph-iscsi.sh gateway1|gateway2}
case $ROLE in
gateway1) ME=1 ;;
gateway2) ME=2 ;;
*) fail "role must be gateway1 or gateway2, not $ROLE" ;;
esac
X=${CI_CEPH:?CI_CEPH is not set}
IQN=iqn.2003-01.com.example.iscsi-gw:lunar
HOST_IQN=iqn.1994-05.com.debian:lunar-initiator
CHAP_USER=lunaruser CHAP_PASS=lunarpassword12
DISKS="disk1 disk2"
ALUA=${CI_ALUA:-explicit}
UPGRADE=${CI_UPGRADE:-0}
UPGRADE_DIR=/var/lib/lunar-upgrade
API=http://127.0.0.1:5000
# The upgrade's fio run must outlast apt-get install under TCG (46-56 s
# measured) and the restart after it.
PHASE_S=16 EVENT_AT=6 MOVE_PHASE_S=30 UPGRADE_PHASE_S=90

[ -f "$X/ceph.conf" ] || fail "CI_CEPH has no ceph.conf"
[ "$UPGRADE" = 0 ] || [ "$ALUA" = implicit ] || fail "CI_UPGRADE needs CI_ALUA=implicit (tcmu-runner 1.5.4 rejects explicit ALUA)"
require lunard rbd-target-api gwcli iscsiadm fio sg_rtpg

# ceph.conf where ceph-iscsi looks (cluster "ceph"), its keyring beside;
# both gateways trusted by each other's API.
ceph_setup() {
	ceph_client_setup "$X"
	mkdir -p /etc/ceph
	cp "$X/keyring" /etc/ceph/keyring
	sed -i "s|^\([[:space:]]*keyring = \).*|\1/etc/ceph/keyring|" /run/ceph/ceph.conf
	ln -sf /run/ceph/ceph.conf /etc/ceph/ceph.conf
	cat >/etc/ceph/iscsi-gateway.cfg <<-EOF
	[config]
	cluster_name = ceph
	pool = rbd
	api_secure = false
	trusted_ip_list = 127.0.0.1,192.168.77.1,192.168.77.2
	alua_failover_type = $ALUA
	[device_status]
	status_check_interval = 2
	EOF
}

# gateway_daemon: what serves this gateway's LUNs now.
gateway_daemon() {
	if [ "$(dpkg-query -W -f='${Status}' tcmu-runner 2>/dev/null)" = "install ok installed" ]; then
		echo tcmu-runner
	else
		echo lunar-package
	fi
}

# The gateway's name is its host name (ceph-iscsi compares them) and
# resolves to its portal on the link between the guests (eth1).
gateway_start() {
	hostname "gw$ME"
	printf '192.168.77.1 gw1\n192.168.77.2 gw2\n' >>/etc/hosts
	ip link set eth1 up && ip addr add "192.168.77.$ME/24" dev eth1 || fail "eth1"
	start_daemon "$(gateway_daemon)"
	# rbd-target-api logs to syslog too (/dev/log must exist) and to
	# /var/log/rbd-target-api, kept with the results.
	busybox syslogd -O "$LOGDIR/syslog" || fail "syslogd"
	mkdir -p "$LOGDIR/rbd-target-api"
	rm -rf /var/log/rbd-target-api
	ln -s "$LOGDIR/rbd-target-api" /var/log/rbd-target-api
	rbd-target-api >"$LOGDIR/rbd-target-api.out" 2>&1 &
	wait_for "curl -sf -u admin:admin $API/api/_ping" 120 ||
		fail "rbd-target-api did not answer on $API within 120 s (see logs/rbd-target-api.out)"
	step "gw$ME: rbd-target-api up"
}

# gw ARGS...: one gwcli command; gwcli exits 0 when the API refused it,
# so its words decide.
gw() {
	local out
	out=$(gwcli "$@" 2>&1) || fail "gwcli $*: $out"
	! grep -qiE "fail|error|no such path|invalid|can ?not" <<<"$out" || fail "gwcli $*: $out"
	step "gwcli $*${out:+: $out}"
}

# owner_of DISK: the gateway gwcli ls names DISK's owner.
owner_of() {
	sed -n "s|.*\[rbd/$1(64M), Owner: \(gw[0-9]\)\].*|\1|p" "$RESULTS/gwcli-ls.txt" | head -n 1
}

configure_with_gwcli() {
	local t=/iscsi-targets/$IQN d ls=$RESULTS/gwcli-ls.txt
	gw /iscsi-targets create "$IQN"
	# The local gateway first: ceph-iscsi creates the target there.
	gw "$t/gateways" create gw1 192.168.77.1 skipchecks=true
	gw "$t/gateways" create gw2 192.168.77.2 skipchecks=true
	for d in $DISKS; do gw /disks create pool=rbd "image=$d" size=64M; done
	gw "$t/hosts" create "$HOST_IQN"
	gw "$t/hosts/$HOST_IQN" auth "username=$CHAP_USER" "password=$CHAP_PASS"
	for d in $DISKS; do gw "$t/hosts/$HOST_IQN" disk add "rbd/$d"; done
	gwcli ls >"$ls" 2>&1 || fail "gwcli ls"
	grep -q "\[192.168.77.1 (UP)\]" "$ls" && grep -q "\[192.168.77.2 (UP)\]" "$ls" ||
		fail "gwcli ls: the gateways are not both up (gwcli-ls.txt)"
	grep -q "Auth: CHAP, Disks: 2" "$ls" || fail "gwcli ls: the host has not CHAP and two disks"
	[ "$(owner_of disk1)" != "" ] && [ "$(owner_of disk2)" != "" ] &&
		[ "$(owner_of disk1)" != "$(owner_of disk2)" ] ||
		fail "gwcli ls: the disks do not have two different owners: $(owner_of disk1) $(owner_of disk2)"
	step "owners: disk1 $(owner_of disk1), disk2 $(owner_of disk2)"
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
		[ "$(gateway_daemon)" != lunar-package ] ||
			wait_for "grep -q 'rbd\.$d: serving' $LOGDIR/lunard.log" 30 || fail "lunard does not serve rbd/$d"
		printf 'gw%s %s %s cmd_time_out=%s qfull_time_out=%s max_data_area_mb=%s\n' "$ME" "$d" "$cfg" \
			"$(cat "$bs/attrib/cmd_time_out")" "$(cat "$bs/attrib/qfull_time_out")" \
			"$(cat "$bs/attrib/max_data_area_mb")" >>"$RESULTS/attrs.txt"
	done
	step "backstores: $(tr '\n' ';' <"$RESULTS/attrs.txt")"
}

# ---- gateway 2 --------------------------------------------------------

# acted NAME: tell gateway 1 this gateway carried out NAME.
acted() { touch "$X/$1.acted"; }

# await NAME: wait for gateway 1's word NAME; gateway 1 failing ends this
# side too (its logs then reach the results).
await() {
	wait_for "[ -e $X/$1 ] || [ -e $X/abort ]" 900 || fail "no word from gateway 1 ($1)"
	[ ! -e "$X/abort" ] || fail "gateway 1 failed; stopping"
}

save_log() { cp "$LOGDIR/lunard.log" "$X/gw2-lunard.log"; }

# become_tcmu_runner: this gateway as deployed before lunar — Debian's
# tcmu-runner 1.5.4 (and libtcmu2) in place of lunar's package.
become_tcmu_runner() {
	dpkg --purge --force-depends lunar >"$LOGDIR/dpkg.log" 2>&1 &&
		dpkg -i "$UPGRADE_DIR"/libtcmu2_*.deb "$UPGRADE_DIR"/tcmu-runner_*.deb >>"$LOGDIR/dpkg.log" 2>&1 ||
		fail "cannot install Debian's tcmu-runner in place of lunar (logs/dpkg.log)"
	step "gw2: Debian's tcmu-runner $(dpkg-query -W -f='${Version}' tcmu-runner) in place of lunar"
}

# upgrade_to_lunar: as an operator upgrades a gateway: lunar's package
# installed in tcmu-runner's place (apt-get install; its dependencies are
# there already, the guest has no mirror; an /etc/tcmu/tcmu.conf the
# operator changed is kept), then the service restarted: tcmu-runner
# stopped, lunard started.  Under systemd the maintainer scripts restart
# it (tcmu-runner's prerm stops it before dpkg unpacks lunar, lunar's
# postinst starts lunard), so the pause also spans the unpack: about a
# second on real hardware, but apt takes tens of seconds under TCG, which
# would measure the emulator — this guest has no systemd, and the
# scenario restarts the daemons after apt.
upgrade_to_lunar() {
	local t0=$SECONDS t1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"$UPGRADE_DIR"/lunar_*.deb >"$LOGDIR/apt-upgrade.log" 2>&1 </dev/null ||
		fail "apt-get install of lunar's package failed (logs/apt-upgrade.log)"
	[ "$(gateway_daemon)" = lunar-package ] || fail "tcmu-runner is still installed after the upgrade"
	t1=$SECONDS
	stop_daemon || true
	start_daemon lunar-package
	step "gw2: lunar $(dpkg-query -W -f='${Version}' lunar) installed by apt in $((t1 - t0)) s, tcmu-runner stopped and lunard started in $((SECONDS - t1)) s"
}

# restart_after_kill: the daemon killed, started again 100 ms later as
# systemd's Restart=on-failure does.
restart_after_kill() {
	kill_daemon
	sleep 0.1
	start_daemon "$(gateway_daemon)"
}

gateway2_main() {
	ceph_setup
	[ "$UPGRADE" = 0 ] || become_tcmu_runner
	gateway_start
	touch "$X/gw2.ready"
	await configured
	check_backstores
	acted configured
	if [ "$UPGRADE" = 1 ]; then
		await mixed-kill
		restart_after_kill
		acted mixed-kill
		await upgrade
		upgrade_to_lunar
		acted upgrade
	fi
	await kill
	restart_after_kill
	acted kill
	await poweroff
	save_log
	step "powering off hard"
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}

# ---- gateway 1 and the initiator --------------------------------------

# initiator_login: sessions to both portals with CHAP, then multipathd:
# each LUN's map then forms with both paths and dm-multipath activates
# the preferred group (the disk's owner) at once.  Started before the
# logins, multipathd would form the map from the first path found and
# fail back to the preferred one only after failback's 60 s, moving the
# lock once at set-up.
initiator_login() {
	local p
	echo "InitiatorName=$HOST_IQN" >/etc/iscsi/initiatorname.iscsi
	iscsi_start
	for p in 192.168.77.1 192.168.77.2; do
		iscsiadm -m discovery -t st -p "$p" >/dev/null || fail "discovery on $p"
	done
	iscsiadm -m node -T "$IQN" -o update -n node.session.auth.authmethod -v CHAP &&
		iscsiadm -m node -T "$IQN" -o update -n node.session.auth.username -v "$CHAP_USER" &&
		iscsiadm -m node -T "$IQN" -o update -n node.session.auth.password -v "$CHAP_PASS" ||
		fail "CHAP settings"
	iscsiadm -m node -T "$IQN" -l >/dev/null || fail "login with CHAP to both portals"
	wait_for "[ \$(ls /sys/class/scsi_disk | wc -l) -eq 4 ]" 90 || fail "not every path's disk appeared"
	multipathd_start
	wait_for "[ \$(maps | wc -l) -eq 2 ]" 90 || fail "$(maps | wc -l) of 2 multipath devices appeared"
	# Under explicit ALUA a gateway that never served a LUN answers TUR
	# Standby (the kernel's state ceph-iscsi set): a ghost path.
	wait_for "[ \$(multipath -ll 2>/dev/null | grep -cE 'active (ready|ghost)') -eq 4 ]" 90 ||
		fail "not every path joined: $(multipath -ll 2>&1 | tr '\n' ' ')"
	wait_for "[ \"\$(owners)\" = '1 2' ]" 90 ||
		fail "the LUNs are not one on each gateway: owners $(owners)"
	step "logged in with CHAP; multipath: $(multipath -ll 2>/dev/null | tr '\n' ' ')"
}

# first_writes: under implicit ALUA a gateway takes a LUN's free lock at
# the first write it serves (reads need no lock), so each LUN gets one
# direct write through its multipath device, to the owner's paths (the
# group ceph-iscsi made Active/Optimized), which dm-multipath is first
# told to use: with a tcmu-runner 1.5.4 gateway, multipathd may build a
# map while that gateway's first TUR fails (its path is reinstated a
# moment later) and start on the other group, failing back only after
# failback's 60 s — one more lock move.  Under explicit ALUA
# dm-multipath's activation (STPG) has taken the locks already.
first_writes() {
	local m g
	[ "$ALUA" = implicit ] || return 0
	for m in $(maps); do
		g=$(group_of "$m" "$(path_to "$(owner_group "$m")" "$m")")
		[ -n "$g" ] && multipathd switchgroup map "$m" group "$g" >/dev/null ||
			fail "cannot activate the owner's path group of $m"
		write_block "$m"
	done
}

# write_block MAP: one direct 4 KiB write at MAP's start (fio overwrites
# it later); the initiator retries it through transitions.
write_block() {
	dd if=/dev/zero of="/dev/mapper/$1" bs=4096 count=1 oflag=direct status=none ||
		fail "a write to $1 failed"
}

# owners: the owner groups of both LUNs, as gateway 1 reports them.
owners() { owner_groups | tr '\n' ' ' | sed 's/ $//'; }

# gwcli reads each disk's lock owner from the Ceph service map, where
# lunard reports as tcmu-runner did; it must be the disk's owner.
# ceph-iscsi 3.5's status watcher (in rbd-target-api) dies when an image
# leaves the service map — as each disk does after `disks create` opens
# and closes it — if it saw the image there (an upstream bug, fixed by
# ceph-iscsi's unmerged PR #248); gwcli then says "Unknown" for good.  The
# check then reads the service map itself, by the watcher's rule.
lock_owner_of() {
	if status_watcher_died; then service_lock_owner "$1"; else gwcli_lock_owner "$1"; fi
}
status_watcher_died() {
	grep -q "dictionary changed size during iteration" "$LOGDIR/rbd-target-api.out"
}
gwcli_lock_owner() { gwcli "/disks/rbd/$1" info 2>/dev/null | sed -n 's/^Lock Owner[ .]*\(.*\)$/\1/p'; }
# service_lock_owner DISK: the gateway whose "tcmu-runner" daemon for
# rbd/DISK reports lock_owner "true" with the latest status stamp.
service_lock_owner() {
	python3 - "rbd/$1" <<-'EOF'
	import json, sys, rados
	cluster = rados.Rados(conffile="/etc/ceph/ceph.conf")
	cluster.connect()
	ret, out, _ = cluster.mgr_command(json.dumps({"prefix": "service status", "format": "json"}), b"")
	owner = ("", "")
	for daemon, info in (json.loads(out) if ret == 0 else {}).get("tcmu-runner", {}).items():
	    gateway, image = daemon.split(":", 1)
	    if image == sys.argv[1] and (info.get("status") or {}).get("lock_owner") == "true":
	        owner = max(owner, (info.get("status_stamp", ""), gateway))
	print(owner[1])
	cluster.shutdown()
	EOF
}
check_service_map() {
	local d
	for d in $DISKS; do
		wait_for "[ \"\$(lock_owner_of $d)\" = $(owner_of "$d") ]" 60 ||
			fail "lock owner of rbd/$d is '$(lock_owner_of "$d")', not its owner $(owner_of "$d")"
	done
	if status_watcher_died; then
		step "service map (ceph-iscsi's status watcher died, see lock_owner_of): lock owners disk1 $(lock_owner_of disk1), disk2 $(lock_owner_of disk2)"
	else
		step "gwcli: lock owners disk1 $(lock_owner_of disk1), disk2 $(lock_owner_of disk2)"
	fi
}

# disk_of GATEWAY: the disk gwcli ls gives GATEWAY as owner.
disk_of() {
	local d
	for d in $DISKS; do [ "$(owner_of "$d")" != "$1" ] || { echo "$d"; return 0; }; done
	return 1
}

# map_of_group N: the multipath device whose LUN group N owns.
map_of_group() {
	local m
	for m in $(maps); do [ "$(owner_group "$m")" != "$1" ] || { echo "$m"; return 0; }; done
	return 1
}

# acquisitions DISK: how often gateway 1's lunard took DISK's lock.
acquisitions() { grep -c "rbd\.$1: cluster lock acquired" "$LOGDIR/lunard.log" || true; }

# The phases act on gateway 2's LUN: its multipath device is the one whose
# owner is group 2 after set-up (G2_MAP), its disk G2_DISK.
G2_MAP="" G2_DISK=""

# group_of MAP DEV: the number dm-multipath gives the path group of
# MAP that holds path DEV (/dev/sdX), as switchgroup takes it.
group_of() {
	multipath -ll "$1" 2>/dev/null |
		awk -v d="${2#/dev/}" '/policy=/ { g++ } $0 ~ " " d " " { print g; exit }'
}

# move_to N: dm-multipath activates gateway N's path group of gateway 2's
# LUN (scsi_dh_alua sends the STPG).  The groups' numbers follow their
# priorities, which the preferred bit ceph-iscsi sets on the owner's group
# changes: looked up each time.
move_to() {
	local g
	g=$(group_of "$G2_MAP" "$(path_to "$1" "$G2_MAP")")
	[ -n "$g" ] || fail "no path group of $G2_MAP holds gateway $1's path"
	multipathd switchgroup map "$G2_MAP" group "$g" >/dev/null ||
		fail "multipathd switchgroup $G2_MAP group $g (gateway $1)"
}

# planned_move: gateway 2's LUN to gateway 1 and back, or back only if it
# is on gateway 1.
planned_move() {
	if [ "$(owner_group "$G2_MAP")" = 2 ]; then
		move_to 1
		sleep 5
	fi
	move_to 2
}

# lun_pause_ms LOG RUNTIME: one LUN's pause in a phase: the largest gap
# between its completions; under implicit ALUA, or the longest a write
# waited if longer: a gateway without the lock serves READs there (fio's
# verification reads), so completions resume before writes do.
lun_pause_ms() {
	local gap write
	gap=$(max_gap_ms "$1" "$2")
	[ "$ALUA" = implicit ] || { echo "$gap"; return; }
	write=$(longest_write_ms "$1")
	echo $((write > gap ? write : gap))
}

# phase NAME [SECONDS]: a verified fio run of SECONDS (PHASE_S) on both
# LUNs with NAME's failure after EVENT_AT s; the pause of each LUN
# (lun_pause_ms), gateway 1's lock acquisitions of gateway 2's disk and the
# owners before and after go to ceph-iscsi.txt.  Fails unless fio is
# clean.
phase() {
	local name=$1 runtime=${2:-$PHASE_S} rc=0 fio_pid before from k m gaps=""
	rm -f /tmp/ha_clat.*.log
	{
		fio_global "$runtime"
		k=0
		for m in $(maps); do printf '[lun%d]\nfilename=/dev/mapper/%s\niodepth=8\nsize=48M\n' $k "$m"; k=$((k + 1)); done
	} >"/tmp/$name.fio"
	from=$(owner_group "$G2_MAP")
	before=$(acquisitions "$G2_DISK")
	fio --output="$RESULTS/fio-$name.txt" "/tmp/$name.fio" &
	fio_pid=$!
	sleep "$EVENT_AT"
	step "phase $name: failure"
	case $name in
	planned) planned_move ;;
	to-lunar) move_to 1 ;;
	to-tcmu-runner) move_to 2 ;;
	*) touch "$X/$name" ;;
	esac
	wait "$fio_pid" || rc=$?
	[ "$rc" -eq 0 ] && grep -q 'err= 0' "$RESULTS/fio-$name.txt" ||
		fail "phase $name: fio failed (status $rc; see fio-$name.txt)"
	for k in 1 2; do gaps+=" $(lun_pause_ms "/tmp/ha_clat.$k.log" "$runtime")"; done
	TAKEN=$(($(acquisitions "$G2_DISK") - before)) OWNER=$(owner_group "$G2_MAP" || echo "?")
	echo "$name pauses_ms$gaps takeovers_by_gw1 $TAKEN owner $from -> $OWNER" | tee -a "$RESULTS/ceph-iscsi.txt"
}

# expect_phase OWNER TAKEN WHAT: the phase left gateway 2's LUN with group
# OWNER, gateway 1 having taken its lock TAKEN times.
expect_phase() {
	[ "$OWNER" = "$1" ] && [ "$TAKEN" = "$2" ] ||
		fail "$3: gateway 2's LUN ended with group $OWNER after $TAKEN takeover(s) by gateway 1; expected group $1 after $2"
}

# check_own_disk: gateway 1's own disk never moved: gateway 1 took its
# lock once (at set-up) and never lost it; gateway 2 never took it.
# (Gateway 1 does lose gateway 2's disk when the planned move hands it
# back: gateway 2 fences it on the STPG.)
check_own_disk() {
	local d n
	d=$(disk_of gw1)
	n=$(acquisitions "$d")
	[ "$n" = 1 ] || fail "gateway 1 took its own disk's ($d) lock $n times (expected once, at set-up)"
	! grep "rbd\.$d: cluster lock lost" "$LOGDIR/lunard.log" || fail "gateway 1 lost its own disk's lock (above)"
	! grep -q "rbd\.$d: cluster lock acquired" "$X/gw2-lunard.log" || fail "gateway 2 took gateway 1's disk $d"
}

# upgrade_steps: gateway 2 runs tcmu-runner 1.5.4: its LUN through a
# failure of tcmu-runner, to lunar and back by plan, then gateway 2
# upgraded under I/O; the LUN ends on gateway 2 (now lunar) for the
# phases that follow.  A switch of path groups under fio takes seconds
# under TCG, and a move to lunar waits for the hold-down: those phases
# run longer.
upgrade_steps() {
	phase mixed-kill
	wait_for "[ -e $X/mixed-kill.acted ]" 60 || fail "gateway 2 did not restart its tcmu-runner"
	phase to-lunar "$MOVE_PHASE_S"
	[ "$OWNER" = 1 ] || fail "to-lunar: gateway 2's LUN ended with group $OWNER, not with lunar on gateway 1"
	phase to-tcmu-runner "$MOVE_PHASE_S"
	[ "$OWNER" = 2 ] || fail "to-tcmu-runner: gateway 2's LUN ended with group $OWNER, not back on tcmu-runner"
	phase upgrade "$UPGRADE_PHASE_S"
	[ -e "$X/upgrade.acted" ] || fail "gateway 2's upgrade took longer than the phase ($UPGRADE_PHASE_S s)"
	if [ "$(owner_group "$G2_MAP")" != 2 ]; then
		# No I/O, no implicit takeover: one write, retried through the
		# hold-down.
		move_to 2
		write_block "$G2_MAP"
		wait_for "[ \"\$(owner_group $G2_MAP)\" = 2 ]" 30 || fail "gateway 2's LUN did not return to the upgraded gateway 2"
	fi
	step "gateway 2 upgraded to lunar; its LUN is back there"
}

gateway1_main() {
	# Gateway 2 stops when this side fails (await).
	trap '_rc=$?; set +e; [ "$_rc" = 0 ] || touch "$X/abort"; (exit "$_rc"); _lib_on_exit' EXIT
	ceph_setup
	gateway_start
	wait_for "[ -e $X/gw2.ready ]" 300 || fail "gateway 2 never got ready"
	configure_with_gwcli
	check_backstores
	touch "$X/configured"
	wait_for "[ -e $X/configured.acted ]" 120 || fail "gateway 2 did not check its backstores"
	initiator_login
	first_writes
	check_service_map
	G2_DISK=$(disk_of gw2) G2_MAP=$(map_of_group 2) || fail "no LUN owned by gateway 2"
	local setup
	setup=$(acquisitions "$G2_DISK")
	sleep 3
	[ "$(acquisitions "$G2_DISK")" = "$setup" ] && [ "$(owners)" = "1 2" ] ||
		fail "a lock moved after set-up, before any failure"
	[ "$UPGRADE" = 0 ] || upgrade_steps
	phase kill
	wait_for "[ -e $X/kill.acted ]" 60 || fail "gateway 2 did not restart its lunard"
	# As in ha-drill.sh: the dead lunard's commands failed and gateway 1
	# took over once, or nothing was in flight to fail and gateway 2's
	# restarted lunard took its own lock back.
	local retook=$OWNER
	if [ "$retook" = 2 ]; then expect_phase 2 0 kill; else expect_phase 1 1 kill; fi
	phase planned
	expect_phase 2 $((retook == 2 ? 1 : 0)) planned
	phase poweroff
	expect_phase 1 1 poweroff
	check_own_disk
	[ "$retook" != 2 ] || grep -q "an earlier lunard on this gateway holds the cluster lock" "$X/gw2-lunard.log" ||
		fail "gateway 2 still owned its disk after the kill but its new lunard did not take the lock back"
	pass
}

"${ROLE}_main"
