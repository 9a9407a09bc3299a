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
# Each run also records where the CPU went (benchkit.py timed: the tool's
# rusage, INFO cpu/stats/commandstats of every node before and after, each
# node's idle CPU over IDLE_CPU_S seconds before): printed last.
# STRACE=1 runs each tool under strace -c -f (its syscall summary goes to
# the log; slows the tool: for counts, not times).
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

# STRACE=1: the command under strace -c -f, its summary in RUN_DIR/LABEL.REP.strace
traced() {
	[[ ${STRACE:-0} != 1 ]] || CMD=(strace -c -f -o "$1.strace" "${CMD[@]}")
}
cmd_plain_redis_cli() { cmd_redis_cli "$1"; traced "$1"; }
cmd_plain_slotctl() { cmd_slotctl "$1"; traced "$1"; }
cmd_plain_redis_cli_tls() { cmd_redis_cli_tls "$1"; traced "$1"; }
cmd_plain_slotctl_tls() { cmd_slotctl_tls "$1"; traced "$1"; }

TRAFFIC=${TRAFFIC:-/bin/true} bench_need
echo "bench: reshard of $SLOTS slots, $KEYS keys x $VALUE_SIZE B over $MASTERS masters, plaintext and TLS, $(nproc) cores, $(redis-server --version | cut -d' ' -f3)" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for v in redis-cli slotctl; do
		run_variant "$rep" "$v" "cmd_plain_${v//-/_}" --empty-masters 1
		run_variant "$rep" "$v-tls" "cmd_plain_${v//-/_}_tls" --empty-masters 1 --tls
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
# Where the CPU went (medians over the repetitions): the tool's own (user,
# sys), each server's during the tool's run (source = master 0, target =
# the empty master, the others), the same less its idle CPU (cluster bus,
# cron: idle rate x tool time), connections the servers accepted (each one
# a TLS handshake over TLS: the tool's, plus the source's MIGRATE socket),
# MIGRATE calls, and the bytes the target read (MIGRATE's payload).
"$PY" - "$RESULTS" "$MASTERS" <<'PYEOF'
import json, statistics, sys
dst = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "servers" not in r:
        continue
    s, idle, t = r["servers"], r["servers_idle_cpu_per_s"], r["tool_s"]
    net = [x["cpu_s"] - i * t for x, i in zip(s, idle)]
    rows.setdefault(r["label"], []).append({
        "tool_s": t, "user": r["tool_user_s"], "sys": r["tool_sys_s"],
        "tool_cpu": r["tool_user_s"] + r["tool_sys_s"],
        "src": s[0]["cpu_s"], "dst": s[dst]["cpu_s"],
        "others": sum(x["cpu_s"] for i, x in enumerate(s) if i not in (0, dst)),
        "srv_net": sum(net), "conns": sum(x["conns"] for x in s),
        "migrate": sum(x["migrate"] for x in s), "dst_in_mb": s[dst]["in_b"] / 1e6})
cols = ["tool_s", "user", "sys", "tool_cpu", "src", "dst", "others", "srv_net", "conns", "migrate", "dst_in_mb"]
print("cpu (s, medians)  " + " ".join("%9s" % c for c in cols))
med = {}
for label, rs in rows.items():
    med[label] = {c: statistics.median(x[c] for x in rs) for c in cols}
    print("%-17s " % label + " ".join("%9.2f" % med[label][c] for c in cols))
for tool in ("redis-cli", "slotctl"):
    p, q = med.get(tool), med.get(tool + "-tls")
    if p and q:
        own, srv = q["tool_cpu"] - p["tool_cpu"], (q["src"] + q["dst"] + q["others"]) - (p["src"] + p["dst"] + p["others"])
        print("%s: TLS adds %.2f s of wall time; CPU: %.2f s the tool's own, %.2f s the servers' (%.2f s less idle)"
              % (tool, q["tool_s"] - p["tool_s"], own, srv, q["srv_net"] - p["srv_net"]))
# The same ratio on CPU (the tool's own plus every server's, less idle), which
# a loaded machine changes less than wall time
cpu = {k: v["tool_cpu"] + v["srv_net"] for k, v in med.items()}
if all(k in cpu for k in ("redis-cli", "redis-cli-tls", "slotctl", "slotctl-tls")):
    plain, tls = cpu["slotctl"] / cpu["redis-cli"], cpu["slotctl-tls"] / cpu["redis-cli-tls"]
    print("CPU ratio slotctl/redis-cli (tool + servers less idle): plaintext %.3f, TLS %.3f; %+.1f%%"
          % (plain, tls, (tls / plain - 1) * 100))
PYEOF
if [[ ${STRACE:-0} == 1 ]]; then
	for f in "$RUN_DIR"/*.strace; do   # calls per syscall, by time spent, the busiest first
		echo "syscalls $(basename "$f" .strace): $(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF "=" $4 }' "$f" | head -8 | tr '\n' ' ')total=$(awk '$NF == "total" { print $4 }' "$f")"
	done
fi
