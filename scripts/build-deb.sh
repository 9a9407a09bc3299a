#!/usr/bin/env bash
# build-deb.sh [SOURCE_DIR]: builds slotctl's Debian package with
# `dpkg-buildpackage -b -us -uc` in a temporary copy of the tree (the work
# tree stays clean) and checks it: the binary, both man pages and the three
# completions in their places; the packaged binary runs and its man page
# reads; apt could install it (its dependencies resolve). With
# SLOTCTL_DEB_INSTALL=1 and root it also installs it with `dpkg -i`, checks
# `slotctl --version` and `man -w slotctl`, and removes it again (a fresh CI
# machine does this; a shared one should not). Prints the .deb's path;
# keeps it in OUT_DIR when SLOTCTL_DEB_OUT is set. Exits 77 (a skipped meson
# test) when dpkg-buildpackage or debhelper is not installed.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)

for tool in dpkg-buildpackage dh dpkg-deb; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool not installed (scripts/install-deps.sh --tests installs it)"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slotctl-deb-XXXXXX")
installed=0
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	if [ "$installed" = 1 ]; then dpkg -r slotctl >/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The sources: git's files (tracked, and untracked ones it does not ignore)
# in a checkout, else everything but build folders.
mkdir "$tmp/slotctl"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done |
		tar --null -T - -cf -) | tar -xf - -C "$tmp/slotctl"
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$tmp/slotctl"
fi

start=$(date +%s)
if ! (cd "$tmp/slotctl" && DEB_BUILD_OPTIONS="nocheck parallel=1" \
	dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
	tail -n 60 "$tmp/build.log"
	echo "FAIL: dpkg-buildpackage -b -us -uc failed (last lines above)"
	exit 1
fi
debs=("$tmp"/slotctl_*.deb)
deb=${debs[0]}
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "$deb" ]; then
	echo "FAIL: want one slotctl_*.deb, got: ${debs[*]}"
	exit 1
fi
echo "built $(basename "$deb") in $(($(date +%s) - start)) s"

status=0
fail() {
	echo "FAIL: $*"
	status=1
}

contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }')
for path in ./usr/bin/slotctl ./usr/share/man/man1/slotctl.1.gz ./usr/share/man/man5/slotctl-plan.5.gz \
	./usr/share/bash-completion/completions/slotctl ./usr/share/zsh/vendor-completions/_slotctl \
	./usr/share/fish/vendor_completions.d/slotctl.fish ./usr/share/doc/slotctl/copyright; do
	grep -qx -- "$path" <<<"$contents" || fail "$path is not in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libhiredis libcjson libssl; do
	grep -q "$lib" <<<"$depends" || fail "Depends ($depends) does not name $lib"
done

dpkg-deb -x "$deb" "$tmp/root"
version=$("$tmp/root/usr/bin/slotctl" --version) || fail "the packaged slotctl --version failed"
want="slotctl $(dpkg-deb -f "$deb" Version)"
[ "${version:-}" = "$want" ] || fail "the packaged slotctl says '${version:-}', the package is '$want'"
for page in man1/slotctl.1.gz man5/slotctl-plan.5.gz; do
	zgrep -q '^\.TH ' "$tmp/root/usr/share/man/$page" || fail "$page is not a man page"
done
if command -v man >/dev/null; then
	page=$(MANWIDTH=80 man -l "$tmp/root/usr/share/man/man1/slotctl.1.gz" 2>/dev/null) || true
	grep -q EXAMPLES <<<"$page" || fail "man cannot read slotctl.1.gz"
fi

# installable: apt resolves its dependencies (a simulation changes nothing)
apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log"; fail "apt-get install --simulate $(basename "$deb") failed"; }

if [ "${SLOTCTL_DEB_INSTALL:-0}" = 1 ] && [ "$(id -u)" -eq 0 ] && ! dpkg -s slotctl >/dev/null 2>&1; then
	installed=1
	dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i failed"; }
	[ "$(/usr/bin/slotctl --version)" = "$want" ] || fail "the installed slotctl --version is not '$want'"
	man -w slotctl >/dev/null 2>&1 || ! command -v man >/dev/null || fail "man -w slotctl finds no page"
	echo "installed with dpkg -i, checked, removed"
fi

if [ -n "${SLOTCTL_DEB_OUT:-}" ]; then
	cp "$deb" "$SLOTCTL_DEB_OUT"/
	echo "kept $SLOTCTL_DEB_OUT/$(basename "$deb")"
fi
[ "$status" -eq 0 ] && echo "package: every check passed"
exit "$status"
