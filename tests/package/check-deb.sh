#!/bin/bash
# The Debian package on a clean bookworm root, as an operator meets it:
#   1. apt-get install ./lunar_*.deb pulls lunard's libraries from Debian;
#      everything lunard and the handlers link resolves, lunard runs;
#   2. apt-get install ceph-iscsi takes lunar as its tcmu-runner (no
#      tcmu-runner installed), and units wanting tcmu-runner.service get
#      lunard;
#   3. apt-get purge of both (and of what they pulled) leaves nothing of
#      lunar's behind: its files, its scripts' (unit enablement, logs).
# usage: check-deb.sh BUILD_DIR|DEB [WORK_DIR]
# Given a build directory, builds its package first (cpack).  The root is
# a debootstrap --variant=minbase of bookworm from Debian's mirror, cached
# as a tarball in WORK_DIR (default /var/tmp/lunar-pkg-test).  Root only.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/debian-root.sh"
arg=${1:?usage: $0 BUILD_DIR|DEB [WORK_DIR]}
work=${2:-/var/tmp/lunar-pkg-test}
root=$work/root
handler_dir=/usr/lib/x86_64-linux-gnu/tcmu-runner	# Debian's tcmu-runner's
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
step() { echo "== check-deb: $*"; }
deb=$(lunar_deb "$arg") || fail "no package"
installed() {
	in_root "$root" dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Every path in the root but the ones apt, dpkg and the chroot itself
# change whatever is installed.
snapshot() {
	(cd "$root" && find . -xdev \
		\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o \
		   -path ./run -o -path ./var/cache -o -path ./var/lib/apt -o \
		   -path ./var/lib/dpkg -o -path ./var/log/apt -o \
		   -path ./var/log/dpkg.log -o -path ./var/log/alternatives.log -o \
		   -path ./etc/ld.so.cache -o -path ./etc/resolv.conf \) -prune -o -print) |
		LC_ALL=C sort
}

unmount() { umount "$root/proc" 2>/dev/null || true; }
trap unmount EXIT

debian_root "$work" "$root" || fail "no Debian root"
mount -t proc proc "$root/proc"
step "apt-get update"
in_root "$root" apt-get update -q > "$work/apt.log" 2>&1 || { tail "$work/apt.log"; fail "apt-get update"; }
snapshot > "$work/before.txt"

step "apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root "$root" apt-get install -y -q --no-install-recommends "./tmp/$(basename "$deb")" \
	>> "$work/apt.log" 2>&1 || { tail -30 "$work/apt.log"; fail "lunar does not install"; }
installed lunar || fail "lunar not installed"
pulled=$(grep -c "^Setting up" "$work/apt.log" || true)
echo "lunar installed, with $((pulled - 1)) package(s) pulled from Debian"
! installed tcmu-runner || fail "tcmu-runner got installed"
handlers=$(in_root "$root" sh -c "ls $handler_dir/handler_*.so")
for f in /usr/bin/lunard $handlers; do
	unresolved=$(in_root "$root" ldd "$f" | grep "not found" || true)
	[ -z "$unresolved" ] || fail "$f: unresolved libraries: $unresolved"
done
in_root "$root" lunard -V | grep -q "^lunard " || fail "lunard -V does not run"
in_root "$root" lunard -h | grep -q "default $handler_dir)" ||
	fail "lunard's default handler path is not Debian's tcmu-runner path"
[ "$(readlink "$root/lib/systemd/system/tcmu-runner.service")" = lunard.service ] ||
	fail "tcmu-runner.service is not an alias of lunard.service"
grep -q "^ExecStart=/usr/bin/lunard$" "$root/lib/systemd/system/lunard.service" ||
	fail "the unit does not start /usr/bin/lunard"
grep -q "^Exec=/usr/bin/lunard$" \
	"$root/usr/share/dbus-1/system-services/org.kernel.TCMUService1.service" ||
	fail "D-Bus activation does not start /usr/bin/lunard"
[ -L "$root/etc/systemd/system/multi-user.target.wants/lunard.service" ] ||
	fail "postinst did not enable lunard.service"
in_root "$root" dpkg-query -W -f='${Conffiles}\n' lunar | grep -q "/etc/tcmu/tcmu.conf" ||
	fail "/etc/tcmu/tcmu.conf is not a conffile"
for f in /etc/logrotate.d/lunar /usr/share/man/man8/lunard.8.gz \
	/usr/share/dbus-1/system.d/org.kernel.TCMUService1.conf; do
	[ -e "$root$f" ] || fail "$f missing"
done
# A start that fails (no TCMU in this kernel, no bus) still writes the
# log, which the purge must then remove.
in_root "$root" timeout 10 lunard > /dev/null 2>&1 || true
[ -s "$root/var/log/lunard.log" ] || fail "lunard wrote no /var/log/lunard.log"
echo "files, links, conffiles and the enabled unit as expected; lunard ran and logged"

in_root "$root" dpkg-query -L lunar | grep -v '^/\.$' > "$work/lunar-files.txt"

step "apt-get install ceph-iscsi"
in_root "$root" apt-get install -y -q --no-install-recommends ceph-iscsi \
	>> "$work/apt.log" 2>&1 || { tail -30 "$work/apt.log"; fail "ceph-iscsi does not install"; }
installed ceph-iscsi || fail "ceph-iscsi not installed"
! installed tcmu-runner || fail "ceph-iscsi pulled tcmu-runner"
installed lunar || fail "ceph-iscsi removed lunar"
grep -q "Wants=.*tcmu-runner.service" "$root/lib/systemd/system/rbd-target-api.service" ||
	fail "rbd-target-api.service no longer wants tcmu-runner.service (what the alias is for)"
echo "ceph-iscsi $(in_root "$root" dpkg-query -W -f='${Version}' ceph-iscsi) installed on lunar; no tcmu-runner"

step "apt-get purge"
in_root "$root" apt-get purge -y -q --autoremove ceph-iscsi lunar >> "$work/apt.log" 2>&1 ||
	{ tail -30 "$work/apt.log"; fail "purge failed"; }
status=$(in_root "$root" dpkg-query -W -f='${db:Status-Abbrev}' lunar 2>/dev/null || true)
case $status in
"" | un*) ;;
*) fail "lunar still known to dpkg after the purge: '$status'" ;;
esac
snapshot > "$work/after.txt"
# New paths are lunar's leftovers when lunar put them there: its own files
# (listed before the purge), its maintainer scripts' (unit enablement,
# logs) and anything named after it or tcmu.  Dependencies may leave
# theirs (ca-certificates' generated /etc/ssl/certs, adduser's shadow
# backups): counted, not failed.
left=$(comm -13 "$work/before.txt" "$work/after.txt")
ours=$( { echo "$left" | grep -E 'lunar|tcmu|TCMUService' || true
	  # its files and links; directories it shares with others stay
	  while read -r f; do
		[ -d "$root$f" ] || { [ ! -e "$root$f" ] && [ ! -L "$root$f" ]; } || echo ".$f"
	  done < "$work/lunar-files.txt"
	} | sort -u)
[ -z "$ours" ] || { echo "$ours" | head -40; fail "purge left $(echo "$ours" | wc -l) of lunar's path(s) behind"; }
echo "purge left nothing of lunar's behind ($(wc -l < "$work/before.txt") paths before;" \
	"$(echo "$left" | grep -c . || true) new paths from dependencies still installed or their scripts)"
echo "check-deb: PASS"
