#!/usr/bin/env bash
# run.sh [SECONDS] [TARGET...]: builds slotctl's libFuzzer targets (tests/fuzz,
# in their own build directory with CC=clang and -Dfuzz=true) and runs each
# for SECONDS (default 60; $SLOTCTL_FUZZ_SECONDS when no argument), from the
# committed seeds in tests/fuzz/corpus/TARGET. Targets: nodes, plan, journal,
# replies (default: all); tests/fuzz/TARGET.dict, when there is one, is the
# target's libFuzzer dictionary. Exits 1 when a target crashed (the input that did it
# is kept and named), 77 (skipped) when clang or its libFuzzer runtime is not
# installed: scripts/install-deps.sh --tests installs both.
# Environment: SLOTCTL_FUZZ_BUILD, the build directory (default build-fuzz at
# the source root); its corpus/ keeps what each run found for the next.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-${SLOTCTL_FUZZ_SECONDS:-60}}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(nodes plan journal replies); fi
case $seconds in ''|*[!0-9]*) echo "run.sh: SECONDS '$seconds' is not a whole number" >&2; exit 2;; esac

if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: clang is not installed: fuzzing skipped (scripts/install-deps.sh --tests installs it)" >&2
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	echo "run.sh: clang has no libFuzzer runtime: fuzzing skipped (install libclang-rt-14-dev)" >&2
	exit 77
fi

build=${SLOTCTL_FUZZ_BUILD:-$root/build-fuzz}
mkdir -p "$(dirname "$build")"
# several runs (the meson tests of the fuzz suite) may share one build
(
	flock 9
	if [ ! -f "$build/build.ninja" ]; then
		CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Db_sanitize=none \
			-Dbuildtype=debugoptimized >/dev/null
	fi
	ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null
) 9>"$build.lock"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
for t in "${targets[@]}"; do
	exe=$build/tests/fuzz/fuzz_$t
	corpus=$build/corpus/$t
	artifacts=$build/artifacts/$t
	mkdir -p "$corpus" "$artifacts"
	dict=()
	if [ -f "$root/tests/fuzz/$t.dict" ]; then dict=(-dict="$root/tests/fuzz/$t.dict"); fi
	echo "fuzzing $t for $seconds s"
	if ! "$exe" -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "$root/tests/fuzz/corpus/$t" \
		>"$artifacts/log" 2>&1; then
		tail -n 60 "$artifacts/log"
		echo "run.sh: fuzz target $t FAILED; the input is in $artifacts/ (reproduce: $exe FILE)" >&2
		failed+=("$t")
		continue
	fi
	grep -E '^(stat::number_of_executed_units|Done )' "$artifacts/log" || true
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "run.sh: ${#failed[@]} fuzz target(s) failed: ${failed[*]}" >&2
	exit 1
fi
echo "run.sh: ${#targets[@]} fuzz target(s) ran $seconds s each without a crash"
