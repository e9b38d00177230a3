#!/bin/bash
# Debian packages lunar needs to build, test and benchmark (idempotent).
set -euo pipefail
pkgs=(
	build-essential cmake pkg-config
	libglib2.0-dev liburing-dev libcmocka-dev
	tcmu-runner	# tcmu-runner 1.5.4 handler binaries for ABI tests
	fio bc python3 procps
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
