#!/bin/bash
# A real single-node Ceph cluster on 127.0.0.1 in a private directory, for
# tests, benchmarks and drills: one monitor, memstore OSDs (one unless
# OSDS says more), optionally a manager (the service map needs it), cephx
# on.  Several clusters coexist
# on different monitor ports (OSDs and managers take free ports by
# themselves); nothing is written outside DIR.
#
#   cluster.sh start DIR [PORT]   build and start; the last stdout line is
#                                 DIR/ceph.conf.  PORT: the monitor's msgr2
#                                 port (msgr1 is PORT+1); default the first
#                                 free pair from 3300 on, in steps of 10.
#   cluster.sh stop DIR           stop its daemons (by pid file), keep DIR
#   cluster.sh purge DIR          stop, then remove DIR
#   cluster.sh health DIR         print `ceph health`
#   cluster.sh signal DIR NAME SIG  send SIG to daemon NAME (mon.a, osd.1)
#   cluster.sh config DIR ARGS... `ceph config ARGS` (set, rm, get)
#   cluster.sh primary DIR POOL/IMAGE  print the OSD (osd.N) that is the
#                                 acting primary of the image's first
#                                 data object
#   cluster.sh restart DIR NAME   stop daemon NAME cleanly (a memstore OSD
#                                 saves its store) and start it again
#   cluster.sh wait-down DIR osd.N SECONDS  return once the monitor's OSD
#                                 map has osd.N down; exit 1 after SECONDS
#
# Environment for start: WITH_MGR=1 (default 0), OSDS (1), POOL_SIZE
# (replicas, 1; min size 1), POOL (rbd, created and initialised for RBD;
# empty: none), IMG (images to create, space-separated; empty: none) and
# IMG_SIZE (64M each), OSD_BYTES
# (memstore capacity, 2G), EXTRA_CONF (lines appended to [global]).  Exit
# status 77 when Ceph is not installed.
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

ceph_installed() {
	local b
	for b in ceph-mon ceph-osd ceph-authtool monmaptool ceph rbd; do
		command -v "$b" >/dev/null || return 1
	done
}

# port_in_use PORT
port_in_use() { ss -Hltn "sport = :$1" | grep -q .; }

free_port() {
	local p
	for ((p = 3300; p < 3400; p += 10)); do
		port_in_use "$p" || port_in_use $((p + 1)) || { echo "$p"; return; }
	done
	die "no free monitor port pair in 3300..3399"
}

# alive PID: running and not a zombie (a reaped-late zombie still answers
# kill -0).
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_daemons DIR NAME...: SIGTERM each named daemon by its pid file, wait
# up to 10 s, then SIGKILL what is left.
stop_daemons() {
	local dir=$1 name pid
	local -a pids=()
	shift
	for name in "$@"; do
		pid=$(cat "$dir/run/$name.pid" 2>/dev/null) || continue
		alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	wait_until 10 none_alive "${pids[@]}" && return 0
	for pid in "${pids[@]}"; do
		alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	done
}

# none_alive PID...: none of them is running.
none_alive() {
	local pid
	for pid; do
		alive "$pid" && return 1
	done
	return 0
}

# osd_names DIR: every OSD that has a pid file.
osd_names() {
	local f
	for f in "$1"/run/osd.*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		echo "${f%.pid}"
	done
}

stop() {
	local dir=$1
	[ -d "$dir/run" ] || return 0
	# shellcheck disable=SC2046 # one word per OSD
	stop_daemons "$dir" mgr.x $(osd_names "$dir")
	stop_daemons "$dir" mon.a
}

# start_daemon CONF NAME: run ceph-mon, ceph-osd or ceph-mgr NAME.
start_daemon() {
	local conf=$1 name=$2
	"ceph-${name%%.*}" -c "$conf" -i "${name#*.}" 2>>"${conf%/*}/out/start.log"
}

# signal_daemon DIR NAME SIG
signal_daemon() {
	local pid
	pid=$(cat "$1/run/$2.pid" 2>/dev/null) || die "no pid file for $2 in $1/run"
	kill -"$3" "$pid" || die "cannot send $3 to $2 (pid $pid)"
}

primary() {
	local conf=$1/ceph.conf spec=$2 prefix osd
	prefix=$(rbd -c "$conf" info "$spec" --format json |
		grep -o '"block_name_prefix":"[^"]*"' | cut -d'"' -f4)
	[ -n "$prefix" ] || die "no block_name_prefix for $spec"
	osd=$(ceph -c "$conf" osd map "${spec%%/*}" "$prefix.0000000000000000" --format json |
		grep -o '"acting_primary":[0-9]*' | cut -d: -f2)
	[ -n "$osd" ] || die "no acting primary for $prefix.0000000000000000"
	echo "osd.$osd"
}

# wait_down DIR osd.N SECONDS: poll the OSD map (the ceph CLI answers in
# about half a second here, which bounds how late this notices).
wait_down() {
	local conf=$1/ceph.conf id=${2#osd.} limit=$3 start=$SECONDS
	while [ $((SECONDS - start)) -lt "$limit" ]; do
		timeout 5 ceph -c "$conf" osd dump 2>/dev/null | grep -q "^osd\.$id down " && return 0
		sleep 0.2
	done
	die "the monitor did not mark osd.$id down within $limit s"
}

restart() {
	local dir=$1 name=$2
	[ -e "$dir/run/$name.pid" ] || die "no pid file for $name in $dir/run"
	stop_daemons "$dir" "$name"
	start_daemon "$dir/ceph.conf" "$name" || die "$name did not start again (see $dir/out/$name.log)"
}

write_conf() {
	local dir=$1 port=$2
	cat >"$dir/ceph.conf" <<-EOF
		[global]
		fsid = $(cat /proc/sys/kernel/random/uuid)
		mon host = [v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]
		public addr = 127.0.0.1
		cluster addr = 127.0.0.1
		auth cluster required = cephx
		auth service required = cephx
		auth client required = cephx
		auth allow insecure global id reclaim = false
		keyring = $dir/keyring
		run dir = $dir/run
		admin socket = $dir/run/\$name.asok
		log file = $dir/out/\$name.log
		pid file = $dir/run/\$name.pid
		mon data = $dir/mon.\$id
		osd data = $dir/osd.\$id
		mgr data = $dir/mgr.\$id
		osd pool default size = ${POOL_SIZE:-1}
		osd pool default min size = 1
		mon allow pool size one = true
		osd pool default pg autoscale mode = off
		osd crush chooseleaf type = 0
		mon warn on pool no redundancy = false
		mon data avail warn = 2
		mon data avail crit = 1
		mon mgr mkfs grace = 3600
		paxos propose interval = 0.05
		osd client watch timeout = 5
		${EXTRA_CONF:-}
		[osd]
		osd objectstore = memstore
		memstore device bytes = $(numfmt --from=iec "${OSD_BYTES:-2G}")
		[client]
		err to stderr = false
		log file = $dir/out/\$name.\$pid.log
	EOF
}

make_keys() {
	local k=$1/keyring i
	ceph-authtool --create-keyring "$k" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$k" --gen-key -n client.admin --cap mon 'allow *' \
		--cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
	for ((i = 0; i < ${OSDS:-1}; i++)); do
		ceph-authtool "$k" --gen-key -n "osd.$i" --cap mon 'allow profile osd' \
			--cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
	done
	ceph-authtool "$k" --gen-key -n mgr.x --cap mon 'allow profile mgr' \
		--cap osd 'allow *' --cap mds 'allow *' >/dev/null
}

# wait_until SECONDS COMMAND...: until COMMAND succeeds, polled every 0.1 s.
wait_until() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

healthy() { [ "$(timeout 5 ceph -c "$1" health 2>/dev/null)" = HEALTH_OK ]; }

# A manager is active (the service map and `ceph -s` statistics need one).
mgr_available() { timeout 5 ceph -c "$1" mgr stat 2>/dev/null | grep -q '"available": true'; }

# make_osd CONF ID: create OSD ID and start it.
make_osd() {
	local conf=$1 id=$2 dir=${1%/*} uuid
	uuid=$(cat /proc/sys/kernel/random/uuid)
	ceph -c "$conf" osd new "$uuid" "$id" >/dev/null
	mkdir -p "$dir/osd.$id"
	ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" >>"$dir/out/start.log" 2>&1 ||
		die "OSD mkfs failed (see $dir/out/osd.$id.log)"
	start_daemon "$conf" "osd.$id" || die "OSD $id did not start (see $dir/out/osd.$id.log)"
}

start() {
	local dir=$1 port=${2:-} conf fsid i
	ceph_installed || { echo "cluster.sh: Ceph is not installed (ceph-mon ceph-osd ceph-common)" >&2; exit 77; }
	stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir/run" "$dir/out"
	dir=$(cd "$dir" && pwd)
	# Concurrent starts pick ports one at a time, each holding the lock
	# until its monitor listens.
	exec {lock}>"${TMPDIR:-/tmp}/lunar-ceph-ports.lock"
	flock "$lock"
	[ -n "$port" ] || port=$(free_port)
	port_in_use "$port" && die "monitor port $port is in use"
	conf=$dir/ceph.conf
	write_conf "$dir" "$port"
	fsid=$(sed -n 's/^fsid = //p' "$conf")
	make_keys "$dir"
	monmaptool --create --fsid "$fsid" \
		--addv a "[v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]" "$dir/monmap" >/dev/null
	# The daemons print start-up noise on stderr before they daemonise.
	ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
		2>>"$dir/out/start.log" || die "monitor mkfs failed (see $dir/out/start.log)"
	# Not inheriting the lock: the daemon would hold it for its lifetime.
	ceph-mon -c "$conf" -i a 2>>"$dir/out/start.log" {lock}>&- ||
		die "monitor did not start (see $dir/out/mon.a.log)"
	wait_until 10 port_in_use "$port" || die "monitor not listening on $port after 10 s (see $dir/out/mon.a.log)"
	exec {lock}>&-
	for ((i = 0; i < ${OSDS:-1}; i++)); do
		make_osd "$conf" "$i"
	done
	if [ "${WITH_MGR:-0}" = 1 ]; then
		mkdir -p "$dir/mgr.x"
		ceph-mgr -c "$conf" -i x 2>>"$dir/out/start.log" ||
			die "manager did not start (see $dir/out/mgr.x.log)"
	fi
	wait_until 60 healthy "$conf" || die "cluster in $dir not HEALTH_OK after 60 s: $(ceph -c "$conf" health 2>&1)"
	[ "${WITH_MGR:-0}" != 1 ] || wait_until 60 mgr_available "$conf" ||
		die "manager in $dir not available after 60 s (see $dir/out/mgr.x.log)"
	make_pool "$conf"
	echo "$conf"
}

make_pool() {
	local conf=$1 pool=${POOL-rbd}
	[ -n "$pool" ] || return 0
	ceph -c "$conf" osd pool create "$pool" 8 8 >/dev/null 2>&1 ||
		die "cannot create pool $pool"
	rbd -c "$conf" pool init "$pool" || die "cannot initialise pool $pool for RBD"
	local img
	for img in ${IMG:-}; do
		rbd -c "$conf" create --size "${IMG_SIZE:-64M}" "$pool/$img" ||
			die "cannot create image $pool/$img"
	done
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: cluster.sh start|stop|purge|health|signal|restart|config|primary|wait-down DIR [ARGS]"
case $cmd in
start) start "$dir" "${3:-}" ;;
stop) stop "$dir" ;;
purge) stop "$dir"; rm -rf "$dir" ;;
health) ceph -c "$dir/ceph.conf" health ;;
signal) signal_daemon "$dir" "${3:?which daemon}" "${4:?which signal}" ;;
restart) restart "$dir" "${3:?which daemon}" ;;
config) shift 2; ceph -c "$dir/ceph.conf" config "$@" ;;
primary) primary "$dir" "${3:?which pool/image}" ;;
wait-down) wait_down "$dir" "${3:?which OSD}" "${4:?how many seconds}" ;;
*) die "unknown command '$cmd' (start, stop, purge, health, signal, restart, config, primary or wait-down)" ;;
esac
