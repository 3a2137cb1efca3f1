#!/usr/bin/env python3
"""Print build/bench.json as a comparison table.

Benchmarks are named <family>/<impl>/<workload>[/<arg>][/threads:N]
(followed by Google Benchmark's aggregate suffix).  Rows that share family,
workload and thread count are compared: for each implementation the median
real time per operation over the repetitions, its coefficient of variation,
and its ratio to atomkit's median (row time / atomkit time, so a ratio
above 1.00 means atomkit is faster).  When a group has several atomkit
rows (atomkit, atomkit_sharded, atomkit_seq, ...) the fastest of them is
the reference.
"""
import json
import sys
from collections import OrderedDict

UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def split(name):
    parts = name.split("/")
    threads = ""
    if parts and parts[-1].startswith("threads:"):
        threads = parts.pop()[len("threads:"):]
    parts = [p for p in parts if not p.startswith(("real_time", "min_time", "repeats"))]
    if len(parts) < 3:
        return None
    return parts[0], parts[1], "/".join(parts[2:]), threads


def load(path):
    with open(path) as f:
        data = json.load(f)
    groups = OrderedDict()
    for b in data.get("benchmarks", []):
        agg = b.get("aggregate_name")
        key = split(b.get("run_name", b["name"]))
        if key is None:
            continue
        fam, impl, work, thr = key
        g = groups.setdefault((fam, work, thr), OrderedDict())
        row = g.setdefault(impl, {})
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "error")
            continue
        t = b.get("real_time", 0.0) * UNIT.get(b.get("time_unit", "ns"), 1.0)
        if agg == "median":
            row["median"] = t
        elif agg == "cv":
            row["cv"] = b.get("real_time", 0.0)
        elif agg is None and "median" not in row:
            row["median"] = t  # run without repetitions
    return data.get("context", {}), groups


def fmt_time(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f us" % (ns / 1e3)
    return "%.2f ns" % ns


def reference(rows):
    """The fastest atomkit row of a group (several atomkit designs may share
    a workload: in-order and per-slot rings, plain and sharded counters)."""
    best = None
    for impl, r in rows.items():
        if impl.startswith("atomkit") and "median" in r:
            best = r["median"] if best is None else min(best, r["median"])
    return best


def markdown(ctx, groups):
    """A Markdown table for README.md / docs (same numbers as the console)."""
    print("| Workload | Threads | Impl | Median time/op | vs atomkit |")
    print("|---|---|---|---|---|")
    for (fam, work, thr), rows in groups.items():
        ref = reference(rows)
        order = sorted(rows.items(), key=lambda kv: (not kv[0].startswith("atomkit"), kv[0]))
        for impl, r in order:
            if "median" not in r:
                continue
            ratio = "%.2fx" % (r["median"] / ref) if ref else "-"
            print("| %s/%s | %s | %s | %s | %s |" % (fam, work, thr or "1", impl, fmt_time(r["median"]), ratio))
    print()
    print("Command: `%s` (git %s, %s; %s repetitions of %ss each)." % (
        ctx.get("command", "?"), ctx.get("git", "?"), ctx.get("date", "?"),
        ctx.get("repetitions", "?"), ctx.get("min_time_s", "?")))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0] if args else "build/bench.json"
    ctx, groups = load(path)
    if "--markdown" in sys.argv:
        markdown(ctx, groups)
        return 0
    print("atomkit benchmarks: median real time per op (over %s) on %s, %s CPUs, kernel %s"
          % ("repetitions", ctx.get("host_name", "?"), ctx.get("num_cpus", "?"), ctx.get("kernel", "?")))
    print("command: %s   (git %s; %s)" % (ctx.get("command", "?"), ctx.get("git", "?"), ctx.get("date", "")))
    print("ratio = impl time / fastest atomkit row's time (>1.00: atomkit faster); cv = spread over repetitions")
    print()
    w_name = max([len("%s/%s%s" % (f, w, "/threads:" + t if t else "")) for (f, w, t) in groups] + [10])
    w_impl = max([len(i) for g in groups.values() for i in g] + [8])
    hdr = "%-*s  %-*s  %12s  %6s  %8s" % (w_name, "workload", w_impl, "impl", "time/op", "cv", "ratio")
    print(hdr)
    print("-" * len(hdr))
    for (fam, work, thr), rows in groups.items():
        label = "%s/%s%s" % (fam, work, "/threads:" + thr if thr else "")
        ref = reference(rows)
        order = sorted(rows.items(), key=lambda kv: (not kv[0].startswith("atomkit"), kv[0]))
        for impl, r in order:
            if "error" in r:
                print("%-*s  %-*s  ERROR: %s" % (w_name, label, w_impl, impl, r["error"]))
            elif "median" in r:
                cv = "%5.1f%%" % (100 * r["cv"]) if "cv" in r else "     -"
                ratio = "%7.2fx" % (r["median"] / ref) if ref else "       -"
                print("%-*s  %-*s  %12s  %6s  %8s" % (w_name, label, w_impl, impl, fmt_time(r["median"]), cv, ratio))
            label = ""
    return 0


if __name__ == "__main__":
    sys.exit(main())
