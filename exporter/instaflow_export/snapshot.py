"""A diffusers snapshot folder: its component configs, read and cross-checked, and its components, loaded one by one.

Components are loaded individually (``CLIPTextModel``, ``UNet2DConditionModel``, ``AutoencoderKL``,
``CLIPTokenizer``) rather than through ``DiffusionPipeline.from_pretrained``, because InstaFlow's
``model_index.json`` names a pipeline class (``RectifiedFlowPipeline``) that diffusers does not ship.
Every geometry value of the manifest is read here from the snapshot's own configs.
"""

import json
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

from .errors import ExportError

COMPONENTS = ("text_encoder", "unet", "vae", "tokenizer")
TOKENIZER_FILES_SLOW = ("vocab.json", "merges.txt")


def _read_json(path: str) -> dict:
    try:
        with open(path, "r", encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        raise ExportError(f"{path}: missing") from None
    except (OSError, ValueError) as e:
        raise ExportError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(value, dict):
        raise ExportError(f"{path}: expected a JSON object")
    return value


def _require(config: dict, key: str, path: str):
    if key not in config:
        raise ExportError(f"{path}: the field \"{key}\" is missing")
    return config[key]


@dataclass
class SnapshotGeometry:
    """What the manifest needs, all read from the snapshot's configs."""

    latent_channels: int
    vae_scale_factor: int
    scaling_factor: float
    unet_downsampling: int  # 2^(number of UNet down blocks - 1)
    default_latent_size: int  # unet.sample_size
    text_hidden_size: int
    max_length: int
    bos_id: int
    eos_id: int
    pad_id: int

    @property
    def size_multiple(self) -> int:
        return self.vae_scale_factor * self.unet_downsampling

    @property
    def default_image_size(self) -> int:
        return self.default_latent_size * self.vae_scale_factor

    @property
    def latent_multiple(self) -> int:
        return self.unet_downsampling


class Snapshot:
    """A diffusers model folder (``model_index.json`` optional) with text_encoder/, unet/, vae/, tokenizer/."""

    def __init__(self, path: str, variant: Optional[str] = None):
        self.path = os.path.abspath(path)
        self.variant = variant
        if not os.path.isdir(self.path):
            raise ExportError(f"{path}: not a folder; expected a diffusers snapshot with "
                              f"{', '.join(c + '/' for c in COMPONENTS)}")
        missing = [c for c in COMPONENTS if not os.path.isdir(os.path.join(self.path, c))]
        if missing:
            raise ExportError(f"{self.path}: not a diffusers text-to-image snapshot: missing "
                              f"{', '.join(m + '/' for m in missing)} (expected {', '.join(c + '/' for c in COMPONENTS)};"
                              f" download the whole repository, e.g. `huggingface-cli download REPO --local-dir DIR`)")
        self.text_encoder_config = _read_json(self._file("text_encoder", "config.json"))
        self.unet_config = _read_json(self._file("unet", "config.json"))
        self.vae_config = _read_json(self._file("vae", "config.json"))
        scheduler = os.path.join(self.path, "scheduler", "scheduler_config.json")
        self.scheduler_config = _read_json(scheduler) if os.path.isfile(scheduler) else {}
        index = os.path.join(self.path, "model_index.json")
        self.model_index = _read_json(index) if os.path.isfile(index) else {}
        self._check_tokenizer_files()

    def _file(self, component: str, name: str) -> str:
        return os.path.join(self.path, component, name)

    def _check_tokenizer_files(self):
        folder = os.path.join(self.path, "tokenizer")
        has_slow = all(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES_SLOW)
        has_fast = os.path.isfile(os.path.join(folder, "tokenizer.json"))
        if not (has_slow or has_fast):
            raise ExportError(f"{folder}: no tokenizer files; expected vocab.json + merges.txt (CLIP BPE) or "
                              f"tokenizer.json")

    def tokenizer_files(self) -> List[str]:
        """The tokenizer folder's files the SDK reads (all regular files of that folder)."""
        folder = os.path.join(self.path, "tokenizer")
        return sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))

    # ---- checks that need no torch -------------------------------------------------------------------------
    def check_supported(self):
        """Refuses snapshots the SDK cannot run, with the reason."""
        unet_path = self._file("unet", "config.json")
        cls = self.unet_config.get("_class_name", "UNet2DConditionModel")
        if cls != "UNet2DConditionModel":
            raise ExportError(f"{unet_path}: _class_name is {cls}; the SDK runs UNet2DConditionModel denoisers only")
        for key in ("addition_embed_type", "class_embed_type", "time_cond_proj_dim", "encoder_hid_dim_type"):
            if self.unet_config.get(key) is not None:
                raise ExportError(f"{unet_path}: {key} is {self.unet_config[key]!r}; the SDK feeds the UNet only "
                                  f"(sample, timestep, text embeddings), so UNets that need extra conditioning "
                                  f"(SDXL-style added embeddings, class labels, guidance embeddings) cannot be exported")
        prediction = self.scheduler_config.get("prediction_type")
        if prediction == "v_prediction":
            raise ExportError(f"{os.path.join(self.path, 'scheduler', 'scheduler_config.json')}: prediction_type is "
                              f"\"v_prediction\" (a v-parameterised diffusion model such as SD 2.x 768-v). That is "
                              f"not a rectified-flow velocity model and the SDK cannot sample it")

    def geometry(self, tokenizer) -> SnapshotGeometry:
        """Geometry from the configs, cross-checked between components; ``tokenizer`` gives ids and length."""
        unet_path = self._file("unet", "config.json")
        vae_path = self._file("vae", "config.json")
        te_path = self._file("text_encoder", "config.json")
        in_channels = int(_require(self.unet_config, "in_channels", unet_path))
        out_channels = int(self.unet_config.get("out_channels", in_channels))
        latent_channels = int(self.vae_config.get("latent_channels", 4))
        if not (in_channels == out_channels == latent_channels):
            raise ExportError(f"{unet_path}: in_channels {in_channels} / out_channels {out_channels} do not match "
                              f"the VAE's latent_channels {latent_channels} ({vae_path}); the UNet and VAE are not "
                              f"from the same model")
        vae_blocks = _require(self.vae_config, "block_out_channels", vae_path)
        vae_scale_factor = 2 ** (len(vae_blocks) - 1)
        # diffusers' AutoencoderKL defaults scaling_factor to 0.18215 when the config (an old one) has none.
        scaling_factor = float(self.vae_config.get("scaling_factor", 0.18215))
        down_blocks = _require(self.unet_config, "down_block_types", unet_path)
        sample_size = self.unet_config.get("sample_size")
        if isinstance(sample_size, (list, tuple)):
            if len(set(sample_size)) != 1:
                raise ExportError(f"{unet_path}: non-square sample_size {sample_size} is not supported")
            sample_size = sample_size[0]
        if not isinstance(sample_size, int) or sample_size <= 0:
            raise ExportError(f"{unet_path}: sample_size must be a positive integer, got {sample_size!r}")
        hidden = int(_require(self.text_encoder_config, "hidden_size", te_path))
        cross = self.unet_config.get("cross_attention_dim")
        if isinstance(cross, (list, tuple)):
            cross = cross[0] if len(set(cross)) == 1 else None
        if cross != hidden:
            raise ExportError(f"{unet_path}: cross_attention_dim {self.unet_config.get('cross_attention_dim')!r} "
                              f"does not match the text encoder's hidden_size {hidden} ({te_path})")
        max_length = int(tokenizer.model_max_length)
        positions = int(self.text_encoder_config.get("max_position_embeddings", max_length))
        if max_length > positions or max_length < 3:
            raise ExportError(f"{os.path.join(self.path, 'tokenizer')}: model_max_length {max_length} does not fit "
                              f"the text encoder's max_position_embeddings {positions}")
        tokenizer_folder = os.path.join(self.path, "tokenizer")
        ids = {"bos": tokenizer.bos_token_id, "eos": tokenizer.eos_token_id}
        vocabulary = len(tokenizer.get_vocab()) if hasattr(tokenizer, "get_vocab") else None
        for role, value in ids.items():
            if not isinstance(value, int) or (vocabulary is not None and value >= int(
                    self.text_encoder_config.get("vocab_size", vocabulary))):
                raise ExportError(f"{tokenizer_folder}: the tokenizer gives {role} id {value!r}, not an id of the text "
                                  f"encoder's vocabulary; its special tokens are not in vocab.json (or this "
                                  f"transformers cannot read special_tokens_map.json: without the `tokenizers` "
                                  f"package, transformers 4.3x misreads special tokens written as objects)")
        pad = tokenizer.pad_token_id
        if pad is None:
            raise ExportError(f"{os.path.join(self.path, 'tokenizer')}: the tokenizer has no pad token "
                              f"(special_tokens_map.json / tokenizer_config.json \"pad_token\"); SD 1.5 pads with "
                              f"<|endoftext|> (49407), SD 2.x with \"!\" (0)")
        return SnapshotGeometry(
            latent_channels=latent_channels, vae_scale_factor=vae_scale_factor, scaling_factor=scaling_factor,
            unet_downsampling=2 ** (len(down_blocks) - 1), default_latent_size=sample_size,
            text_hidden_size=hidden, max_length=max_length, bos_id=int(tokenizer.bos_token_id),
            eos_id=int(tokenizer.eos_token_id), pad_id=int(pad))

    def source_revision(self) -> Dict[str, str]:
        """Repository id and commit when the folder is a Hugging Face cache snapshot (``models--ORG--NAME/snapshots/HASH``)."""
        out = {}
        m = re.search(r"models--([^/]+)--([^/]+)/snapshots/([0-9a-f]{40})/?$", self.path)
        if m:
            out["source_repo"] = f"{m.group(1)}/{m.group(2)}"
            out["source_commit"] = m.group(3)
        return out

    # ---- loading (needs torch, diffusers, transformers) ----------------------------------------------------
    def load_tokenizer(self):
        from transformers import CLIPTokenizer
        try:
            return CLIPTokenizer.from_pretrained(self.path, subfolder="tokenizer")
        except Exception as e:  # transformers raises many types for unreadable files
            raise ExportError(f"{os.path.join(self.path, 'tokenizer')}: CLIPTokenizer cannot load it: {e}") from e

    def load_text_encoder(self):
        from transformers import CLIPTextModel
        return self._load(CLIPTextModel, "text_encoder")

    # diffusers models load with low_cpu_mem_usage=False whether or not accelerate is installed, so that every
    # diffusers version reports missing weights the same way (as loading info, checked below).
    def load_unet(self):
        from diffusers import UNet2DConditionModel
        return self._load(UNet2DConditionModel, "unet", low_cpu_mem_usage=False)

    def load_vae(self):
        from diffusers import AutoencoderKL
        return self._load(AutoencoderKL, "vae", low_cpu_mem_usage=False)

    def _load(self, cls, subfolder, **extra):
        import torch
        kwargs = {"subfolder": subfolder, "output_loading_info": True, "torch_dtype": torch.float32}
        kwargs.update(extra)
        if self.variant:
            kwargs["variant"] = self.variant
        folder = os.path.join(self.path, subfolder)
        try:
            model, info = cls.from_pretrained(self.path, **kwargs)
        except ExportError:
            raise
        except Exception as e:
            raise ExportError(f"{folder}: {cls.__name__} cannot load it: {e}") from e
        # A weight the checkpoint lacks is left at its random initial value: the export would run and be garbage.
        # (Old attention key names such as the VAE's query/key/value/proj_attn are renamed by diffusers on load and
        # are not missing.)
        missing = list(info.get("missing_keys") or [])
        mismatched = list(info.get("mismatched_keys") or [])
        if missing or mismatched:
            raise ExportError(f"{folder}: the checkpoint does not fill the {cls.__name__}: missing weights "
                              f"{missing[:8]}{' ...' if len(missing) > 8 else ''}, shape mismatches "
                              f"{mismatched[:4]}; is config.json from the same model as the weights?")
        return model.eval().requires_grad_(False)
