"""A behavioural check of what a UNet predicts, to catch a snapshot exported under the wrong ``--preset``.

At the noise end (t = 1000 for InstaFlow's time, 999 for a DDPM UNet) the input is pure noise z. A trained
noise predictor (plain Stable Diffusion, SwiftBrush) returns about z itself: the correlation of its output with z
is close to +1. A rectified-flow velocity UNet (InstaFlow, 2-Rectified Flow) returns v = image - z, which
correlates negatively with z (about -0.7 when the image and z have similar scale). Random, untrained weights give
something near 0: the probe then says nothing and the export goes on.
"""

from dataclasses import dataclass

import torch

from .errors import ExportError

# |correlation| above these values is taken as evidence.
EPSILON_EVIDENCE = 0.5
VELOCITY_EVIDENCE = -0.3


@dataclass
class ProbeResult:
    correlation: float

    @property
    def verdict(self) -> str:
        if self.correlation >= EPSILON_EVIDENCE:
            return "epsilon"
        if self.correlation <= VELOCITY_EVIDENCE:
            return "velocity"
        return "inconclusive"


@torch.no_grad()
def probe(denoise, channels: int, latent_size: int, text_embeddings: torch.Tensor, timestep: float, device,
          dtype) -> ProbeResult:
    """Correlation of ``denoise(z, t, text)`` with z for fixed-seed noise z of one latent (4 x 32 x 32 values for
    SD 1.5 at half its default size: enough for a correlation, cheap on a CPU)."""
    g = torch.Generator("cpu").manual_seed(20240917)
    z = torch.randn((1, channels, latent_size, latent_size), generator=g)
    t = torch.full((1,), float(timestep), dtype=torch.float32)
    text = text_embeddings[:1]
    out = denoise(z.to(device, dtype), t.to(device), text.to(device, dtype)).float().cpu()
    a = z.flatten() - z.mean()
    b = out.flatten() - out.mean()
    denominator = (a.norm() * b.norm()).item()
    return ProbeResult(0.0 if denominator == 0 else (a @ b).item() / denominator)


def check(result: ProbeResult, preset, unet_folder: str):
    """Refuses when the evidence contradicts the preset."""
    verdict = result.verdict
    if preset.prediction == "velocity" and verdict == "epsilon":
        raise ExportError(
            f"{unet_folder}: this UNet behaves like a noise (epsilon) predictor, not a rectified-flow velocity "
            f"model: at t={preset.time_scale:g} on pure noise z its output correlates {result.correlation:+.2f} with z "
            f"(a velocity model's output, image - z, correlates negatively). This looks like plain Stable Diffusion "
            f"or SwiftBrush, which --preset {preset.name} cannot run: use the InstaFlow / 2-Rectified Flow snapshot, "
            f"or --preset swiftbrush for a SwiftBrush one. If you are sure, pass --skip-prediction-check.")
    if preset.prediction == "epsilon" and verdict == "velocity":
        raise ExportError(
            f"{unet_folder}: this UNet behaves like a rectified-flow velocity model, not a noise predictor: at "
            f"t={preset.timestep:g} on pure noise z its output correlates {result.correlation:+.2f} with z (a noise "
            f"predictor's output is about z itself). Use --preset instaflow or --preset rectified-flow. If you are "
            f"sure, pass --skip-prediction-check.")
