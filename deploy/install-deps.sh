#!/bin/bash
# Debian packages lunar needs to build, test and benchmark, and the VM
# tier's guest kernel (idempotent).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(
	build-essential cmake pkg-config
	libglib2.0-dev liburing-dev libcmocka-dev libnl-genl-3-dev libkmod-dev
	tcmu-runner	# tcmu-runner 1.5.4 handler binaries for ABI tests
	fio bc python3 procps jq bsdextrautils
	dpkg-dev debootstrap	# the package tier: cpack's dpkg-shlibdeps, a clean bookworm root
	clang libclang-rt-14-dev	# the fuzz tier: libFuzzer (tests/fuzz)
	# VM tier (tests/vm): the guest runs the host's binaries over 9p; the
	# kernel and kmod packages are downloaded into a cache (below), not
	# installed.
	qemu-system-x86 qemu-utils busybox-static cpio sg3-utils libiscsi-bin targetcli-fb dbus
	multipath-tools open-iscsi	# initiator of the two-gateway drill (scenario-ha.sh)
	# Ceph tier (tests/ceph) and handler_rbd: a local cluster on loopback.
	ceph-mon ceph-osd ceph-mgr ceph-common librados-dev librbd-dev iproute2 iptables
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The guest kernel of the VM tier (and of deploy/demo.sh on a host without
# TCMU), downloaded now so that no test needs the network.
"$src/tests/vm/build-image.sh" "${LUNAR_VM_CACHE:-/var/tmp/lunar-vm-cache}"
