# shellcheck shell=bash
# Sourced (bash) by the scripts that need a clean Debian bookworm root:
# tests/package/check-deb.sh and tests/vm/gateway-root.sh.  Root only.
#
#   lunar_deb BUILD_DIR|DEB  print the package's path; given a build
#                            directory, build it first (cpack)
#   debian_root WORK ROOT    ROOT := a fresh debootstrap --variant=minbase
#                            of bookworm from $LUNAR_DEBIAN_MIRROR
#                            (deb.debian.org), cached as a tarball in WORK
#   in_root ROOT CMD...      run CMD chrooted in ROOT, non-interactive
# Both print what failed to stderr and return 1.

lunar_deb() {
	local arg
	arg=$(realpath -e -- "$1") || { echo "no package or build directory $1" >&2; return 1; }
	if [ -d "$arg" ]; then
		rm -rf "$arg/package"
		(cd "$arg" && cpack -G DEB -B "$arg/package" >"$arg/cpack.log" 2>&1) ||
			{ tail -20 "$arg/cpack.log" >&2; echo "cpack failed" >&2; return 1; }
		set -- "$arg"/package/lunar_*_amd64.deb
		[ -f "$1" ] || { echo "cpack wrote no lunar_*_amd64.deb" >&2; return 1; }
		arg=$1
	fi
	echo "$arg"
}

debian_root() {
	local work=$1 root=$2 mirror=${LUNAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	mkdir -p "$work"
	if [ ! -s "$work/bookworm-minbase.tar" ]; then
		echo "== debootstrap bookworm (minbase) from $mirror"
		rm -rf "$work/build"
		debootstrap --variant=minbase bookworm "$work/build" "$mirror" \
			>"$work/debootstrap.log" 2>&1 ||
			{ tail -20 "$work/debootstrap.log" >&2; echo "debootstrap failed" >&2; return 1; }
		tar -C "$work/build" -cf "$work/bookworm-minbase.tar.tmp" .
		mv "$work/bookworm-minbase.tar.tmp" "$work/bookworm-minbase.tar"
		rm -rf "$work/build"
	fi
	rm -rf "$root"
	mkdir -p "$root"
	tar -C "$root" -xf "$work/bookworm-minbase.tar"
	# The host's resolver, so apt reaches the mirror from the chroot.
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
}

in_root() {
	local root=$1
	shift
	chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}
