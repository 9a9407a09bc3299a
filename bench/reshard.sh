#!/bin/bash
# reshard.sh: move SLOTS slots from master 0 (holding KEYS/MASTERS of the
# keys) to an empty master, with redis-cli --cluster reshard (default
# pipeline and --cluster-pipeline 1000), with slotctl reshard, and with the
# server-side floor (benchkit.py raw-reshard), each on a fresh identical
# sandbox; time until every node agrees on the new map, verify every key and
# print the times and the ratios. Not a test: never run in CI.
#
#   SLOTS=4096 bench/reshard.sh        # KEYS=1000000 (default): ~250,000 keys in those slots
#   VARIANTS="slotctl redis-cli" KEYS=20000 bench/reshard.sh
# Variants: redis-cli redis-cli-p1000 slotctl (gentle: the default)
# slotctl-fast (--fast) slotctl-apply (plan + apply)
# slotctl-paced (slotctl reshard --max-keys-per-sec PACE: by default the
# pace redis-cli kept in the same repetition, so list redis-cli first; the
# client's latency at equal pace) slotctl-shortblock (slotctl reshard
# --max-block-ms BLOCK_MS, 0.3 by default: MIGRATEs split to keep the
# source's clients waiting less) slotctl-batch (slotctl reshard --batch-keys
# BATCH, 10 by default: another gentle default, A/B in one run) floor.
# Knobs (env): KEYS VALUE_SIZE SLOTS MASTERS REPS VARIANTS CLIENT (1: the C
# traffic client at CLIENT_RATE; py: redis-py as fast as it goes) CLIENT_KEYS
# CLIENT_RATE PACE BLOCK_MS BATCH PICK (lowest: the slots redis-cli moves; cheapest) SLOTCTL_ARGS
# (extra options for slotctl apply/reshard) SLOTCTL TRAFFIC BUILD RUN_DIR KEEP.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SLOTS=${SLOTS:-4096}
VARIANTS=${VARIANTS:-"redis-cli redis-cli-p1000 slotctl slotctl-fast floor"}
PICK=${PICK:-lowest}   # lowest: the very slots redis-cli and the floor move; cheapest: slotctl's default
SRC=0
DST=$MASTERS   # the empty master: sandbox up --empty-masters 1 puts it after the masters

cmd_redis_cli() {
	CMD=(redis-cli --cluster reshard "127.0.0.1:$(node "$1" $SRC port)"
		--cluster-from "$(node "$1" $SRC id)" --cluster-to "$(node "$1" $DST id)"
		--cluster-slots "$SLOTS" --cluster-yes)
}

cmd_redis_cli_p1000() {
	cmd_redis_cli "$1"
	CMD+=(--cluster-pipeline 1000)
}

cmd_slotctl() {
	# shellcheck disable=SC2206
	CMD=("$SLOTCTL" reshard "127.0.0.1:$(node "$1" $SRC port)" --from "$(node "$1" $SRC id)"
		--to "$(node "$1" $DST id)" --slots "$SLOTS" --pick "$PICK" --yes $SLOTCTL_ARGS)
}

# slotctl at redis-cli's pace in this repetition (or PACE keys/s; 25000
# when neither is known).
cmd_slotctl_paced() {
	local pace=${PACE:-$(pace_of redis-cli "$rep")}
	cmd_slotctl "$1"
	CMD+=(--max-keys-per-sec "${pace:-25000}")
}

# slotctl --fast: the maintenance-window pace (whole slots per MIGRATE).
cmd_slotctl_fast() {
	cmd_slotctl "$1"
	CMD+=(--fast)
}

# slotctl with MIGRATEs bounded to BLOCK_MS (0.3, the default since --fast) each.
cmd_slotctl_shortblock() {
	cmd_slotctl "$1"
	CMD+=(--max-block-ms "${BLOCK_MS:-0.3}")
}

# slotctl with BATCH (10) keys per MIGRATE: another default, against the
# current one in the same run.
cmd_slotctl_batch() {
	cmd_slotctl "$1"
	CMD+=(--batch-keys "${BATCH:-10}")
}

# slotctl in two steps (plan file, then apply), timed together.
cmd_slotctl_apply() {
	CMD=(bash -c 'plan_then_apply "$@"' - "$1/plan.json" reshard "127.0.0.1:$(node "$1" $SRC port)"
		--from "$(node "$1" $SRC id)" --to "$(node "$1" $DST id)" --slots "$SLOTS" --pick "$PICK")
}

cmd_floor() {
	CMD=("${KIT[@]}" raw-reshard --dir "$1" --from $SRC --to $DST --slots "$SLOTS")
}

# bench/tls-ratio.sh sources this file for the commands above alone
[[ -z ${RESHARD_COMMANDS_ONLY:-} ]] || return 0
bench_need
echo "bench: reshard of $SLOTS slots, $KEYS keys x $VALUE_SIZE B over $MASTERS masters, $(nproc) cores, $(redis-server --version | cut -d' ' -f3)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for v in $VARIANTS; do
		run_variant "$rep" "$v" "cmd_${v//-/_}" --empty-masters 1
	done
done
report slotctl:redis-cli slotctl-fast:redis-cli slotctl-fast:slotctl slotctl-fast:floor slotctl:redis-cli-p1000 slotctl-paced:redis-cli slotctl-shortblock:redis-cli slotctl-batch:redis-cli slotctl-batch:slotctl slotctl:floor slotctl-apply:redis-cli slotctl-apply:redis-cli-p1000 slotctl-apply:floor redis-cli-p1000:redis-cli floor:redis-cli floor:redis-cli-p1000
