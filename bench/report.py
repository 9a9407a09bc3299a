#!/usr/bin/python3
"""report.py RESULTS.jsonl [VARIANT:BASELINE ...]: a table of the variants in
a bench run (median over repetitions), then for each pair the ratio of the
variant's total time (tool start until every node agrees) to the baseline's
(below 1: faster than the baseline). Client columns: p99 during the move,
p99_sched (the C client: from when each operation was due), operations of
1 ms or more, the idle p99 before the move, errors, MOVED/ASK replies met,
and for the redis-py client (CLIENT=py) the share of operations that met a
MOVED and the p99 of those that did not."""
import json
import statistics
import sys


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.2f"):
    return "-" if x is None else spec % x


def main():
    path, pairs = sys.argv[1], sys.argv[2:]
    rows = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            rows.setdefault(r["label"], []).append(r)
    print("%-22s %4s %9s %9s %6s %8s %8s %9s %8s %8s %8s %9s %6s %9s %11s  %s" % (
        "variant", "reps", "total_s", "tool_s", "slots", "keys", "p99_us", "p99_sched", "over_1ms", "idle_p99", "errors",
        "moved/ask", "redir%", "p99_plain", "mem_max/min", "verify"))
    total = {}
    for label, rs in rows.items():
        total[label] = med([r["total_s"] for r in rs])
        cl = [r["client"] or {} for r in rs]
        idle = [r["idle"] or {} for r in rs]
        ok = all(r["verify"].startswith("verify: ok") and r["rc"] == 0 for r in rs)
        print("%-22s %4d %9s %9s %6s %8s %8s %9s %8s %8s %8s %9s %6s %9s %11s  %s" % (
            label, len(rs), fmt(total[label], "%.3f"), fmt(med([r["tool_s"] for r in rs]), "%.3f"),
            fmt(med([r.get("slots_moved") for r in rs]), "%d"), fmt(med([r.get("keys_moved") for r in rs]), "%d"),
            fmt(med([c.get("p99_us") for c in cl]), "%d"), fmt(med([c.get("p99_sched_us") for c in cl]), "%d"),
            fmt(med([c.get("over_1ms") for c in cl]), "%d"), fmt(med([c.get("p99_us") for c in idle]), "%d"),
            fmt(med([c.get("errors") for c in cl]), "%d"), "%s/%s" % (fmt(med([c.get("moved") for c in cl]), "%d"), fmt(med([c.get("ask") for c in cl]), "%d")),
            fmt(med([c.get("redirected_pct") for c in cl])), fmt(med([c.get("p99_plain_us") for c in cl]), "%d"),
            fmt(med([r["memory_after"]["max_min"] for r in rs])),
            "ok" if ok else "FAILED: " + next((r["verify"] for r in rs if not r["verify"].startswith("verify: ok")),
                                             "tool exit code %s" % [r["rc"] for r in rs])))
    for pair in pairs:
        a, _, b = pair.partition(":")
        if total.get(a) and total.get(b):
            print("ratio %s / %s = %.2f  (%.2fx as fast)" % (a, b, total[a] / total[b], total[b] / total[a]))

if __name__ == "__main__":
    main()
