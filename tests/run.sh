#!/usr/bin/env bash
# run.sh: sets up and runs slotctl's whole test suite on a fresh Debian machine:
# installs the packages, builds with -Werror under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every meson suite, and ends with the line
# "N passed, M failed". Exits non-zero when any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SLOTCTL_SKIP_DEPS:-0}" != "1" ]; then
	bash scripts/install-deps.sh --tests
fi
build=${SLOTCTL_TEST_BUILD:-build-test}
if [ ! -d "$build" ]; then
	meson setup "$build" --werror -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true
fi
ninja -C "$build"
status=0
# a log left by an earlier run must not be counted if this one writes none
rm -f "$build/meson-logs/testlog.json"
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@" || status=$?
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
try:
    f = open(sys.argv[1])
except OSError as e:
    print(f"no test log ({e}): meson test did not run the tests", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)
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
