#!/usr/bin/env bash
# check-layers.sh [SOURCE_DIR] [STAMP]: refuses (exit 1, naming each file and
# line) a core file that includes an io, cli, hiredis or OpenSSL header, and
# an io file that includes a cli header: the layers of ARCHITECTURE.md (core
# may call the C library, cJSON and libm; io may call core, hiredis, OpenSSL
# and pthreads). Meson runs it at configure time (src/meson.build, check:
# true) and again on every build (a custom target), so a new include fails
# the build either way; the compiler's guard (SLOTCTL_LAYER_CORE,
# SLOTCTL_LAYER_IO and the #error at the top of every io and cli header) is
# the second lock. Touches STAMP when given and clean.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
stamp=${2:-}

# An #include whose path has an io/, cli/ or openssl/ folder in it, or names hiredis.
include='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?((io|cli|openssl)/|[^>"]*hiredis)'
upward='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?cli/'

bad=0
report() {
	local layer=$1 pattern=$2
	shift 2
	local hits
	hits=$(cd "$src" && grep -rnEH --include='*.c' --include='*.h' "$pattern" "$@" 2>/dev/null || true)
	if [ -n "$hits" ]; then
		while IFS= read -r line; do
			echo "check-layers: $layer may not include this header: $line" >&2
		done <<< "$hits"
		bad=1
	fi
}

report "core (cJSON and libm only)" "$include" src/core include/slotctl/core
report "io (core, hiredis, OpenSSL, pthreads)" "$upward" src/io include/slotctl/io

if [ "$bad" -ne 0 ]; then
	echo "check-layers: see ARCHITECTURE.md: a lower layer never includes a higher one's header" >&2
	exit 1
fi
if [ -n "$stamp" ]; then
	: > "$stamp"
fi
