#!/bin/sh
# plan-bench.sh: planning CPU time for synthetic clusters of 3 to 1,000
# masters (10,000 with MAX_MASTERS 10000) over 16384 slots (goal: under
# 100 ms each). Builds an optimised core library in build-bench/ (no
# sanitizers), compiles bench/plan_bench.c against it, runs.
# Usage: bench/plan-bench.sh [MAX_MASTERS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
if [ ! -d "$build" ]; then
	meson setup "$build" "$root" --buildtype=release -Dtests=false >/dev/null
fi
# the planner is pure: the core library alone (cJSON and libm)
ninja -C "$build" src/libslotctl_core.a >/dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" \
	"$root/bench/plan_bench.c" "$build/src/libslotctl_core.a" \
	$(pkg-config --cflags --libs libcjson) -lm \
	-o "$build/plan-bench"
"$build/plan-bench" "$@"
