#!/bin/bash
# Configure and build lunar into a build directory.
# usage: build.sh BUILD_DIR [extra cmake arguments]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: $0 BUILD_DIR [cmake args]}
shift
cmake -S "$src" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
