#!/bin/bash
# tls-ratio.sh: the reshard of bench/reshard.sh (SLOTS slots from master 0
# to an empty master; KEYS=1000000 puts ~250,000 keys in 4096 slots) with
# redis-cli --cluster reshard and with slotctl reshard, in plaintext and
# over TLS (sandbox up --tls: TLS-only nodes, tls-cluster, a throwaway CA;
# both tools given its CA and client certificate), each on a fresh
# identical sandbox, interleaved within each repetition. Prints the table,
# slotctl's ratio to redis-cli in plaintext and over TLS, and how far the
# TLS ratio is from the plaintext one (goal: within 10%). Not a test: never
# run in CI. No traffic client by default (CLIENT=0: the C client speaks
# plaintext only).
#
#   bench/tls-ratio.sh                           # SLOTS=4096 KEYS=1000000 REPS=1
#   KEYS=100000 REPS=3 bench/tls-ratio.sh        # quicker: ~25,000 keys move
# Knobs (env): KEYS VALUE_SIZE SLOTS MASTERS REPS SLOTCTL_ARGS SLOTCTL BUILD RUN_DIR KEEP.
CLIENT=${CLIENT:-0}
# lib.sh, and the plaintext commands cmd_redis_cli and cmd_slotctl (--pick lowest: the slots redis-cli moves)
RESHARD_COMMANDS_ONLY=1 source "$(dirname "${BASH_SOURCE[0]}")/reshard.sh"

# The TLS options of the sandbox in DIR (redis-cli and slotctl name them alike).
tls_args() {
	TLS=(--tls --cacert "$1/tls/ca.crt" --cert "$1/tls/client.crt" --key "$1/tls/client.key")
}

cmd_redis_cli_tls() {
	tls_args "$1"
	cmd_redis_cli "$1"
	CMD=("${CMD[0]}" "${TLS[@]}" "${CMD[@]:1}")
}

cmd_slotctl_tls() {
	tls_args "$1"
	cmd_slotctl "$1"
	CMD+=("${TLS[@]}")
}

TRAFFIC=${TRAFFIC:-/bin/true} bench_need
echo "bench: reshard of $SLOTS slots, $KEYS keys x $VALUE_SIZE B over $MASTERS masters, plaintext and TLS, $(nproc) cores, $(redis-server --version | cut -d' ' -f3)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for v in redis-cli slotctl; do
		run_variant "$rep" "$v" "cmd_${v//-/_}" --empty-masters 1
		run_variant "$rep" "$v-tls" "cmd_${v//-/_}_tls" --empty-masters 1 --tls
	done
done
report slotctl:redis-cli slotctl-tls:redis-cli-tls redis-cli-tls:redis-cli slotctl-tls:slotctl
"$PY" - "$RESULTS" <<'PYEOF'
import json, statistics, sys
t = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    t.setdefault(r["label"], []).append(r["total_s"])
m = {k: statistics.median(v) for k, v in t.items()}
plain = m["slotctl"] / m["redis-cli"]
tls = m["slotctl-tls"] / m["redis-cli-tls"]
print("ratio slotctl/redis-cli: plaintext %.3f, TLS %.3f; TLS ratio is %+.1f%% of the plaintext one (goal: within 10%%)"
      % (plain, tls, (tls / plain - 1) * 100))
PYEOF
