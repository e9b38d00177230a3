#!/bin/bash
# A gateway's root as an operator builds it: Debian bookworm with lunar
# installed from its package, ceph-iscsi on top (no tcmu-runner), and the
# initiator's tools (one guest of the two-gateway drill is also the
# initiator), for run-vm.sh --root.  Debian's tcmu-runner and libtcmu2
# packages and lunar's wait in /var/lib/lunar-upgrade, for the rolling
# upgrade (a guest turns itself into a tcmu-runner gateway, then upgrades
# with apt offline).  Rebuilt only when the package or this script
# changed.  Root only; needs Debian's mirror (apt).
#
# usage: gateway-root.sh BUILD_DIR|DEB ROOT_DIR [WORK_DIR]
# WORK_DIR caches the minbase tarball (default /var/tmp/lunar-pkg-test,
# shared with tests/package/check-deb.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../package/debian-root.sh"
fail() { echo "gateway-root: FAIL: $*" >&2; exit 1; }
arg=${1:?usage: $0 BUILD_DIR|DEB ROOT_DIR [WORK_DIR]}
root=${2:?usage: $0 BUILD_DIR|DEB ROOT_DIR [WORK_DIR]}
work=${3:-/var/tmp/lunar-pkg-test}
deb=$(lunar_deb "$arg") || fail "no package"
# targetcli-fb as Ceph's iSCSI guide lists it: it also creates
# /etc/rtslib-fb-target, without which rtslib (so ceph-iscsi) cannot
# create a backstore — Debian's ceph-iscsi does not pull it in.
packages=(ceph-iscsi targetcli-fb ceph-common open-iscsi multipath-tools fio
	sg3-utils iproute2 iptables kmod procps curl)

# cpack's packages differ in their timestamps: the contents name the root.
stamp="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO | sha256sum | cut -d' ' -f1)"
stamp+=" $(sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [ "$(cat "$root/.lunar-gateway-root" 2>/dev/null)" = "$stamp" ]; then
	echo "gateway-root: $root is up to date"
	exit 0
fi
debian_root "$work" "$root" || fail "no Debian root"
log=$work/gateway-root-apt.log
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
# No service starts in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
in_root "$root" apt-get update -q >"$log" 2>&1 || { tail "$log"; fail "apt-get update"; }
in_root "$root" apt-get install -y -q --no-install-recommends \
	"./tmp/$(basename "$deb")" "${packages[@]}" >>"$log" 2>&1 ||
	{ tail -30 "$log"; fail "apt-get install"; }
[ "$(in_root "$root" dpkg-query -W -f='${Status}' tcmu-runner 2>/dev/null)" != "install ok installed" ] ||
	fail "tcmu-runner got installed"
mkdir -p "$root/var/lib/lunar-upgrade"
in_root "$root" sh -c 'cd /var/lib/lunar-upgrade && apt-get download -q tcmu-runner libtcmu2' \
	>>"$log" 2>&1 || { tail "$log"; fail "apt-get download tcmu-runner libtcmu2"; }
mv "$root/tmp/$(basename "$deb")" "$root/var/lib/lunar-upgrade/"
rm -f "$root/usr/sbin/policy-rc.d"
in_root "$root" apt-get clean
echo "$stamp" >"$root/.lunar-gateway-root"
echo "gateway-root: $root: lunar $(in_root "$root" dpkg-query -W -f='${Version}' lunar)," \
	"ceph-iscsi $(in_root "$root" dpkg-query -W -f='${Version}' ceph-iscsi)"
