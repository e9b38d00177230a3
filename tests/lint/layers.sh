#!/bin/bash
# The seam between the core (runner/) and the HA layer (cluster/, alua/),
# checked on what every source file includes, directly or through other
# headers (gcc -MM):
#  - cluster/ and alua/ use of the runner only its published API:
#    runner/core.h (with the clock.h and log.h it includes), runner/ha.h
#    and the SCSI helpers runner/scsi/scsi.h and sense.h;
#  - runner/ includes nothing of cluster/ or alua/, except runner/main.c,
#    which registers the HA layer (cluster/ha.h);
#  - runner/device.h includes nothing of cluster/ or alua/.
# An include cycle across the boundary would need a violation of one of
# these, so none exists while this passes.
# usage: layers.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: layers.sh SOURCE_DIR}" && pwd)
cd "$src"
for d in runner cluster alua; do
	[ -d "$d" ] || { echo "FAIL: $src has no $d/: not lunar's source tree" >&2; exit 1; }
done
bad=0
published='runner/(core|clock|log|ha)\.h|runner/scsi/(scsi|sense)\.h'
registers='runner/main\.c'

# Project headers f includes, directly or not (one per line, from the top).
deps() {
	gcc -MM -MG -I include -I . "$1" | tr ' \\' '\n\n' |
		grep -E '^(runner|cluster|alua)/.*\.h$' | sort -u
}

violation() {
	echo "FAIL: $1"
	bad=1
}

for f in $(find cluster alua -name '*.[ch]' | sort); do
	for h in $(deps "$f"); do
		[[ $h == runner/* && ! $h =~ ^($published)$ ]] &&
			violation "$f includes $h (the HA layer may use only $published)"
	done
done
for f in $(find runner -name '*.[ch]' | sort); do
	[[ $f =~ ^($registers)$ ]] && continue
	for h in $(deps "$f"); do
		[[ $h == cluster/* || $h == alua/* ]] &&
			violation "$f includes $h (the core knows the HA layer only through runner/ha.h)"
	done
done
[ "$bad" = 0 ] && echo "ok: runner/ and cluster/+alua/ meet only at runner/core.h, runner/ha.h and the SCSI helpers"
exit "$bad"
