#!/usr/bin/env python3
"""Compares ``instaflow bench --json`` with ``bench_python.py`` output measured on the same machine and bundle.

    bench_compare.py JAVA.json PYTHON.json [--markdown]

Prints, per batch size both measured: Java and Python total latency p50 and their ratio, images per second and their
ratio, and the Java time outside the networks; then peak GPU memory held by tensors on each side. Nothing is
judged here; the goals (docs/performance.md) are read off the ratios.
"""

import argparse
import json
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("java")
    p.add_argument("python")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    java = json.load(open(args.java))
    python = json.load(open(args.python))
    by_batch = {c["batch"]: c for c in python["configs"]}
    rows = []
    for c in java["configs"]:
        other = by_batch.get(c["batch"])
        if other is None:
            continue
        jl = c["latency_ms"]["total"]["p50"]
        pl = other["latency_ms"]["total"]["p50"]
        rows.append((c["batch"], jl, pl, jl / pl, c["images_per_second"], other["images_per_second"],
                     c["images_per_second"] / other["images_per_second"], c["outside_networks_ms"]["p50"]))
    header = ("batch", "Java p50 ms", "Python p50 ms", "Java/Python latency", "Java img/s", "Python img/s",
              "Java/Python throughput", "Java outside networks p50 ms")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print(f"| {r[0]} | {r[1]:.2f} | {r[2]:.2f} | {r[3]:.3f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.3f} | {r[7]:.3f} |")
    else:
        for r in rows:
            print(f"batch {r[0]:2d}: latency Java {r[1]:.2f} ms / Python {r[2]:.2f} ms = {r[3]:.3f}; throughput "
                  f"{r[4]:.2f} / {r[5]:.2f} images/s = {r[6]:.3f}; Java outside networks {r[7]:.3f} ms")
    print(f"peak GPU memory held by tensors: Java {java.get('peak_gpu_tensor_mib')} MiB, "
          f"Python {python.get('peak_gpu_tensor_mib')} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
