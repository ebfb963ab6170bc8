#!/usr/bin/env python3
"""Timing and instruction counts for bench/run.sh (see there).

    measure.py time OUT DPLINT BASELINE ROUNDS "1 2"
    measure.py callgrind OUT DPLINT BASELINE PATH...

`time` runs every command once to check that it did the work (and to warm the page cache), then
ROUNDS interleaved rounds of all commands, so that the machine's noise hits each one alike. It
reads each child's CPU time and peak RSS from wait4. `callgrind` counts instructions with
valgrind, which does not depend on the machine's load. Both print Markdown tables and write
OUT/results.md and OUT/results.json (callgrind appends to them).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time


def dplint_argv(dplint, jobs, paths):
    return [dplint, "check", "--no-config", "--format", "json", "--fail-on", "never", "-j", str(jobs), *paths]


def baseline_argv(baseline, mode, jobs, paths):
    return [baseline, "--mode", mode, "--jobs", str(jobs), *paths]


def run(argv, out):
    """Wall seconds, CPU seconds, peak RSS bytes and stdout of one run."""
    path = os.path.join(out, "last-stdout")
    with open(path, "wb") as sink:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} … failed with status {p.returncode}:\n{err}")
    with open(path, "rb") as f:
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, f.read()


def timing(out, dplint, baseline, rounds, jobs_list):
    manifests = os.path.join(out, "manifests")
    stats = json.load(open(os.path.join(out, "stats.json")))
    commands = []
    for j in jobs_list:
        commands.append((f"dplint -j{j}", "dplint", j, dplint_argv(dplint, j, [manifests])))
        commands.append((f"events -j{j}", "events", j, baseline_argv(baseline, "events", j, [manifests])))
        commands.append((f"tree -j{j}", "tree", j, baseline_argv(baseline, "tree", j, [manifests])))

    for name, kind, _, argv in commands:
        text = run(argv, out)[3]
        if kind == "dplint":
            report = json.loads(text)
            assert report["summary"]["files"] == stats["files"], (report["summary"], stats)
            invalid = [f for f in report["findings"] if f["code"] == "DP001"]
            assert not invalid, f"the generated manifests must be valid YAML: {invalid[:3]}"
        else:
            counted = json.loads(text)
            assert counted["files"] == stats["files"] and counted["errors"] == 0, (counted, stats)

    samples = {name: [] for name, *_ in commands}
    for r in range(rounds):
        for name, _, _, argv in commands:
            samples[name].append(run(argv, out)[:3])
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)

    mb = stats["bytes"] / 1e6
    rows = []
    for name, kind, j, _ in commands:
        walls = [s[0] for s in samples[name]]
        median = statistics.median(walls)
        rows.append({
            "command": name, "kind": kind, "jobs": int(j),
            "median_s": median, "min_s": min(walls), "max_s": max(walls),
            "cpu_s": statistics.median(s[1] for s in samples[name]),
            "peak_rss_mib": max(s[2] for s in samples[name]) / 2**20,
            "mb_per_s": mb / median, "objects_per_s": stats["objects"] / median,
        })
    by = {(r["kind"], r["jobs"]): r for r in rows}
    ratios = []
    for r in rows:
        if r["kind"] != "dplint":
            continue
        for base in ("events", "tree"):
            b = by[(base, r["jobs"])]
            ratios.append({"jobs": r["jobs"], "baseline": base,
                           "median_wall": b["median_s"] / r["median_s"],
                           "best_wall": b["min_s"] / r["min_s"],
                           "cpu": b["cpu_s"] / r["cpu_s"]})

    lines = [
        f"Input: {stats['files']} files, {mb:.1f} MB, {stats['documents']} documents, {stats['objects']} "
        f"objects (seed {stats['seed']}); {rounds} interleaved rounds.",
        "",
        "| command | median s | min–max s | CPU s | MB/s (median) | objects/s (median) | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['median_s']:.2f} | {r['min_s']:.2f}–{r['max_s']:.2f} | {r['cpu_s']:.2f} | "
            f"{r['mb_per_s']:.1f} | {r['objects_per_s']:,.0f} | {r['peak_rss_mib']:.0f} |")
    lines += [
        "",
        "dplint's throughput relative to the baseline at the same -j (baseline time ÷ dplint time; 1.00× = as "
        "fast as bare parsing; the target is ≥ 0.80× of the event-only baseline):",
        "",
        "| -j | baseline | by median wall | by best wall | by CPU time |",
        "|---:|---|---:|---:|---:|",
    ]
    for q in ratios:
        lines.append(f"| {q['jobs']} | {q['baseline']} | {q['median_wall']:.2f}× | {q['best_wall']:.2f}× | "
                     f"{q['cpu']:.2f}× |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"stats": stats, "rounds": rounds, "rows": rows, "ratios": ratios}, f, indent=2)


def callgrind(out, dplint, baseline, paths):
    size = sum(os.path.getsize(os.path.join(d, f)) for p in paths for d, _, fs in os.walk(p) for f in fs)
    commands = [
        ("dplint -j1", dplint_argv(dplint, 1, paths)),
        ("events -j1", baseline_argv(baseline, "events", 1, paths)),
        ("tree -j1", baseline_argv(baseline, "tree", 1, paths)),
    ]
    counts = {}
    for name, argv in commands:
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out", *argv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"Collected : (\d+)", p.stderr)
        if p.returncode != 0 or not m:
            sys.exit(f"callgrind of {name} failed:\n{p.stderr[-2000:]}")
        counts[name] = int(m.group(1))
    lines = [
        f"Instructions (valgrind --tool=callgrind), {len(paths)} inputs, {size / 1e6:.1f} MB:",
        "",
        "| command | instructions | per byte | dplint's throughput relative to it |",
        "|---|---:|---:|---:|",
    ]
    for name, n in counts.items():
        ratio = "" if name.startswith("dplint") else f"{n / counts['dplint -j1']:.2f}×"
        lines.append(f"| {name} | {n:,} | {n / size:.0f} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "results.md"), "a") as f:
        f.write("\n" + text + "\n")
    path = os.path.join(out, "results.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    results["callgrind"] = {"bytes": size, "instructions": counts}
    with open(path, "w") as f:
        json.dump(results, f, indent=2)


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "time":
        timing(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6].split())
    elif len(sys.argv) >= 6 and sys.argv[1] == "callgrind":
        callgrind(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
