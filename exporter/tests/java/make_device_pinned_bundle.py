#!/usr/bin/env python3
"""Makes a copy of a CPU-traced bundle whose parts behave like parts traced on CUDA, for checking the SDK's message
on a machine without a GPU: a part traced on CUDA holds constants made on "cuda" (e.g. the UNet's time-embedding
arange, the CLIP causal mask), so running it on a CPU fails. Here each chosen part is wrapped in a scripted module
that adds such a constant, and the manifest says traced_on "cuda".

    make_device_pinned_bundle.py SOURCE_BUNDLE TARGET_BUNDLE text_encoder,denoiser,vae_decoder
"""

import json
import os
import shutil
import sys

import torch


class PinnedOneInput(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x) + torch.zeros([1], device=torch.device("cuda"))


class PinnedThreeInputs(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, sample, timestep, text):
        return self.inner(sample, timestep, text) + torch.zeros([1], device=torch.device("cuda"))


def main(source, target, parts):
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    with open(os.path.join(target, "manifest.json")) as f:
        manifest = json.load(f)
    for part in parts.split(","):
        path = os.path.join(target, manifest["parts"][part])
        inner = torch.jit.load(path)
        wrapper = PinnedThreeInputs(inner) if part == "denoiser" else PinnedOneInput(inner)
        torch.jit.script(wrapper).save(path)
    manifest["traced_on"] = "cuda"
    with open(os.path.join(target, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:4])
