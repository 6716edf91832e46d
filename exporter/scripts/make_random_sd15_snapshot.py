#!/usr/bin/env python3
"""Builds a diffusers snapshot of SD-1.5-shaped components with random weights, for the full-size proof.

    make_random_sd15_snapshot.py --out DIR --tokenizer ../shared/fixtures/clip [--configs scripts/configs/sd15]
                                 [--seed 0] [--device cuda|cpu] [--gain-text 1 --gain-unet 1 --gain-vae 1]

The components are built from the real Stable Diffusion 1.5 configurations (``configs/sd15``: the CLIP ViT-L/14 text
tower, the SD-1.5 UNet, the SD VAE) with the libraries' own initialisation (transformers' ``_init_weights`` for
CLIP, PyTorch's default Kaiming-uniform for diffusers' convolutions and linears), seeded. InstaFlow's
``RectifiedFlowPipeline`` is named in ``model_index.json``, as in the real InstaFlow snapshots.

**Keeping float16 finite.** Random weights can make activations grow until float16 (max 65504) overflows. Each
component is run once in float32 on the chosen device with forward hooks on every module (text encoder on a prompt,
UNet at the default 64x64 latent and t = 1000 with the CFG batch of 2, VAE decoder on z = N(0,1) / 0.18215), and,
on CUDA, once more in float16. A component passes when its largest activation in float32 is below ``--max-activation``
(default 1000, 65x below the float16 limit) and its float16 output is finite. A component that fails gets every
Linear/Conv weight multiplied by its gain, the gain is halved, and it is measured again (at most 6 times). The gains
used and the measured maxima go to ``random_init.json`` in the snapshot. With the default initialisation and gain 1,
measured on a CPU in float32 (torch 1.13): text encoder max |activation| 4.3, UNet 6.1, VAE decoder 15 (at a 32x32
latent), so no scaling was needed there; the GPU run records its own numbers.
"""

import argparse
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_FILES = ("vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json")


def load_config(folder, name):
    with open(os.path.join(folder, name + ".json")) as f:
        return json.load(f)


def scale_weights(model, gain):
    """Multiplies every Linear / Conv weight by ``gain`` (biases, norms and embeddings unchanged)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
                module.weight.mul_(gain)


class ActivationMeter:
    """Largest |output| of every module during one forward."""

    def __init__(self, model):
        self.maxima = {}
        self.handles = [m.register_forward_hook(self._hook(name)) for name, m in model.named_modules() if name]

    def _hook(self, name):
        def hook(module, inputs, output):
            if isinstance(output, (tuple, list)):
                output = output[0] if output else None
            output = getattr(output, "sample", output)
            if torch.is_tensor(output) and output.is_floating_point():
                value = output.detach().abs().max().float().item()
                self.maxima[name] = max(self.maxima.get(name, 0.0), value)
        return hook

    def close(self):
        for h in self.handles:
            h.remove()

    def top(self, n=3):
        return sorted(self.maxima.items(), key=lambda kv: -kv[1])[:n]


def measure(model, run, device, dtype):
    model.to(device=device, dtype=dtype)
    meter = ActivationMeter(model)
    try:
        with torch.no_grad():
            out = run(model, device, dtype)
    finally:
        meter.close()
    finite = bool(torch.isfinite(out).all().item()) and all(v == v and v != float("inf") for v in meter.maxima.values())
    return {"max_activation": max(meter.maxima.values()), "top": meter.top(), "finite": finite,
            "output_std": out.float().std().item()}


def run_text(model, device, dtype):
    ids = torch.tensor([[49406, 320, 1125, 539, 320, 2368, 49407] + [49407] * 70], device=device)
    return model(ids)[0]


def run_unet(model, device, dtype):
    g = torch.Generator("cpu").manual_seed(1)
    size = model.config.sample_size
    sample = torch.randn((2, model.config.in_channels, size, size), generator=g).to(device, dtype)
    text = torch.randn((2, 77, model.config.cross_attention_dim), generator=g).to(device, dtype)
    return model(sample, torch.full((2,), 1000.0, device=device), text).sample


def run_vae(model, device, dtype):
    g = torch.Generator("cpu").manual_seed(2)
    size = 64 if device.type == "cuda" else 32  # a 512x512 decode is slow on a CPU
    z = (torch.randn((1, model.config.latent_channels, size, size), generator=g) / 0.18215).to(device, dtype)
    return model.decode(z).sample


def build_calibrated(name, build, run, gain, device, max_activation, log):
    """Builds, scales by ``gain`` and measures; halves the gain until the activations are sane."""
    for attempt in range(6):
        torch.manual_seed(build.seed)
        model = build().eval()
        if gain != 1.0:
            scale_weights(model, gain)
        fp32 = measure(model, run, device, torch.float32)
        fp16 = measure(model, run, device, torch.float16) if device.type == "cuda" else None
        ok = fp32["finite"] and fp32["max_activation"] < max_activation and (fp16 is None or fp16["finite"])
        log(f"{name}: gain {gain:g}: float32 max |activation| {fp32['max_activation']:.4g} (largest at "
            f"{', '.join(f'{k} {v:.3g}' for k, v in fp32['top'])}), output std {fp32['output_std']:.3g}"
            + (f"; float16 max {fp16['max_activation']:.4g}, finite {fp16['finite']}" if fp16 else "")
            + ("" if ok else " -> too large, halving the gain"))
        if ok:
            model.to(device="cpu", dtype=torch.float32)
            return model, {"gain": gain, "float32": fp32, "float16": fp16}
        gain *= 0.5
    raise SystemExit(f"{name}: activations stay too large even at gain {gain * 2:g}; lower --max-activation "
                     f"expectations or check the config")


class Builder:
    def __init__(self, seed, fn):
        self.seed = seed
        self.fn = fn

    def __call__(self):
        return self.fn()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="new folder for the snapshot")
    p.add_argument("--tokenizer", required=True, help="folder with the SD-1.5 CLIP tokenizer files "
                                                     "(e.g. ../shared/fixtures/clip)")
    p.add_argument("--configs", default=os.path.join(HERE, "configs", "sd15"),
                   help="folder with text_encoder.json, unet.json, vae.json, scheduler.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--gain-text", type=float, default=1.0)
    p.add_argument("--gain-unet", type=float, default=1.0)
    p.add_argument("--gain-vae", type=float, default=1.0)
    p.add_argument("--max-activation", type=float, default=1000.0)
    args = p.parse_args(argv)

    from diffusers import AutoencoderKL, UNet2DConditionModel
    import diffusers
    import transformers
    from transformers import CLIPTextConfig, CLIPTextModel

    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f"{args.out}: exists and is not empty")
    device = torch.device(args.device)
    log = lambda s: print(s, flush=True)  # noqa: E731
    te_config = load_config(args.configs, "text_encoder")
    unet_config = load_config(args.configs, "unet")
    vae_config = load_config(args.configs, "vae")
    scheduler_config = load_config(args.configs, "scheduler")

    text_encoder, te_info = build_calibrated(
        "text encoder", Builder(args.seed, lambda: CLIPTextModel(CLIPTextConfig.from_dict(te_config))), run_text,
        args.gain_text, device, args.max_activation, log)
    unet, unet_info = build_calibrated(
        "unet", Builder(args.seed + 1, lambda: UNet2DConditionModel.from_config(unet_config)), run_unet,
        args.gain_unet, device, args.max_activation, log)
    vae, vae_info = build_calibrated(
        "vae", Builder(args.seed + 2, lambda: AutoencoderKL.from_config(vae_config)), run_vae,
        args.gain_vae, device, args.max_activation, log)

    os.makedirs(args.out, exist_ok=True)
    text_encoder.save_pretrained(os.path.join(args.out, "text_encoder"), safe_serialization=True)
    unet.save_pretrained(os.path.join(args.out, "unet"), safe_serialization=True)
    vae.save_pretrained(os.path.join(args.out, "vae"), safe_serialization=True)
    os.makedirs(os.path.join(args.out, "scheduler"))
    with open(os.path.join(args.out, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(scheduler_config, f, indent=2)
    os.makedirs(os.path.join(args.out, "tokenizer"))
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(args.tokenizer, name), os.path.join(args.out, "tokenizer", name))
    with open(os.path.join(args.out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "RectifiedFlowPipeline", "_diffusers_version": diffusers.__version__,
                   "feature_extractor": [None, None], "requires_safety_checker": False,
                   "safety_checker": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
                   "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                   "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}, f, indent=2)
    with open(os.path.join(args.out, "random_init.json"), "w") as f:
        json.dump({"what": "random weights with SD-1.5 shapes, for testing only", "seed": args.seed,
                   "device": str(device), "torch": torch.__version__, "diffusers": diffusers.__version__,
                   "transformers": transformers.__version__,
                   "components": {"text_encoder": te_info, "unet": unet_info, "vae": vae_info}}, f, indent=2)
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in
              (("text_encoder", text_encoder), ("unet", unet), ("vae", vae))}
    log(f"wrote {args.out}: parameters {params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
