#!/usr/bin/env bash
# with-valkey.sh COMMAND [ARG...]: runs COMMAND with SLOTCTL_REDIS_SERVER and
# SLOTCTL_REDIS_CLI naming the Valkey build of scripts/build-valkey.sh, so the
# tests' clusters (tests/support, `slotctl sandbox up`) run valkey-server.
# `meson test --setup valkey` runs every integration test through it. Fails
# at once, naming the script to run, when Valkey was not built yet;
# SLOTCTL_VALKEY_DIR names another directory holding both binaries.
set -euo pipefail
dir="${SLOTCTL_VALKEY_DIR:-}"
if [ -z "$dir" ]; then
	dir="$("$(dirname "$0")/../scripts/build-valkey.sh" --cached)"
fi
for binary in valkey-server valkey-cli; do
	if [ ! -x "$dir/$binary" ]; then
		echo "with-valkey: no '$dir/$binary' (run scripts/build-valkey.sh)" >&2
		exit 1
	fi
done
export SLOTCTL_REDIS_SERVER="$dir/valkey-server" SLOTCTL_REDIS_CLI="$dir/valkey-cli"
exec "$@"
