#!/usr/bin/env bash
# run.sh: sets up and runs slotctl's whole test suite on a fresh Debian machine:
# installs the packages, builds with -Werror under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every meson suite on redis-server, then
# the integration suite again on Valkey 9.1 (`meson test --setup valkey`,
# built by scripts/build-valkey.sh in the background meanwhile, or taken
# from its cache), and ends with the line "N passed, M failed" counting both
# passes. Exits non-zero when any test failed. Arguments go to both meson
# test runs (names of tests, say). SLOTCTL_TEST_SERVERS=redis runs the first
# pass only, =valkey the second only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SLOTCTL_SKIP_DEPS:-0}" != "1" ]; then
	bash scripts/install-deps.sh --tests
fi
build=${SLOTCTL_TEST_BUILD:-build-test}
servers=${SLOTCTL_TEST_SERVERS:-redis valkey}
logs=()
valkey_pid=""
valkey_log="$(mktemp "${TMPDIR:-/tmp}/slotctl-build-valkey.XXXXXX")"
trap 'rm -f "$valkey_log"' EXIT
if [[ " $servers " == *" valkey "* ]]; then
	# a build of a few minutes of CPU: started first, it overlaps with ours
	# and with the waits of the first pass's tests
	bash scripts/build-valkey.sh >"$valkey_log" 2>&1 &
	valkey_pid=$!
fi
if [ ! -d "$build" ]; then
	meson setup "$build" --werror -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true
fi
ninja -C "$build"
status=0
# a log left by an earlier run must not be counted if this one writes none
rm -f "$build/meson-logs/testlog.json" "$build/meson-logs/testlog-valkey.json"
if [[ " $servers " == *" redis "* ]]; then
	echo "== every suite, integration on redis-server"
	meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@" || status=$?
	logs+=("$build/meson-logs/testlog.json")
fi
if [ -n "$valkey_pid" ]; then
	echo "== the integration suite on valkey-server"
	if wait "$valkey_pid"; then
		cat "$valkey_log"
		meson test -C "$build" --setup valkey --print-errorlogs --num-processes "$(nproc)" "$@" || status=$?
		# tests named that are none of the integration suite: no log, no failure
		if [ -f "$build/meson-logs/testlog-valkey.json" ] || [ $# -eq 0 ]; then
			logs+=("$build/meson-logs/testlog-valkey.json")
		fi
	else
		tail -n 40 "$valkey_log"
		echo "scripts/build-valkey.sh failed: the Valkey pass did not run" >&2
		logs+=("valkey-not-built")
		status=1
	fi
fi
python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    if path == "valkey-not-built":
        failed += 1
        continue
    try:
        f = open(path)
    except OSError as e:
        print(f"no test log ({e}): meson test did not run the tests", file=sys.stderr)
        failed += 1
        continue
    with f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result != "SKIP":
                failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit "$status"
