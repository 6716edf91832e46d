#!/usr/bin/env python3
"""Full-size float32 CPU reference outputs of the snapshots made by make_snapshots.py, per component.

    reference_outputs.py [--snapshots /work/fullsize] [--out /work/fullsize/ref] [--only sd15|sd21]
                         [--no-debug] [--fp16-variant]

For each snapshot (sd15, sd21), loaded back from the written files (single file, fp16 variant or sharded index,
read with fs_lib's safetensors reader; modules built without random init and then load_state_dict(strict=True)):

  text encoder  ids of "a photo of a cat" as CLIP tokenizes them (tiny-sd21's clip_bpe.py on the snapshot's
                tokenizer/: 77 long, pad from special_tokens_map.json: 49407 for sd15, 0 ("!") for sd21)
                -> last_hidden_state (after final_layer_norm), no attention mask (tiny-sd21's clip_text.py)
  UNet          sample = torch.randn(1,4,64,64, generator=torch.Generator().manual_seed(1234)),
                timestep float32 [1000.0] (sd15) / int64 [999] (sd21), encoder_hidden_states = the text output
  VAE decoder   vae.decode(z / scaling_factor) with z = the same seed-1234 noise (post_quant_conv + decoder)
  VAE encoder   x = torch.rand(1,3,512,512, generator=manual_seed(99)) * 2 - 1 -> vae.encode(x).latent_dist.mean
                (encoder + quant_conv, first 4 of the 8 channels); the 8-channel moments are stored too

Every input and output is written as NAME.bin (raw little-endian, C order, no header) with manifest.json (dtype,
shape, sha256 of the raw bytes, min/max/mean/std, note; tiny-sd15's manifest style without the .npy copies) in
OUT/<sd15|sd21>/; debug/ holds forward-hook activations (text hidden states per layer, UNet blocks, VAE blocks) in
the same format. The manifest records wall time, CPU time and peak RSS (VmHWM, reset per phase) of each load
and forward. Run with OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE (torch.set_num_threads follows OMP_NUM_THREADS).
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fs_lib as L  # noqa: E402

import torch  # noqa: E402

PROMPT = "a photo of a cat"
NOISE_SEED = 1234
IMAGE_SEED = 99
TIMESTEP = {"sd15": ("float32", 1000.0), "sd21": ("int64", 999)}


def load_text_encoder(folder):
    from clip_text import ClipTextEncoder
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with L.no_init():
        te = ClipTextEncoder(cfg)
    sd = L.load_safetensors(os.path.join(folder, "model.safetensors"))
    pos = sd.pop("text_model.embeddings.position_ids", None)
    if pos is not None:
        assert torch.equal(pos, torch.arange(pos.shape[-1])[None]), "position_ids is not arange"
    te.load_state_dict(sd, strict=True)
    return te.eval(), cfg


def load_diffusers(cls, folder, variant=None):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with L.no_init():
        m = cls.from_config(cfg)
    files, dtypes = L.load_into_module(m, folder, variant=variant)
    return m.eval(), files, dtypes


class Hooks:
    def __init__(self):
        self.handles, self.store = [], {}

    def add(self, module, name, note=None):
        def f(m, i, o):
            if name not in self.store:
                t = o if torch.is_tensor(o) else (o[0] if isinstance(o, (tuple, list)) else o.sample)
                self.store[name] = (t.detach().clone(), note)
        self.handles.append(module.register_forward_hook(f))

    def dump(self, writer):
        for name, (t, note) in self.store.items():
            writer.add(name, t, note)
        self.store.clear()

    def remove(self):
        for h in self.handles:
            h.remove()


def unet_hooks(unet):
    h = Hooks()
    h.add(unet.time_proj, "unet_time_proj", "sinusoidal embedding, flip_sin_to_cos=True -> [cos, sin]")
    h.add(unet.time_embedding, "unet_time_embedding", "linear_1 -> SiLU -> linear_2")
    h.add(unet.conv_in, "unet_conv_in")
    for i, b in enumerate(unet.down_blocks):
        h.add(b, f"unet_down_block{i}", "hidden_states output (residuals not dumped)")
    t2d = unet.down_blocks[0].attentions[0]
    blk = t2d.transformer_blocks[0]
    pre = "unet_down_block0_attentions0"
    h.add(t2d.norm, pre + "_norm", "Transformer2DModel input GroupNorm (eps 1e-6)")
    h.add(t2d.proj_in, pre + "_proj_in", "Linear on [B, h*w, C]" if t2d.use_linear_projection
          else "1x1 Conv2d on [B, C, h, w]")
    h.add(blk.attn1, pre + "_attn1", "self-attention output (before the residual add)")
    h.add(blk.attn2, pre + "_attn2", "cross-attention output (before the residual add)")
    h.add(blk.ff, pre + "_ff", "GEGLU feed-forward output (before the residual add)")
    h.add(t2d, pre, "Transformer2DModel output (after proj_out and the residual add)")
    h.add(unet.mid_block, "unet_mid_block")
    h.add(unet.mid_block.attentions[0].transformer_blocks[0].attn1, "unet_mid_block_attentions0_attn1")
    for i, b in enumerate(unet.up_blocks):
        h.add(b, f"unet_up_block{i}")
    h.add(unet.conv_norm_out, "unet_conv_norm_out", "GroupNorm (SiLU follows)")
    return h


def vae_decoder_hooks(vae):
    h = Hooks()
    h.add(vae.post_quant_conv, "vae_post_quant_conv")
    d = vae.decoder
    h.add(d.conv_in, "vae_decoder_conv_in")
    h.add(d.mid_block, "vae_decoder_mid_block")
    h.add(d.mid_block.attentions[0], "vae_decoder_mid_block_attention0", "single-head attention + residual")
    h.add(d.up_blocks[0], "vae_decoder_up_block0", "[1,512,128,128]; later up blocks not dumped (size)")
    return h


def vae_encoder_hooks(vae):
    h = Hooks()
    e = vae.encoder
    h.add(e.down_blocks[3], "vae_encoder_down_block3")
    h.add(e.mid_block, "vae_encoder_mid_block")
    h.add(e.conv_out, "vae_encoder_conv_out", "encoder output = quant_conv input")
    return h


def run_snapshot(key, snap, out, debug, fp16_variant, log):
    from clip_bpe import ClipBPE
    from diffusers import AutoencoderKL, UNet2DConditionModel

    w = L.TensorWriter(out)
    dbg = L.TensorWriter(os.path.join(out, "debug")) if debug else None
    perf = {}
    header = {"model": key, "snapshot": snap, "versions": L.versions(), "performance": perf}
    with open(os.path.join(snap, "SHA256SUMS")) as f:
        header["snapshot_sha256"] = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in f.read().splitlines() if ln}

    # ---------------- text encoder ----------------
    tok = ClipBPE(os.path.join(snap, "tokenizer"))
    ids = torch.tensor([tok(PROMPT)], dtype=torch.int64)
    w.add("input_ids", ids, f"{PROMPT!r}, CLIP BPE (tiny-sd21 clip_bpe.py), BOS/EOS, padded with {tok.pad_id} "
                            f"({tok.pad_token!r}, from tokenizer/{tok.pad_token_source}) to 77")
    with L.Phase(perf, "text_encoder_load"):
        te, te_cfg = load_text_encoder(os.path.join(snap, "text_encoder"))
    with torch.no_grad(), L.Phase(perf, "text_encoder_forward"):
        emb, hs = te(ids, return_hidden_states=True)
    w.add("text_last_hidden_state", emb, f"CLIPTextModel last_hidden_state {list(emb.shape)} (after "
                                         f"final_layer_norm), hidden_act {te_cfg['hidden_act']}")
    if dbg:
        for k, x in enumerate(hs):
            dbg.add(f"text_hidden_states_{k}", x, "0: token+position embeddings; k: after encoder layer k")
    del te, hs
    header.update({"prompt": PROMPT, "pad_token": tok.pad_token, "pad_token_id": tok.pad_id})

    # ---------------- UNet ----------------
    noise = torch.randn((1, 4, 64, 64), generator=torch.Generator("cpu").manual_seed(NOISE_SEED), dtype=torch.float32)
    tdtype, tval = TIMESTEP[key]
    t = torch.tensor([tval], dtype=torch.float32 if tdtype == "float32" else torch.int64)
    w.add("unet_in_sample", noise, f"torch.randn((1,4,64,64), generator=torch.Generator('cpu').manual_seed({NOISE_SEED}))")
    w.add("unet_in_timestep", t, f"{tdtype} [1] = {tval}")
    w.add("unet_in_encoder_hidden_states", emb, "= text_last_hidden_state")
    with L.Phase(perf, "unet_load"):
        unet, files, dtypes = load_diffusers(UNet2DConditionModel, os.path.join(snap, "unet"))
    header["unet_weight_files"] = files
    uh = unet_hooks(unet) if dbg else None
    with torch.no_grad(), L.Phase(perf, "unet_forward"):
        eps = unet(noise, t, encoder_hidden_states=emb).sample
    w.add("unet_out", eps, "UNet2DConditionModel(...).sample, float32"
          + (" (velocity for InstaFlow)" if key == "sd15" else " (epsilon for SwiftBrush)"))
    if uh:
        uh.remove()
        uh.dump(dbg)
    header["unet_note"] = (f"timestep {tdtype}; diffusers' time_proj casts timesteps to float32, so int64 999 and "
                           "float32 999.0 give the same embedding (checked bitwise on tiny-sd21)")
    del unet
    if fp16_variant:
        with L.Phase(perf, "unet_fp16_variant_load"):
            unet, files16, dtypes16 = load_diffusers(UNet2DConditionModel, os.path.join(snap, "unet"), variant="fp16")
        with torch.no_grad(), L.Phase(perf, "unet_fp16_variant_forward"):
            eps16 = unet(noise, t, encoder_hidden_states=emb).sample
        w.add("unet_out_fp16_variant_weights", eps16,
              f"same inputs, weights from {files16} ({dtypes16}) converted to float32, computed in float32; "
              f"max |diff| to unet_out {float((eps16 - eps).abs().max()):.6g}")
        del unet, eps16

    # ---------------- VAE ----------------
    with L.Phase(perf, "vae_load"):
        vae, files, _ = load_diffusers(AutoencoderKL, os.path.join(snap, "vae"))
    sf = vae.config.scaling_factor
    z_in = noise / sf
    w.add("vae_decoder_in_z", noise, "the seed-1234 noise (= unet_in_sample)")
    w.add("vae_decoder_in_latents", z_in, f"z / {sf} (float32 division by float32(scaling_factor)); "
                                          "input of post_quant_conv")
    vh = vae_decoder_hooks(vae) if dbg else None
    with torch.no_grad(), L.Phase(perf, "vae_decoder_forward"):
        dec = vae.decode(z_in).sample
    w.add("vae_decoded", dec, "vae.decode(z / scaling_factor).sample: post_quant_conv + decoder, NCHW, raw")
    if vh:
        vh.remove()
        vh.dump(dbg)
    del dec
    x = torch.rand((1, 3, 512, 512), generator=torch.Generator("cpu").manual_seed(IMAGE_SEED), dtype=torch.float32) * 2 - 1
    w.add("vae_encoder_in_x", x, f"torch.rand((1,3,512,512), generator=manual_seed({IMAGE_SEED})) * 2 - 1")
    eh = vae_encoder_hooks(vae) if dbg else None
    moments_store = {}
    hq = vae.quant_conv.register_forward_hook(lambda m, i, o: moments_store.setdefault("m", o.detach().clone()))
    with torch.no_grad(), L.Phase(perf, "vae_encoder_forward"):
        mean = vae.encode(x).latent_dist.mean
    hq.remove()
    w.add("vae_encoder_moments", moments_store["m"], "quant_conv output [1,8,64,64] = [mean, logvar]")
    w.add("vae_encoder_latent_mean", mean, "vae.encode(x).latent_dist.mean = moments[:, :4] (not scaled)")
    if eh:
        eh.remove()
        eh.dump(dbg)
    del vae
    header.update({"scaling_factor": sf, "noise_seed": NOISE_SEED, "image_seed": IMAGE_SEED,
                   "timestep": tval, "timestep_dtype": tdtype, "timestep_float32_hex": L.f32hex(tval),
                   "baddbmm": dict(L.BADDBMM_STATS),
                   # VmHWM / ru_maxrss are reset per phase, so the process peak is the largest phase peak
                   "process_peak_rss_bytes": max(v["peak_rss_bytes"] or 0 for v in perf.values()),
                   "conventions": "float32 on CPU; diffusers 0.21.4 AttnProcessor (baddbmm + softmax) attention; "
                                  "text encoder without attention mask; UNet batch 1, no CFG"})
    if dbg:
        dbg.manifest({"note": "forward-hook activations (text hidden states, UNet blocks, VAE blocks)"})
    return w.manifest(header)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snapshots", default="/work/fullsize")
    p.add_argument("--out", default="/work/fullsize/ref")
    p.add_argument("--only", choices=["sd15", "sd21"], action="append")
    p.add_argument("--no-debug", action="store_true")
    p.add_argument("--fp16-variant", action="store_true", help="sd15: also run the UNet from the fp16 variant")
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    L.patch_baddbmm()
    log = lambda s: print(time.strftime("%H:%M:%S ") + s, flush=True)  # noqa: E731
    for key in a.only or ["sd15", "sd21"]:
        log(f"{key}: start")
        L.BADDBMM_STATS.update(calls=0, patched_small_calls=0, smallest_KMN=None)
        m = run_snapshot(key, os.path.join(a.snapshots, key), os.path.join(a.out, key), not a.no_debug,
                         a.fp16_variant and key == "sd15", log)
        log(f"{key}: done; " + ", ".join(f"{k} {v['wall_s']} s" for k, v in m["performance"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
