#!/bin/bash
# rebalance.sh: feed a new empty master from the MASTERS others, with
# redis-cli --cluster rebalance --cluster-use-empty-masters and with slotctl
# rebalance --use-empty-masters, on uniform data and on skewed data (sandbox
# up --skewed: a few slots holding MB-sized hashes and lists), each on a
# fresh identical sandbox; time until every node agrees, verify every key,
# and report per-master used_memory max/min after each tool. Not a test:
# never run in CI.
#
#   bench/rebalance.sh                 # KEYS=1000000 (default): ~250,000 keys move
#   VARIANTS="slotctl-skewed redis-cli-skewed" KEYS=20000 bench/rebalance.sh
# Variants: redis-cli slotctl (gentle: the default) slotctl-fast (--fast)
# slotctl-apply (plan + apply), each also with the suffix -skewed.
# Knobs (env): KEYS VALUE_SIZE MASTERS REPS VARIANTS CLIENT CLIENT_KEYS
# CLIENT_RATE SLOTCTL_ARGS (extra options for slotctl rebalance) SLOTCTL
# TRAFFIC BUILD RUN_DIR KEEP.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VARIANTS=${VARIANTS:-"redis-cli slotctl redis-cli-skewed slotctl-skewed"}

cmd_redis_cli() {
	CMD=(redis-cli --cluster rebalance "127.0.0.1:$(node "$1" 0 port)" --cluster-use-empty-masters)
}

cmd_slotctl() {
	# shellcheck disable=SC2206
	CMD=("$SLOTCTL" rebalance "127.0.0.1:$(node "$1" 0 port)" --use-empty-masters --yes $SLOTCTL_ARGS)
}

# slotctl --fast: the maintenance-window pace.
cmd_slotctl_fast() {
	cmd_slotctl "$1"
	CMD+=(--fast)
}

# slotctl in two steps (plan file, then apply), timed together.
cmd_slotctl_apply() {
	CMD=(bash -c 'plan_then_apply "$@"' - "$1/plan.json" rebalance "127.0.0.1:$(node "$1" 0 port)"
		--use-empty-masters)
}

bench_need
echo "bench: rebalance onto 1 empty master, $KEYS keys x $VALUE_SIZE B over $MASTERS masters, $(nproc) cores, $(redis-server --version | cut -d' ' -f3)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for v in $VARIANTS; do
		case $v in
		*-skewed) run_variant "$rep" "$v" "cmd_$(tr - _ <<<"${v%-skewed}")" --empty-masters 1 --skewed ;;
		*) run_variant "$rep" "$v" "cmd_${v//-/_}" --empty-masters 1 ;;
		esac
	done
done
report slotctl:redis-cli slotctl-fast:redis-cli slotctl-fast:slotctl slotctl-skewed:redis-cli-skewed slotctl-fast-skewed:redis-cli-skewed slotctl-apply:redis-cli slotctl-apply-skewed:redis-cli-skewed
