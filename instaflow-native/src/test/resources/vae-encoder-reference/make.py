"""Writes the VAE encoder reference of VaeEncoderParityTest (run once; the outputs are committed).

    source exporter/tests/private_env/env.sh
    /usr/bin/python3 instaflow-native/src/test/resources/vae-encoder-reference/make.py \
        ../shared/fixtures/tiny-sd15/model/vae instaflow-native/src/test/resources/vae-encoder-reference
    /usr/bin/python3 instaflow-native/src/test/resources/vae-encoder-reference/make.py \
        ../shared/fixtures/tiny-sd21/model/vae instaflow-native/src/test/resources/vae-encoder-reference mean-tiny-sd21

Runs diffusers' AutoencoderKL encoder (incl. quant_conv) on a fixed seeded image in [-1, 1] and writes the input
and latent_dist.mean (as MEAN_NAME.bin, default "mean") as raw little-endian float32, NCHW, no header.
"""
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL


def main():
    vae_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    mean_name = sys.argv[3] if len(sys.argv) > 3 else "mean"
    torch.set_num_threads(1)
    vae = AutoencoderKL.from_pretrained(str(vae_dir)).eval().float()
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(99)) * 2 - 1
    with torch.no_grad():
        mean = vae.encode(image).latent_dist.mean
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, t in (("input", image), (mean_name, mean)):
        a = t.detach().cpu().numpy().astype("<f4")
        (out_dir / f"{name}.bin").write_bytes(np.ascontiguousarray(a).tobytes())
        print(name, list(a.shape), float(a.min()), float(a.max()), float(a.mean()))
    print("torch", torch.__version__, "diffusers", __import__("diffusers").__version__)


if __name__ == "__main__":
    main()
