#!/bin/bash
# Build the VM tier's guest kernel and initramfs from Debian packages.
#
# usage: build-image.sh [--offline] CACHE_DIR
#
# CACHE_DIR/debs/   downloaded .deb files (kept: a re-run only re-extracts)
# CACHE_DIR/image/  vmlinuz, initrd.gz, kernel-version, stamp
#
# The kernel is the linux-image-6.1.*-amd64 that linux-image-amd64 depends
# on; depmod is kmod's real one (the host has no kmod installed, and libkmod
# in the guest needs the binary modules.*.bin indexes); the userland is
# busybox-static.  Nothing is installed on the host.  When the image is up
# to date (same packages, busybox and scripts) nothing is done.
#
# deploy/install-deps.sh runs it to download the packages; tests run it
# with --offline (run-vm.sh), which downloads nothing and builds from the
# cached packages only, so a test never depends on the network.
#
# Exit status: 0 built or up to date, 77 a kernel package, busybox-static
# or another tool cannot be had (said in a "SKIP:" line), 1 anything else.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP=77
OFFLINE=0

# Modules the guest needs, with their modules.dep closure.  crct10dif_generic
# is a soft dependency of crc-t10dif that modules.dep does not name.
MODULES=(
	configfs crct10dif_generic crct10dif_pclmul crc-t10dif
	target_core_mod uio target_core_user tcm_loop target_core_file
	target_core_iblock target_core_pscsi iscsi_target_mod
	scsi_mod sd_mod sg scsi_dh_alua dm-mod dm-multipath dm-round-robin
	dm-queue-length dm-service-time
	virtio_pci 9pnet_virtio 9p overlay virtio_blk ext4 loop brd
	crc32c_generic crc32c-intel libcrc32c
	# Two-gateway drill (scenario-ha.sh): iSCSI initiator, guest network,
	# NAT of the guest's 127.0.0.1 Ceph traffic to the host.
	iscsi_tcp libiscsi_tcp libiscsi scsi_transport_iscsi virtio_net
	nf_tables nft_compat nft_chain_nat nf_nat nf_conntrack xt_nat
	xt_multiport xt_MASQUERADE xt_tcpudp
)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { log "SKIP: $*"; exit "$SKIP"; }

need_tools() {
	local t
	for t in apt-get apt-cache dpkg-deb cpio gzip flock sha256sum; do
		command -v "$t" >/dev/null || skip "'$t' not found (install-deps.sh installs the VM tier's packages)"
	done
	BUSYBOX=$(command -v busybox || true)
	[ -n "$BUSYBOX" ] || skip "busybox not found (apt-get install busybox-static)"
	# ldd fails on a static executable: the guest's /init needs no libc.
	! ldd "$BUSYBOX" >/dev/null 2>&1 ||
		skip "$BUSYBOX is not statically linked (apt-get install busybox-static)"
}

# candidate_version PKG: the version apt would install, or nothing.
candidate_version() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# kernel_package: the linux-image-*-amd64 that linux-image-amd64 depends on.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

# cached_deb PKG [VERSION]: the newest cached .deb of PKG (of VERSION if given).
cached_deb() {
	local pkg=$1 want=${2:-} f best="" bestv=""
	for f in "$DEBS/${pkg}"_*.deb; do
		[ -f "$f" ] || continue
		local v
		v=$(dpkg-deb -f "$f" Version 2>/dev/null) || continue
		[ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$pkg" ] || continue
		if [ -n "$want" ]; then
			[ "$v" = "$want" ] && { echo "$f"; return 0; }
		elif [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$f bestv=$v
		fi
	done
	[ -n "$best" ] && echo "$best"
}

# fetch_deb PKG: print the path of PKG's .deb in the cache, downloading the
# candidate version when it is not there yet.  Falls back to a cached .deb
# when apt cannot download (no network, stale lists), and uses only that
# with --offline.
fetch_deb() {
	local pkg=$1 ver="" f
	[ "$OFFLINE" = 1 ] || ver=$(candidate_version "$pkg")
	if [ -n "$ver" ]; then
		f=$(cached_deb "$pkg" "$ver" || true)
		if [ -z "$f" ]; then
			log "downloading $pkg $ver"
			if (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
				f=$(cached_deb "$pkg" "$ver" || true)
			fi
		fi
		[ -n "$f" ] && { echo "$f"; return 0; }
	fi
	f=$(cached_deb "$pkg" || true)
	[ -n "$f" ] || return 1
	[ "$OFFLINE" = 1 ] || log "apt cannot provide $pkg${ver:+ $ver}; using cached $(basename "$f")"
	echo "$f"
}

find_kernel_deb() {
	local pkg=""
	[ "$OFFLINE" = 1 ] || pkg=$(kernel_package)
	if [ -n "$pkg" ]; then
		fetch_deb "$pkg" && return 0
	fi
	# Offline, or apt knows no linux-image-amd64 (no lists yet?): the
	# newest cached 6.1 kernel.
	local f
	f=$(printf '%s\n' "$DEBS"/linux-image-6.1.*-amd64_*.deb | sort -V | tail -n 1)
	[ -f "$f" ] || return 1
	[ "$OFFLINE" = 1 ] || log "apt knows no linux-image-amd64; using cached $(basename "$f")"
	echo "$f"
}

# stamp_of KERNEL_DEB KMOD_DEB: what the image is built from.
stamp_of() {
	{
		basename "$1"
		basename "$2"
		printf '%s\n' "${MODULES[@]}"
		sha256sum "$BUSYBOX" "$here/build-image.sh" "$here/guest-init.sh" | cut -d' ' -f1
	} | sha256sum | cut -d' ' -f1
}

# module_closure MODDIR NAME...: the relative paths of NAME's modules and
# everything they depend on (modules.dep of the full tree).  Built-in
# modules are skipped; an unknown name is an error.
module_closure() {
	local moddir=$1
	shift
	awk -v want="$*" '
		function norm(s) { gsub(/-/, "_", s); return s }
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); return norm(p) }
		FILENAME ~ /modules\.builtin$/ { builtin[base($0)] = 1; next }
		{ key = $1; sub(/:$/, "", key); path[base(key)] = key; deps[key] = $0 }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				m = norm(w[i])
				if (m in path) { add(path[m]) }
				else if (!(m in builtin)) { print "unknown module " w[i] > "/dev/stderr"; bad = 1 }
			}
			for (p in out) print p
			exit bad
		}
		function add(p,   f, k, i) {
			if (p in out) return
			out[p] = 1
			k = split(deps[p], f, " ")
			for (i = 2; i <= k; i++) add(f[i])
		}' "$moddir/modules.builtin" "$moddir/modules.dep"
}

# copy_module SRC DST: copy one module, decompressing .ko.xz/.ko.zst/.ko.gz
# (busybox modprobe loads plain .ko only).
copy_module() {
	local src=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"${dst%.xz}" ;;
	*.ko.zst) zstd -qdc "$src" >"${dst%.zst}" ;;
	*.ko.gz) gzip -dc "$src" >"${dst%.gz}" ;;
	*) die "unexpected module file $src" ;;
	esac
}

# install_busybox ROOT: busybox and its applet links (never a link named
# busybox onto itself).
install_busybox() {
	local root=$1 applet
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp "$BUSYBOX" "$root/bin/busybox"
	while read -r applet; do
		[ "$applet" = bin/busybox ] && continue
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done < <("$BUSYBOX" --list-full)
}

# build_initramfs WORK KVER KERNEL_TREE: the initramfs tree and archive.
build_initramfs() {
	local work=$1 kver=$2 tree=$3 root=$1/initramfs rel
	local src=$tree/lib/modules/$kver dst=$root/lib/modules/$kver
	install_busybox "$root"
	mkdir -p "$root"/{proc,sys,dev,run,tmp,mnt,newroot,etc/target,var/target} "$dst"
	cp "$here/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	log "module closure of ${#MODULES[@]} modules"
	"$work/kmod/depmod" -b "$tree" "$kver"
	local mods
	mods=$(module_closure "$src" "${MODULES[@]}") || die "modules missing from $(basename "$KERNEL_DEB")"
	for rel in $mods; do
		copy_module "$src/$rel" "$dst/$rel"
	done
	cp "$src"/modules.{order,builtin,builtin.modinfo} "$dst/"
	"$work/kmod/depmod" -b "$root" "$kver"
	log "$(wc -w <<<"$mods") modules in the initramfs"
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -6 >"$work/initrd.gz"
}

# extract_kmod WORK: kmod's depmod, extracted locally and called by name.
extract_kmod() {
	local work=$1
	dpkg-deb -x "$KMOD_DEB" "$work/kmod"
	[ -x "$work/kmod/bin/kmod" ] || die "no bin/kmod in $(basename "$KMOD_DEB")"
	ln -s bin/kmod "$work/kmod/depmod"
	"$work/kmod/depmod" --version >/dev/null || die "the extracted depmod does not run"
}

build() {
	local work kver vmlinuz
	work=$(mktemp -d "$CACHE/build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	log "extracting $(basename "$KERNEL_DEB")"
	dpkg-deb -x "$KERNEL_DEB" "$work/kernel"
	extract_kmod "$work"
	vmlinuz=$(printf '%s\n' "$work"/kernel/boot/vmlinuz-* | head -n 1)
	[ -f "$vmlinuz" ] || die "no boot/vmlinuz-* in $(basename "$KERNEL_DEB")"
	kver=${vmlinuz##*/vmlinuz-}
	[ -d "$work/kernel/lib/modules/$kver" ] || die "no lib/modules/$kver in $(basename "$KERNEL_DEB")"
	build_initramfs "$work" "$kver" "$work/kernel"
	mkdir -p "$IMAGE"
	rm -f "$IMAGE/stamp"
	mv "$vmlinuz" "$IMAGE/vmlinuz"
	mv "$work/initrd.gz" "$IMAGE/initrd.gz"
	echo "$kver" >"$IMAGE/kernel-version"
	echo "$STAMP" >"$IMAGE/stamp"
	rm -rf "$work"
	trap - EXIT
	log "built $IMAGE (kernel $kver, initrd $(du -h "$IMAGE/initrd.gz" | cut -f1))"
}

# prune_debs: drop cached packages the image is no longer built from.
prune_debs() {
	local f
	for f in "$DEBS"/*.deb; do
		[ -f "$f" ] || continue
		[ "$f" = "$KERNEL_DEB" ] || [ "$f" = "$KMOD_DEB" ] || rm -f "$f"
	done
}

main() {
	[ "${1:-}" != --offline ] || { OFFLINE=1; shift; }
	[ $# -eq 1 ] || { echo "usage: $0 [--offline] CACHE_DIR" >&2; exit 2; }
	need_tools
	mkdir -p "$1"
	CACHE=$(cd "$1" && pwd)
	DEBS=$CACHE/debs IMAGE=$CACHE/image
	mkdir -p "$DEBS"
	exec 9>"$CACHE/.lock"
	flock 9 # one builder per cache; the others wait and then find it done
	local how="run apt-get update?"
	[ "$OFFLINE" = 0 ] || how="deploy/install-deps.sh downloads it into $CACHE"
	KERNEL_DEB=$(find_kernel_deb) ||
		skip "cannot obtain the linux-image-amd64 kernel package ($how)"
	KMOD_DEB=$(fetch_deb kmod) || skip "cannot obtain the kmod package ($how)"
	STAMP=$(stamp_of "$KERNEL_DEB" "$KMOD_DEB")
	if [ -f "$IMAGE/vmlinuz" ] && [ -f "$IMAGE/initrd.gz" ] &&
		[ "$(cat "$IMAGE/stamp" 2>/dev/null)" = "$STAMP" ]; then
		log "up to date ($IMAGE, kernel $(cat "$IMAGE/kernel-version"))"
		return 0
	fi
	build
	prune_debs
}

main "$@"
