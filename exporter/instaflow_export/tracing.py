"""Tracing the parts, saving them, loading them back, and checking the reloaded modules against eager.

Each part is traced with batch-2 example inputs (the CFG batch), saved, loaded back from the file with
``torch.jit.load`` (so the check sees exactly what the SDK will load), and compared with the eager module on
several batch sizes and two latent sizes, the second one not square (a traced graph with a baked shape, or height
and width swapped, fails there). A part whose outputs are not finite is refused: in float16 that means the
activations overflow.
"""

import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import torch

from .errors import ExportError

# Relative tolerance of traced vs eager outputs: max |traced - eager| <= tol * max(1, max |eager|).
# The same kernels run in both, so real differences are at rounding level; a wrong constant or a baked shape
# gives differences of the order of the output itself.
PART_TOLERANCE = {torch.float32: 1e-4, torch.float16: 1e-2}


@dataclass
class PartCheck:
    part: str
    case: str
    max_abs_diff: float
    max_abs_eager: float

    def describe(self) -> str:
        return f"{self.part} {self.case}: max |traced - eager| {self.max_abs_diff:.3g} (max |eager| {self.max_abs_eager:.3g})"


def trace_part(module: torch.nn.Module, example: Tuple[torch.Tensor, ...], freeze: bool):
    """torch.jit.trace with the tracer's shape warnings silenced (they are why the checks below exist)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            traced = torch.jit.trace(module, example, check_trace=False, strict=False)
    traced = traced.eval()
    if freeze:
        traced = torch.jit.freeze(traced)
    return traced


def save_and_reload(traced, path: str, device: torch.device):
    torch.jit.save(traced, path)
    reloaded = torch.jit.load(path, map_location=device)
    return reloaded.eval()


def _finite_or_refuse(part: str, case: str, name: str, value: torch.Tensor, dtype: torch.dtype):
    if not torch.isfinite(value).all():
        hint = (" In float16 this means the activations overflow: export with --dtype fp32, or check the weights."
                if dtype == torch.float16 else " Check the weights.")
        raise ExportError(f"the {part} part produced non-finite values (inf/NaN) in its {name} output on {case}." + hint)


@torch.no_grad()
def compare(part: str, eager: Callable, traced: Callable, cases: Sequence[Tuple[str, Tuple[torch.Tensor, ...]]],
            dtype: torch.dtype) -> List[PartCheck]:
    """Runs both on every case; refuses on non-finite outputs or differences above the tolerance."""
    tolerance = PART_TOLERANCE[dtype]
    checks = []
    for case, inputs in cases:
        expected = eager(*inputs)
        actual = traced(*inputs)
        _finite_or_refuse(part, case, "eager", expected, dtype)
        _finite_or_refuse(part, case, "traced", actual, dtype)
        if tuple(actual.shape) != tuple(expected.shape):
            raise ExportError(f"the traced {part} returned shape {tuple(actual.shape)} on {case}; eager returned "
                              f"{tuple(expected.shape)}. The traced graph baked a shape: this snapshot's "
                              f"{part} cannot be exported as a shape-generic TorchScript part")
        diff = (actual.float() - expected.float()).abs().max().item()
        scale = expected.float().abs().max().item()
        check = PartCheck(part, case, diff, scale)
        if diff > tolerance * max(1.0, scale):
            raise ExportError(f"the traced {part} does not reproduce eager: {check.describe()}, allowed "
                              f"{tolerance:g} x max(1, max |eager|). Nothing was written.")
        checks.append(check)
    return checks


def latent_sizes(default: int, multiple: int) -> List[Tuple[int, int]]:
    """The trace size (square, the model's default) and a smaller non-square check size."""
    smaller = default - 2 * multiple if default - 2 * multiple >= multiple else default + 2 * multiple
    return [(default, default), (default, smaller)]


def denoiser_cases(channels: int, sizes: List[Tuple[int, int]], max_length: int, hidden: int, times: List[float],
                   device, dtype) -> List[Tuple[str, Tuple[torch.Tensor, ...]]]:
    """``times``: timesteps the SDK feeds this denoiser (fractional ones for velocity models), used in turn."""
    g = torch.Generator("cpu").manual_seed(7)
    cases = []
    for batch in (1, 2):
        for (h, w) in sizes:
            sample = torch.randn((batch, channels, h, w), generator=g).to(device, dtype)
            t = torch.tensor([times[i % len(times)] for i in range(batch)], dtype=torch.float32)
            text = torch.randn((batch, max_length, hidden), generator=g).to(device, dtype)
            cases.append((f"batch {batch}, latent {h}x{w}, t={[round(x, 3) for x in t.tolist()]}",
                          (sample, t.to(device), text)))
    return cases


def decoder_cases(channels: int, sizes: List[Tuple[int, int]], device, dtype):
    g = torch.Generator("cpu").manual_seed(11)
    cases = []
    for batch in (1, 2):
        for (h, w) in sizes:
            # z = latents / scaling_factor: latents of unit scale give z of about 5
            z = (torch.randn((batch, channels, h, w), generator=g) * 5.0).to(device, dtype)
            cases.append((f"batch {batch}, latent {h}x{w}", (z,)))
    return cases


def text_cases(tokenizer, max_length: int, device) -> List[Tuple[str, Tuple[torch.Tensor, ...]]]:
    prompts = ["a photo of a cat", "", "an astronaut riding a horse on the moon, detailed oil painting"]
    ids = tokenizer(prompts, padding="max_length", max_length=max_length, truncation=True,
                    return_tensors="pt").input_ids.to(torch.int64)
    return [("batch 1", (ids[:1].to(device),)), ("batch 2", (ids[:2].to(device),)), ("batch 3", (ids.to(device),))]


def summary(checks: Dict[str, List[PartCheck]]) -> Dict[str, float]:
    """Largest traced-vs-eager difference per part, for the manifest's provenance."""
    return {part: max(c.max_abs_diff for c in cs) for part, cs in checks.items()}
