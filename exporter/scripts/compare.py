#!/usr/bin/env python3
"""Compares tensors dumped by two runs of one generation: max |diff| on float tensors, max |diff| and PSNR on images.

Both folders hold raw little-endian tensors ``NAME.bin`` and describe them in either
* ``manifest.json`` with ``{"tensors": {NAME: {"file_raw", "dtype" ("<f4" | "|u1" | "<i8"), "shape"}}}``
  (the tiny fixture's reference cases and ``reference_pipeline.py`` write this), or
* ``summary.json`` with ``{"tensors": {NAME: shape}}`` (``exporter/tests/java/BundleCheck.java`` writes this;
  ``image_uint8`` is uint8, everything else float32).

    compare.py --expected REF_DIR --actual JAVA_DIR [--names final_latents,image_uint8] [--label fp32/1-step]
               [--max-image-diff 2] [--min-psnr 35] [--json-out FILE]

Exit status 0 when every given threshold holds (or none is given), 1 otherwise, 2 on unreadable input.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

DTYPES = {"<f4": np.float32, "|u1": np.uint8, "<i8": np.int64, "float32": np.float32, "uint8": np.uint8}


def load_folder(folder):
    """{name: ndarray} of every tensor a folder describes."""
    manifest = os.path.join(folder, "manifest.json")
    summary = os.path.join(folder, "summary.json")
    out = {}
    if os.path.isfile(manifest):
        with open(manifest) as f:
            tensors = json.load(f).get("tensors", {})
        for name, t in tensors.items():
            path = os.path.join(folder, t.get("file_raw", name + ".bin"))
            if os.path.isfile(path):
                out[name] = np.fromfile(path, dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    elif os.path.isfile(summary):
        with open(summary) as f:
            tensors = json.load(f).get("tensors", {})
        for name, shape in tensors.items():
            dtype = np.uint8 if name == "image_uint8" else np.float32
            out[name] = np.fromfile(os.path.join(folder, name + ".bin"), dtype=dtype).reshape(shape)
    else:
        raise SystemExit(f"compare.py: {folder} has neither manifest.json nor summary.json")
    return out


def psnr(a, b):
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def compare(expected, actual, names):
    rows = []
    for name in names:
        if name not in expected and name not in actual:
            continue  # e.g. negative_prompt_embeds of a run without guidance
        if name not in expected or name not in actual:
            rows.append({"tensor": name, "missing": [w for w, d in (("expected", expected), ("actual", actual))
                                                     if name not in d]})
            continue
        e, a = expected[name], actual[name]
        if e.size != a.size:
            rows.append({"tensor": name, "error": f"sizes differ: {list(e.shape)} vs {list(a.shape)}"})
            continue
        a = a.reshape(e.shape)
        d = np.abs(e.astype(np.float64) - a.astype(np.float64))
        row = {"tensor": name, "shape": list(e.shape), "max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()),
               "max_abs_expected": float(np.abs(e.astype(np.float64)).max())}
        if e.dtype == np.uint8:
            row["psnr_db"] = psnr(e, a)
        rows.append(row)
    return rows


def describe(row):
    if "missing" in row:
        return f"  {row['tensor']:<24} missing in {', '.join(row['missing'])}"
    if "error" in row:
        return f"  {row['tensor']:<24} {row['error']}"
    text = f"  {row['tensor']:<24} max |diff| {row['max_abs_diff']:.4g}  mean |diff| {row['mean_abs_diff']:.3g}"
    if "psnr_db" in row:
        text += f"  PSNR {'inf' if math.isinf(row['psnr_db']) else format(row['psnr_db'], '.2f')} dB"
    return text + f"  (max |expected| {row['max_abs_expected']:.4g}, shape {row['shape']})"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--expected", required=True)
    p.add_argument("--actual", required=True)
    p.add_argument("--names", default="prompt_embeds,final_latents,image_uint8")
    p.add_argument("--label", default="")
    p.add_argument("--max-image-diff", type=float)
    p.add_argument("--min-psnr", type=float)
    p.add_argument("--max-latent-diff", type=float)
    p.add_argument("--json-out")
    args = p.parse_args(argv)
    rows = compare(load_folder(args.expected), load_folder(args.actual), args.names.split(","))
    print(f"{args.label or args.actual} vs {args.expected}:")
    for row in rows:
        print(describe(row))
    failures = []
    for row in rows:
        if "missing" in row or "error" in row:
            failures.append(f"{row['tensor']}: not comparable")
        elif row["tensor"] == "image_uint8":
            if args.max_image_diff is not None and row["max_abs_diff"] > args.max_image_diff:
                failures.append(f"image max |diff| {row['max_abs_diff']:g} > {args.max_image_diff:g}")
            if args.min_psnr is not None and row["psnr_db"] < args.min_psnr:
                failures.append(f"image PSNR {row['psnr_db']:.2f} < {args.min_psnr:g} dB")
        elif row["tensor"] == "final_latents" and args.max_latent_diff is not None:
            if row["max_abs_diff"] > args.max_latent_diff:
                failures.append(f"final latents max |diff| {row['max_abs_diff']:.4g} > {args.max_latent_diff:g}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"label": args.label, "expected": args.expected, "actual": args.actual, "rows": rows,
                       "failures": failures}, f, indent=2, default=str)
    print("  RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
