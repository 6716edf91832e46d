"""``python -m instaflow_export SNAPSHOT_DIR OUT_DIR --preset ...``: the command line."""

import argparse
import sys

from .errors import ExportError
from .presets import MISSING_PRESET_MESSAGE, PRESETS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m instaflow_export",
        description="Export a diffusers snapshot of InstaFlow / 2-Rectified Flow / SwiftBrush to an instaflow-java "
                    "bundle (TorchScript parts, manifest.json, tokenizer, self-test). Every traced part is checked "
                    "against eager before anything is written.")
    p.add_argument("snapshot", metavar="SNAPSHOT_DIR", help="diffusers folder with text_encoder/ unet/ vae/ tokenizer/")
    p.add_argument("out_dir", metavar="OUT_DIR", help="new (or empty) folder for the bundle")
    p.add_argument("--preset", choices=sorted(PRESETS), help="the model family (required; see --help)")
    p.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32",
                   help="weights and activations of the parts (fp16 needs --device cuda); default fp32")
    p.add_argument("--device", choices=["cuda", "cpu"], default=None,
                   help="device to trace on; the bundle runs on that kind of device only. Default: cuda when "
                        "available, else cpu")
    p.add_argument("--name", help="model name in the manifest (default: the repository or folder name)")
    p.add_argument("--variant", help="diffusers weight variant to load, e.g. fp16 (diffusion_pytorch_model.fp16.*)")
    p.add_argument("--freeze", action="store_true",
                   help="torch.jit.freeze the parts (weights become constants: the SDK can then no longer cast "
                        "them to another precision at load)")
    p.add_argument("--skip-prediction-check", action="store_true",
                   help="export even if the UNet behaves unlike the preset's prediction type")
    p.add_argument("--selftest-prompt", default="a photo of a cat")
    p.add_argument("--selftest-seed", type=int, default=1234)
    p.add_argument("--selftest-steps", type=int, default=1)
    p.add_argument("--selftest-max-abs", type=int, help="allowed max |diff| of the self-test image (default 2 for "
                                                         "fp32, 8 for fp16)")
    p.add_argument("--selftest-min-psnr", type=float, help="allowed minimum PSNR in dB (default 35 for fp32, 30 "
                                                          "for fp16)")
    p.add_argument("--quiet", action="store_true", help="print only the result line")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.preset is None:
        print(f"error: {MISSING_PRESET_MESSAGE}", file=sys.stderr)
        return 2
    if args.selftest_steps < 1:
        print("error: --selftest-steps must be at least 1", file=sys.stderr)
        return 2

    from .export import ExportOptions, export

    options = ExportOptions(
        snapshot=args.snapshot, out_dir=args.out_dir, preset=PRESETS[args.preset], dtype=args.dtype,
        device=args.device, name=args.name, variant=args.variant, freeze=args.freeze,
        skip_prediction_check=args.skip_prediction_check, selftest_prompt=args.selftest_prompt,
        selftest_seed=args.selftest_seed, selftest_steps=args.selftest_steps,
        selftest_max_abs=args.selftest_max_abs, selftest_min_psnr=args.selftest_min_psnr)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    try:
        report = export(options, log)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    m = report.manifest
    print(f"wrote {report.out_dir}: {m['name']} ({m['family']}, {m['dtype']}, traced on {m['traced_on']}; runs on "
          f"{'CUDA devices' if m['traced_on'] == 'cuda' else 'CPUs'} only). Check it with: instaflow verify --model "
          f"{report.out_dir}")
    return 0
