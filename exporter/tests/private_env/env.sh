# Source this in the shell that runs the exporter or its tests on the private CPU setup (see setup.sh).
# It changes only PYTHONPATH and LD_LIBRARY_PATH of this shell; nothing is installed.
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PRIVATE_ROOT=${PRIVATE_ROOT:-/work/pytorch-private}
PYDEPS=${PYDEPS:-/work/pydeps}
_r="$PRIVATE_ROOT/root"
export LD_LIBRARY_PATH="$_r/usr/lib/x86_64-linux-gnu:$_r/usr/lib/x86_64-linux-gnu/blas:$_r/usr/lib/x86_64-linux-gnu/lapack:$_r/usr/lib:$_r/usr/lib/ogdi/4.1:$_r/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONPATH="$_here/../..:$_here/shims:$PYDEPS/meta:$PYDEPS/diffusers/src:$PYDEPS/transformers/src:$PYDEPS/huggingface_hub/src:$_r/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
# Debian's torch uses OpenMP: keep the 2-core machine usable for others and avoid spin-waits.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OMP_WAIT_POLICY=PASSIVE
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DIFFUSERS_OFFLINE=1
unset _here _r
