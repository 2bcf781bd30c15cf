#!/usr/bin/env python3
"""Combine several danmu-bench JSON result files into one table of medians (what BENCHMARKS.md quotes).

Usage: Scripts/bench_median.py Benchmarks/results/run-*.json
Prints a Markdown table: figure, median, unit, the individual values, and the run count.
"""
import json
import statistics
import sys


def main(paths):
    values = {}
    units = {}
    order = []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for scenario in doc["scenarios"]:
            for fig in scenario["figures"]:
                name = fig["name"]
                if name not in values:
                    values[name] = []
                    order.append(name)
                units[name] = fig["unit"]
                if fig["value"] is not None:
                    values[name].append(fig["value"])
    print("| figure | median | unit | runs |")
    print("|---|---:|---|---|")
    for name in order:
        vals = values[name]
        if not vals:
            print(f"| {name} | n/a | {units[name]} | |")
            continue
        med = statistics.median(vals)
        shown = ", ".join(fmt(v) for v in vals)
        print(f"| {name} | {fmt(med)} | {units[name]} | {shown} |")


def fmt(v):
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


if __name__ == "__main__":
    main(sys.argv[1:])
