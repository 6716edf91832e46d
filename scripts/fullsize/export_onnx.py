#!/usr/bin/env python3
"""ONNX exports of UNets for a later Java ONNX Runtime comparison (torch.onnx.export, opset 17, static shapes).

    export_onnx.py [--which medium|sd15 ...] [--root /work/fullsize]

medium: a "medium" UNet with the SD-1.5 structure but block_out_channels [128, 256, 512, 512] (attention_head_dim 8,
        cross_attention_dim 768), sample_size 32, seeded (torch.manual_seed(1504), PyTorch default init, then
        fs_lib.jitter_ 0.1 with seed 1514). Written to ROOT/onnx/medium_unet/: unet/ (config.json +
        diffusion_pytorch_model.safetensors, float32), unet.onnx, and ref/ (inputs + PyTorch output, .bin +
        manifest.json): sample = randn(1,4,32,32, seed 1234), timestep float32 [1000.0], encoder_hidden_states =
        ROOT/ref/sd15/text_last_hidden_state.bin (the SD-1.5 snapshot's text output) or, if that is missing,
        randn(1,77,768, seed 5).
sd15:   ROOT/sd15/unet (loaded from its safetensors) -> ROOT/onnx/sd15_unet/unet.onnx with external data (> 2 GB:
        torch 1.13 writes every initializer to its own file next to unet.onnx). Its inputs/outputs are those of
        ROOT/ref/sd15 (unet_in_sample, unet_in_timestep, unet_in_encoder_hidden_states -> unet_out).

Inputs: sample [1,4,h,w] float32, timestep [1] float32, encoder_hidden_states [1,77,768] float32; output:
out_sample [1,4,h,w]. export_info.json records timings, sizes and the files.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fs_lib as L  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

SD15_UNET = os.path.join(L.REPO, "exporter", "scripts", "configs", "sd15", "unet.json")


class Wrapper(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states=encoder_hidden_states, return_dict=False)[0]


def _baddbmm_for_export(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """diffusers' AttnProcessor calls baddbmm(torch.empty(B, M, N), q, k^T, beta=0, alpha=scale). Traced as is, the
    uninitialised `empty` buffer becomes a Constant of the ONNX graph (B*M*N floats per attention: 537 MB for one
    SD-1.5 64x64 self-attention) that the graph multiplies by 0 (NaN if the garbage was NaN). For the export the
    beta == 0 calls are written as bmm(q, k^T) * alpha, the same function (MatMul + Mul in ONNX)."""
    if beta == 0 and out is None:
        return torch.bmm(batch1, batch2) * alpha
    return L._torch_baddbmm(input, batch1, batch2, beta=beta, alpha=alpha, out=out) if out is not None else \
        L._torch_baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)


def export(unet, inputs, path, info, log, dynamic_hw=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dyn = {"sample": {2: "height", 3: "width"}, "out_sample": {2: "height", 3: "width"}} if dynamic_hw else None
    info["dynamic_axes"] = dyn
    info["traced_input_shapes"] = [list(x.shape) for x in inputs]
    info["attention_export_note"] = " ".join(_baddbmm_for_export.__doc__.split())
    saved = torch.baddbmm
    torch.baddbmm = _baddbmm_for_export
    with L.Phase(info, "torch_onnx_export"):
        with torch.no_grad():
            torch.onnx.export(Wrapper(unet).eval(), inputs, path, opset_version=17, do_constant_folding=False,
                              input_names=["sample", "timestep", "encoder_hidden_states"],
                              output_names=["out_sample"], dynamic_axes=dyn)
    torch.baddbmm = saved
    folder = os.path.dirname(path)
    files = sorted(os.listdir(folder))
    info["onnx_file"] = os.path.basename(path)
    info["onnx_bytes"] = os.path.getsize(path)
    info["folder_files"] = len(files)
    info["folder_bytes"] = sum(os.path.getsize(os.path.join(folder, f)) for f in files
                               if os.path.isfile(os.path.join(folder, f)))
    info["external_data"] = info["folder_bytes"] > info["onnx_bytes"] + 1
    log(f"exported {path}: {info['onnx_bytes']:,} bytes in the .onnx, {info['folder_files']} files, "
        f"{info['folder_bytes']:,} bytes in the folder")


def medium(root, log):
    from diffusers import UNet2DConditionModel
    out = os.path.join(root, "onnx", "medium_unet")
    info = {"what": "medium UNet: SD-1.5 structure, block_out_channels [128,256,512,512], 32x32 latents",
            "versions": L.versions(), "seeds": {"unet_init": 1504, "unet_jitter": 1514, "noise": 1234}}
    with open(SD15_UNET) as f:
        cfg = json.load(f)
    cfg.update({"block_out_channels": [128, 256, 512, 512], "sample_size": 32})
    torch.manual_seed(1504)
    unet = UNet2DConditionModel.from_config(cfg).eval()
    L.jitter_(unet, 1514, 0.1)
    d = os.path.join(out, "unet")
    os.makedirs(d, exist_ok=True)
    unet.save_config(d)
    L.save_safetensors({k: v.detach() for k, v in unet.state_dict().items()},
                       os.path.join(d, "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})
    info["parameters"] = sum(p.numel() for p in unet.parameters())

    sample = torch.randn((1, 4, 32, 32), generator=torch.Generator("cpu").manual_seed(1234))
    t = torch.tensor([1000.0])
    text_bin = os.path.join(root, "ref", "sd15", "text_last_hidden_state.bin")
    if os.path.exists(text_bin):
        ehs = torch.from_numpy(np.fromfile(text_bin, dtype="<f4").reshape(1, 77, 768).copy())
        ehs_note = "= ref/sd15/text_last_hidden_state.bin (SD-1.5 snapshot text encoder on 'a photo of a cat')"
    else:
        ehs = torch.randn((1, 77, 768), generator=torch.Generator("cpu").manual_seed(5))
        ehs_note = "randn(1,77,768, generator seed 5)"
    w = L.TensorWriter(os.path.join(out, "ref"))
    w.add("unet_in_sample", sample, "torch.randn((1,4,32,32), generator=manual_seed(1234))")
    w.add("unet_in_timestep", t, "float32 [1] = 1000.0")
    w.add("unet_in_encoder_hidden_states", ehs, ehs_note)
    perf = {}
    with torch.no_grad(), L.Phase(perf, "pytorch_forward"):
        y = unet(sample, t, encoder_hidden_states=ehs).sample
    w.add("unet_out", y, "PyTorch float32 CPU output of unet/ (diffusers 0.21.4)")
    w.manifest({"model": "medium_unet", "performance": perf, "versions": L.versions()})
    info["pytorch"] = perf
    export(unet, (sample, t, ehs), os.path.join(out, "unet.onnx"), info, log)
    L.write_json(os.path.join(out, "export_info.json"), info)


def sd15(root, log, trace_latent=None):
    from diffusers import UNet2DConditionModel
    sys.path.insert(0, HERE)
    from reference_outputs import load_diffusers
    out = os.path.join(root, "onnx", "sd15_unet")
    info = {"what": "SD-1.5 snapshot UNet (ROOT/sd15/unet), inputs/outputs = ROOT/ref/sd15 unet_in_* / unet_out",
            "versions": L.versions()}
    with L.Phase(info, "load"):
        unet, files, _ = load_diffusers(UNet2DConditionModel, os.path.join(root, "sd15", "unet"))
    ref = os.path.join(root, "ref", "sd15")
    rd = lambda n, shape, dt="<f4": torch.from_numpy(np.fromfile(os.path.join(ref, n + ".bin"), dtype=dt)  # noqa
                                                      .reshape(shape).copy())
    if trace_latent:
        # tracing at 64x64 keeps the trace's activations alive (> 8 GB here): trace small, export height/width
        # as dynamic axes; the ORT check then runs the graph at 64x64 on ref/sd15's inputs
        n = trace_latent
        inputs = (torch.randn((1, 4, n, n), generator=torch.Generator().manual_seed(1234)),
                  rd("unet_in_timestep", (1,)), rd("unet_in_encoder_hidden_states", (1, 77, 768)))
    elif os.path.exists(os.path.join(ref, "unet_in_sample.bin")):
        inputs = (rd("unet_in_sample", (1, 4, 64, 64)), rd("unet_in_timestep", (1,)),
                  rd("unet_in_encoder_hidden_states", (1, 77, 768)))
    else:
        inputs = (torch.randn((1, 4, 64, 64), generator=torch.Generator().manual_seed(1234)), torch.tensor([1000.0]),
                  torch.randn((1, 77, 768), generator=torch.Generator().manual_seed(5)))
    export(unet, inputs, os.path.join(out, "unet.onnx"), info, log, dynamic_hw=bool(trace_latent))
    L.write_json(os.path.join(out, "export_info.json"), info)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default="/work/fullsize")
    p.add_argument("--which", choices=["medium", "sd15"], action="append")
    p.add_argument("--trace-latent", type=int, default=None,
                   help="sd15: trace at an NxN latent and export height/width as dynamic axes (less memory)")
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    L.patch_baddbmm()
    log = lambda s: print(time.strftime("%H:%M:%S ") + s, flush=True)  # noqa: E731
    for w in a.which or ["medium", "sd15"]:
        if w == "sd15":
            sd15(a.root, log, a.trace_latent)
        else:
            medium(a.root, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
