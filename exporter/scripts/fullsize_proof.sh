#!/usr/bin/env bash
# The full-size proof on a GPU (exporter/README.md, "Full-size proof on a GPU"): SD-1.5-shaped random weights ->
# diffusers snapshot -> bundles (fp32 and fp16, traced on CUDA) -> InstaFlow's own pipeline (reference) and the Java
# SDK on CUDA from the same seed, 1 step without guidance and 4 steps with guidance 1.5 -> max |diff| of the final
# latents and PSNR of the images. fp32 must agree to uint8 +-2; fp16 is reported.
#
#   exporter/scripts/fullsize_proof.sh python   # snapshot, the two exports, the four reference runs
#   exporter/scripts/fullsize_proof.sh java     # the four SDK runs and the two self-tests (needs JAVA etc.)
#   exporter/scripts/fullsize_proof.sh report   # compare.py on every pair -> RUNS/report.md, RUNS/report.json
#   exporter/scripts/fullsize_proof.sh all
#
# Each phase skips work whose output is already there, so a phase cut by a time limit can be run again.
# Environment:
#   RUNS          work folder (default exporter/runs/fullsize; exporter/runs/ is git-ignored)
#   PIPELINE_RF   path of InstaFlow's code/pipeline_rf.py (python phase; never committed here)
#   TOKENIZER     SD-1.5 CLIP tokenizer files (default ../shared/fixtures/clip, else exporter/runs/clip)
#   PYTHON        python with torch + diffusers + transformers (default python3); DIFFUSERS_SRC is put on
#                 PYTHONPATH when set (a diffusers source tree's src/)
#   JAVA, INSTAFLOW_CLASSPATH, INSTAFLOW_CHECK_CLASSES, JAVA_OPTS: from gpu_java_payload.sh's env.sh (java phase)
#   DEVICE        cuda (default) or cpu (only to smoke-test this script on a small snapshot: see SNAPSHOT_CONFIGS)
#   SNAPSHOT_CONFIGS  configs folder for make_random_sd15_snapshot.py (default: the real SD-1.5 ones)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
EXPORTER=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$EXPORTER/.." && pwd)
RUNS=${RUNS:-$EXPORTER/runs/fullsize}
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
PROMPT="a photo of a cat"
SEED=1234
CASES="n1_g0:1:0 n4_g1.5:4:1.5"
DTYPES=${DTYPES:-fp32 fp16}
if [ -n "${DIFFUSERS_SRC:-}" ]; then export PYTHONPATH="$DIFFUSERS_SRC${PYTHONPATH:+:$PYTHONPATH}"; fi
export PYTHONPATH="$EXPORTER${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$RUNS"

tokenizer_dir() {
  if [ -n "${TOKENIZER:-}" ]; then echo "$TOKENIZER"
  elif [ -d "$ROOT/../shared/fixtures/clip" ]; then echo "$ROOT/../shared/fixtures/clip"
  else echo "$EXPORTER/runs/clip"; fi
}

phase_python() {
  : "${PIPELINE_RF:?set PIPELINE_RF to the path of code/pipeline_rf.py from gnobitab/InstaFlow}"
  "$PYTHON" -c 'import torch, diffusers, transformers; print("python side: torch", torch.__version__, "diffusers",
diffusers.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available() and
torch.cuda.get_device_name(0))' | tee "$RUNS/python-versions.txt"
  if [ ! -f "$RUNS/snapshot/model_index.json" ]; then
    rm -rf "$RUNS/snapshot"
    "$PYTHON" "$HERE/make_random_sd15_snapshot.py" --out "$RUNS/snapshot" --tokenizer "$(tokenizer_dir)" \
        --device "$DEVICE" ${SNAPSHOT_CONFIGS:+--configs "$SNAPSHOT_CONFIGS"} 2>&1 | tee "$RUNS/snapshot.log"
  fi
  for dtype in $DTYPES; do
    if [ ! -f "$RUNS/bundle-$dtype/manifest.json" ]; then
      rm -rf "$RUNS/bundle-$dtype"
      "$PYTHON" -m instaflow_export "$RUNS/snapshot" "$RUNS/bundle-$dtype" --preset rectified-flow \
          --dtype "$dtype" --device "$DEVICE" --name "random-sd15-$dtype" 2>&1 | tee "$RUNS/export-$dtype.log"
    fi
    for c in $CASES; do
      IFS=: read -r name steps guidance <<< "$c"
      if [ ! -f "$RUNS/ref/$dtype/$name/manifest.json" ]; then
        "$PYTHON" "$HERE/reference_pipeline.py" --pipeline-rf "$PIPELINE_RF" --snapshot "$RUNS/snapshot" \
            --out "$RUNS/ref/$dtype/$name" --prompt "$PROMPT" --seed "$SEED" --steps "$steps" \
            --guidance "$guidance" --dtype "$dtype" --device "$DEVICE"
      fi
    done
  done
}

phase_java() {
  local size
  for dtype in $DTYPES; do
    size=$("$PYTHON" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["image"]["default_width"])' \
        "$RUNS/bundle-$dtype/manifest.json")
    for c in $CASES; do
      IFS=: read -r name steps guidance <<< "$c"
      if [ ! -f "$RUNS/java/$dtype/$name/summary.json" ]; then
        "$EXPORTER/tests/java/bundle_check.sh" generate --bundle "$RUNS/bundle-$dtype" --device "$DEVICE" \
            --out "$RUNS/java/$dtype/$name" --prompt "$PROMPT" --seed "$SEED" --steps "$steps" \
            --guidance "$guidance" --size "${size}x${size}" 2>&1 | grep -v '^SLF4J' | tee "$RUNS/java-$dtype-$name.log"
      fi
    done
    if [ ! -f "$RUNS/selftest-$dtype.txt" ]; then
      "$EXPORTER/tests/java/bundle_check.sh" selftest --bundle "$RUNS/bundle-$dtype" --device "$DEVICE" 2>&1 \
          | grep -v '^SLF4J' > "$RUNS/selftest-$dtype.txt" || true
    fi
    echo "self-test $dtype: $(tail -1 "$RUNS/selftest-$dtype.txt")"
  done
}

phase_report() {
  local status=0 args
  : > "$RUNS/compare.log"
  for dtype in $DTYPES; do
    for c in $CASES; do
      IFS=: read -r name steps guidance <<< "$c"
      args=()
      if [ "$dtype" = fp32 ]; then args=(--max-image-diff 2); fi
      "$PYTHON" "$HERE/compare.py" --expected "$RUNS/ref/$dtype/$name" --actual "$RUNS/java/$dtype/$name" \
          --names prompt_embeds,negative_prompt_embeds,initial_noise,final_latents,image_uint8 \
          --label "$dtype $name (Java SDK on $DEVICE vs pipeline_rf)" "${args[@]}" \
          --json-out "$RUNS/compare-$dtype-$name.json" | tee -a "$RUNS/compare.log" || status=1
    done
  done
  "$PYTHON" - "$RUNS" "$DTYPES" "$CASES" "$DEVICE" <<'EOF'
import json, math, os, sys
runs, dtypes, cases = sys.argv[1], sys.argv[2].split(), [c.split(":") for c in sys.argv[3].split()]
lines = [f"# Full-size proof: Java SDK (LibTorch 2.10, {sys.argv[4]}) vs InstaFlow pipeline_rf.py, random weights", ""]
for f in ("python-versions.txt",):
    p = os.path.join(runs, f)
    if os.path.exists(p):
        lines += ["    " + open(p).read().strip(), ""]
lines += ["| dtype | case | final latents max abs diff | image max abs diff | image PSNR (dB) | verdict |",
          "|---|---|---|---|---|---|"]
summary = []
for dtype in dtypes:
    for name, steps, guidance in cases:
        r = json.load(open(os.path.join(runs, f"compare-{dtype}-{name}.json")))
        rows = {row["tensor"]: row for row in r["rows"]}
        lat, img = rows.get("final_latents", {}), rows.get("image_uint8", {})
        psnr = img.get("psnr_db")
        verdict = ("PASS" if not r["failures"] else "FAIL: " + "; ".join(r["failures"])) if dtype == "fp32" else "reported"
        lines.append(f"| {dtype} | {steps} step(s), guidance {guidance} | {lat.get('max_abs_diff', float('nan')):.4g} | "
                     f"{img.get('max_abs_diff', float('nan')):.0f} | "
                     f"{'inf' if psnr is not None and math.isinf(psnr) else format(psnr or float('nan'), '.2f')} | {verdict} |")
        summary.append({"dtype": dtype, "case": name, "latents_max_abs_diff": lat.get("max_abs_diff"),
                        "image_max_abs_diff": img.get("max_abs_diff"), "image_psnr_db": psnr,
                        "failures": r["failures"]})
lines.append("")
for dtype in dtypes:
    p = os.path.join(runs, f"selftest-{dtype}.txt")
    if os.path.exists(p):
        lines.append(f"- self-test of bundle-{dtype} (`instaflow verify`): {open(p).read().strip().splitlines()[-1]}")
    p = os.path.join(runs, f"export-{dtype}.log")
    if os.path.exists(p):
        checks = [l.strip() for l in open(p) if l.startswith("traced pipeline") or l.startswith("prediction probe")]
        lines += [f"- export {dtype}: {c}" for c in checks]
p = os.path.join(runs, "snapshot", "random_init.json")
if os.path.exists(p):
    init = json.load(open(p))["components"]
    lines.append("- random init gains: " + ", ".join(f"{k} {v['gain']:g} (float32 max |activation| "
                 f"{v['float32']['max_activation']:.3g})" for k, v in init.items()))
open(os.path.join(runs, "report.md"), "w").write("\n".join(lines) + "\n")
json.dump(summary, open(os.path.join(runs, "report.json"), "w"), indent=2, default=str)
print("\n".join(lines))
EOF
  if [ -n "${OUT:-}" ]; then cp "$RUNS/report.md" "$RUNS/report.json" "$OUT/" 2>/dev/null || true; fi
  return $status
}

case ${1:-all} in
  python) phase_python ;;
  java) phase_java ;;
  report) phase_report ;;
  all) phase_python; phase_java; phase_report ;;
  *) echo "usage: $0 python|java|report|all" >&2; exit 2 ;;
esac
