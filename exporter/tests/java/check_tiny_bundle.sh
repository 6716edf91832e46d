#!/usr/bin/env bash
# Exports the shared tiny SD-1.5-shaped model with each preset and checks the bundles with the Java SDK of this
# checkout: the four InstaFlow / 2-RF reference cases of ../shared/fixtures/tiny-sd15/ref reproduced from prompt and
# seed (compare.py: image max |diff| <= 1, final latents max |diff| <= 1e-4), each bundle's stored self-test, and
# the load errors users meet (newer format version, float16 bundle on a CPU, parts traced on CUDA loaded on a CPU).
#
#   exporter/tests/java/check_tiny_bundle.sh [WORK_DIR]
#
# Needs the exporter's Python environment active (a torch + diffusers + transformers; on a CPU-only machine:
# `source exporter/tests/private_env/env.sh` and PYTHON=/usr/bin/python3), Java 17 and Maven.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
EXPORTER=$(cd "$HERE/../.." && pwd)
ROOT=$(cd "$EXPORTER/.." && pwd)
SHARED=${INSTAFLOW_SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}
FIXTURE="$SHARED/fixtures/tiny-sd15"
PYTHON=${PYTHON:-python3}
WORK=${1:-$(mktemp -d /tmp/instaflow-export-java-XXXXXX)}
CHECK="$HERE/bundle_check.sh"
failures=0
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

mkdir -p "$WORK"
for preset in instaflow rectified-flow swiftbrush; do
  rm -rf "$WORK/$preset"
  (cd "$EXPORTER" && "$PYTHON" -m instaflow_export "$FIXTURE/model" "$WORK/$preset" --preset "$preset" \
      --device cpu --quiet) || fail "export --preset $preset"
done
rm -rf "$WORK/instaflow-frozen"
(cd "$EXPORTER" && "$PYTHON" -m instaflow_export "$FIXTURE/model" "$WORK/instaflow-frozen" --preset instaflow \
    --device cpu --freeze --quiet) || fail "export --freeze"

echo "== reference cases through the exported instaflow bundle (Java SDK, CPU, float32)"
for c in instaflow_n1_nocfg:1:0 instaflow_n1_cfg1.5:1:1.5 rf2_n4_nocfg:4:1.0 rf2_n4_cfg1.5:4:1.5; do
  IFS=: read -r name steps guidance <<< "$c"
  "$CHECK" generate --bundle "$WORK/instaflow" --out "$WORK/java/$name" --prompt "a photo of a cat" \
      --steps "$steps" --guidance "$guidance" --seed 1234 --size 32x32 2>&1 | grep -v '^SLF4J' || fail "generate $name"
  "$PYTHON" "$EXPORTER/scripts/compare.py" --expected "$FIXTURE/ref/$name" --actual "$WORK/java/$name" \
      --names prompt_embeds,negative_prompt_embeds,initial_noise,final_latents,image_float,image_uint8 \
      --label "exported bundle, $name" --max-image-diff 1 --max-latent-diff 1e-4 \
      --json-out "$WORK/java/$name/compare.json" || fail "parity $name"
done

echo "== stored self-tests (SelfTest, as 'instaflow verify' runs it)"
for preset in instaflow rectified-flow swiftbrush instaflow-frozen; do
  line=$("$CHECK" selftest --bundle "$WORK/$preset" 2>&1 | grep -v '^SLF4J') || fail "self-test $preset: $line"
  echo "  $preset: $line"
done

echo "== load errors"
expect_error() { # label bundle expected-words... (extra args after --)
  local label=$1 bundle=$2 words=$3; shift 3
  local line
  line=$("$CHECK" load-error --bundle "$bundle" "$@" 2>&1 | grep -v '^SLF4J') || { fail "$label: $line"; return; }
  echo "  $label: $line"
  for w in $words; do
    w=${w//+/ }  # "+" stands for a space in the expected words
    [[ "$line" == *"$w"* ]] || fail "$label: message lacks '$w'"
  done
}
edit_manifest() { # source target python-expression-on-m
  rm -rf "$2"; cp -r "$1" "$2"
  "$PYTHON" - "$2/manifest.json" "$3" <<'EOF'
import json, sys
path, expression = sys.argv[1], sys.argv[2]
m = json.load(open(path))
exec(expression)
json.dump(m, open(path, "w"), indent=2)
EOF
}
edit_manifest "$WORK/instaflow" "$WORK/newer-format" 'm["format_version"] = 2'
expect_error "bundle from a newer format version" "$WORK/newer-format" "format_version upgrade"
edit_manifest "$WORK/instaflow" "$WORK/fp16-on-cpu" 'm["dtype"] = "float16"'
expect_error "float16 bundle on a CPU" "$WORK/fp16-on-cpu" "float16 CUDA"
# Parts that behave as if traced on CUDA (they make a constant on "cuda"), loaded on this CPU. The manifest says
# traced_on "cuda", so the SDK refuses the bundle before loading any part, naming the manifest field.
"$PYTHON" "$HERE/make_device_pinned_bundle.py" "$WORK/instaflow" "$WORK/cuda-traced" text_encoder,denoiser,vae_decoder
expect_error "bundle traced on CUDA, loaded on a CPU" "$WORK/cuda-traced" "InvalidBundleException traced_on traced+on+cuda Device.cuda()"
"$PYTHON" "$HERE/make_device_pinned_bundle.py" "$WORK/instaflow" "$WORK/cuda-traced-denoiser" denoiser
expect_error "denoiser traced on CUDA, loaded on a CPU" "$WORK/cuda-traced-denoiser" "traced_on traced+on+cuda"
# The same denoiser in a manifest that (wrongly) says traced_on "cpu": the part's load-time check fails, naming it.
edit_manifest "$WORK/cuda-traced-denoiser" "$WORK/cuda-pinned-mislabelled" 'm["traced_on"] = "cpu"'
expect_error "denoiser pinned to CUDA in a bundle labelled cpu" "$WORK/cuda-pinned-mislabelled" "InvalidBundleException denoiser.pt parts.denoiser load-time+check"

if [ "$failures" -ne 0 ]; then
  echo "check_tiny_bundle: $failures failure(s); outputs in $WORK"
  exit 1
fi
echo "check_tiny_bundle: all passed; outputs in $WORK"
