"""Image agreement as the SDK's SelfTest measures it: largest and mean per-channel difference, and PSNR."""

import math
from dataclasses import dataclass

import torch


@dataclass
class ImageAgreement:
    max_abs: int
    mean_abs: float
    psnr_db: float

    def passes(self, max_abs_allowed: int, min_psnr_db: float) -> bool:
        return self.max_abs <= max_abs_allowed and self.psnr_db >= min_psnr_db

    def describe(self) -> str:
        psnr = "inf" if math.isinf(self.psnr_db) else f"{self.psnr_db:.2f}"
        return f"max |diff| {self.max_abs}, mean |diff| {self.mean_abs:.4f}, PSNR {psnr} dB"


def image_agreement(a: torch.Tensor, b: torch.Tensor) -> ImageAgreement:
    """``a``, ``b``: uint8 tensors of one shape."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"image shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    d = (a.to(torch.int32) - b.to(torch.int32)).abs().to(torch.float64)
    mse = (d * d).mean().item()
    psnr = math.inf if mse == 0 else 10 * math.log10(255.0 * 255.0 / mse)
    return ImageAgreement(int(d.max().item()), d.mean().item(), psnr)
