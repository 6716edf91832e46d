"""The export itself: snapshot -> checked TorchScript parts + manifest + tokenizer + self-test -> OUT_DIR.

Order of work (nothing reaches OUT_DIR unless every step passed):
1. read and cross-check the snapshot's configs; load the components with diffusers / transformers;
2. probe what the UNet predicts (unless told not to) and refuse a contradiction with the preset;
3. trace each part, save it into a staging folder, load it back and compare with eager (batches 1-3, two latent
   sizes); refuse non-finite outputs;
4. run the self-test settings through the eager modules (the expected image) and through the reloaded traced
   parts, and refuse if they disagree beyond the stored tolerance;
5. write the tokenizer files, the self-test and manifest.json, and rename the staging folder to OUT_DIR.
"""

import datetime
import os
import platform
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from . import __version__
from .errors import ExportError
from .presets import Preset

FP32_SELFTEST_TOLERANCE = {"max_abs_uint8": 2, "min_psnr_db": 35.0}
# Provisional: float16 kernels of LibTorch (Java) and PyTorch (Python) may round differently; to be confirmed by
# the full-size GPU proof (exporter/README.md). Override with --selftest-max-abs / --selftest-min-psnr.
FP16_SELFTEST_TOLERANCE = {"max_abs_uint8": 8, "min_psnr_db": 30.0}


@dataclass
class ExportOptions:
    snapshot: str
    out_dir: str
    preset: Preset
    dtype: str = "fp32"  # fp32 | fp16
    device: Optional[str] = None  # cuda | cpu; None: cuda when available
    name: Optional[str] = None
    variant: Optional[str] = None
    freeze: bool = False
    skip_prediction_check: bool = False
    selftest_prompt: str = "a photo of a cat"
    selftest_seed: int = 1234
    selftest_steps: int = 1
    selftest_max_abs: Optional[int] = None
    selftest_min_psnr: Optional[float] = None


@dataclass
class ExportReport:
    out_dir: str
    manifest: Dict
    part_checks: List[str] = field(default_factory=list)
    probe: str = ""
    selftest: str = ""


def _import_libraries():
    try:
        import torch  # noqa: F401
        import diffusers  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ExportError(f"{e}. The exporter needs torch, diffusers and transformers: `pip install -r "
                          f"exporter/requirements.txt`, or put a diffusers source tree on the path with "
                          f"PYTHONPATH=/path/to/diffusers/src") from e


def _resolve_device(requested: Optional[str]):
    import torch
    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested not in ("cuda", "cpu"):
        raise ExportError(f"--device {requested}: expected cuda or cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ExportError("--device cuda: this torch sees no CUDA device (torch.cuda.is_available() is False; "
                          f"torch {torch.__version__}, built for CUDA {torch.version.cuda}). Export on a GPU machine, "
                          "or with --device cpu for a bundle that runs on CPUs")
    return torch.device(requested)


def _resolve_dtype(requested: str, device):
    import torch
    if requested not in ("fp32", "fp16"):
        raise ExportError(f"--dtype {requested}: expected fp32 or fp16")
    if requested == "fp16" and device.type != "cuda":
        raise ExportError("--dtype fp16 needs --device cuda: the SDK runs float16 bundles on CUDA only (on a CPU "
                          "it runs float32), and many float16 kernels do not exist on CPUs. Export fp32 for CPUs")
    return torch.float16 if requested == "fp16" else torch.float32


def _versions() -> Dict[str, str]:
    import diffusers
    import torch
    import transformers
    return {"torch": torch.__version__, "diffusers": diffusers.__version__,
            "transformers": transformers.__version__, "python": platform.python_version(),
            "exporter": f"instaflow_export {__version__}"}


def export(options: ExportOptions, log: Callable[[str], None] = lambda s: None) -> ExportReport:
    _import_libraries()
    import torch

    from . import bundle_files, prediction_probe, reference, tracing
    from .metrics import image_agreement
    from .parts import PART_FILES, DenoiserPart, TextEncoderPart, VaeDecoderPart
    from .snapshot import Snapshot

    preset = options.preset
    device = _resolve_device(options.device)
    dtype = _resolve_dtype(options.dtype, device)
    out_dir = bundle_files.check_out_dir(options.out_dir)

    snapshot = Snapshot(options.snapshot, options.variant)
    snapshot.check_supported()
    tokenizer = snapshot.load_tokenizer()
    geometry = snapshot.geometry(tokenizer)
    log(f"snapshot {snapshot.path}: latent {geometry.latent_channels} channels, VAE factor "
        f"{geometry.vae_scale_factor}, scaling {geometry.scaling_factor}, default {geometry.default_image_size}px, "
        f"text {geometry.max_length}x{geometry.text_hidden_size}, pad id {geometry.pad_id}")

    log(f"loading components ({'float16' if dtype == torch.float16 else 'float32'} on {device.type})")
    text = TextEncoderPart(snapshot.load_text_encoder()).to(device=device, dtype=dtype).eval()
    denoiser = DenoiserPart(snapshot.load_unet()).to(device=device, dtype=dtype).eval()
    decoder = VaeDecoderPart(snapshot.load_vae()).to(device=device, dtype=dtype).eval()

    with torch.no_grad():
        empty_ids = reference.token_ids(tokenizer, "", geometry.max_length).to(device)
        empty_text = text(empty_ids)
    probe_time = preset.time_scale if preset.prediction == "velocity" else preset.timestep
    probe_size = max(geometry.latent_multiple, geometry.default_latent_size // 2 // geometry.latent_multiple
                     * geometry.latent_multiple)
    probe = prediction_probe.probe(denoiser, geometry.latent_channels, probe_size, empty_text, probe_time, device,
                                   dtype)
    probe_line = (f"prediction probe: output/noise correlation {probe.correlation:+.3f} at t={probe_time:g} "
                  f"({probe.verdict}; preset {preset.name} expects {preset.prediction})")
    log(probe_line)
    if not options.skip_prediction_check:
        prediction_probe.check(probe, preset, os.path.join(snapshot.path, "unet"))

    staging = bundle_files.Staging(out_dir)
    try:
        part_lines = []
        sizes = tracing.latent_sizes(geometry.default_latent_size, geometry.latent_multiple)
        h0, w0 = sizes[0]
        g = torch.Generator("cpu").manual_seed(0)
        times = ([preset.time_scale, preset.time_scale * 2.0 / 3.0] if preset.prediction == "velocity"
                 else [preset.timestep])
        # Traced with batch-2 inputs (the guidance batch) at the default latent size.
        text_batch_2 = tracing.text_cases(tokenizer, geometry.max_length, device)[1][1]
        examples = {
            "text_encoder": (text, text_batch_2),
            "denoiser": (denoiser, (
                torch.randn((2, geometry.latent_channels, h0, w0), generator=g).to(device, dtype),
                torch.tensor([times[0]] * 2, dtype=torch.float32).to(device),
                torch.randn((2, geometry.max_length, geometry.text_hidden_size), generator=g).to(device, dtype))),
            "vae_decoder": (decoder, ((torch.randn((2, geometry.latent_channels, h0, w0), generator=g) * 5.0)
                                      .to(device, dtype),)),
        }
        cases = {
            "text_encoder": tracing.text_cases(tokenizer, geometry.max_length, device),
            "denoiser": tracing.denoiser_cases(geometry.latent_channels, sizes, geometry.max_length,
                                               geometry.text_hidden_size, times, device, dtype),
            "vae_decoder": tracing.decoder_cases(geometry.latent_channels, sizes, device, dtype),
        }
        reloaded = {}
        checks = {}
        for part, (module, example) in examples.items():
            log(f"tracing {part}")
            traced = tracing.trace_part(module, example, options.freeze)
            reloaded[part] = tracing.save_and_reload(traced, staging.file(PART_FILES[part]), device)
            checks[part] = tracing.compare(part, module, reloaded[part], cases[part], dtype)
            for c in checks[part]:
                part_lines.append(c.describe())
                log("  " + c.describe())

        settings = reference.Settings(
            prompt=options.selftest_prompt, negative_prompt="", steps=options.selftest_steps,
            guidance=preset.selftest_guidance, seed=options.selftest_seed,
            width=geometry.default_image_size, height=geometry.default_image_size)
        common = dict(preset=preset, tokenizer=tokenizer, settings=settings, max_length=geometry.max_length,
                      latent_channels=geometry.latent_channels, vae_scale_factor=geometry.vae_scale_factor,
                      scaling_factor=geometry.scaling_factor, device=device, dtype=dtype)
        log(f"self-test: \"{settings.prompt}\", seed {settings.seed}, {settings.steps} step(s), guidance "
            f"{settings.guidance:g}, {settings.width}x{settings.height}")
        expected = reference.run(reference.Parts(text, denoiser, decoder), **common)
        actual = reference.run(reference.Parts(reloaded["text_encoder"], reloaded["denoiser"],
                                               reloaded["vae_decoder"]), noise=expected.noise, **common)
        tolerance = dict(FP16_SELFTEST_TOLERANCE if dtype == torch.float16 else FP32_SELFTEST_TOLERANCE)
        if options.selftest_max_abs is not None:
            tolerance["max_abs_uint8"] = int(options.selftest_max_abs)
        if options.selftest_min_psnr is not None:
            tolerance["min_psnr_db"] = float(options.selftest_min_psnr)
        agreement = image_agreement(actual.image_uint8, expected.image_uint8)
        latent_diff = (actual.final_latents - expected.final_latents).abs().max().item()
        selftest_line = (f"traced pipeline vs eager on the self-test: {agreement.describe()}, final latents max "
                         f"|diff| {latent_diff:.3g} (allowed: max |diff| {tolerance['max_abs_uint8']}, PSNR >= "
                         f"{tolerance['min_psnr_db']} dB)")
        log(selftest_line)
        if not agreement.passes(tolerance["max_abs_uint8"], tolerance["min_psnr_db"]):
            raise ExportError("the traced parts do not reproduce the eager pipeline on the self-test: " + selftest_line
                              + ". Nothing was written.")

        versions = _versions()
        device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine()
        reference_info = {
            "pipeline": ("InstaFlow code/pipeline_rf.py math (Euler, CFG [negative; prompt] above 1), eager"
                         if preset.prediction == "velocity" else
                         "SwiftBrush infer.py one step, x0 in float32 as the SDK's EpsilonOneStep, eager"),
            "torch": versions["torch"], "diffusers": versions["diffusers"],
            "transformers": versions["transformers"],
            "device": f"{device.type} ({device_name})",
            "dtype": "float16" if dtype == torch.float16 else "float32",
            "traced_vs_eager": {"max_abs_uint8": agreement.max_abs, "psnr_db": round(agreement.psnr_db, 2)
                                if agreement.psnr_db != float("inf") else "inf"},
        }
        bundle_files.write_selftest(staging, settings, expected, tolerance, reference_info)
        tokenizer_folder = bundle_files.copy_tokenizer(snapshot, staging)

        provenance = dict(versions)
        provenance.update(snapshot.source_revision())
        provenance.update({
            "preset": preset.name,
            "snapshot": snapshot.path,
            "snapshot_pipeline": str(snapshot.model_index.get("_class_name", "")),
            "snapshot_diffusers_version": str(snapshot.model_index.get("_diffusers_version", "")),
            "created_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
            "export_device": f"{device.type} ({device_name})",
            "frozen": str(options.freeze).lower(),
            "trace_check_max_abs_diff": ", ".join(f"{k} {v:.3g}" for k, v in tracing.summary(checks).items()),
            "prediction_probe": f"{probe.correlation:+.3f} ({probe.verdict})"
                                + (" [check skipped]" if options.skip_prediction_check else ""),
        })
        if options.variant:
            provenance["variant"] = options.variant
        name = options.name or provenance.get("source_repo", os.path.basename(snapshot.path.rstrip(os.sep)))
        parts = dict(PART_FILES)
        parts["tokenizer"] = tokenizer_folder
        manifest = bundle_files.manifest(name, preset, dtype, device.type, geometry, parts, provenance)
        bundle_files.write_json(staging.file("manifest.json"), manifest)
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    return ExportReport(out_dir=out_dir, manifest=manifest, part_checks=part_lines, probe=probe_line,
                        selftest=selftest_line)
