# lib.sh: what bench/reshard.sh and bench/rebalance.sh share (sourced, not run).
# One variant = a fresh sandbox (`slotctl sandbox up`), KEYS uniform keys of
# VALUE_SIZE bytes, a census of the other keys, optionally the traffic client
# (idle run, then running through the move), the tool timed until every node
# agrees on the new map, then a verification of every key. Results go to
# $RUN_DIR/results.jsonl, one JSON line per variant and repetition.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
PY=/usr/bin/python3
KIT=("$PY" "$BENCH_DIR/benchkit.py")

BUILD=${BUILD:-$ROOT/build-release}
SLOTCTL=${SLOTCTL:-$BUILD/src/slotctl}
TRAFFIC=${TRAFFIC:-$BUILD/tests/slotctl-traffic}
SLOTCTL_ARGS=${SLOTCTL_ARGS:-}     # extra options for slotctl reshard|rebalance|apply
KEYS=${KEYS:-1000000}               # 1M over 3 masters: the 4096 slots a reshard moves hold ~250,000
VALUE_SIZE=${VALUE_SIZE:-100}
MASTERS=${MASTERS:-3}
REPS=${REPS:-1}
CLIENT=${CLIENT:-1}               # 1: run the traffic client (C) during each move; py: bench/pyclient.py
                                  # (redis-py RedisCluster, as fast as it goes over the bench keys); 0: none
CLIENT_KEYS=${CLIENT_KEYS:-2000}
CLIENT_RATE=${CLIENT_RATE:-2000}  # ops/s; 0: as fast as one connection goes
IDLE_SECONDS=${IDLE_SECONDS:-2}
KEEP=${KEEP:-0}                   # 1: leave RUN_DIR (logs) behind
RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/slotctl-bench-XXXXXX)}
RESULTS=$RUN_DIR/results.jsonl

bench_need() {
	local b
	for b in "$SLOTCTL" "$TRAFFIC"; do
		[[ -x $b ]] || { echo "bench: '$b' not built: meson setup build-release --buildtype=release && ninja -C build-release" >&2; exit 2; }
	done
	command -v redis-cli >/dev/null || { echo "bench: redis-cli not found" >&2; exit 2; }
	"$PY" -c 'import redis' 2>/dev/null || { echo "bench: $PY has no redis module (apt-get install python3-redis)" >&2; exit 2; }
	[[ $CLIENT == [01] || $CLIENT == py ]] || { echo "bench: CLIENT must be 0, 1 or py" >&2; exit 2; }
}

# client_run DIR [--load] --seconds S: the chosen client on the sandbox in
# DIR, its JSON summary on stdout. Run it in a subshell (it execs: the
# background PID is the client's own, for kill -TERM).
client_run() {
	local dir=$1
	shift
	if [[ $CLIENT == py ]]; then
		[[ ${1:-} != --load ]] || shift
		exec "$PY" "$BENCH_DIR/pyclient.py" --dir "$dir" --keys "$KEYS" --value-size "$VALUE_SIZE" "$@"
	else
		exec "$TRAFFIC" --dir "$dir" --keys "$CLIENT_KEYS" --rate "$CLIENT_RATE" "$@"
	fi
}

# The sandboxes still up, stopped on exit whatever happens.
declare -a BENCH_LIVE=()
bench_cleanup() {
	local d
	for d in "${BENCH_LIVE[@]}"; do
		[[ -f $d/sandbox.json ]] && "$SLOTCTL" sandbox down --dir "$d" >/dev/null 2>&1 || true
	done
	[[ -n ${CLIENT_PID:-} ]] && kill "$CLIENT_PID" 2>/dev/null || true
	if [[ $KEEP != 1 ]]; then rm -rf "$RUN_DIR"; else echo "bench: logs kept in $RUN_DIR" >&2; fi
}
trap bench_cleanup EXIT

# plan_then_apply PLAN PLAN-ARGS...: `slotctl plan PLAN-ARGS -o PLAN`, then
# `slotctl apply PLAN --yes $SLOTCTL_ARGS` (exported: variants run it via bash -c).
plan_then_apply() {
	local plan=$1
	shift
	# shellcheck disable=SC2086
	"$SLOTCTL" plan "$@" -o "$plan" && "$SLOTCTL" apply "$plan" --yes $SLOTCTL_ARGS
}
export -f plan_then_apply
export SLOTCTL SLOTCTL_ARGS

node() { "${KIT[@]}" node --dir "$1" --index "$2" "$3"; }   # node DIR INDEX id|port

# run_variant REP LABEL CMDFN [sandbox up options...]: repetition REP of one
# variant. CMDFN DIR sets the array CMD to the command that moves the slots.
# The scripts interleave the variants within each repetition, so that a
# noisy minute on a shared machine hits all of them alike.
run_variant() {
	local rep=$1 label=$2 cmdfn=$3 dir idle client timed verify mem_before mem_after
	shift 3
	dir=$RUN_DIR/$label.$rep
	BENCH_LIVE+=("$dir")
	echo "bench: $label (rep $rep/$REPS): cluster up, loading $KEYS keys" >&2
	"$SLOTCTL" sandbox up --port 0 --dir "$dir" --masters "$MASTERS" "$@" >/dev/null
	"${KIT[@]}" load --dir "$dir" --keys "$KEYS" --value-size "$VALUE_SIZE"
	idle=null client=null
	if [[ $CLIENT != 0 ]]; then
		idle=$(client_run "$dir" --load --seconds "$IDLE_SECONDS") || true
	fi
	"${KIT[@]}" census --dir "$dir" --also traffic >"$dir/census.json"
	mem_before=$("${KIT[@]}" memory --dir "$dir")
	$cmdfn "$dir"
	if [[ $CLIENT != 0 ]]; then
		client_run "$dir" --seconds 3600 >"$dir/client.json" &
		CLIENT_PID=$!
		sleep 0.2
	fi
	echo "bench: $label (rep $rep/$REPS): ${CMD[*]}" >&2
	timed=$("${KIT[@]}" timed --dir "$dir" --log "$dir/tool.log" -- "${CMD[@]}")
	if [[ $CLIENT != 0 ]]; then
		kill -TERM "$CLIENT_PID"
		wait "$CLIENT_PID" || true
		CLIENT_PID=
		client=$(cat "$dir/client.json")
		[[ -n $client ]] || client=null
	fi
	mem_after=$("${KIT[@]}" memory --dir "$dir")
	local extra=()
	[[ $CLIENT == 1 ]] && extra=(--extra "traffic:$CLIENT_KEYS")
	if verify=$("${KIT[@]}" verify --dir "$dir" --keys "$KEYS" --value-size "$VALUE_SIZE" \
		--census "$dir/census.json" "${extra[@]}" 2>&1); then :; fi
	echo "bench: $label: $timed; $verify" >&2
	[[ $timed == *'"rc": 0,'* ]] || tail -5 "$dir/tool.log" >&2
	"$PY" - "$label" "$rep" "$timed" "$idle" "$client" "$verify" "$mem_before" "$mem_after" >>"$RESULTS" <<'EOF'
import json, sys
label, rep, timed, idle, client, verify, mb, ma = sys.argv[1:]
print(json.dumps({"label": label, "rep": int(rep), **json.loads(timed),
                  "idle": json.loads(idle), "client": json.loads(client),
                  "verify": verify.strip(), "memory_before": json.loads(mb),
                  "memory_after": json.loads(ma)}))
EOF
	"$SLOTCTL" sandbox down --dir "$dir" >/dev/null
	[[ $KEEP == 1 ]] || rm -rf "$dir"
}

# pace_of LABEL REP: the keys per second variant LABEL moved in repetition
# REP (keys moved / tool time), empty when it has not run.
pace_of() {
	[[ -f $RESULTS ]] || return 0
	"$PY" - "$RESULTS" "$1" "$2" <<'EOF'
import json, sys
path, label, rep = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(path):
    r = json.loads(line)
    if r["label"] == label and r["rep"] == rep and r.get("keys_moved") and r["tool_s"] > 0:
        print(int(r["keys_moved"] / r["tool_s"]))
EOF
}

# report VARIANT:BASELINE... : the table of every variant, then the ratio of
# the median total times of each pair.
report() {
	"$PY" "$BENCH_DIR/report.py" "$RESULTS" "$@"
}
