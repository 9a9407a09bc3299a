#!/bin/sh
# plan-bench.sh: planning time for synthetic clusters of 3 to 1,000 masters
# over 16384 slots (goal: under 100 ms each). Builds an optimised library in
# build-bench/ (no sanitizers), compiles bench/plan_bench.c against it, runs.
# Usage: bench/plan-bench.sh [MAX_MASTERS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
if [ ! -d "$build" ]; then
	meson setup "$build" "$root" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" src/libslotctl.a >/dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" \
	"$root/bench/plan_bench.c" "$build/src/libslotctl.a" \
	$(pkg-config --cflags --libs libcjson hiredis) -lpthread -lm \
	-o "$build/plan-bench"
"$build/plan-bench" "$@"
