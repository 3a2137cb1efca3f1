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
import os
import sys
from collections import OrderedDict

# One parser for the JSON: bench_report.py's (same directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import fmt_time, load as _load, reference as _reference, split as _split  # noqa: E402


def load(path):
    """(context, groups): groups maps (family, workload, threads) to
    {impl: {"median": ns, "cv": fraction} or {"error": message}}; threads is
    "" for single-threaded registrations."""
    ctx, rows = _load(path)
    threaded = set()
    with open(path) as f:
        for b in json.load(f).get("benchmarks", []):
            name = b.get("run_name", b["name"])
            key = _split(name)
            if key and name.split("/")[-1].startswith("threads:"):
                threaded.add((key[0], key[2], key[3]))
    groups = OrderedDict()
    for (fam, work, thr), impls in rows.items():
        groups[(fam, work, str(thr) if (fam, work, thr) in threaded else "")] = impls
    return ctx, groups


def reference(rows):
    """The fastest atomkit row's median (several atomkit designs may share a
    workload: in-order and per-slot rings, plain and sharded counters)."""
    r = _reference(rows)
    return r["median"] if r else None


def markdown(ctx, groups):
    """A Markdown table for README.md / docs (same numbers as the console)."""
    print("| Workload | Threads | Impl | Median time/op | vs atomkit |")
    print("|---|---|---|---|---|")
    for (fam, work, thr), rows in groups.items():
        ref = reference(rows)
        order = sorted(rows.items(), key=lambda kv: (not kv[0].startswith("atomkit"), kv[0]))
        for impl, r in order:
            if "error" in r:  # e.g. a run that collapsed behind the 5 s guard
                print("| %s/%s | %s | %s | %s | - |" % (fam, work, thr or "1", impl, r["error"]))
                continue
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
                msg = r["error"]
                tag = "ERROR"
                if msg.startswith("collapsed: "):
                    tag, msg = "COLLAPSED", msg[len("collapsed: "):]
                print("%-*s  %-*s  %s: %s" % (w_name, label, w_impl, impl, tag, msg))
            elif "median" in r:
                cv = "%5.1f%%" % (100 * r["cv"]) if "cv" in r else "     -"
                ratio = "%7.2fx" % (r["median"] / ref) if ref else "       -"
                print("%-*s  %-*s  %12s  %6s  %8s" % (w_name, label, w_impl, impl, fmt_time(r["median"]), cv, ratio))
            label = ""
    return 0


if __name__ == "__main__":
    sys.exit(main())
