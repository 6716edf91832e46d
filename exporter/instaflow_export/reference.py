"""The reference sampling math, run on any implementation of the three parts (eager modules or traced ones).

Velocity models follow InstaFlow's ``code/pipeline_rf.py`` (``RectifiedFlowPipeline.__call__``) line by line:
timesteps ``t_i = (1 - i/N) * 1000`` fed as float32 ``[B]``, classifier-free guidance only when
``guidance > 1`` with the batch ``[negative; prompt]``, the Euler update ``z + dt * v`` in the model's dtype,
``vae.decode(z / scaling_factor)``, then diffusers' post-processing ``(x / 2 + 0.5).clamp(0, 1)`` in the model's
dtype, float32, ``* 255``, round half to even.

Epsilon models (SwiftBrush) follow the SDK's ``EpsilonOneStep``, which is SwiftBrush's ``infer.py`` with the
closed form in float32: ``x0 = (z - sqrt(1 - a) eps) / sqrt(a)``.
"""

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch


@dataclass
class Parts:
    """The three networks as callables with the bundle parts' signatures."""

    text: Callable[[torch.Tensor], torch.Tensor]
    denoise: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
    decode: Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Settings:
    prompt: str
    negative_prompt: str
    steps: int
    guidance: float
    seed: int
    width: int
    height: int


@dataclass
class Result:
    noise: torch.Tensor  # float32 [1, C, h, w], CPU: exactly what the SDK is given
    final_latents: torch.Tensor  # float32, CPU
    image_uint8: torch.Tensor  # uint8 [H, W, 3] RGB, CPU


def token_ids(tokenizer, text: str, max_length: int) -> torch.Tensor:
    """Ids as the pipeline makes them: padded to max_length with the tokenizer's pad token, truncated."""
    return tokenizer([text], padding="max_length", max_length=max_length, truncation=True,
                     return_tensors="pt").input_ids.to(torch.int64)


def initial_noise(seed: int, shape, dtype: torch.dtype) -> torch.Tensor:
    """float32 noise from a seeded CPU generator (the SDK's NoiseSource draws the same), rounded through the
    model's dtype so that the stored float32 values are exactly what a half-precision pipeline starts from."""
    noise = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed), dtype=torch.float32)
    return noise.to(dtype).to(torch.float32)


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """diffusers' VaeImageProcessor.postprocess for one image: [1, 3, H, W] model-dtype VAE output -> uint8 HWC."""
    unit = (image / 2 + 0.5).clamp(0, 1)
    hwc = unit.cpu().permute(0, 2, 3, 1).float()[0]
    return (hwc * 255).round().to(torch.uint8)


@torch.no_grad()
def run(parts: Parts, preset, tokenizer, settings: Settings, max_length: int, latent_channels: int,
        vae_scale_factor: int, scaling_factor: float, device: torch.device, dtype: torch.dtype,
        noise: Optional[torch.Tensor] = None) -> Result:
    shape = (1, latent_channels, settings.height // vae_scale_factor, settings.width // vae_scale_factor)
    if noise is None:
        noise = initial_noise(settings.seed, shape, dtype)
    ids = token_ids(tokenizer, settings.prompt, max_length).to(device)
    embeds = parts.text(ids).to(dtype)
    if preset.prediction == "velocity":
        latents = _velocity(parts, preset, tokenizer, settings, max_length, embeds, noise, device, dtype)
    else:
        latents = _epsilon(parts, preset, embeds, noise, device, dtype)
    image = parts.decode((latents / scaling_factor).to(dtype))
    return Result(noise=noise, final_latents=latents.float().cpu(), image_uint8=to_uint8(image.to(dtype)))


def _velocity(parts, preset, tokenizer, settings, max_length, embeds, noise, device, dtype):
    guided = settings.guidance > 1.0
    if guided:
        negative = parts.text(token_ids(tokenizer, settings.negative_prompt, max_length).to(device)).to(dtype)
        embeds = torch.cat([negative, embeds])
    latents = noise.to(device=device, dtype=dtype)
    n = settings.steps
    dt = 1.0 / n
    for i in range(n):
        t = (1.0 - i / n) * preset.time_scale
        model_input = torch.cat([latents] * 2) if guided else latents
        vec_t = torch.ones((model_input.shape[0],), device=device) * t
        v = parts.denoise(model_input, vec_t, embeds)
        if guided:
            v_negative, v_text = v.chunk(2)
            v = v_negative + settings.guidance * (v_text - v_negative)
        latents = latents + dt * v
    return latents


def _epsilon(parts, preset, embeds, noise, device, dtype):
    z = noise.to(device=device, dtype=torch.float32)
    t = torch.full((z.shape[0],), float(preset.timestep), dtype=torch.float32, device=device)
    eps = parts.denoise(z.to(dtype), t, embeds).float()
    # The constants exactly as EpsilonOneStep rounds them: a and 1 - a in float32, square roots rounded to float32.
    a = torch.tensor(preset.alpha_bar, dtype=torch.float32)
    one_minus_a = float(torch.tensor(1.0, dtype=torch.float32) - a)
    c1 = float(torch.tensor(math.sqrt(one_minus_a), dtype=torch.float32))
    c0 = float(torch.tensor(math.sqrt(float(a)), dtype=torch.float32))
    return (z - eps * c1) / c0
