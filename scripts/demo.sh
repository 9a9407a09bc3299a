#!/usr/bin/env bash
# demo.sh: the README's first command. Installs, builds, starts a throwaway
# local cluster with sample data and one empty master (on free ports, in a
# temp dir), checks it, plans a memory rebalance onto the empty master, shows
# the plan, applies it, checks again, and stops the cluster on exit whatever
# happens.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SLOTCTL_SKIP_DEPS:-0}" != "1" ]; then
	bash scripts/install-deps.sh
fi
[ -d build ] || meson setup build
ninja -C build
slotctl=$PWD/build/src/slotctl
"$slotctl" --version

work=$(mktemp -d /tmp/slotctl-demo-XXXXXX)
sandbox=$work/sandbox
cleanup() {
	"$slotctl" sandbox down --dir "$sandbox" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one slotctl step, echoing it first; any failure ends the demo.
step() {
	printf '\n$ slotctl %s\n' "$*" >&2
	"$slotctl" "$@"
}

step sandbox up --port 0 --dir "$sandbox" --masters 3 --replicas 1 --empty-masters 1 \
	--keys 200000 --skewed | tee "$work/up"
seed=$(head -n 1 "$work/up")
step check "$seed" --wait 30
# A new, empty master joined the cluster: plan moving data onto it, balancing
# memory (not just slot counts: the old masters hold a few big keys, so the
# new one gets more slots and keys to hold its share of the memory), review
# the plan, apply it, check the result.
step plan rebalance "$seed" --use-empty-masters -o "$work/plan.json"
step show "$work/plan.json"
step apply "$work/plan.json" --yes
step check "$seed" --wait 30
echo
echo "demo done; the sandbox is stopped on exit"
