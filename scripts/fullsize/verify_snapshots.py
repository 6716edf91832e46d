#!/usr/bin/env python3
"""Checks the snapshots of make_snapshots.py load with diffusers' own loader and agree with fs_lib's reader.

    verify_snapshots.py [--snapshots /work/fullsize] [--out /work/fullsize/verify.json]

sd15: UNet2DConditionModel.from_pretrained(unet), from_pretrained(unet, variant="fp16"),
      AutoencoderKL.from_pretrained(vae) (diffusers 0.21.4, safetensors via the private env's shim) against
      fs_lib.load_component_weights: every tensor bitwise equal (the fp16 variant: equal to the fp32 weights
      rounded to float16); no missing / unexpected keys.
sd21: diffusers 0.21.4 cannot load sharded safetensors (support came later): the index is checked instead
      (every key in exactly one shard, total_size = sum of the tensor bytes, shard names diffusers' pattern),
      the merged shards against the UNet's state_dict keys, and the VAE with from_pretrained.
both: text_encoder keys = transformers' CLIPTextModel keys (clip_text.py) + position_ids, tokenizer pad id.
"""

import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fs_lib as L  # noqa: E402

import torch  # noqa: E402


def compare(model, sd, cast=None):
    msd = model.state_dict()
    missing = sorted(set(msd) - set(sd))
    unexpected = sorted(set(sd) - set(msd))
    bad = []
    for k in set(msd) & set(sd):
        a = msd[k]
        b = sd[k].to(cast) if cast is not None and sd[k].is_floating_point() else sd[k]
        if a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b):
            bad.append(k)
    return {"tensors": len(msd), "missing": missing, "unexpected": unexpected, "not_equal": sorted(bad)[:20],
            "ok": not missing and not unexpected and not bad}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snapshots", default="/work/fullsize")
    p.add_argument("--out", default="/work/fullsize/verify.json")
    p.add_argument("--light", action="store_true", help="sd15 UNet: header checks instead of diffusers' "
                   "from_pretrained (which needs about 10 GB with the safetensors shim)")
    a = p.parse_args(argv)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from clip_bpe import ClipBPE
    from clip_text import ClipTextEncoder
    res = {"versions": L.versions()}
    for key in ("sd15", "sd21"):
        snap = os.path.join(a.snapshots, key)
        r = res[key] = {}
        t0 = time.perf_counter()
        # text encoder keys
        with open(os.path.join(snap, "text_encoder", "config.json")) as f:
            cfg = json.load(f)
        with L.no_init():
            te = ClipTextEncoder(cfg)
        hdr, _ = L.read_safetensors_header(os.path.join(snap, "text_encoder", "model.safetensors"))
        keys = set(hdr) - {"__metadata__"}
        r["text_encoder_keys"] = {"count": len(keys), "extra": sorted(keys - set(te.state_dict())),
                                  "missing": sorted(set(te.state_dict()) - keys),
                                  "dtypes": sorted({v["dtype"] for k, v in hdr.items() if k != "__metadata__"})}
        del te
        tok = ClipBPE(os.path.join(snap, "tokenizer"))
        r["tokenizer"] = {"pad_token": tok.pad_token, "pad_id": tok.pad_id, "ids": tok("a photo of a cat")[:10]}
        # VAE via diffusers
        vae = AutoencoderKL.from_pretrained(os.path.join(snap, "vae")).eval()
        sd, _ = L.load_component_weights(os.path.join(snap, "vae"))
        r["vae_from_pretrained_vs_reader"] = compare(vae, sd)
        del vae, sd
        udir = os.path.join(snap, "unet")
        if key == "sd15" and a.light:
            with open(os.path.join(udir, "config.json")) as f:
                ucfg = json.load(f)
            with L.no_init():
                unet = UNet2DConditionModel.from_config(ucfg)
            want = {k: (list(v.shape), "F32") for k, v in unet.state_dict().items()}
            del unet
            for fn, dt in (("diffusion_pytorch_model.safetensors", "F32"),
                           ("diffusion_pytorch_model.fp16.safetensors", "F16")):
                h, _ = L.read_safetensors_header(os.path.join(udir, fn))
                h.pop("__metadata__", None)
                got = {k: (v["shape"], v["dtype"]) for k, v in h.items()}
                r[f"unet_header_{fn}"] = {"ok": got == {k: (s_, dt) for k, (s_, _) in want.items()},
                                          "tensors": len(got)}
        elif key == "sd15":
            sd, _ = L.load_component_weights(udir)
            unet = UNet2DConditionModel.from_pretrained(udir).eval()
            r["unet_from_pretrained_vs_reader"] = compare(unet, sd)
            del unet
            unet16 = UNet2DConditionModel.from_pretrained(udir, variant="fp16", torch_dtype=torch.float16).eval()
            r["unet_fp16_variant_from_pretrained_vs_fp32_rounded"] = compare(unet16, sd, cast=torch.float16)
            del unet16, sd
        else:
            with open(os.path.join(udir, "diffusion_pytorch_model.safetensors.index.json")) as f:
                idx = json.load(f)
            shards = sorted(set(idx["weight_map"].values()))
            pat = re.compile(r"diffusion_pytorch_model-(\d{5})-of-(\d{5})\.safetensors")
            sizes, seen = 0, {}
            for s in shards:
                h, _ = L.read_safetensors_header(os.path.join(udir, s))
                h.pop("__metadata__", None)
                for k, v in h.items():
                    seen.setdefault(k, []).append(s)
                    sizes += v["data_offsets"][1] - v["data_offsets"][0]
            with open(os.path.join(udir, "config.json")) as f:
                ucfg = json.load(f)
            with L.no_init():
                unet = UNet2DConditionModel.from_config(ucfg)
            want = set(unet.state_dict())
            del unet
            r["unet_sharded_index"] = {
                "shards": shards, "names_match_pattern": all(pat.fullmatch(s) for s in shards),
                "total_size": idx["metadata"]["total_size"], "sum_of_tensor_bytes": sizes,
                "every_key_in_one_shard": all(len(v) == 1 for v in seen.values()),
                "index_agrees_with_shards": all(idx["weight_map"][k] == v[0] for k, v in seen.items())
                and set(seen) == set(idx["weight_map"]),
                "keys_equal_model_state_dict": set(seen) == want,
                "single_file_absent": not os.path.exists(os.path.join(udir, "diffusion_pytorch_model.safetensors")),
                "ok": None}
            u = r["unet_sharded_index"]
            u["ok"] = (u["names_match_pattern"] and u["total_size"] == sizes and u["every_key_in_one_shard"]
                       and u["index_agrees_with_shards"] and u["keys_equal_model_state_dict"])
        r["wall_s"] = round(time.perf_counter() - t0, 1)
        print(key, json.dumps(r)[:2000], flush=True)
    res["peak_rss_bytes"] = L.process_peak_rss_bytes()
    L.write_json(a.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
