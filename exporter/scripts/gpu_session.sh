#!/usr/bin/env bash
# Glue for running the full-size proof through the device tool, which runs one short command per call in a copy of
# this repository on a GPU machine that keeps /tmp only while it stays warm (see exporter/README.md, "Full-size proof
# on a GPU"). Everything it needs travels in git-ignored folders named in the call's `carry`:
#   exporter/runs/carry/     diffusers-src.tar.xz (diffusers v0.40.0 src/), pipeline_rf.py, clip/ (tokenizer files)
#   exporter/runs/payload/   payload.tar.part-NN + SHA256SUMS from gpu_java_payload.sh pack (one part per call)
#
#   here:  exporter/scripts/gpu_session.sh prepare DIFFUSERS_GIT_DIR INSTAFLOW_GIT_DIR   # fills exporter/runs/carry
#   there: exporter/scripts/gpu_session.sh python        # snapshot, exports, reference runs (RUNS=/tmp/instaflow-fullsize)
#          exporter/scripts/gpu_session.sh receive       # keeps the payload parts carried with this call in /tmp
#          exporter/scripts/gpu_session.sh java          # unpacks the Java payload, SDK runs, report into $OUT
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
EXPORTER=$(cd "$HERE/.." && pwd)
CARRY="$EXPORTER/runs/carry"
PARTS=/tmp/instaflow-payload-parts
export RUNS=${RUNS:-/tmp/instaflow-fullsize}

case ${1:-} in
  prepare)
    diffusers_git=$2 instaflow_git=$3
    mkdir -p "$CARRY/clip"
    git --git-dir="$diffusers_git" archive --prefix=diffusers/ v0.40.0 src | xz -6 > "$CARRY/diffusers-src.tar.xz"
    git --git-dir="$instaflow_git" show f543f81:code/pipeline_rf.py > "$CARRY/pipeline_rf.py"
    for f in vocab.json merges.txt special_tokens_map.json tokenizer_config.json; do
      cp "$EXPORTER/../../shared/fixtures/clip/$f" "$CARRY/clip/"
    done
    du -sh "$CARRY"
    ;;
  python)
    mkdir -p /tmp/instaflow-diffusers
    [ -d /tmp/instaflow-diffusers/diffusers/src ] || xz -dc "$CARRY/diffusers-src.tar.xz" | tar -x -C /tmp/instaflow-diffusers
    export DIFFUSERS_SRC=/tmp/instaflow-diffusers/diffusers/src PIPELINE_RF="$CARRY/pipeline_rf.py"
    export TOKENIZER="$CARRY/clip" PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$RUNS.gpu.txt" || true
    "$HERE/fullsize_proof.sh" python
    ;;
  receive)
    mkdir -p "$PARTS"
    cp "$EXPORTER"/runs/payload/payload.tar.part-* "$EXPORTER"/runs/payload/SHA256SUMS "$PARTS/" 2>/dev/null || true
    ls -la "$PARTS"
    ;;
  java)
    "$HERE/gpu_java_payload.sh" unpack "$PARTS" /tmp/instaflow-java
    # shellcheck disable=SC1091
    source /tmp/instaflow-java/env.sh
    "$JAVA" -version 2>&1 | head -1
    "$HERE/fullsize_proof.sh" java
    "$HERE/fullsize_proof.sh" report
    ;;
  *)
    echo "usage: $0 prepare DIFFUSERS_GIT_DIR INSTAFLOW_GIT_DIR | python | receive | java" >&2
    exit 2
    ;;
esac
