"""Writing a bundle folder: the staging folder that becomes OUT_DIR only when every check passed, the manifest,
the tokenizer files and the self-test."""

import json
import os
import shutil
import tempfile
from typing import Dict

import torch

from . import sdk_defaults
from .errors import ExportError

BUNDLE_FORMAT = sdk_defaults.FORMAT
# The version of the layout manifest() below writes (not the SDK's newest: a reader accepts this and older ones).
BUNDLE_FORMAT_VERSION = 1
SELFTEST_FORMAT = "instaflow-selftest"
SELFTEST_VERSION = 1


def check_out_dir(out_dir: str) -> str:
    """OUT_DIR must not exist, or be an empty folder: the exporter never overwrites or mixes bundles."""
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir):
        if not os.path.isdir(out_dir):
            raise ExportError(f"{out_dir}: exists and is not a folder; give a new folder for the bundle")
        if os.listdir(out_dir):
            raise ExportError(f"{out_dir}: exists and is not empty; the exporter does not overwrite bundles. "
                              f"Remove it or give a new folder")
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        raise ExportError(f"{parent}: the parent folder of OUT_DIR does not exist")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"{parent}: not writable")
    return out_dir


class Staging:
    """A hidden sibling folder of OUT_DIR that is renamed to OUT_DIR on success and deleted otherwise."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.path = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".partial-",
                                     dir=os.path.dirname(out_dir))

    def file(self, *names: str) -> str:
        return os.path.join(self.path, *names)

    def commit(self):
        check_out_dir(self.out_dir)  # nothing appeared there meanwhile
        # mkdtemp made the folder private (0700); give it the permissions a folder made by mkdir would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.path, 0o777 & ~umask)
        if os.path.isdir(self.out_dir):
            os.rmdir(self.out_dir)
        os.rename(self.path, self.out_dir)
        self.path = None

    def discard(self):
        if self.path and os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None


def copy_tokenizer(snapshot, staging: Staging) -> str:
    folder = staging.file(sdk_defaults.PART_FILES["tokenizer"])
    os.makedirs(folder)
    for name in snapshot.tokenizer_files():
        shutil.copyfile(os.path.join(snapshot.path, "tokenizer", name), os.path.join(folder, name))
    return sdk_defaults.PART_FILES["tokenizer"]


def write_json(path: str, value: Dict):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def manifest(name: str, preset, dtype: torch.dtype, traced_on: str, geometry, parts: Dict[str, str],
             provenance: Dict[str, str]) -> Dict:
    """manifest.json, format version 1, in the field order of the SDK's ManifestWriter."""
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "name": name,
        "family": preset.family,
        "description": preset.description,
        "dtype": "float16" if dtype == torch.float16 else "float32",
        "traced_on": traced_on,
        "prediction": preset.prediction_section(),
        "latent": {
            "channels": geometry.latent_channels,
            "vae_scale_factor": geometry.vae_scale_factor,
            "scaling_factor": geometry.scaling_factor,
        },
        "image": {
            "default_width": geometry.default_image_size,
            "default_height": geometry.default_image_size,
            "size_multiple": geometry.size_multiple,
        },
        "text": {
            "max_length": geometry.max_length,
            "hidden_size": geometry.text_hidden_size,
            "bos_id": geometry.bos_id,
            "eos_id": geometry.eos_id,
            "pad_id": geometry.pad_id,
        },
        "sampling": {
            "sampler": "euler",
            "steps": preset.steps,
            "guidance": preset.guidance,
            "negative_prompt": "",
        },
        # The SDK's own defaults (sdk_defaults), written out so the bundle is explicit.
        "limits": dict(sdk_defaults.LIMITS),
        "parts": parts,
        "provenance": {k: str(v) for k, v in sorted(provenance.items())},
    }


def write_selftest(staging: Staging, settings, result, tolerance: Dict, reference: Dict):
    """selftest/selftest.json + noise.bin (float32 LE) + expected_uint8.bin (uint8 HWC RGB) + expected.png."""
    folder = staging.file("selftest")
    os.makedirs(folder)
    noise = result.noise.contiguous()
    with open(os.path.join(folder, "noise.bin"), "wb") as f:
        f.write(noise.numpy().astype("<f4").tobytes())
    image = result.image_uint8.contiguous()
    with open(os.path.join(folder, "expected_uint8.bin"), "wb") as f:
        f.write(image.numpy().tobytes())
    try:
        from PIL import Image
        Image.fromarray(image.numpy()).save(os.path.join(folder, "expected.png"))
    except ImportError:  # the PNG is for people only
        pass
    write_json(os.path.join(folder, "selftest.json"), {
        "format": SELFTEST_FORMAT,
        "version": SELFTEST_VERSION,
        "prompt": settings.prompt,
        "negative_prompt": settings.negative_prompt,
        "sampler": "euler",
        "steps": settings.steps,
        "guidance": settings.guidance,
        "width": settings.width,
        "height": settings.height,
        "seed": settings.seed,
        "noise": "noise.bin",
        "noise_shape": list(noise.shape),
        "expected_image": "expected_uint8.bin",
        "tolerance": tolerance,
        "reference": reference,
    })
