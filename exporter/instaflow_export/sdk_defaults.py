"""The bundle format's name, default limits and part file names, read from the SDK's own resource.

Their one home is ``instaflow-native/src/main/resources/dev/instaflow/engine/bundle/manifest-defaults.json``
(``docs/bundle-format.md``, "Defaults"): the SDK's ``ManifestDefaults`` reads it from its jar, and the exporter, which
runs from a checkout of this repository, reads the same file here, so neither side keeps a copy that could drift.
Pure Python (no torch), so it is importable and testable anywhere.
"""

import json
import os
from typing import Dict

from .errors import ExportError

#: The SDK's resource, relative to the repository root (the parent of ``exporter/``).
RESOURCE = os.path.join("instaflow-native", "src", "main", "resources", "dev", "instaflow", "engine", "bundle",
                        "manifest-defaults.json")
_REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(_REPO_DIR, RESOURCE)


def _load(path: str) -> Dict:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except OSError as e:
        raise ExportError(f"{path}: cannot read the SDK's manifest defaults ({e.strerror}); the exporter runs from a"
                          f" checkout of instaflow-java, which has this file at {RESOURCE}") from e
    except ValueError as e:
        raise ExportError(f"{path}: is not valid JSON ({e})") from e
    if not isinstance(value, dict) or not isinstance(value.get("limits"), dict) \
            or not isinstance(value.get("parts"), dict) or not isinstance(value.get("format"), str):
        raise ExportError(f"{path}: expected an object with \"format\", \"limits\" and \"parts\"")
    return value


_DEFAULTS = _load(PATH)

#: The value of a manifest's ``format`` field.
FORMAT: str = _DEFAULTS["format"]
#: The SDK's default limits, in the manifest's field order (max_size, max_batch, max_steps).
LIMITS: Dict[str, int] = dict(_DEFAULTS["limits"])
#: Conventional part paths of a bundle: text_encoder, denoiser, vae_decoder, tokenizer, refiner, vae_encoder.
PART_FILES: Dict[str, str] = dict(_DEFAULTS["parts"])
