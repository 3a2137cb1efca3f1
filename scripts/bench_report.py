#!/usr/bin/env python3
"""Turn build/bench.json (from `make bench`) into docs/benchmarks.md + charts.

usage: bench_report.py [BENCH_JSON [OUT_MD [IMG_DIR]]]

The report has: how the figures were made (the command recorded in the
JSON by scripts/run-bench.sh, git revision, date), the machine (Google
Benchmark's context plus lscpu and the kernel), the cross-core ping-pong
baseline measured in the same run (ring_rtt/pingpong/rtt), one table per
family with atomkit beside every peer (median over the repetitions, spread,
ratio to atomkit), and gnuplot charts (SVG, in IMG_DIR): throughput against
threads for every workload measured at two or more thread counts, and ring
throughput against batch size.  Every table and chart names the command
that produced its numbers.

Benchmark names are <family>/<impl>/<workload>[/<arg>][/threads:N] (see
bench/shim/cbench.h).  Throughput is items_per_second when the benchmark
reports it, else 1 / (median real time per op): with UseRealTime the time
column of a threaded run is wall time / total ops.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from collections import OrderedDict

UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def split(name):
    parts = name.split("/")
    threads = 1
    if parts and parts[-1].startswith("threads:"):
        threads = int(parts.pop()[len("threads:"):])
    parts = [p for p in parts if not p.startswith(("real_time", "min_time", "repeats", "iterations"))]
    if len(parts) < 3:
        return None
    return parts[0], parts[1], "/".join(parts[2:]), threads


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = OrderedDict()  # (fam, work, threads) -> impl -> stats
    for b in data.get("benchmarks", []):
        key = split(b.get("run_name", b["name"]))
        if key is None:
            continue
        fam, impl, work, thr = key
        r = rows.setdefault((fam, work, thr), OrderedDict()).setdefault(impl, {})
        if b.get("error_occurred"):
            r.setdefault("error", b.get("error_message", "error"))
            r["errors"] = r.get("errors", 0) + 1
            continue
        agg = b.get("aggregate_name")
        scale = UNIT.get(b.get("time_unit", "ns"), 1.0)
        if agg is None:
            r.setdefault("ok", []).append(b.get("real_time", 0.0) * scale)
        if agg == "median" or (agg is None and "median" not in r):
            r["median"] = b.get("real_time", 0.0) * scale
            for c in ("items_per_second", "rtt_ns", "futex_calls"):
                if c in b:
                    r[c] = b[c]
        elif agg == "cv":
            r["cv"] = b.get("real_time", 0.0)
    # A row that failed in some repetitions only (an MPMC run that collapsed
    # behind its 5 s guard in one of five) is reported as failed, with how
    # many failed and what the others measured: a median of the good ones
    # alone would flatter it.
    for impls in rows.values():
        for r in impls.values():
            ok = sorted(r.pop("ok", []))
            if "errors" in r and ok:
                r["error"] += " (in %d of %d repetitions; the others: median %s)" % (
                    r["errors"], r["errors"] + len(ok), fmt_time(ok[len(ok) // 2]))
                for k in ("median", "cv"):
                    r.pop(k, None)
            elif r.get("errors", 0) > 1:
                r["error"] += " (all %d repetitions)" % r["errors"]
    # With random interleaving (run-bench.sh's default) the JSON order is the
    # run order: sort groups by family, workload and thread count instead.
    rows = OrderedDict(sorted(rows.items(), key=lambda kv: kv[0]))
    return data.get("context", {}), rows


def fmt_time(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f us" % (ns / 1e3)
    return "%.2f ns" % ns


def fmt_rate(v):
    if v >= 1e9:
        return "%.2f G/s" % (v / 1e9)
    if v >= 1e6:
        return "%.1f M/s" % (v / 1e6)
    if v >= 1e3:
        return "%.1f k/s" % (v / 1e3)
    return "%.0f /s" % v


def throughput(r):
    if r.get("items_per_second"):
        return r["items_per_second"]
    if r.get("median"):
        return 1e9 / r["median"]
    return None


def reference(impls):
    """The atomkit row a group's ratios are taken against: the fastest one.

    A group can hold several atomkit designs (the in-order ring and the
    per-slot ring, the plain and the sharded counter); peers are compared
    with the best of them, and the other atomkit rows show their own ratio.
    """
    best = None
    for name, r in impls.items():
        if name.startswith("atomkit") and "median" in r:
            if best is None or r["median"] < best["median"]:
                best = r
    return best


def machine(ctx):
    lines = []
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
    lscpu = cmd("lscpu")
    want = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket",
            "Socket(s)", "Hypervisor vendor", "L1d cache", "L2 cache", "L3 cache")
    for l in lscpu.splitlines():
        k = l.split(":")[0].strip()
        if k in want:
            lines.append("| %s | %s |" % (k, l.split(":", 1)[1].strip()))
    kernel = ctx.get("kernel") or cmd("uname", "-r").strip()
    lines.append("| Kernel | %s |" % kernel)
    if ctx.get("num_cpus"):
        lines.append("| CPUs seen by the benchmark | %s at %s MHz |" % (ctx.get("num_cpus"), ctx.get("mhz_per_cpu", "?")))
    if ctx.get("load_avg"):
        lines.append("| Load average at start | %s |" % ", ".join("%.2f" % x for x in ctx["load_avg"]))
    if ctx.get("library_build_type"):
        lines.append("| Google Benchmark library build | %s |" % ctx["library_build_type"])
    return ["| Item | Value |", "|---|---|"] + lines


def gnuplot(script, out_png_or_svg):
    if not shutil.which("gnuplot"):
        return False
    p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("gnuplot failed for %s:\n%s\n" % (out_png_or_svg, p.stderr))
        return False
    return True


def safe(s):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)


def chart(img_dir, name, title, xlabel, series, command, logx=False):
    """series: impl -> [(x, y_items_per_s)].  Writes IMG_DIR/name.svg."""
    os.makedirs(img_dir, exist_ok=True)
    dat = os.path.join(img_dir, name + ".dat")
    svg = os.path.join(img_dir, name + ".svg")
    blocks = []
    with open(dat, "w") as f:
        for impl, pts in series.items():
            f.write("# %s\n" % impl)
            for x, y in sorted(pts):
                f.write("%g %g\n" % (x, y / 1e6))
            f.write("\n\n")
            blocks.append(impl)
    plots = ", ".join("'%s' index %d using 1:2 with linespoints pt 7 ps 0.6 title '%s'" % (dat, i, t)
                      for i, t in enumerate(blocks))
    script = "\n".join([
        "set terminal svg size 720,420 dynamic enhanced font 'sans,11'",
        "set output '%s'" % svg,
        "set title '%s' noenhanced" % title,
        "set xlabel '%s'" % xlabel,
        "set ylabel 'M items/s (median)'",
        "set grid",
        "set key outside right top noenhanced",
        "set logscale x 2" if logx else "set xtics 1",
        "set bmargin 5",
        "set label 1 \"%s\" at screen 0.01,0.03 font ',8' noenhanced" % command.replace('"', "'"),
        "set yrange [0:*]",
        "plot " + plots,
    ]) + "\n"
    ok = gnuplot(script, svg)
    os.remove(dat)
    return ok, os.path.basename(svg)


BATCH_RE = re.compile(r"^(single|burst(\d+)|batch(\d+)|bulk(\d+))(_.*)?$")


def batch_of(work):
    """'single' -> (1, ''), 'burst32_64b' -> (32, '_64b'), 'burst/32' -> (32, '')."""
    parts = work.split("/")
    if len(parts) == 2 and parts[1].isdigit():
        return int(parts[1]), parts[0]
    m = BATCH_RE.match(work)
    if not m:
        return None
    n = 1 if m.group(1) == "single" else int(next(g for g in m.group(2, 3, 4) if g))
    return n, (m.group(5) or "")


def main():
    args = sys.argv[1:]
    src = args[0] if args else "build/bench.json"
    out = args[1] if len(args) > 1 else "docs/benchmarks.md"
    img = args[2] if len(args) > 2 else "docs/img"
    if not os.path.exists(src):
        sys.stderr.write("%s not found: run `make bench` first\n" % src)
        return 1
    ctx, rows = load(src)
    command = ctx.get("command", "build/bench/atomkit-bench (command not recorded)")
    made = "`%s` (git %s, %s; %s repetitions of %s s each), then `make bench-report`" % (
        command, ctx.get("git", "?"), ctx.get("date", "?"), ctx.get("repetitions", "?"),
        ctx.get("min_time_s", "?"))
    img_rel = os.path.relpath(img, os.path.dirname(out) or ".")

    md = ["# atomkit benchmarks", "",
          "Generated by `make bench-report` from `%s`; do not edit by hand." % src, "",
          "All numbers below come from one run: " + made + ".", "",
          "Time per op is the median over the repetitions of wall time / total operations "
          "of all threads (Google Benchmark `UseRealTime`), so lower is better; throughput is "
          "the benchmark's items/s where it reports one (delivered items), else 1 / time. "
          "**ratio** = row time / the fastest atomkit row's time in the same group (above 1.00: atomkit is faster). **cv** is the "
          "spread over repetitions. This is a shared 2-vCPU virtual machine: runs above 2 "
          "threads are oversubscribed on purpose, and absolute figures move between runs, so "
          "compare rows of the same run only. The DPDK `rte_ring` rows (dpdk, dpdk_rts, "
          "dpdk_hts) are there only when libdpdk is installed: `make bench DPDK=1`.", ""]

    md += ["## Machine", ""] + machine(ctx) + [""]

    # cross-core baseline
    base = [(k, v) for k, v in rows.items() if "pingpong" in v or k[0] in ("c2c",)]
    md += ["## Cross-core baseline (same run)", ""]
    if base:
        md += ["| Benchmark | Threads | Round trip | Time/op |", "|---|---|---|---|"]
        for (fam, work, thr), impls in base:
            for impl, r in impls.items():
                if impl != "pingpong" and fam != "c2c":
                    continue
                rtt = r.get("rtt_ns")
                md.append("| %s/%s/%s | %d | %s | %s |" % (fam, impl, work, thr,
                          fmt_time(rtt) if rtt else "-", fmt_time(r["median"]) if "median" in r else "-"))
        md += ["", "Two threads bounce one cache line each way: the floor for any cross-core "
               "handoff on this machine. Ring round trips from the same run, as multiples of it:", ""]
        for (fam, work, thr), impls in base:
            floor = impls.get("pingpong", {}).get("rtt_ns")
            if not floor:
                continue
            for impl, r in sorted(impls.items(), key=lambda kv: (not kv[0].startswith("atomkit"), kv[0])):
                if impl != "pingpong" and r.get("rtt_ns"):
                    md.append("- %s/%s: %s = %.2f x the ping-pong floor" % (fam, impl, fmt_time(r["rtt_ns"]), r["rtt_ns"] / floor))
        md.append("")
    else:
        md += ["Not in this run (`ring_rtt/pingpong/rtt` comes with the ring benchmarks: "
               "`make bench FILTER=ring_rtt`).", ""]

    # one table per family
    fams = OrderedDict()
    for (fam, work, thr), impls in rows.items():
        fams.setdefault(fam, []).append((work, thr, impls))
    charts = []
    for fam, groups in fams.items():
        md += ["## %s" % fam, "", "Command: " + made + ".", "",
               "| Workload | Threads | Impl | Median time/op | Throughput | cv | Ratio |",
               "|---|---|---|---|---|---|---|"]
        for work, thr, impls in groups:
            ref = reference(impls)
            order = sorted(impls.items(), key=lambda kv: (not kv[0].startswith("atomkit"), kv[0]))
            for impl, r in order:
                if "error" in r:
                    md.append("| %s | %d | %s | %s: %s | | | |" % (
                        work, thr, impl, "collapsed" if r["error"].startswith("collapsed") else "error",
                        r["error"][len("collapsed: "):] if r["error"].startswith("collapsed: ") else r["error"]))
                    continue
                if "median" not in r:
                    continue
                tp = throughput(r)
                if ref and r.get("rtt_ns") and ref.get("rtt_ns"):
                    ratio = "%.2fx (rtt)" % (r["rtt_ns"] / ref["rtt_ns"])
                    tp = None  # a round trip's time column is not a throughput
                else:
                    ratio = "%.2fx" % (r["median"] / ref["median"]) if ref else "-"
                extra = ""
                if r.get("rtt_ns"):
                    extra = " (rtt %s)" % fmt_time(r["rtt_ns"])
                md.append("| %s | %d | %s | %s%s | %s | %s | %s |" % (
                    work, thr, "**%s**" % impl if impl.startswith("atomkit") else impl,
                    fmt_time(r["median"]), extra, fmt_rate(tp) if tp else "-",
                    "%.1f%%" % (100 * r["cv"]) if "cv" in r else "-", ratio))
        md.append("")

        # throughput vs threads, per workload with >= 2 thread counts
        byw = OrderedDict()
        for work, thr, impls in groups:
            for impl, r in impls.items():
                tp = throughput(r) if "median" in r else None
                if tp:
                    byw.setdefault(work, OrderedDict()).setdefault(impl, []).append((thr, tp))
        for work, series in byw.items():
            if max(len(p) for p in series.values()) < 2:
                continue
            name = safe("%s-%s-threads" % (fam, work))
            ok, f = chart(img, name, "%s/%s: throughput vs threads" % (fam, work), "threads", series,
                          "from: " + made.replace("`", ""))
            if ok:
                md += ["![%s/%s throughput vs threads](%s/%s)" % (fam, work, img_rel, f), "",
                       "*%s/%s, throughput against threads (2 vCPUs: above 2 is oversubscribed). "
                       "Command: %s.*" % (fam, work, made), ""]
                charts.append(f)

        # ring throughput vs batch size
        if fam.startswith("ring"):
            sweep = OrderedDict()
            for work, thr, impls in groups:
                b = batch_of(work)
                if not b:
                    continue
                n, variant = b
                for impl, r in impls.items():
                    tp = throughput(r) if "median" in r else None
                    if tp:
                        sweep.setdefault((variant, thr), OrderedDict()).setdefault(impl, []).append((n, tp))
            for (variant, thr), series in sweep.items():
                if max(len(p) for p in series.values()) < 2:
                    continue
                name = safe("%s-batch%s-t%d" % (fam, variant, thr))
                ok, f = chart(img, name, "%s%s: throughput vs batch size (%d threads)" % (fam, variant, thr),
                              "items per call (batch size)", series, "from: " + made.replace("`", ""),
                              logx=True)
                if ok:
                    md += ["![%s throughput vs batch size](%s/%s)" % (fam, img_rel, f), "",
                           "*%s%s, %d threads: throughput against items per call (1 = single-item "
                           "push/pop). Command: %s.*" % (fam, variant, thr, made), ""]
                    charts.append(f)

    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(md) + "\n")
    print("bench-report: wrote %s (%d families, %d charts in %s)" % (out, len(fams), len(charts), img))
    return 0


if __name__ == "__main__":
    sys.exit(main())
