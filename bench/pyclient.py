#!/usr/bin/python3
"""pyclient.py: a cluster-aware client on a bench sandbox, built on redis-py's
RedisCluster as an application would use it (the issue's measuring stick),
for bench/*.sh with CLIENT=py. It loops as fast as it goes over the bench
keys written by `benchkit.py load` (80% GET, checked against the loaded value;
20% SET of the same value, so verification stays valid) until SIGTERM or
--seconds, then prints one JSON line:

  ops, errors, first_error, p50_us, p99_us, max_us, over_1ms,
  redirected: operations that met a MOVED (redis-py patches its slot map, and
              reloads all of it at every 10th), redirected_pct, reinit,
  p99_plain_us: the p99 of the operations that met no MOVED.

Why the split: every moved slot sends such a client a MOVED once it has
moved, and redis-py handles one in about a millisecond; the faster slots
move, the larger the share of operations that meet one within the move (it
grows as the square root of the slot rate), so the p99 over the move alone
says more about the pace than about the tool. p99_plain_us shows the rest.

  pyclient.py --dir D --keys N [--value-size B] [--prefix P] [--seconds S]

Needs /usr/bin/python3 with python3-redis. Talks to 127.0.0.1 only.
"""
import argparse
import json
import logging
import os
import random
import signal
import sys
import time

from redis.cluster import NodesManager, RedisCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchkit import HOST, value_for  # noqa: E402

SET_SHARE = 0.2
COUNTS = {"moved": 0, "reinit": 0}


def count_redirects():
    """Counts MOVED patches and whole reloads of the slot map by wrapping
    redis-py's NodesManager (both paths of its MOVED handling)."""
    patch, reload_all = NodesManager.update_moved_exception, NodesManager.initialize

    def patched(self, e):
        COUNTS["moved"] += 1
        return patch(self, e)

    def reloaded(self):
        COUNTS["reinit"] += 1
        return reload_all(self)

    NodesManager.update_moved_exception = patched
    NodesManager.initialize = reloaded


def pct(xs, q):
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1e6) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--keys", type=int, required=True)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--prefix", default="bench")
    ap.add_argument("--seconds", type=float, default=3600)
    a = ap.parse_args()
    # redis-py logs every redirect with its traceback; an application would not print them
    logging.getLogger("redis").setLevel(logging.CRITICAL)
    with open(os.path.join(a.dir, "sandbox.json")) as f:
        port = json.load(f)["nodes"][0]["port"]
    count_redirects()
    rc = RedisCluster(host=HOST, port=port, socket_timeout=30)
    COUNTS["moved"] = COUNTS["reinit"] = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    rnd = random.Random(1)
    lat, plain, errors, first_error, redirected = [], [], 0, "", 0
    t_end = time.monotonic() + a.seconds
    clock = time.perf_counter
    while not stop and time.monotonic() < t_end:
        i = rnd.randrange(a.keys)
        key, want = "%s:%d" % (a.prefix, i), value_for(a.prefix, i, a.value_size)
        before = COUNTS["moved"] + COUNTS["reinit"]
        t0 = clock()
        err = None
        try:
            if rnd.random() < SET_SHARE:
                rc.set(key, want)
            elif rc.get(key) != want:
                err = "key %s: wrong or missing value" % key
        except Exception as ex:  # noqa: BLE001 - every failure is a client error here
            err = "%s: %s" % (type(ex).__name__, str(ex)[:80])
        dt = clock() - t0
        lat.append(dt)
        if COUNTS["moved"] + COUNTS["reinit"] != before:
            redirected += 1
        else:
            plain.append(dt)
        if err:
            errors += 1
            first_error = first_error or err
    rc.close()
    lat.sort()
    plain.sort()
    print(json.dumps({"ops": len(lat), "errors": errors, "first_error": first_error,
                      "p50_us": pct(lat, 0.5), "p99_us": pct(lat, 0.99),
                      "max_us": round(lat[-1] * 1e6) if lat else None,
                      "over_1ms": sum(1 for x in lat if x >= 0.001),
                      "redirected": redirected, "reinit": COUNTS["reinit"],
                      "redirected_pct": round(100.0 * redirected / max(1, len(lat)), 2),
                      "p99_plain_us": pct(plain, 0.99)}))


if __name__ == "__main__":
    main()
