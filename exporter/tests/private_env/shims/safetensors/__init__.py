"""A minimal pure-Python stand-in for the `safetensors` package, for the private CPU test setup only.

Debian 12 packages no `safetensors`, and its real Python package is a compiled extension. This shim implements the
small part of the API that diffusers 0.21.4 and transformers 4.31 call (`safe_open`, `safetensors.torch.load_file`,
`load`, `save_file`, `save`) over the documented file layout: an unsigned 64-bit little-endian header length, a JSON
header (name -> dtype, shape, data_offsets; optional "__metadata__"), then the raw little-endian tensor bytes.
It is put on PYTHONPATH by `exporter/tests/private_env/env.sh` only; real installs use the real package.
"""

__version__ = "0.3.1"

from .torch import safe_open  # noqa: E402,F401
