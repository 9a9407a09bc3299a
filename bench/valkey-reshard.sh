#!/bin/bash
# valkey-reshard.sh: on Valkey 9, move SLOTS slots from master 0 (holding
# KEYS/MASTERS of the keys) to an empty master with slotctl (its default
# backend, and --backend atomic) and with valkey-cli --cluster reshard (the
# server-side --cluster-use-atomic-slot-migration, and key by key with
# --cluster-pipeline 1000), each on a fresh identical sandbox of
# valkey-server processes, a cluster client reading and writing throughout;
# time until every node agrees on the new map, verify every key and print
# the times and the ratios. Not a test: never run in CI.
#
#   VALKEY_DIR=~/.cache/slotctl/valkey-9.1.2 bench/valkey-reshard.sh
#   VARIANTS="slotctl-atomic valkey-cli-atomic" KEYS=100000 bench/valkey-reshard.sh
# Variants: slotctl slotctl-atomic valkey-cli-atomic valkey-cli-p1000,
# slotctl-keys and valkey-cli-keys (both key by key, valkey-cli with its
# default 10 keys a MIGRATE: Valkey 8's path; with REPLICAS=1 DST=1 every
# SETSLOT waits for a replica's ack), and
# (not run unless listed) the rebalance onto the empty master from the
# MASTERS others: rebalance-valkey-cli-atomic (valkey-cli --cluster rebalance
# --cluster-use-empty-masters --cluster-use-atomic-slot-migration) and
# rebalance-slotctl-atomic (slotctl rebalance --use-empty-masters --by slots
# --backend atomic: slot counts, what valkey-cli balances; the pairs' jobs
# run in parallel). With SLOTCTL_BASE (another slotctl binary, e.g. a release
# build of the commit before a change) also slotctl-base, slotctl-keys-base
# and rebalance-slotctl-base, the same commands with that binary: before and
# after alternated in one run.
# Knobs (env): VALKEY_DIR (holds valkey-server and valkey-cli; default: what
# scripts/build-valkey.sh prints, when it is there) KEYS (1000000: ~250,000
# keys in the 4096 slots) VALUE_SIZE SLOTS MASTERS REPS VARIANTS CLIENT (py:
# redis-py RedisCluster as fast as it goes, the default here; 1: the C traffic
# client at CLIENT_RATE; 0: none) SLOTCTL_ARGS SLOTCTL SLOTCTL_BASE TRAFFIC
# BUILD RUN_DIR KEEP REPLICAS (per master, 0) DST (the target's index, the
# empty master by default); the rest as bench/lib.sh says.
CLIENT=${CLIENT:-py}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SLOTS=${SLOTS:-4096}
VARIANTS=${VARIANTS:-"valkey-cli-atomic slotctl slotctl-atomic valkey-cli-p1000"}
REPLICAS=${REPLICAS:-0}
SRC=0
# the empty master by default: sandbox up --empty-masters 1 puts it after the
# masters and their replicas (it has none); DST=1 moves to a master with its
# replicas instead
DST=${DST:-$((MASTERS * (1 + REPLICAS)))}

if [[ -z ${VALKEY_DIR:-} && -x $ROOT/scripts/build-valkey.sh ]]; then
	VALKEY_DIR=$("$ROOT/scripts/build-valkey.sh")
fi
VALKEY_SERVER=${VALKEY_DIR:-}/valkey-server
VALKEY_CLI=${VALKEY_DIR:-}/valkey-cli
for b in "$VALKEY_SERVER" "$VALKEY_CLI"; do
	[[ -x $b ]] || { echo "bench: '$b' not found: set VALKEY_DIR to where valkey-server and valkey-cli are" >&2; exit 2; }
done

cmd_valkey_cli() {
	CMD=("$VALKEY_CLI" --cluster reshard "127.0.0.1:$(node "$1" $SRC port)"
		--cluster-from "$(node "$1" $SRC id)" --cluster-to "$(node "$1" $DST id)"
		--cluster-slots "$SLOTS" --cluster-yes)
}

cmd_valkey_cli_atomic() {
	cmd_valkey_cli "$1"
	CMD+=(--cluster-use-atomic-slot-migration)
}

cmd_valkey_cli_p1000() {
	cmd_valkey_cli "$1"
	CMD+=(--cluster-pipeline 1000)
}

# valkey-cli key by key with its defaults (10 keys a MIGRATE).
cmd_valkey_cli_keys() {
	cmd_valkey_cli "$1"
}

# slotctl reshard of the very slots valkey-cli moves (the lowest), with
# its default backend.
cmd_slotctl() {
	# shellcheck disable=SC2206
	CMD=("$SLOTCTL" reshard "127.0.0.1:$(node "$1" $SRC port)" --from "$(node "$1" $SRC id)"
		--to "$(node "$1" $DST id)" --slots "$SLOTS" --pick lowest --yes $SLOTCTL_ARGS)
}

cmd_slotctl_atomic() {
	cmd_slotctl "$1"
	CMD+=(--backend atomic)
}

# slotctl key by key (what Valkey 8, without atomic migration, gets).
cmd_slotctl_keys() {
	cmd_slotctl "$1"
	CMD+=(--backend keys)
}

cmd_slotctl_keys_base() {
	local SLOTCTL=$SLOTCTL_BASE
	cmd_slotctl_keys "$1"
}

# The same slotctl commands with the binary SLOTCTL_BASE (before a change).
cmd_slotctl_base() {
	local SLOTCTL=$SLOTCTL_BASE
	cmd_slotctl "$1"
}

cmd_rebalance_valkey_cli_atomic() {
	CMD=("$VALKEY_CLI" --cluster rebalance "127.0.0.1:$(node "$1" 0 port)" --cluster-use-empty-masters
		--cluster-use-atomic-slot-migration --cluster-yes)
}

cmd_rebalance_slotctl_atomic() {
	# shellcheck disable=SC2206
	CMD=("$SLOTCTL" rebalance "127.0.0.1:$(node "$1" 0 port)" --use-empty-masters --by slots --yes --backend atomic
		$SLOTCTL_ARGS)
}

cmd_rebalance_slotctl_base() {
	local SLOTCTL=$SLOTCTL_BASE
	cmd_rebalance_slotctl_atomic "$1"
}

bench_need
if [[ " $VARIANTS " == *-base\ * ]]; then
	[[ -x ${SLOTCTL_BASE:-} ]] || { echo "bench: the -base variants need SLOTCTL_BASE, a slotctl binary" >&2; exit 2; }
fi
echo "bench: valkey reshard of $SLOTS slots, $KEYS keys x $VALUE_SIZE B over $MASTERS masters," \
	"client $CLIENT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"$("$VALKEY_SERVER" --version | cut -d' ' -f1-3)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for v in $VARIANTS; do
		run_variant "$rep" "$v" "cmd_${v//-/_}" --empty-masters 1 --replicas "$REPLICAS" \
			--redis-server "$VALKEY_SERVER"
	done
done
echo "bench: load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
report slotctl:valkey-cli-atomic slotctl-atomic:valkey-cli-atomic slotctl:valkey-cli-p1000 \
	slotctl-keys:valkey-cli-keys slotctl-keys:valkey-cli-p1000 slotctl-keys:slotctl-keys-base \
	slotctl-atomic:valkey-cli-p1000 valkey-cli-p1000:valkey-cli-atomic \
	rebalance-slotctl-atomic:rebalance-valkey-cli-atomic slotctl-base:valkey-cli-atomic \
	rebalance-slotctl-base:rebalance-valkey-cli-atomic slotctl:slotctl-base \
	rebalance-slotctl-atomic:rebalance-slotctl-base
