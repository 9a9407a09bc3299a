#!/bin/bash
# scale-real.sh: a real cluster of MASTERS redis-server processes (default
# 500, `slotctl sandbox up` with a long cluster-node-timeout and hz 1 so that
# hundreds of idle nodes fit two cores), KEYS keys loaded, then slotctl and
# redis-cli side by side on the same cluster, alternated REPS times:
#   check       `slotctl check` vs `redis-cli --cluster check`
#   reshard     SLOTS slots from every master onto the last one:
#               `slotctl reshard --from all` vs `redis-cli --cluster reshard
#               --cluster-from all --cluster-slots SLOTS`
#   plan        on that skewed map: `slotctl plan rebalance --by slots` vs
#               `redis-cli --cluster rebalance --cluster-simulate`
#   rebalance   the SLOTS slots back: `slotctl rebalance --by slots` vs
#               `redis-cli --cluster rebalance`
# Every move is followed by bench/verify.sh (every key once, on its slot's
# owner, with its value). Prints one line per measurement on stderr and
# JSON lines in $OUT (default ./scale-real.jsonl). Needs a release build
# (BUILD, default build-release) and python3-redis; not a test.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
PY=/usr/bin/python3
KIT=("$PY" "$BENCH_DIR/benchkit.py")
BUILD=${BUILD:-$ROOT/build-release}
SLOTCTL=${SLOTCTL:-$BUILD/src/slotctl}
MASTERS=${MASTERS:-500}
REPLICAS=${REPLICAS:-0}
KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
SLOTS=${SLOTS:-1000}
REPS=${REPS:-3}
NODE_TIMEOUT=${NODE_TIMEOUT:-60000}
HZ=${HZ:-1}
IDLE_S=${IDLE_S:-10}
OUT=${OUT:-$PWD/scale-real.jsonl}
# tmpfs when there is one: every node rewrites and fsyncs nodes.conf as it
# learns each peer, hundreds of times while the cluster forms
BASE=${BASE:-$([[ -d /dev/shm ]] && echo /dev/shm || echo /tmp)}
DIR=${DIR:-$(mktemp -d "$BASE/slotctl-scale-XXXXXX")}
SB=$DIR/sandbox

[[ -x $SLOTCTL ]] || { echo "scale-real: '$SLOTCTL' not built (meson setup build-release --buildtype=release && ninja -C build-release)" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "scale-real: redis-cli not found" >&2; exit 2; }
"$PY" -c 'import redis' 2>/dev/null || { echo "scale-real: $PY has no redis module (apt-get install python3-redis)" >&2; exit 2; }
# each node holds a bus link to every other and one back: 2 descriptors a peer
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cleanup() {
	[[ -f $SB/sandbox.json ]] && "$SLOTCTL" sandbox down --dir "$SB" >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

say() { echo "scale-real: $*" >&2; }
record() { echo "$1" >>"$OUT"; say "$1"; }

# timed NAME CMD...: wall, user and sys seconds and peak RSS of CMD (its
# output in $DIR/NAME.log); the JSON line goes to $OUT
timed() {
	local name=$1 rc=0
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$DIR/time" nice "$@" >"$DIR/$name.log" 2>&1 || rc=$?
	read -r wall user sys rss <"$DIR/time"
	record "{\"step\": \"$name\", \"masters\": $MASTERS, \"nodes\": $NODES, \"rc\": $rc, \"wall_s\": $wall, \"user_s\": $user, \"sys_s\": $sys, \"max_rss_kb\": $rss, \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
	[[ $rc == 0 ]] || { tail -5 "$DIR/$name.log" >&2; return 1; }
}

verify() {
	local v
	v=$(nice "$BENCH_DIR/verify.sh" "$SB" "$KEYS" "$VALUE_SIZE" 2>&1) || { say "after $1: $v"; exit 1; }
	say "after $1: $v"
}

# idle: the servers' CPU (cores), RSS and cluster-bus messages a second over
# IDLE_S seconds, from /proc and CLUSTER INFO
idle() {
	"$PY" - "$SB" "$IDLE_S" <<'EOF'
import json, os, sys, time
import redis
d, secs = sys.argv[1], float(sys.argv[2])
nodes = json.load(open(os.path.join(d, "sandbox.json")))["nodes"]
tck = os.sysconf("SC_CLK_TCK")
conns = [redis.Redis(host="127.0.0.1", port=n["port"], socket_timeout=60) for n in nodes]
def cpu():
    t = 0
    for n in nodes:
        f = open("/proc/%d/stat" % n["pid"]).read().rsplit(")", 1)[1].split()
        t += int(f[11]) + int(f[12])
    return t / tck
def rss_kb():
    t = 0
    for n in nodes:
        for l in open("/proc/%d/status" % n["pid"]):
            if l.startswith("VmRSS"):
                t += int(l.split()[1])
    return t
def sent():
    return sum(int(c.execute_command("CLUSTER INFO")["cluster_stats_messages_sent"]) for c in conns)
m0, c0, t0 = sent(), cpu(), time.monotonic()
time.sleep(secs)
m1, c1, t1 = sent(), cpu(), time.monotonic()
r = rss_kb()
print(json.dumps({"idle_cpu_cores": round((c1 - c0) / (t1 - t0), 3), "bus_msgs_per_s": round((m1 - m0) / (t1 - t0)),
                  "rss_mb_total": round(r / 1024), "rss_mb_per_node": round(r / 1024 / len(nodes), 1)}))
EOF
}

NODES=$((MASTERS * (1 + REPLICAS)))
say "$NODES nodes ($MASTERS masters, $REPLICAS replicas each), cluster-node-timeout $NODE_TIMEOUT, hz $HZ, in $SB"
timed up "$SLOTCTL" sandbox up --port 0 --dir "$SB" --masters "$MASTERS" --replicas "$REPLICAS" \
	--node-timeout "$NODE_TIMEOUT" --hz "$HZ"
SEED=127.0.0.1:$("${KIT[@]}" node --dir "$SB" --index 0 port)
TARGET=$("${KIT[@]}" node --dir "$SB" --index $((MASTERS - 1)) id)
record "{\"step\": \"idle\", \"nodes\": $NODES, $(idle | sed 's/^{//')"
say "loading $KEYS keys of $VALUE_SIZE bytes"
nice "${KIT[@]}" load --dir "$SB" --keys "$KEYS" --value-size "$VALUE_SIZE"
verify load

for rep in $(seq 1 "$REPS"); do
	timed check-slotctl "$SLOTCTL" check "$SEED"
	timed check-redis-cli redis-cli --cluster check "$SEED"
	for tool in slotctl redis-cli; do
		if [[ $tool == slotctl ]]; then
			timed reshard-slotctl "$SLOTCTL" reshard "$SEED" --from all --to "$TARGET" --slots "$SLOTS" --yes
		else
			timed reshard-redis-cli redis-cli --cluster reshard "$SEED" --cluster-from all \
				--cluster-to "$TARGET" --cluster-slots "$SLOTS" --cluster-yes
		fi
		verify "reshard-$tool"
		timed plan-slotctl "$SLOTCTL" plan rebalance "$SEED" --by slots -o "$DIR/plan.json"
		timed plan-redis-cli redis-cli --cluster rebalance "$SEED" --cluster-simulate
		if [[ $tool == slotctl ]]; then
			timed rebalance-slotctl "$SLOTCTL" rebalance "$SEED" --by slots --yes
		else
			timed rebalance-redis-cli redis-cli --cluster rebalance "$SEED"
		fi
		verify "rebalance-$tool"
	done
done
record "{\"step\": \"idle-after\", \"nodes\": $NODES, $(idle | sed 's/^{//')"
