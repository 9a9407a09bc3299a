#!/usr/bin/env bash
# soak-fix.sh: repeats the fix_epoch scenario (tests/integration/test_epoch.c:
# 120 slots left open in every kind and direction across 3 masters, then
# `slotctl fix --yes`, then every key verified) ROUNDS times, each round on a
# fresh cluster in a process of its own, and ends with the line
# "ROUNDS rounds: P passed, F failed, K keys lost". Not part of `meson test`:
# a round takes about half a minute under the sanitizers.
#   tests/soak-fix.sh [ROUNDS] [BUILD_DIR]    (defaults: 20, build-test)
# SLOTCTL_BIN may name another slotctl binary to soak (an older build, say).
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
build=${2:-build-test}
test_bin="$build/tests/integration_epoch"
if [ ! -x "$test_bin" ]; then
	echo "soak-fix: no '$test_bin'; build with -Dtests=true first" >&2
	exit 2
fi
export SLOTCTL_BIN=${SLOTCTL_BIN:-$(cd "$build" && pwd)/src/slotctl}
export SLOTCTL_SOURCE_ROOT=$PWD SLOTCTL_FIXTURES=$PWD/tests/fixtures NO_COLOR=1
export SLOTCTL_SOAK_ROUNDS=1 CK_DEFAULT_TIMEOUT=0 CK_RUN_CASE=fix
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99}
passed=0 failed=0 lost=0
for ((i = 1; i <= rounds; i++)); do
	out=$("$test_bin" 2>&1)
	status=$?
	line=$(grep -m1 'fix_epoch round' <<<"$out")
	keys=$(sed -n 's/.* \([0-9][0-9]*\) keys lost.*/\1/p' <<<"$line")
	lost=$((lost + ${keys:-0}))
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		grep -E ':F:|:E:' <<<"$out" | head -3 >&2
	fi
	echo "round $i/$rounds: ${line#*: }$([ "$status" -eq 0 ] && echo ' ok' || echo ' FAILED')"
done
echo "$rounds rounds: $passed passed, $failed failed, $lost keys lost"
[ "$failed" -eq 0 ]
