#!/bin/bash
# Run one scenario script inside a QEMU/TCG guest booting Debian's kernel
# with the host's root filesystem (see README.md in this directory).
#
# usage: run-vm.sh [--smp N] [--mem MB] [--timeout S] [--results DIR]
#                  [--cache DIR] [--keep] [--nic SPEC]... [--xshare DIR]
#                  [--root DIR] SCRIPT [ARGS...]
#
# SCRIPT is a host path; the guest sees the host root, so it runs there
# unchanged.  --root DIR boots on DIR instead of the host root (a Debian
# root with packages installed as an operator would, e.g.
# tests/vm/gateway-root.sh's): SCRIPT's directory is then made visible in
# it at the same path.  Environment variables named in LUNAR_VM_ENV
# (space-separated) are passed to it; RESULTS names a directory whose
# contents end up in --results DIR, with the guest's console, stdout,
# stderr and dmesg.
#
# Networking (none by default) only through QEMU user-mode networking and
# socket netdevs on host loopback, never a host tap or bridge:
#   --nic user                     eth<n>: slirp (10.0.2.2 is the host's
#                                  127.0.0.1)
#   --nic listen:PORT:MAC          eth<n>: link to another guest that
#   --nic connect:PORT:MAC         connects to / listens on 127.0.0.1:PORT
# --xshare DIR mounts host DIR read-write at /xshare in the guest (several
# guests given the same DIR can exchange files there).
#
# Exit status: the scenario's, or
#   77  qemu, the kernel package or busybox-static cannot be had (skip)
#  124  the guest booted but the scenario did not finish within --timeout
#  125  the guest did not boot (qemu failed, kernel panic, boot timed out)
#  126  the guest stopped without recording the scenario's status
#    2  bad usage
#
# A guest that has not booted within LUNAR_VM_BOOT_TIMEOUT s (60) is
# booted once more: under TCG a guest kernel very rarely stalls in early
# boot (RCU stall warnings, "timer wakeup didn't happen"; seen once in a
# CI run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SKIP=77 E_TIMEOUT=124 E_NOBOOT=125 E_NOSTATUS=126
readonly BOOT_TIMEOUT=${LUNAR_VM_BOOT_TIMEOUT:-60} BOOT_STALLED=200

SMP=2 MEM=2048 TIMEOUT=300 RESULTS_DIR="" KEEP=0 XSHARE="" ROOT=/
NICS=()
CACHE=${LUNAR_VM_CACHE:-/var/tmp/lunar-vm-cache}
RUN="" QEMU_PID=""

log() { printf 'run-vm: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() {
	sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# nic_args SPEC: append the QEMU arguments of one --nic to NICS.
nic_args() {
	local n=${#NICS[@]} id
	id=n$((n / 4))
	case $1 in
	user) NICS+=(-netdev "user,id=$id" -device "virtio-net-pci,netdev=$id") ;;
	listen:[0-9]*:* | connect:[0-9]*:*)
		local kind=${1%%:*} rest=${1#*:}
		NICS+=(-netdev "socket,id=$id,$kind=127.0.0.1:${rest%%:*}"
			-device "virtio-net-pci,netdev=$id,mac=${rest#*:}") ;;
	*) log "--nic: '$1' is not user, listen:PORT:MAC or connect:PORT:MAC"; usage ;;
	esac
}

need_int() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || { log "$1 needs a positive integer, got '$2'"; usage; }
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--smp) need_int "$1" "${2:-}"; SMP=$2; shift 2 ;;
		--mem) need_int "$1" "${2:-}"; MEM=$2; shift 2 ;;
		--timeout) need_int "$1" "${2:-}"; TIMEOUT=$2; shift 2 ;;
		--results) [ -n "${2:-}" ] || usage; RESULTS_DIR=$2; shift 2 ;;
		--cache) [ -n "${2:-}" ] || usage; CACHE=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		--nic) nic_args "${2:-}"; shift 2 ;;
		--xshare) [ -d "${2:-}" ] || { log "--xshare needs a directory"; usage; }
			XSHARE=$(realpath -e -- "$2"); shift 2 ;;
		--root) [ -d "${2:-}/usr/bin" ] || { log "--root needs a root filesystem"; usage; }
			ROOT=$(realpath -e -- "$2"); shift 2 ;;
		-h | --help) usage ;;
		--) shift; break ;;
		-*) log "unknown option $1"; usage ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || usage
	SCRIPT=$(realpath -e -- "$1" 2>/dev/null) || die "scenario $1 does not exist"
	[ -f "$SCRIPT" ] && [ -x "$SCRIPT" ] || die "scenario $SCRIPT is not an executable file"
	shift
	ARGS=("$@")
}

# Paths under /tmp and /run are hidden in the guest by its own tmpfs; the
# guest's /init binds the ones listed here back from the host root (from
# --root's, which has no scenario directory: that comes as "scripts").
shadowed() { [[ $1 == /tmp/* || $1 == /run/* ]]; }

# write_binds FILE: the scenario's directory and every passed variable
# whose value is an existing host path under /tmp or /run.
write_binds() {
	local f=$1 name val
	: >"$f"
	[ "$ROOT" = / ] && shadowed "$(dirname "$SCRIPT")" && dirname "$SCRIPT" >>"$f"
	for name in ${LUNAR_VM_ENV:-}; do
		val=${!name:-}
		[[ $val == /* ]] && [ -e "$val" ] || continue
		val=$(realpath -e -- "$val")
		shadowed "$val" && echo "$val" >>"$f"
	done
	return 0
}

# env_exports: one export line per variable named in LUNAR_VM_ENV.
env_exports() {
	local name
	for name in ${LUNAR_VM_ENV:-}; do
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "LUNAR_VM_ENV: '$name' is not a variable name"
		if [ -n "${!name+set}" ]; then
			printf 'export %s=%q\n' "$name" "${!name}"
		else
			log "LUNAR_VM_ENV names $name, which is not set: not passed"
		fi
	done
}

# write_wrapper FILE: /share/run.sh, what the guest's /init runs.  The
# scenario's stdout and stderr go to the console and to /share/stdout and
# /share/stderr; its status to /share/status.
write_wrapper() {
	local f=$1 cmd
	cmd=$(printf '%q ' "$SCRIPT" "${ARGS[@]}")
	{
		cat <<-'EOF'
		#!/bin/bash
		# Generated by run-vm.sh.
		set -u
		export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		export HOME=/root LANG=C.UTF-8 RESULTS=/share/results LUNAR_VM=1
		EOF
		env_exports
		cat <<-EOF
		mkdir -p "\$RESULTS"
		cd /tmp || exit 1
		exec 4> >(exec tee /share/stdout); out=\$!
		exec 5> >(exec tee /share/stderr >&2); err=\$!
		rc=0
		$cmd >&4 2>&5 4>&- 5>&- || rc=\$?
		exec 4>&- 5>&-
		# Something the scenario left running may still hold its output:
		# give tee 5 s to drain, then stop it.
		for _ in \$(seq 50); do
		    kill -0 \$out 2>/dev/null || kill -0 \$err 2>/dev/null || break
		    sleep 0.1
		done
		kill \$out \$err 2>/dev/null
		dmesg >/share/dmesg 2>&1
		echo "\$rc" >/share/status
		sync
		EOF
	} >"$f"
	chmod 755 "$f"
}

# build_image: from the packages deploy/install-deps.sh cached (no
# download at test time); build-image.sh's own "SKIP:" line says what is
# missing.
build_image() {
	local rc=0
	"$here/build-image.sh" --offline "$CACHE" || rc=$?
	case $rc in
	0) ;;
	"$SKIP") exit "$SKIP" ;;
	*) die "building the guest image in $CACHE failed (exit $rc)" ;;
	esac
}

cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [ -n "$RUN" ]; then
		if [ "$KEEP" = 1 ]; then log "kept $RUN"; else rm -rf "$RUN"; fi
	fi
}

# wait_booted: until the guest says it booted (0), qemu ends (1) or
# BOOT_TIMEOUT passes (2).
wait_booted() {
	local tenths=0
	while [ ! -f "$RUN/share/booted" ]; do
		kill -0 "$QEMU_PID" 2>/dev/null || return 1
		[ "$tenths" -lt $((BOOT_TIMEOUT * 10)) ] || return 2
		sleep 0.1
		tenths=$((tenths + 1))
	done
}

# run_qemu SECONDS: boot the guest for at most SECONDS; returns qemu's (or
# timeout's) exit status, or BOOT_STALLED (qemu stopped) if the guest did
# not boot within BOOT_TIMEOUT.  Both timeout and qemu die with their
# parent (pdeathsig), so even a SIGKILLed run-vm.sh leaves no qemu behind.
run_qemu() {
	local img=$CACHE/image rc=0 boot=0
	local -a XSHARE_ARGS=() SCRIPTS_ARGS=()
	[ -z "$XSHARE" ] || XSHARE_ARGS=(
		-fsdev "local,id=fs2,path=$XSHARE,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=fs2,mount_tag=xshare)
	[ "$ROOT" = / ] || SCRIPTS_ARGS=(
		-fsdev "local,id=fs3,path=$(dirname "$SCRIPT"),security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=fs3,mount_tag=scripts)
	setpriv --pdeathsig KILL -- \
		timeout -k 5 "$1" \
		setpriv --pdeathsig KILL -- \
		qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
		-smp "$SMP" -m "$MEM" -nodefaults -no-reboot -display none -nic none \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1" \
		-chardev "stdio,id=con,signal=off,logfile=$RUN/console.log" -serial chardev:con \
		-fsdev "local,id=fs0,path=$ROOT,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot \
		-fsdev "local,id=fs1,path=$RUN/share,security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=fs1,mount_tag=share \
		"${NICS[@]}" "${XSHARE_ARGS[@]}" "${SCRIPTS_ARGS[@]}" \
		</dev/null &
	QEMU_PID=$!
	wait_booted || boot=$?
	[ "$boot" != 2 ] || kill -TERM "$QEMU_PID" 2>/dev/null || true
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=""
	[ "$boot" != 2 ] || return "$BOOT_STALLED"
	return "$rc"
}

# verdict QEMU_RC: the exit status of this run, explained when it is not
# the scenario's own.
verdict() {
	local qrc=$1 share=$RUN/share
	if [ -f "$share/status" ]; then
		STATUS=$(cat "$share/status")
		[[ $STATUS =~ ^[0-9]+$ ]] || { log "unreadable scenario status '$STATUS'"; STATUS=$E_NOSTATUS; }
		return 0
	fi
	if [ ! -f "$share/booted" ]; then
		if [ "$qrc" = "$BOOT_STALLED" ]; then
			log "FAILED: the guest did not boot within $BOOT_TIMEOUT s, twice; console tail:"
		else
			log "FAILED: the guest did not boot (qemu exit $qrc${TIMED_OUT:+, timed out after $TIMEOUT s}); console tail:"
		fi
		STATUS=$E_NOBOOT
	elif [ -n "$TIMED_OUT" ]; then
		log "FAILED: $(basename "$SCRIPT") did not finish within $TIMEOUT s; console tail:"
		STATUS=$E_TIMEOUT
	else
		log "FAILED: the guest stopped without a scenario status (qemu exit $qrc); console tail:"
		STATUS=$E_NOSTATUS
	fi
	tail -n 30 "$RUN/console.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
}

# copy_results: the scenario's $RESULTS plus the guest's logs.  A results
# directory this script made before (marked) is emptied first.
copy_results() {
	[ -n "$RESULTS_DIR" ] || return 0
	local share=$RUN/share
	if [ -f "$RESULTS_DIR/.lunar-vm-results" ]; then
		find "$RESULTS_DIR" -mindepth 1 -delete
	fi
	mkdir -p "$RESULTS_DIR"
	touch "$RESULTS_DIR/.lunar-vm-results"
	[ -d "$share/results" ] && cp -a "$share/results/." "$RESULTS_DIR/"
	cp "$RUN/console.log" "$RESULTS_DIR/vm-console.log" 2>/dev/null || true
	cp "$RUN/console-stalled.log" "$RESULTS_DIR/vm-console-stalled.log" 2>/dev/null || true
	local f
	for f in stdout stderr dmesg; do
		[ -f "$share/$f" ] && cp "$share/$f" "$RESULTS_DIR/vm-$f.log"
	done
	echo "$STATUS" >"$RESULTS_DIR/vm-status"
}

main() {
	parse_args "$@"
	command -v qemu-system-x86_64 >/dev/null ||
		{ log "SKIP: qemu-system-x86_64 not found (apt-get install qemu-system-x86)"; exit "$SKIP"; }
	build_image
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/lunar-vm.XXXXXX")
	chmod 755 "$RUN"
	mkdir -p "$RUN/share/results"
	write_wrapper "$RUN/share/run.sh"
	write_binds "$RUN/share/binds"
	# The scenario's directory, shared as "scripts" (see run_qemu).
	[ "$ROOT" = / ] || dirname "$SCRIPT" >"$RUN/share/scripts-dir"
	log "booting: $(basename "$SCRIPT") ${ARGS[*]} (smp $SMP, $MEM MB, timeout $TIMEOUT s)"
	local start=$SECONDS qrc=0
	run_qemu "$TIMEOUT" || qrc=$?
	if [ "$qrc" = "$BOOT_STALLED" ] && [ $((TIMEOUT - (SECONDS - start))) -gt "$BOOT_TIMEOUT" ]; then
		log "the guest did not boot within $BOOT_TIMEOUT s; booting it once more (first console kept as vm-console-stalled.log)"
		mv "$RUN/console.log" "$RUN/console-stalled.log" 2>/dev/null || true
		qrc=0
		run_qemu $((TIMEOUT - (SECONDS - start))) || qrc=$?
	fi
	case $qrc in 124 | 137) TIMED_OUT=1 ;; *) TIMED_OUT="" ;; esac
	verdict "$qrc"
	copy_results
	log "$(basename "$SCRIPT") exit $STATUS (VM run $((SECONDS - start)) s)"
	exit "$STATUS"
}

main "$@"
