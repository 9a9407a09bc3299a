#!/usr/bin/env bash
# capture-nodes-fixtures.sh: regenerates the real `CLUSTER NODES` fixtures in
# tests/fixtures/nodes/ from throwaway redis-server processes (127.0.0.1,
# free ephemeral ports, a temp dir), formed by hand with ADDSLOTSRANGE, MEET
# and REPLICATE. Stops every server it started, by PID. Usage:
#   scripts/capture-nodes-fixtures.sh [OUT_DIR]
set -euo pipefail

out=${1:-"$(dirname "$0")/../tests/fixtures/nodes"}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/slotctl-capture.XXXXXX)
pids=()
ports=()
cports=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cli() { # cli NODE ARGS...
	local n=$1
	shift
	redis-cli -h 127.0.0.1 -p "${ports[$n]}" "$@"
}

raw_nodes() { # raw_nodes NODE: the node's CLUSTER NODES bulk reply, byte for byte
	python3 - "${ports[$1]}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nNODES\r\n")
buf = b""
while b"\r\n" not in buf:
    buf += s.recv(65536)
head, rest = buf.split(b"\r\n", 1)
n = int(head[1:])
while len(rest) < n + 2:
    rest += s.recv(65536)
sys.stdout.buffer.write(rest[:n])
PY
}

save() { # save NODE FILE
	raw_nodes "$1" >"$out/$2"
	echo "captured $2"
}

wait_until() { # wait_until DESCRIPTION COMMAND...: polls for 30 s
	local what=$1
	shift
	for _ in $(seq 300); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "timed out waiting for $what" >&2
	exit 1
}

all_ok() {
	for n in 0 1 2 3 4 5; do
		cli "$n" CLUSTER INFO | grep -q 'cluster_state:ok' || return 1
		[ "$(cli "$n" CLUSTER NODES | grep -c connected)" -eq 6 ] || return 1
	done
}

replicas_known() {
	for n in 0 1 2 3 4 5; do
		[ "$(cli "$n" CLUSTER NODES | grep -c slave)" -eq 3 ] || return 1
	done
}

for n in 0 1 2 3 4 5; do
	port=$(free_port)
	cport=$(free_port)
	while [ "$cport" = "$port" ]; do cport=$(free_port); done
	mkdir -p "$tmp/n$n"
	redis-server --bind 127.0.0.1 --port "$port" --cluster-port "$cport" \
		--cluster-enabled yes --cluster-config-file "$tmp/n$n/nodes.conf" \
		--cluster-node-timeout 2000 --dir "$tmp/n$n" --save '' --appendonly no \
		--logfile "$tmp/n$n/log" --daemonize no &
	pids+=($!)
	ports+=("$port")
	cports+=("$cport")
done
for n in 0 1 2 3 4 5; do
	wait_until "node $n" cli "$n" PING
done

save 0 fresh-node.txt

ids=()
for n in 0 1 2 3 4 5; do
	ids+=("$(cli "$n" CLUSTER MYID)")
	cli "$n" CLUSTER SET-CONFIG-EPOCH $((n + 1)) >/dev/null
done
cli 0 CLUSTER ADDSLOTSRANGE 0 5460 >/dev/null
cli 1 CLUSTER ADDSLOTSRANGE 5461 10922 >/dev/null
cli 2 CLUSTER ADDSLOTSRANGE 10923 16383 >/dev/null
for n in 1 2 3 4 5; do
	cli "$n" CLUSTER MEET 127.0.0.1 "${ports[0]}" "${cports[0]}" >/dev/null
done
wait_until "cluster ok" all_ok
for n in 3 4 5; do
	cli "$n" CLUSTER REPLICATE "${ids[$((n - 3))]}" >/dev/null
done
cli 5 CONFIG SET cluster-replica-no-failover yes >/dev/null
wait_until "replicas known" replicas_known
sleep 1
save 0 healthy-3m3r.txt
save 3 healthy-3m3r-replica-view.txt

# open slots: node 0 migrating 100 and 101 to node 1, node 1 importing them
for slot in 100 101; do
	cli 1 CLUSTER SETSLOT "$slot" IMPORTING "${ids[0]}" >/dev/null
	cli 0 CLUSTER SETSLOT "$slot" MIGRATING "${ids[1]}" >/dev/null
done
save 0 open-slots-migrating.txt
save 1 open-slots-importing.txt
for slot in 100 101; do
	cli 0 CLUSTER SETSLOT "$slot" STABLE >/dev/null
	cli 1 CLUSTER SETSLOT "$slot" STABLE >/dev/null
done

# hostnames announced by every node
for n in 0 1 2 3 4 5; do
	cli "$n" CONFIG SET cluster-announce-hostname "node-$n.example.test" >/dev/null
done
hostnames_known() { [ "$(cli 0 CLUSTER NODES | grep -c 'example.test')" -eq 6 ]; }
wait_until "hostnames" hostnames_known
save 0 hostnames.txt
for n in 0 1 2 3 4 5; do
	cli "$n" CONFIG SET cluster-announce-hostname "" >/dev/null
done

# a handshake with an address where nothing listens
nobody=$(free_port)
cli 0 CLUSTER MEET 127.0.0.1 "$nobody" "$(free_port)" >/dev/null
save 0 handshake.txt

# a replica killed: first flagged fail? (pfail), then fail
kill -KILL "${pids[5]}"
got_pfail=0
for _ in $(seq 600); do
	for n in 0 1 2 3 4; do
		line=$(cli "$n" CLUSTER NODES)
		if [ $got_pfail -eq 0 ] && grep -q "^${ids[5]} .*fail?" <<<"$line"; then
			printf '%s\n' "$line" >"$out/replica-pfail.txt"
			echo "captured replica-pfail.txt (view of node $n)"
			got_pfail=1
		fi
		if grep -q "^${ids[5]} [^ ]* [^ ]*fail[, ]" <<<"$line" ||
			grep -q "^${ids[5]} [^ ]* slave,fail " <<<"$line"; then
			printf '%s\n' "$line" >"$out/replica-fail.txt"
			echo "captured replica-fail.txt (view of node $n)"
			exit 0
		fi
	done
	sleep 0.05
done
echo "replica never flagged fail" >&2
exit 1
