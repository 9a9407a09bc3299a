#!/usr/bin/env bash
# build-valkey.sh [--refresh|--cached]: builds valkey-server and valkey-cli from
# Debian's own `valkey` source package (the unstable suite carries 9.1.x) so
# the tests and the benchmarks can run on a second server, and prints the
# directory that holds the two binaries.
#
# The machine's apt setup is left untouched: apt reads a private sources list
# (one deb-src line) and keeps its lists and cache in a temporary directory;
# the Release file is checked with the machine's Debian archive keyring.
# The binaries are cached outside the clone, in
#   ${SLOTCTL_VALKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slotctl}/valkey-<version>/
# so a later run prints that directory at once, without network or build;
# --refresh asks the registry for the current version first (and builds it
# when it is not cached yet); --cached only prints the cached directory, and
# fails at once when there is none (tests/with-valkey.sh uses it).
#
# Built with the bundled dependencies (Debian's source keeps deps/), libc's
# malloc (the bundled jemalloc only slows the build; no test depends on it),
# BUILD_TLS=yes against the installed libssl-dev, and no systemd.
#
# Needs: dpkg-dev (dpkg-source unpacks the package), build-essential, and
# libssl-dev; scripts/install-deps.sh --tests installs them.
# Environment: SLOTCTL_DEBIAN_MIRROR (default: the machine's Debian mirror),
# SLOTCTL_VALKEY_SUITE (default unstable), SLOTCTL_VALKEY_SERIES (the upstream
# series accepted, default 9.1), SLOTCTL_VALKEY_JOBS (make -j, default 2),
# SLOTCTL_VALKEY_LOCK_WAIT (seconds to wait for another run's build, default
# 3600). Every wait is bounded: the lock by that, each apt-get by 600 s.
set -euo pipefail

die() { echo "build-valkey: $*" >&2; exit 1; }
say() { echo "build-valkey: $*" >&2; }

refresh=0 cached_only=0
case "${1:-}" in
"") ;;
--refresh) refresh=1 ;;
--cached) cached_only=1 ;;
-h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) die "unknown argument '$1' (try --refresh or --cached)" ;;
esac

series="${SLOTCTL_VALKEY_SERIES:-9.1}"
suite="${SLOTCTL_VALKEY_SUITE:-unstable}"
jobs="${SLOTCTL_VALKEY_JOBS:-2}"
lock_wait="${SLOTCTL_VALKEY_LOCK_WAIT:-3600}"
cache_root="${SLOTCTL_VALKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slotctl}"
mkdir -p "$cache_root"

# A cached build is complete when its stamp exists (written last).
complete() { [ -x "$1/valkey-server" ] && [ -x "$1/valkey-cli" ] && [ -f "$1/BUILD_INFO" ]; }

# The newest complete cached build of the series, if any.
newest_cached() {
	local d best=""
	for d in "$cache_root"/valkey-"$series".*; do
		complete "$d" || continue
		if [ -z "$best" ] || dpkg --compare-versions "${d##*/valkey-}" gt "${best##*/valkey-}"; then
			best="$d"
		fi
	done
	printf '%s' "$best"
}

if [ "$refresh" = 0 ]; then
	cached="$(newest_cached)"
	if [ -n "$cached" ]; then echo "$cached"; exit 0; fi
fi
if [ "$cached_only" = 1 ]; then
	die "no valkey $series.x built in '$cache_root': run scripts/build-valkey.sh"
fi

# One build at a time per cache (two test runs may start it together); a
# build takes minutes (514 s at -j2), so a holder past the bound is stuck.
exec 9>"$cache_root/.build-valkey.lock"
flock -w "$lock_wait" 9 ||
	die "another build-valkey.sh has held '$cache_root/.build-valkey.lock' for ${lock_wait}s: is it stuck? (SLOTCTL_VALKEY_LOCK_WAIT)"
if [ "$refresh" = 0 ]; then
	cached="$(newest_cached)"
	if [ -n "$cached" ]; then echo "$cached"; exit 0; fi
fi

command -v dpkg-source >/dev/null || die "dpkg-source not found: install dpkg-dev (scripts/install-deps.sh --tests)"
command -v make >/dev/null || die "make not found: install build-essential"

# The mirror the machine's apt already uses (deb822 first, then one-line).
mirror="${SLOTCTL_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
	mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
	mirror="$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
options=""
if [ -r "$keyring" ]; then options="[signed-by=$keyring] "; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/slotctl-valkey.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src ${options}${mirror} ${suite} main" >"$work/sources.list"
apt_options=(
	-o "Dir::Etc::sourcelist=$work/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::Cache=$work/cache"
	-o "Acquire::Retries=3"
	-o "APT::Sandbox::User=$(id -un)"
)

say "reading valkey's source index from '$mirror' ($suite)"
timeout 600 apt-get "${apt_options[@]}" -q update >"$work/update.log" 2>&1 ||
	{ cat "$work/update.log" >&2; die "apt-get update of the private sources list failed"; }
if grep -q '^[WE]:' "$work/update.log"; then
	cat "$work/update.log" >&2
	die "apt-get update of '$mirror' ($suite) warned or failed (is the keyring '$keyring' current?)"
fi

debian_version="$(apt-cache "${apt_options[@]}" showsrc valkey |
	awk '/^Version:/ { print $2 }' | sort -V | tail -n 1)"
[ -n "$debian_version" ] || die "no 'valkey' source package in '$mirror' ($suite)"
version="${debian_version#*:}"
version="${version%-*}"
version="${version%+*}"
case "$version" in
"$series".*) ;;
*) die "'$suite' carries valkey $version, not $series.x (set SLOTCTL_VALKEY_SERIES or SLOTCTL_VALKEY_SUITE)" ;;
esac
dest="$cache_root/valkey-$version"
if complete "$dest"; then echo "$dest"; exit 0; fi

say "fetching valkey $debian_version"
(cd "$work/src" && timeout 600 apt-get "${apt_options[@]}" -q source "valkey=$debian_version" >"$work/source.log" 2>&1) ||
	{ cat "$work/source.log" >&2; die "apt-get source valkey=$debian_version failed"; }
tree="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'valkey-*' | head -n 1)"
if [ -z "$tree" ] || [ ! -f "$tree/src/Makefile" ]; then die "the unpacked source has no src/Makefile"; fi

make_args=(BUILD_TLS=yes USE_SYSTEMD=no MALLOC=libc)
say "building valkey-server and valkey-cli ($version: make -j$jobs ${make_args[*]})"
start=$(date +%s)
nice make -C "$tree/src" -j"$jobs" "${make_args[@]}" valkey-server valkey-cli >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log" >&2; die "the build of valkey $version failed"; }
seconds=$(($(date +%s) - start))
"$tree/src/valkey-server" --version >/dev/null || die "the built valkey-server does not run"

# Install beside the final place, then rename: a reader sees all or nothing.
staging="$(mktemp -d "$cache_root/.valkey-$version.XXXXXX")"
chmod 0755 "$staging"
install -m 0755 "$tree/src/valkey-server" "$tree/src/valkey-cli" "$staging/"
{
	echo "version=$version"
	echo "debian_version=$debian_version"
	echo "source=$mirror $suite"
	echo "make_args=${make_args[*]}"
	echo "build_seconds=$seconds"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$staging/BUILD_INFO"
rm -rf "$dest"
mv "$staging" "$dest"
say "built valkey $version in ${seconds}s"
echo "$dest"
