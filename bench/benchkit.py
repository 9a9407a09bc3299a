#!/usr/bin/python3
"""benchkit.py: the helpers behind bench/*.sh, on a sandbox made by
`slotctl sandbox up --dir DIR` (ports, ids and roles read from DIR/sandbox.json).

  load     --dir D --keys N [--value-size B] [--prefix P]   uniform string keys, via redis-cli --pipe
  census   --dir D [--prefix P] > FILE        digest of every key that is not "<prefix>:<i>"
  verify   --dir D --keys N [--prefix P] [--census FILE] [--extra PREFIX:N ...]
           every key exactly once, on the owner of its slot, with its value
  timed    --dir D [--log FILE] -- CMD ...    run CMD, then wait until every node agrees;
                                              prints {"rc", "tool_s", "total_s",
                                              "slots_moved", "keys_moved"}
  memory   --dir D                            used_memory per master and max/min (JSON)
  raw-reshard --dir D --from I --to J --slots N   server-side floor: one MIGRATE per slot,
                                              every SETSLOT pipelined (node indexes)
  node     --dir D --index I (id|port)        one field of node I

Needs /usr/bin/python3 with python3-redis. Talks to 127.0.0.1 only.
"""
import argparse
import binascii
import concurrent.futures
import json
import os
import subprocess
import sys
import time

import redis

HOST = "127.0.0.1"
SLOTS = 16384
CONVERGE_TIMEOUT_S = 300


def key_slot(key):
    s = key.find(b"{")
    if s != -1:
        e = key.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            key = key[s + 1:e]
    return binascii.crc_hqx(key, 0) & (SLOTS - 1)


def value_for(prefix, i, size):
    """The bench value of key i: the key itself, then padding, exactly size bytes."""
    head = b"%s:%d:" % (prefix.encode(), i)
    return (head + b"v" * size)[:size] if size >= len(head) else head


def sandbox_value_for(prefix, i):
    """What slotctl's sandbox_value_for (src/io/sandbox/sandbox_data.c) writes."""
    mask = (1 << 64) - 1
    h = 5381
    for c in prefix.encode():
        h = (h * 33 + c) & mask
    h = ((h ^ i) * 2654435761) & mask
    return b"%s:%d:%08x" % (prefix.encode(), i, h & 0xffffffff)


class Sandbox:
    def __init__(self, d):
        with open(os.path.join(d, "sandbox.json")) as f:
            st = json.load(f)
        self.nodes = st["nodes"]
        tls = {}
        self.cli_tls = []  # redis-cli's options for the same
        if st.get("tls"):  # sandbox up --tls: its throwaway CA and client certificate
            t = os.path.join(d, "tls")
            tls = dict(ssl=True, ssl_ca_certs=os.path.join(t, "ca.crt"),
                       ssl_certfile=os.path.join(t, "client.crt"), ssl_keyfile=os.path.join(t, "client.key"))
            self.cli_tls = ["--tls", "--cacert", tls["ssl_ca_certs"], "--cert", tls["ssl_certfile"],
                            "--key", tls["ssl_keyfile"]]
        self.conns = [redis.Redis(host=HOST, port=n["port"], socket_timeout=30, **tls) for n in self.nodes]
        for c in self.conns:  # raw replies: redis-py's parsers of these vary by version
            for name in ("CLUSTER NODES", "CLUSTER SLOTS", "CLUSTER INFO"):
                c.response_callbacks.pop(name, None)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(32, len(self.conns)))

    def masters(self):
        """Indexes of the nodes that say ROLE master now."""
        return [i for i, c in enumerate(self.conns) if c.execute_command("ROLE")[0] == b"master"]

    @staticmethod
    def view(c):
        """One node's (slot-map tuple, open slots, state ok, nodes known)."""
        text = c.execute_command("CLUSTER NODES")
        if isinstance(text, bytes):
            text = text.decode()
        owner, opened, known = {}, False, 0
        for line in text.splitlines():
            f = line.split()
            if len(f) < 8:
                continue
            known += 1
            for tok in f[8:]:
                if tok.startswith("["):
                    opened = True
                    continue
                a, _, b = tok.partition("-")
                owner[(int(a), int(b or a))] = f[0]
        ok = b"cluster_state:ok" in c.execute_command("CLUSTER INFO")
        return (tuple(sorted(owner.items())), opened, ok, known)

    def views(self):
        """Per node: view(). Asked of every node at once, so that the time
        until the nodes agree is the slowest node's, not their sum (one node
        busy, a replica applying its master's deletion of moved keys, say,
        is then seen as soon as it answers)."""
        return list(self.pool.map(self.view, self.conns))

    def converged(self):
        v = self.views()
        return all(x[0] == v[0][0] and not x[1] and x[2] and x[3] == len(self.nodes) for x in v)

    def wait_converged(self, timeout=CONVERGE_TIMEOUT_S, poll=0.002):
        end = time.monotonic() + timeout
        while not self.converged():
            if time.monotonic() > end:
                raise SystemExit("not converged after %d s: %r" % (timeout, self.views()))
            time.sleep(poll)

    def owner_map(self, view=0):
        """slot -> node index, from node view's CLUSTER SLOTS."""
        port_index = {n["port"]: i for i, n in enumerate(self.nodes)}
        owner = [-1] * SLOTS
        for e in self.conns[view].execute_command("CLUSTER SLOTS"):
            idx = port_index[int(e[2][1])]
            for s in range(int(e[0]), int(e[1]) + 1):
                owner[s] = idx
        return owner


def cmd_load(a):
    sb = Sandbox(a.dir)
    owner = sb.owner_map()
    per_node = {}
    for i in range(a.keys):
        k = b"%s:%d" % (a.prefix.encode(), i)
        v = value_for(a.prefix, i, a.value_size)
        per_node.setdefault(owner[key_slot(k)], []).append(
            b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    for idx, cmds in per_node.items():
        p = subprocess.run(["redis-cli", "-h", HOST, "-p", str(sb.nodes[idx]["port"]), *sb.cli_tls, "--pipe"],
                           input=b"".join(cmds), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0 or b"errors: 0," not in p.stdout:
            raise SystemExit("loading node %d failed: %s" % (idx, p.stdout.decode(errors="replace")))


def scan_keys(conn):
    cursor = 0
    while True:
        cursor, keys = conn.scan(cursor, count=5000)
        yield from keys
        if cursor == 0:
            return


def is_indexed(key, prefix):
    head = prefix + b":"
    return key.startswith(head) and key[len(head):].isdigit()


def cmd_census(a):
    sb = Sandbox(a.dir)
    prefixes = [p.encode() for p in [a.prefix] + a.also]
    out = {}
    for idx in sb.masters():
        c = sb.conns[idx]
        for k in scan_keys(c):
            if not any(is_indexed(k, p) for p in prefixes):
                out[k.decode()] = c.execute_command("DEBUG", "DIGEST-VALUE", k)[0].decode()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


def fail(msg):
    print("verify: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def cmd_verify(a):
    sb = Sandbox(a.dir)
    sb.wait_converged(60)
    owner = sb.owner_map()
    groups = {a.prefix.encode(): (a.keys, lambda i: value_for(a.prefix, i, a.value_size))}
    for e in a.extra:
        p, _, n = e.rpartition(":")
        groups[p.encode()] = (int(n), (lambda q: lambda i: sandbox_value_for(q, i))(p))
    census = {}
    if a.census:
        with open(a.census) as f:
            census = json.load(f)
    seen = {p: bytearray(n) for p, (n, _) in groups.items()}
    others = {}
    total = 0
    for idx in sb.masters():
        c = sb.conns[idx]
        batch = []
        for k in scan_keys(c):
            slot = key_slot(k)
            if owner[slot] != idx:
                fail("key '%s' (slot %d) is on node %d but node %d owns the slot" %
                     (k.decode(), slot, idx, owner[slot]))
            p, _, tail = k.rpartition(b":")
            if p in groups and tail.isdigit() and int(tail) < groups[p][0]:
                i = int(tail)
                if seen[p][i]:
                    fail("key '%s' is on two masters" % k.decode())
                seen[p][i] = 1
                batch.append((k, groups[p][1](i)))
            else:
                if k.decode() in others:
                    fail("key '%s' is on two masters" % k.decode())
                others[k.decode()] = c.execute_command("DEBUG", "DIGEST-VALUE", k)[0].decode()
            total += 1
            if len(batch) >= 5000:
                check_values(c, batch)
                batch = []
        check_values(c, batch)
    for p, s in seen.items():
        missing = s.find(0)
        if missing >= 0:
            fail("key '%s:%d' is missing from every master" % (p.decode(), missing))
    if a.census and others != census:
        lost = sorted(set(census) - set(others))
        new = sorted(set(others) - set(census))
        changed = sorted(k for k in census if k in others and census[k] != others[k])
        fail("other keys differ: missing %s, unexpected %s, changed %s" % (lost[:5], new[:5], changed[:5]))
    print("verify: ok: %d keys, each once, on its slot's owner, values equal (%d other keys %s)" %
          (total, len(others), "match the census" if a.census else "not checked"))


def check_values(conn, batch):
    if not batch:
        return
    pipe = conn.pipeline(transaction=False)
    for k, _ in batch:
        pipe.get(k)
    for (k, want), got in zip(batch, pipe.execute()):
        if got != want:
            fail("key '%s' has value %r, expected %r" % (k.decode(), got, want))


def server_counters(sb):
    """Per node: CPU seconds (user+sys), connections accepted, bytes in and
    out, MIGRATE and RESTORE-ASKING calls so far (INFO cpu, stats, commandstats)."""
    out = []
    for c in sb.conns:
        cpu, st, cs = c.info("cpu"), c.info("stats"), c.info("commandstats")
        out.append({"cpu_s": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
                    "conns": int(st["total_connections_received"]),
                    "in_b": int(st["total_net_input_bytes"]), "out_b": int(st["total_net_output_bytes"]),
                    "migrate": int(cs.get("cmdstat_migrate", {}).get("calls", 0)),
                    "restore": int(cs.get("cmdstat_restore-asking", {}).get("calls", 0))})
    return out


def counters_delta(a, b):
    return [{k: round(y[k] - x[k], 3) for k in x} for x, y in zip(a, b)]


def cmd_timed(a):
    """Runs the tool, times it until every node agrees on the new map, and
    says where the CPU went: the tool's own (its rusage: user and sys), each
    server's from the tool's start until the nodes agree (INFO cpu before
    and after, the counters of server_counters), and each server's idle CPU
    per second measured just before (IDLE_CPU_S seconds: cluster bus and cron, which a slower
    run pays for longer whatever the tool does)."""
    sb = Sandbox(a.dir)
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    log = open(a.log, "wb") if a.log else subprocess.DEVNULL
    before = sb.owner_map()
    idle0, i0 = server_counters(sb), time.monotonic()
    time.sleep(a.idle_cpu_s)
    c0 = server_counters(sb)
    idle_s = time.monotonic() - i0
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(proc.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    t1 = time.monotonic()
    # convergence first: a tool that exits before the nodes settle (a
    # replica still applying its master's deletion of the moved keys, say)
    # must not have the settling hidden behind the counters' INFO calls
    sb.wait_converged()
    t2 = time.monotonic()
    c1 = server_counters(sb)
    after = sb.owner_map()
    moved = [s for s in range(SLOTS) if before[s] != after[s]]
    print(json.dumps({"rc": rc, "tool_s": round(t1 - t0, 3), "total_s": round(t2 - t0, 3),
                      "slots_moved": len(moved), "keys_moved": keys_in(sb, after, moved),
                      "tool_user_s": round(ru.ru_utime, 3), "tool_sys_s": round(ru.ru_stime, 3),
                      "servers": counters_delta(c0, c1),
                      "servers_idle_cpu_per_s": [round(d["cpu_s"] / idle_s, 4)
                                                 for d in counters_delta(idle0, c0)]}))


def keys_in(sb, owner, slots):
    """Keys the slots hold now, counted on their owners."""
    total = 0
    for idx in set(owner[s] for s in slots):
        p = sb.conns[idx].pipeline(transaction=False)
        for s in slots:
            if owner[s] == idx:
                p.execute_command("CLUSTER", "COUNTKEYSINSLOT", s)
        total += sum(p.execute())
    return total


def cmd_memory(a):
    sb = Sandbox(a.dir)
    mem = {}
    for idx in sb.masters():
        info = sb.conns[idx].info("memory")
        mem[str(idx)] = info["used_memory"]
    vals = list(mem.values())
    print(json.dumps({"used_memory": mem, "max_min": round(max(vals) / max(1, min(vals)), 2)}))


def cmd_raw_reshard(a):
    """The floor the issue names: IMPORTING/MIGRATING pipelined, one MIGRATE
    per slot with all its keys, every SETSLOT NODE pipelined at the end."""
    sb = Sandbox(a.dir)
    src, dst = sb.conns[a.src], sb.conns[a.dst]
    sid, did = sb.nodes[a.src]["id"], sb.nodes[a.dst]["id"]
    owner = sb.owner_map()
    slots = [s for s in range(SLOTS) if owner[s] == a.src][:a.slots]
    p = dst.pipeline(transaction=False)
    for s in slots:
        p.execute_command("CLUSTER", "SETSLOT", s, "IMPORTING", sid)
    p.execute()
    p = src.pipeline(transaction=False)
    for s in slots:
        p.execute_command("CLUSTER", "SETSLOT", s, "MIGRATING", did)
    p.execute()
    port = sb.nodes[a.dst]["port"]
    for s in slots:
        keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", s, 1000000)
        if keys:
            src.execute_command("MIGRATE", HOST, port, "", 0, 60000, "KEYS", *keys)
    order = [a.dst, a.src] + [i for i in sb.masters() if i not in (a.src, a.dst)]
    for i in order:
        p = sb.conns[i].pipeline(transaction=False)
        for s in slots:
            p.execute_command("CLUSTER", "SETSLOT", s, "NODE", did)
        p.execute()


def cmd_node(a):
    sb = Sandbox(a.dir)
    print(sb.nodes[a.index][a.field])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd_name", required=True)

    def add(name, fn):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
        p.set_defaults(fn=fn)
        return p

    p = add("load", cmd_load)
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--prefix", default="bench")
    p = add("census", cmd_census)
    p.add_argument("--prefix", default="bench")
    p.add_argument("--also", action="append", default=[], help="another indexed prefix to leave out")
    p = add("verify", cmd_verify)
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--prefix", default="bench")
    p.add_argument("--census")
    p.add_argument("--extra", action="append", default=[], help="PREFIX:N keys with sandbox values")
    p = add("timed", cmd_timed)
    p.add_argument("--log")
    p.add_argument("--idle-cpu-s", type=float, default=float(os.environ.get("IDLE_CPU_S", "2")))
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    add("memory", cmd_memory)
    p = add("raw-reshard", cmd_raw_reshard)
    p.add_argument("--from", dest="src", type=int, required=True)
    p.add_argument("--to", dest="dst", type=int, required=True)
    p.add_argument("--slots", type=int, required=True)
    p = add("node", cmd_node)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("field", choices=["id", "port"])
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
