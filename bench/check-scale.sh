#!/bin/sh
# check-scale.sh: the cost of one `slotctl check` against N fake masters
# (bench/check_scale.c) for each N given (default 100 500 1000). Needs an
# optimised build with tests (build-release: meson setup build-release
# --buildtype=release && ninja -C build-release), whose test support
# library has the fake server. Not a test.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-release}
ninja -C "$build" src/libslotctl_io.a src/libslotctl_core.a tests/libtestsupport.a >/dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root/include" -I"$root/tests/support" \
	"$root/bench/check_scale.c" "$build/tests/libtestsupport.a" \
	"$build/src/libslotctl_io.a" "$build/src/libslotctl_core.a" \
	$(pkg-config --cflags --libs libcjson hiredis openssl check) -lpthread -lm -o "$build/check-scale"
ulimit -n 65536 2>/dev/null || true
[ $# -gt 0 ] || set -- 100 500 1000
for n in "$@"; do
	CHECK_SCALE_MASTERS=$n "$build/check-scale"
done
