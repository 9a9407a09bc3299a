#!/usr/bin/env bash
# install-deps.sh [--tests]: installs what slotctl needs to build and test on
# Debian: compiler, meson, ninja, pkg-config, hiredis, cJSON, Check, redis-server
# and redis-tools (the tests start their own servers; the system service is not
# used); with --tests also zsh and fish, in which the completions are tried,
# the shell checker, which checks the bash completion, debhelper and dpkg-dev,
# with which scripts/build-deb.sh builds the Debian package (dpkg-dev also
# unpacks the Valkey source package for scripts/build-valkey.sh, which builds
# against libssl-dev), and clang with
# its libFuzzer runtime (libclang-rt-14-dev: only recommended by clang on
# Debian bookworm, so named here) for the fuzz suite.
set -euo pipefail
packages=(build-essential meson ninja-build pkg-config libhiredis-dev libssl-dev libcjson-dev check
	redis-server redis-tools python3)
if [ "${1:-}" = "--tests" ]; then packages+=(zsh fish shellcheck debhelper dpkg-dev libssl-dev clang libclang-rt-14-dev); fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -o Acquire::Retries=3
$sudo apt-get install -y --no-install-recommends -o Acquire::Retries=3 "${packages[@]}"
