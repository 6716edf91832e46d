#!/usr/bin/env python3
"""Runs InstaFlow's own ``RectifiedFlowPipeline`` (``code/pipeline_rf.py`` of gnobitab/InstaFlow, unmodified; its
path is an argument, the file is not part of this repository) on a diffusers snapshot and dumps what the SDK is
compared with.

    reference_pipeline.py --pipeline-rf /path/to/InstaFlow/code/pipeline_rf.py --snapshot DIR --out DIR
        --prompt "a photo of a cat" --seed 1234 --steps 1 --guidance 0 [--negative-prompt ""]
        [--dtype fp32|fp16] [--device cuda|cpu]

Noise: float32 ``torch.randn`` from a CPU generator seeded with ``--seed`` (what the SDK's NoiseSource draws from the
same seed, and what the pipeline itself draws in float32), cast to the pipeline's dtype and passed as ``latents``.
In float16 the pipeline's own ``generator`` path would draw a different sequence (CPU randn in float16), so the
noise is passed explicitly in both cases.

Output (raw little-endian tensors + ``manifest.json`` in the tiny fixture's case format, read by ``compare.py``):
``initial_noise`` (the float32 values given, after rounding through the dtype), ``prompt_embeds``,
``negative_prompt_embeds`` (with guidance), ``final_latents`` (float32, from the pipeline's step callback),
``image_float`` (NHWC in [0, 1], ``output_type="np"``), ``image_uint8`` (``round(image_float * 255)``, half to even,
as the pipeline's PIL path does), and ``image.png``.
"""

import argparse
import importlib.util
import json
import os
import sys

import numpy as np
import torch


def load_pipeline_class(path):
    spec = importlib.util.spec_from_file_location("pipeline_rf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RectifiedFlowPipeline


def dump(out_dir, tensors, params):
    entries = {}
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        array.tofile(os.path.join(out_dir, name + ".bin"))
        entries[name] = {"file_raw": name + ".bin", "dtype": array.dtype.str, "shape": list(array.shape),
                         "min": float(array.min()), "max": float(array.max())}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(dict(params, tensors=entries), f, indent=2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pipeline-rf", required=True, help="path of InstaFlow's code/pipeline_rf.py")
    p.add_argument("--snapshot", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--prompt", default="a photo of a cat")
    p.add_argument("--negative-prompt", default="")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--guidance", type=float, default=0.0)
    p.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args(argv)

    import diffusers
    import transformers
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    device = torch.device(args.device)
    RectifiedFlowPipeline = load_pipeline_class(args.pipeline_rf)
    s = args.snapshot
    pipe = RectifiedFlowPipeline(
        vae=AutoencoderKL.from_pretrained(s, subfolder="vae", torch_dtype=dtype),
        text_encoder=CLIPTextModel.from_pretrained(s, subfolder="text_encoder", torch_dtype=dtype),
        tokenizer=CLIPTokenizer.from_pretrained(s, subfolder="tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(s, subfolder="unet", torch_dtype=dtype),
        scheduler=PNDMScheduler.from_pretrained(s, subfolder="scheduler"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False).to(device)
    pipe.set_progress_bar_config(disable=True)

    vae_scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    size = pipe.unet.config.sample_size
    shape = (1, pipe.unet.config.in_channels, size, size)
    noise = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(args.seed), dtype=torch.float32)
    latents_in = noise.to(dtype)

    embeds = []
    hook = pipe.text_encoder.register_forward_hook(lambda m, i, o: embeds.append(o[0].detach().float().cpu()))
    steps = []

    def on_step(step, t, latents):
        steps.append(latents.detach().float().cpu())

    with torch.no_grad():
        result = pipe(prompt=args.prompt, negative_prompt=args.negative_prompt if args.guidance > 1 else None,
                      num_inference_steps=args.steps, guidance_scale=args.guidance, latents=latents_in.to(device),
                      output_type="np", callback=on_step, callback_steps=1, return_dict=False)
    hook.remove()
    images = result[0]
    if len(steps) != args.steps:
        raise SystemExit(f"the pipeline called back {len(steps)} times for {args.steps} steps")
    image_float = np.asarray(images, dtype=np.float32)
    image_uint8 = np.round(image_float * 255).astype(np.uint8)

    os.makedirs(args.out, exist_ok=True)
    tensors = {"initial_noise": latents_in.float().numpy(), "prompt_embeds": embeds[0].numpy(),
               "final_latents": steps[-1].numpy(), "image_float": image_float, "image_uint8": image_uint8}
    if args.guidance > 1:
        tensors["negative_prompt_embeds"] = embeds[1].numpy()
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    dump(args.out, tensors, {
        "pipeline": "InstaFlow code/pipeline_rf.py RectifiedFlowPipeline (unmodified)",
        "pipeline_rf": os.path.abspath(args.pipeline_rf), "snapshot": os.path.abspath(s),
        "prompt": args.prompt, "negative_prompt": args.negative_prompt, "seed": args.seed,
        "num_inference_steps": args.steps, "guidance_scale": args.guidance, "dtype": args.dtype,
        "device": f"{device.type} ({device_name})", "height": size * vae_scale, "width": size * vae_scale,
        "torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__})
    try:
        from PIL import Image
        Image.fromarray(image_uint8[0]).save(os.path.join(args.out, "image.png"))
    except ImportError:
        pass
    print(f"reference: {args.dtype} on {device_name}, {args.steps} step(s), guidance {args.guidance:g}: "
          f"{image_uint8.shape[1]}x{image_uint8.shape[2]} image, final latents max |z| "
          f"{float(np.abs(steps[-1].numpy()).max()):.4g} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
