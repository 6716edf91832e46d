#!/usr/bin/env python3
"""Times InstaFlow's own ``RectifiedFlowPipeline`` (``code/pipeline_rf.py``, eager PyTorch; the path is an argument,
the file is not part of this repository) the way ``instaflow bench`` times the Java SDK, so the two can be compared
in one run on one machine (``bench_compare.py``).

    bench_python.py --pipeline-rf /path/to/InstaFlow/code/pipeline_rf.py --snapshot DIR
        [--dtype fp16|fp32] [--device cuda|cpu] [--batch 1,8] [--steps 1] [--guidance 0]
        [--width 512 --height 512] [--warmup 3] [--runs 20] [--out bench_python.json]

Each run is one pipeline call producing PIL images (the pipeline's default output, the counterpart of the SDK's
BufferedImages), timed from before the call to after it with the device synchronised on both sides. Configurations
(batch sizes) run interleaved after their warm-up runs. The JSON has the fields of ``instaflow bench --json`` that
both sides can measure: ``latency_ms.total.{p50,p90,p99}``, ``images_per_second`` per batch, and the peak memory
held by tensors (``torch.cuda.max_memory_allocated``) over the timed runs.
"""

import argparse
import importlib.util
import json
import math
import sys
import time

import torch


def load_pipeline_class(path):
    spec = importlib.util.spec_from_file_location("pipeline_rf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RectifiedFlowPipeline


def percentile(values, p):
    """Nearest-rank percentile, as the Java benchmark computes it."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100.0 * len(ordered))))
    return ordered[rank - 1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pipeline-rf", required=True)
    p.add_argument("--snapshot", required=True)
    p.add_argument("--dtype", choices=["fp16", "fp32"], default="fp16")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", default="1,8", help="comma-separated batch sizes (images per call)")
    p.add_argument("--prompt", default="a photo of a cat")
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--guidance", type=float, default=0.0)
    p.add_argument("--width", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--out", default="bench_python.json")
    args = p.parse_args(argv)

    import diffusers
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    s = args.snapshot
    pipe = load_pipeline_class(args.pipeline_rf)(
        vae=AutoencoderKL.from_pretrained(s, subfolder="vae", torch_dtype=dtype),
        text_encoder=CLIPTextModel.from_pretrained(s, subfolder="text_encoder", torch_dtype=dtype),
        tokenizer=CLIPTokenizer.from_pretrained(s, subfolder="tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(s, subfolder="unet", torch_dtype=dtype),
        scheduler=PNDMScheduler.from_pretrained(s, subfolder="scheduler"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False).to(device)
    pipe.set_progress_bar_config(disable=True)
    vae_scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    width = args.width or pipe.unet.config.sample_size * vae_scale
    height = args.height or pipe.unet.config.sample_size * vae_scale

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def call(batch, seed):
        generator = torch.Generator("cpu").manual_seed(seed)
        sync()
        start = time.perf_counter()
        with torch.no_grad():
            pipe(prompt=args.prompt, num_inference_steps=args.steps, guidance_scale=args.guidance,
                 num_images_per_prompt=batch, height=height, width=width, generator=generator, output_type="pil")
        sync()
        return (time.perf_counter() - start) * 1000.0

    batches = [int(b) for b in args.batch.split(",")]
    for b in batches:
        for i in range(args.warmup):
            call(b, i)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    times = {b: [] for b in batches}
    for run in range(args.runs):
        for b in batches:
            times[b].append(call(b, 1000 + run))

    configs = []
    for b in batches:
        t = times[b]
        configs.append({"batch": b, "steps": args.steps,
                        "latency_ms": {"total": {"p50": round(percentile(t, 50), 3), "p90": round(percentile(t, 90), 3),
                                                 "p99": round(percentile(t, 99), 3)}},
                        "images_per_second": round(b / (percentile(t, 50) / 1000.0), 2)})
    report = {"pipeline": "InstaFlow code/pipeline_rf.py (eager)", "device": str(device),
              "device_name": torch.cuda.get_device_name(device) if cuda else "cpu", "precision": args.dtype,
              "width": width, "height": height, "guidance": args.guidance, "warmup": args.warmup, "runs": args.runs,
              "peak_gpu_tensor_mib": round(torch.cuda.max_memory_allocated(device) / 1048576.0) if cuda else None,
              "torch": torch.__version__, "diffusers": diffusers.__version__, "configs": configs}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    for c in configs:
        print(f"python {args.dtype} on {report['device_name']}: batch {c['batch']:2d}  total p50 "
              f"{c['latency_ms']['total']['p50']:9.2f} ms  {c['images_per_second']:8.2f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
