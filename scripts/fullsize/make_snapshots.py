#!/usr/bin/env python3
"""Builds two seeded random-weight diffusers snapshots in the real full-size architectures:

    sd15: CLIP ViT-L/14 text tower (768 wide, 12 layers, quick_gelu), the SD-1.5 UNet, the SD VAE
          (exporter/scripts/configs/sd15/*.json), model_index RectifiedFlowPipeline (InstaFlow),
          UNet written twice: diffusion_pytorch_model.safetensors (fp32) + diffusion_pytorch_model.fp16.safetensors
    sd21: OpenCLIP-H text tower as SD 2.1 ships it (1024 wide, 23 layers, 16 heads, MLP 4096, gelu),
          the SD-2.1-base UNet (attention_head_dim [5,10,20,20], use_linear_projection, cross_attention_dim 1024),
          the same VAE; model_index StableDiffusionPipeline + instaflow.json (epsilon, t 999, alpha_bar 0.0047);
          UNet written ONLY as a 2-shard checkpoint (diffusion_pytorch_model.safetensors.index.json + 2 shards)

    make_snapshots.py [--out-root /work/fullsize] [--only sd15|sd21] [--jitter 0.1] [--max-activation 1000]

Weights: UNet and VAE are diffusers 0.21.4's own classes after torch.manual_seed(seed) (PyTorch default init);
the text encoder is tiny-sd21's plain-torch CLIPTextModel (scripts/clip_text.py, transformers' key names) with
transformers' CLIP init scheme from torch.Generator().manual_seed(seed). Then, as in the shared tiny fixtures,
every parameter gets p += jitter * rms(p) * N(0,1) (sorted-name order, own seed), so LayerNorm/GroupNorm gammas
are not exactly 1 and the zero-initialised biases (CLIP linears, norms) are not 0: a port that drops a bias or
swaps weight/bias fails. --jitter 0 gives the plain default init.

Activations (make_random_sd15_snapshot.py's gain logic): each component is run once in float32 on the CPU with
forward hooks on every module (text encoder on "a photo of a cat"; UNet on a 32x32 latent, batch 1, t = 1000 / 999,
N(0,1) text states; VAE decoder on z = N(0,1)/0.18215 at 32x32 and the encoder on a 128x128 image). A component
whose largest |activation| reaches --max-activation (or is not finite) gets every Linear/Conv2d weight multiplied
by 0.5 and is measured again (at most 6 times). Gains and maxima go to build_facts.json in the snapshot.

All weights are float32 safetensors (fp16 only for the UNet variant file), written tensor by tensor.
The text encoder files contain transformers' int64 ``text_model.embeddings.position_ids`` [1, 77] buffer, as the
real SD 1.5 / SD 2.1-base text_encoder/model.safetensors do.
"""

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fs_lib as L  # noqa: E402

import torch  # noqa: E402

SD15_CONFIGS = os.path.join(L.REPO, "exporter", "scripts", "configs", "sd15")
TINY_SD21_TOKENIZER = os.path.join(L.SHARED_FIXTURES, "tiny-sd21", "model", "tokenizer")


def _load(name):
    with open(os.path.join(SD15_CONFIGS, name + ".json")) as f:
        return json.load(f)


def sd21_text_config():
    # stabilityai/stable-diffusion-2-1-base text_encoder/config.json (OpenCLIP ViT-H/14 text tower, last layer
    # dropped by the conversion: 23 layers); bos/eos/pad ids are that file's values and unused for tokenising.
    return {
        "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
        "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 1024, "initializer_factor": 1.0,
        "initializer_range": 0.02, "intermediate_size": 4096, "layer_norm_eps": 1e-05,
        "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 16,
        "num_hidden_layers": 23, "pad_token_id": 1, "projection_dim": 512, "torch_dtype": "float32",
        "transformers_version": "4.25.0.dev0", "vocab_size": 49408,
    }


def sd21_unet_config():
    cfg = copy.deepcopy(_load("unet"))
    cfg.update({"attention_head_dim": [5, 10, 20, 20], "use_linear_projection": True, "cross_attention_dim": 1024,
                "sample_size": 64, "upcast_attention": False, "dual_cross_attention": False,
                "only_cross_attention": False, "num_class_embeds": None})
    cfg.pop("_diffusers_version", None)
    return cfg


def sd21_scheduler_config():
    return {"_class_name": "PNDMScheduler", "_diffusers_version": "0.10.0.dev0", "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
            "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": False,
            "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None}


def model_index(class_name, diffusers_version):
    return {"_class_name": class_name, "_diffusers_version": diffusers_version,
            "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
            "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"]}


SPECS = {
    "sd15": {
        "what": "SD-1.5 shapes (InstaFlow-0.9B / 2-RF architecture), random weights, for testing only",
        "seeds": {"text_init": 1501, "text_jitter": 1511, "unet_init": 1502, "unet_jitter": 1512,
                  "vae_init": 1503, "vae_jitter": 1513},
        "text_encoder": lambda: _load("text_encoder"),
        "unet": lambda: _load("unet"),
        "vae": lambda: _load("vae"),
        "scheduler": lambda: _load("scheduler"),
        "tokenizer": "sd1", "pipeline": "RectifiedFlowPipeline", "instaflow_json": None,
        "unet_files": "single+fp16", "calib_timestep": 1000.0,
    },
    "sd21": {
        "what": "SD-2.1-base shapes (SwiftBrush student architecture), random weights, for testing only",
        "seeds": {"text_init": 2201, "text_jitter": 2211, "unet_init": 2202, "unet_jitter": 2212,
                  "vae_init": 2203, "vae_jitter": 2213},
        "text_encoder": sd21_text_config,
        "unet": sd21_unet_config,
        "vae": lambda: _load("vae"),
        "scheduler": sd21_scheduler_config,
        "tokenizer": "sd2", "pipeline": "StableDiffusionPipeline",
        "instaflow_json": {"prediction": {"type": "epsilon", "timestep": 999, "alpha_bar": 0.0047},
                           "sampling": {"steps": 1, "guidance": 0.0}},
        "unet_files": "sharded", "calib_timestep": 999.0,
    },
}


# ------------------------------------------------------------------------------------------------------------
def calibrate(name, model, run, max_activation, log):
    """make_random_sd15_snapshot.py's loop, scaling in place (0.5 per failed attempt)."""
    gain = 1.0
    for attempt in range(6):
        meter = L.ActivationMeter(model)
        t0 = time.perf_counter()
        try:
            with torch.no_grad():
                out = run(model)
        finally:
            meter.close()
        mx = max(meter.maxima.values())
        finite = bool(torch.isfinite(out).all()) and all(v == v and v != float("inf") for v in meter.maxima.values())
        ok = finite and mx < max_activation
        info = {"gain": gain, "max_activation": mx, "top": meter.top(), "finite": finite,
                "output_std": float(out.float().std()), "output_absmax": float(out.abs().max()),
                "wall_s": round(time.perf_counter() - t0, 2)}
        log(f"{name}: gain {gain:g}: float32 max |activation| {mx:.4g} (largest at "
            + ", ".join(f"{k} {v:.3g}" for k, v in info["top"]) + f"), output std {info['output_std']:.3g}"
            + ("" if ok else " -> too large, halving the gain"))
        if ok:
            return info
        L.scale_weights(model, 0.5)
        gain *= 0.5
    raise SystemExit(f"{name}: activations stay too large even at gain {gain * 2:g}")


def ids_for(tokenizer_dir, text):
    from clip_bpe import ClipBPE
    return torch.tensor([ClipBPE(tokenizer_dir)(text)], dtype=torch.int64)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


def write_tokenizer(kind, out):
    os.makedirs(out, exist_ok=True)
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(os.path.join(L.CLIP_DIR, f), os.path.join(out, f))
    src = L.CLIP_DIR if kind == "sd1" else TINY_SD21_TOKENIZER  # SD-2.x special tokens: pad "!"
    for f in ("special_tokens_map.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(src, f), os.path.join(out, f))
    return {"vocab.json/merges.txt": L.CLIP_DIR, "special_tokens_map.json/tokenizer_config.json": src}


def build(key, out_root, jitter, max_activation, log):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    import diffusers
    from clip_text import ClipTextEncoder, clip_init_

    spec = SPECS[key]
    seeds = spec["seeds"]
    out = os.path.join(out_root, key)
    if os.path.exists(out) and os.listdir(out):
        raise SystemExit(f"{out}: exists and is not empty")
    os.makedirs(out)
    facts = {"what": spec["what"], "seeds": seeds, "jitter_fraction": jitter, "max_activation": max_activation,
             "versions": L.versions(), "components": {}, "timings_s": {}}
    meta = {"format": "pt"}

    # --- tokenizer, scheduler, model_index (cheap, first) --------------------------------------------------
    facts["tokenizer_sources"] = write_tokenizer(spec["tokenizer"], os.path.join(out, "tokenizer"))
    os.makedirs(os.path.join(out, "scheduler"))
    L.write_json(os.path.join(out, "scheduler", "scheduler_config.json"), spec["scheduler"]())
    L.write_json(os.path.join(out, "model_index.json"), model_index(spec["pipeline"], diffusers.__version__))
    if spec["instaflow_json"] is not None:
        L.write_json(os.path.join(out, "instaflow.json"), spec["instaflow_json"])
    ids = ids_for(os.path.join(out, "tokenizer"), "a photo of a cat")
    log(f"{key}: ids {ids[0, :9].tolist()} ...")

    # --- text encoder ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    te_cfg = spec["text_encoder"]()
    te = ClipTextEncoder(te_cfg).eval()
    clip_init_(te, torch.Generator().manual_seed(seeds["text_init"]))
    if jitter:
        L.jitter_(te, seeds["text_jitter"], jitter)
    info = calibrate(f"{key} text encoder", te, lambda m: m(ids), max_activation, log)
    d = os.path.join(out, "text_encoder")
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(te_cfg, indent=2, sort_keys=True) + "\n")
    sd = {k: v.detach() for k, v in te.state_dict().items()}
    sd["text_model.embeddings.position_ids"] = torch.arange(te_cfg["max_position_embeddings"],
                                                            dtype=torch.int64)[None]
    L.save_safetensors(sd, os.path.join(d, "model.safetensors"), metadata=meta)
    info["parameters"] = sum(p.numel() for p in te.parameters())
    info["files"] = ["model.safetensors"]
    facts["components"]["text_encoder"] = info
    del te, sd
    facts["timings_s"]["text_encoder"] = round(time.perf_counter() - t0, 1)

    # --- UNet ----------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    torch.manual_seed(seeds["unet_init"])
    unet = UNet2DConditionModel.from_config(spec["unet"]()).eval()
    if jitter:
        L.jitter_(unet, seeds["unet_jitter"], jitter)
    log(f"{key}: unet built ({time.perf_counter() - t0:.0f} s)")

    def run_unet(m):
        g = torch.Generator("cpu").manual_seed(1)
        s = torch.randn((1, m.config.in_channels, 32, 32), generator=g)
        txt = torch.randn((1, 77, m.config.cross_attention_dim), generator=g)
        return m(s, torch.tensor([spec["calib_timestep"]]), txt).sample

    info = calibrate(f"{key} unet", unet, run_unet, max_activation, log)
    d = os.path.join(out, "unet")
    os.makedirs(d)
    unet.save_config(d)
    sd = {k: v.detach() for k, v in unet.state_dict().items()}
    if spec["unet_files"] == "single+fp16":
        L.save_safetensors(sd, os.path.join(d, "diffusion_pytorch_model.safetensors"), metadata=meta)
        L.save_safetensors(sd, os.path.join(d, "diffusion_pytorch_model.fp16.safetensors"), metadata=meta,
                           dtype=torch.float16)
        info["files"] = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"]
    else:
        info["sharding"] = L.save_sharded(sd, d, metadata=meta)
        info["files"] = [info["sharding"]["index"]] + [s["file"] for s in info["sharding"]["shards"]]
    info["parameters"] = sum(p.numel() for p in unet.parameters())
    facts["components"]["unet"] = info
    del unet, sd
    facts["timings_s"]["unet"] = round(time.perf_counter() - t0, 1)

    # --- VAE -----------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    torch.manual_seed(seeds["vae_init"])
    vae = AutoencoderKL.from_config(spec["vae"]()).eval()
    if jitter:
        L.jitter_(vae, seeds["vae_jitter"], jitter)

    def run_vae(m):
        g = torch.Generator("cpu").manual_seed(2)
        z = torch.randn((1, m.config.latent_channels, 32, 32), generator=g) / m.config.scaling_factor
        x = torch.rand((1, 3, 128, 128), generator=g) * 2 - 1
        mean = m.encode(x).latent_dist.mean
        dec = m.decode(z).sample
        return torch.cat([dec.flatten(), mean.flatten()])

    info = calibrate(f"{key} vae", vae, run_vae, max_activation, log)
    d = os.path.join(out, "vae")
    os.makedirs(d)
    vae.save_config(d)
    L.save_safetensors({k: v.detach() for k, v in vae.state_dict().items()},
                       os.path.join(d, "diffusion_pytorch_model.safetensors"), metadata=meta)
    info["parameters"] = sum(p.numel() for p in vae.parameters())
    info["files"] = ["diffusion_pytorch_model.safetensors"]
    facts["components"]["vae"] = info
    del vae
    facts["timings_s"]["vae"] = round(time.perf_counter() - t0, 1)

    # --- facts + checksums ----------------------------------------------------------------------------
    facts["peak_rss_bytes"] = L.process_peak_rss_bytes()
    L.write_json(os.path.join(out, "build_facts.json"), facts)
    t0 = time.perf_counter()
    lines = []
    for root, _, files in sorted(os.walk(out)):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            if fn == "SHA256SUMS":
                continue
            lines.append(f"{sha256_file(p)}  {os.path.relpath(p, out)}")
    with open(os.path.join(out, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sorted(lines, key=lambda s: s.split("  ", 1)[1])) + "\n")
    log(f"{key}: wrote {out} (sha256 {time.perf_counter() - t0:.0f} s); parameters "
        + ", ".join(f"{k} {v['parameters']:,}" for k, v in facts["components"].items()))
    return facts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out-root", default="/work/fullsize")
    p.add_argument("--only", choices=sorted(SPECS), action="append")
    p.add_argument("--jitter", type=float, default=0.1)
    p.add_argument("--max-activation", type=float, default=1000.0)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    L.patch_baddbmm()
    log = lambda s: print(time.strftime("%H:%M:%S ") + s, flush=True)  # noqa: E731
    for key in a.only or ["sd15", "sd21"]:
        build(key, a.out_root, a.jitter, a.max_activation, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
