#!/usr/bin/env bash
# The private torch 1.13 environment of exporter/tests/private_env/setup.sh, WITHOUT a transformers tree
# (the full-size scripts use shared/fixtures/tiny-sd21/scripts/clip_text.py instead). setup.sh unpacks the
# Debian packages first and then stops at the missing transformers tree; this finishes the metadata it would
# have written for huggingface_hub and the safetensors shim. Nothing is installed system-wide.
#   scripts/fullsize/setup_env.sh [PRIVATE_ROOT] [PYDEPS]      (defaults /work/pytorch-private, /work/pydeps)
set -uo pipefail
PRIVATE_ROOT=${1:-${PRIVATE_ROOT:-/work/pytorch-private}}
PYDEPS=${2:-${PYDEPS:-/work/pydeps}}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ENVDIR="$REPO/exporter/tests/private_env"
log=$(mktemp)
if ! bash "$ENVDIR/setup.sh" "$PRIVATE_ROOT" "$PYDEPS" 2>&1 | tee "$log"; then :; fi
if ! grep -q "private environment ready" "$log"; then
  grep -q "missing $PYDEPS/transformers/" "$log" || { echo "setup.sh failed (see above)" >&2; exit 1; }
fi
rm -f "$log"
version_of() { grep -m1 '^__version__' "$1" | sed -E 's/.*"([^"]+)".*/\1/'; }
dist_info() { local d="$PYDEPS/meta/$1-$2.dist-info"; mkdir -p "$d"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" > "$d/METADATA"; }
for pkg in diffusers huggingface_hub; do
  init="$PYDEPS/$pkg/src/$pkg/__init__.py"
  [ -f "$init" ] || { echo "missing $init" >&2; exit 1; }
  dist_info "$pkg" "$(version_of "$init")"
done
dist_info safetensors "$(version_of "$ENVDIR/shims/safetensors/__init__.py")"
echo "private environment ready (no transformers): source $ENVDIR/env.sh"
