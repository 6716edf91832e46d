#!/usr/bin/env bash
# Builds the private CPU test environment of the exporter WITHOUT installing anything system-wide:
# Debian's torch 1.13 and its libraries are unpacked with `dpkg -x` into PRIVATE_ROOT, and the pure-Python
# diffusers / transformers / huggingface_hub source trees are expected under PYDEPS (see ../../README.md,
# "Tests without a GPU"). A system-wide libtorch (python3-torch, libtorch-dev) breaks the Java SDK's native
# loader, which is why none is installed.
#
#   exporter/tests/private_env/setup.sh [PRIVATE_ROOT] [PYDEPS]      (defaults /work/pytorch-private, /work/pydeps)
#
# Afterwards `source exporter/tests/private_env/env.sh` (it reads the same two variables) in the shell that runs
# the exporter or its tests, and use Debian's /usr/bin/python3 (3.11).
set -euo pipefail
PRIVATE_ROOT=${1:-${PRIVATE_ROOT:-/work/pytorch-private}}
PYDEPS=${2:-${PYDEPS:-/work/pydeps}}
HERE=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$PRIVATE_ROOT/debs" "$PRIVATE_ROOT/root"
cd "$PRIVATE_ROOT/debs"
# Every package python3-torch pulls in on Debian 12 that a minimal image lacks, plus the Python deps of
# diffusers/transformers. `apt-get install -s --no-install-recommends python3-torch` lists the same set.
PKGS=$(apt-get install -s --no-install-recommends python3-torch python3-numpy python3-pil python3-regex \
        python3-requests python3-filelock python3-packaging python3-tqdm python3-typing-extensions python3-fsspec \
        python3-yaml 2>/dev/null | awk '/^Inst /{print $2}')
if [ -z "$PKGS" ]; then
  echo "apt-get resolved nothing: run 'apt-get update' first" >&2
  exit 1
fi
# shellcheck disable=SC2086
apt-get download $PKGS >/dev/null
for deb in ./*.deb; do dpkg -x "$deb" "$PRIVATE_ROOT/root"; done

# importlib.metadata must find versions for the source trees (transformers checks huggingface-hub's at import),
# and for the safetensors shim.
META="$PYDEPS/meta"
mkdir -p "$META"
dist_info() { # name version
  local d="$META/$1-$2.dist-info"
  mkdir -p "$d"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" > "$d/METADATA"
}
version_of() { grep -m1 '^__version__' "$1" | sed -E 's/.*"([^"]+)".*/\1/'; }
for pkg in diffusers transformers huggingface_hub; do
  init="$PYDEPS/$pkg/src/$pkg/__init__.py"
  if [ ! -f "$init" ]; then
    echo "missing $init: put the $pkg source tree (its repository's src/ folder) under $PYDEPS/$pkg/" >&2
    exit 1
  fi
  dist_info "$pkg" "$(version_of "$init")"
done
dist_info safetensors "$(version_of "$HERE/shims/safetensors/__init__.py")"
echo "private environment ready: source $HERE/env.sh"
